"""What the gate's refusal pages say, by kind of refusal: the title and the message, in
the page's language. Each table is one subject (decisions, forms, payments, links,
requests); `refusal` picks the right one."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portalgen.gate.pages import PageContext


def refusal(
    page: PageContext, kind: str, params: Mapping[str, str], locked_until: str
) -> tuple[str, str]:
    """The (title, message) of a refusal of `kind`; `params` fill the messages of
    refused actions."""
    texts = action_messages(page, kind, params) or payment_messages(page, kind, params)
    return texts or _fallback_messages(page, kind, locked_until)


def action_messages(
    page: PageContext, kind: str, params: Mapping[str, str]
) -> tuple[str, str] | None:
    """Why a decision or a comment was not taken (None: not such a refusal)."""
    from portalgen.gate.pages_upload import upload_messages

    uploaded = upload_messages(page, kind)
    if uploaded is not None:
        return uploaded
    values = {"number": "", "date": "", "name": "", "limit": "", **params}
    texts = {**_decision_messages(page._, bool(values["date"])), **_form_messages(page._)}
    found = texts.get(kind)
    if found is None:
        return None
    return found[0], found[1] % values


def _decision_messages(_: Callable[[str], str], dated: bool) -> dict[str, tuple[str, str]]:
    return {
        "quote-accepted": (
            _("This quote is already accepted"),
            _("Quote %(number)s was accepted on %(date)s by %(name)s.")
            if dated
            else _("Quote %(number)s has already been accepted."),
        ),
        "quote-rejected": (
            _("This quote is already rejected"),
            _("Quote %(number)s was rejected on %(date)s by %(name)s.")
            if dated
            else _("Quote %(number)s has already been rejected."),
        ),
        "quote-expired": (
            _("This quote has expired"),
            _("Quote %(number)s was valid until %(date)s. Contact us if you want a new one."),
        ),
        "quote-changed": (
            _("This quote has changed"),
            _(
                "We have updated quote %(number)s since you opened it. Please review it again "
                "before you decide."
            ),
        ),
        "quote-unknown": (
            _("Quote not found"),
            _("There is no such quote in your portal, or it can no longer be decided."),
        ),
        "reason-missing": (
            _("Please tell us why"),
            _("To reject the quote, write the reason in the form and send it again."),
        ),
        "name-missing": (
            _("Please sign with your full name"),
            _("To accept the quote, write your full name in the form and send it again."),
        ),
        "signature-too-large": (
            _("The signature is too large"),
            _("Clear the signature box, sign again with a simpler stroke and send the form."),
        ),
        "signature-invalid": (
            _("The signature could not be read"),
            _("Clear the signature box, sign again and send the form."),
        ),
    }


def _form_messages(_: Callable[[str], str]) -> dict[str, tuple[str, str]]:
    return {
        "comment-empty": (
            _("Your comment is empty"),
            _("Write your comment in the box, then send it."),
        ),
        "too-long": (
            _("That was too long"),
            _("You can write up to %(limit)s characters there. Shorten your text and try again."),
        ),
        "too-many-actions": (
            _("Please wait a few minutes"),
            _(
                "You have sent a lot in a short time, so we did not take this last one. "
                "What you sent before has reached us. Please try again in a few minutes."
            ),
        ),
    }


def _fallback_messages(page: PageContext, kind: str, locked_until: str) -> tuple[str, str]:
    _ = page._
    texts = {**_link_messages(_), **_request_messages(_, locked_until)}
    return texts.get(kind, (_("We could not understand this request"), _("Go back and try again.")))


def _link_messages(_: Callable[[str], str]) -> dict[str, tuple[str, str]]:
    return {
        "bad-link": (
            _("This link does not work"),
            _(
                "The link is incomplete or has been changed. Open it again from your email, "
                "making sure you use all of it, or ask for a new one."
            ),
        ),
        "link-expired": (
            _("This link has expired"),
            _("For your security, links work for a limited time. Ask for a new one."),
        ),
        "access-ended": (
            _("This link no longer works"),
            _(
                "It has been withdrawn or replaced by a newer one. Use the latest link we sent "
                "you, or ask us for a new one."
            ),
        ),
        "session-ended": (
            _("Your access to this portal has ended"),
            _(
                "It was withdrawn or replaced while you were signed in. Use the latest link we "
                "sent you, or ask us for a new one."
            ),
        ),
        "no-session": (
            _("Please open your link"),
            _("To see your portal, open the link we emailed you."),
        ),
        "session-expired": (
            _("Your session has ended"),
            _("You were signed out after a while without activity. Open your link again."),
        ),
    }


def _request_messages(_: Callable[[str], str], locked_until: str) -> dict[str, tuple[str, str]]:
    return {
        "forbidden": (
            _("We could not accept this form"),
            _("The page was open for too long or came from another site. Reload it and try again."),
        ),
        "not-found": (
            _("Page not found"),
            _("There is nothing at this address in your portal."),
        ),
        "not-ready": (
            _("Your portal is being prepared"),
            _("It will be ready shortly. Please try again later."),
        ),
        "too-large": (
            _("That was too long"),
            _("What you sent is longer than we accept. Shorten it and try again."),
        ),
        "too-many": (
            _("Too many attempts"),
            _("Please wait a few minutes and try again."),
        ),
        "locked": (
            _("Too many wrong codes"),
            _(
                "For your security, signing in is paused until %(time)s. "
                "Try again then, or contact us."
            )
            % {"time": locked_until},
        ),
        "server-error": (
            _("Something went wrong"),
            _("We could not show this page. Please try again in a moment, or contact us."),
        ),
    }


def payment_messages(
    page: PageContext, kind: str, params: Mapping[str, str]
) -> tuple[str, str] | None:
    """Why a payment did not start (None: not such a refusal)."""
    _ = page._
    values = {"number": "", **params}
    texts = {
        "invoice-unknown": (
            _("This invoice cannot be paid here"),
            _("There is no such invoice awaiting payment in your portal."),
        ),
        "method-unknown": (
            _("Choose how to pay"),
            _("That way of paying is not offered here. Go back and choose another."),
        ),
        "payment-unavailable": (
            _("Online payment is not available right now"),
            _(
                "We could not reach the payment service. Nothing has been charged. Please "
                "try again later, or pay by bank transfer."
            ),
        ),
    }
    found = texts.get(kind)
    if found is None:
        return None
    return found[0], found[1] % values
