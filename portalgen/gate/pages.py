"""The gate's own pages: open a link, access codes, new link, signed out, and refusals.

Plain functions returning HTML, translated through the portal's catalogs (es/en).
Everything interpolated is escaped here. No inline scripts or styles (the CSP allows
only the gate's stylesheet).
"""

from __future__ import annotations

import gettext
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

from portalgen.gate import messages
from portalgen.slots import CSRF_FIELD

if TYPE_CHECKING:
    from portalgen.gate.request import Branding, GateRequest


@dataclass(frozen=True)
class PageContext:
    language: str
    translations: gettext.NullTranslations
    company: str
    contact_line: str  # the business's email / phone, escaped HTML
    root: str  # the gate's path prefix ("" at the root)

    @property
    def _(self) -> Callable[[str], str]:
        return self.translations.gettext

    def url(self, route: str) -> str:
        return f"{self.root}/{route.lstrip('/')}"


def layout(page: PageContext, title: str, body: str) -> str:
    _ = page._
    contact = f'<p class="contact">{page.contact_line}</p>' if page.contact_line else ""
    tagline = escape(_("Customer portal"))
    return (
        "<!doctype html>\n"
        f'<html lang="{escape(page.language)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex, nofollow">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{escape(title)} · {escape(page.company)}</title>\n"
        f'<link rel="stylesheet" href="{escape(page.url("_gate/gate.css"))}">\n'
        "</head>\n<body>\n"
        f'<header><p class="brand">{escape(page.company)}</p>'
        f'<p class="tagline">{tagline}</p></header>\n'
        f'<main class="card">\n<h1>{escape(title)}</h1>\n{body}\n</main>\n'
        f"<footer>{contact}</footer>\n</body>\n</html>\n"
    )


def _csrf(token: str) -> str:
    return f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(token)}">'


def _p(text: str, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<p{attr}>{escape(text)}</p>"


def _error(message: str) -> str:
    return f'<p class="error" role="alert">{escape(message)}</p>' if message else ""


def _button(label: str) -> str:
    return f'<button type="submit" class="button">{escape(label)}</button>'


def _link_button(href: str, label: str) -> str:
    return f'<p><a class="button" href="{escape(href)}">{escape(label)}</a></p>'


def _form(action: str, csrf: str, *parts: str) -> str:
    inner = "".join(parts)
    return (
        f'<form method="post" action="{escape(action)}" class="stack">{_csrf(csrf)}{inner}</form>'
    )


def _field(name: str, label: str, kind: str, autocomplete: str, extra: str = "") -> str:
    return (
        f'<label for="{name}">{escape(label)}</label>'
        f'<input id="{name}" name="{name}" type="{kind}" autocomplete="{autocomplete}" '
        f'required maxlength="128"{extra}>'
    )


def home(page: PageContext, can_send: bool) -> str:
    _ = page._
    body = _p(_("Open the link we emailed you to see your quotes, orders and invoices."))
    if can_send:
        body += _link_button(page.url("link"), _("Email me a new link"))
    return layout(page, _("Your customer portal"), body)


def open_link(page: PageContext, action: str, csrf: str) -> str:
    _ = page._
    body = (
        _p(_("Your documents are one click away."))
        + _form(action, csrf, _button(_("Open my portal")))
        + _p(_("This link is personal: please do not forward it."), "small")
    )
    return layout(page, _("Welcome"), body)


def code_form(page: PageContext, csrf: str, error: str = "") -> str:
    _ = page._
    body = (
        _error(error)
        + _p(_("We gave you this code by phone or message, never by email."))
        + _form(
            page.url("code"),
            csrf,
            _field("code", _("Access code"), "password", "current-password", " autofocus"),
            _button(_("Continue")),
        )
    )
    return layout(page, _("Enter your access code"), body)


def change_code_form(page: PageContext, csrf: str, *, forced: bool, error: str = "") -> str:
    _ = page._
    if forced:
        intro = _("The code you were given is temporary. Choose your own: at least 8 characters.")
        current = ""
    else:
        intro = _("Choose a new access code: at least 8 characters.")
        current = _field("current", _("Current code"), "password", "current-password")
    body = (
        _error(error)
        + _p(intro)
        + _form(
            page.url("code/change"),
            csrf,
            current,
            _field("new", _("New code"), "password", "new-password", ' minlength="8"'),
            _field(
                "repeat", _("Repeat the new code"), "password", "new-password", ' minlength="8"'
            ),
            _button(_("Save the new code")),
        )
    )
    return layout(page, _("Choose your access code"), body)


def code_changed(page: PageContext) -> str:
    _ = page._
    body = _p(_("Your access code has been changed.")) + _link_button(
        page.url("portal/"), _("Go to my portal")
    )
    return layout(page, _("Access code changed"), body)


def link_form(page: PageContext, csrf: str, can_send: bool) -> str:
    _ = page._
    if not can_send:
        body = _p(
            _("We cannot send links by email at the moment. Please contact us for a new one.")
        )
        return layout(page, _("Ask for a new link"), body)
    body = _p(_("Type the email address we know you by. We will send it a new link.")) + _form(
        page.url("link"),
        csrf,
        _field("email", _("Your email address"), "email", "email", " autofocus"),
        _button(_("Send me a link")),
    )
    return layout(page, _("Ask for a new link"), body)


def link_sent(page: PageContext) -> str:
    _ = page._
    body = _p(
        _(
            "If this address can use a portal, a new link is on its way. It may take a few "
            "minutes: check your spam folder too."
        )
    )
    return layout(page, _("Check your email"), body)


def signed_out(page: PageContext) -> str:
    _ = page._
    body = _p(_("To come back, open your link again."))
    return layout(page, _("You have signed out"), body)


# Refusals a new link mends: their page offers to email one.
_LINK_KINDS = (
    "bad-link",
    "link-expired",
    "access-ended",
    "session-ended",
    "no-session",
    "session-expired",
)


def error_page(
    page: PageContext,
    kind: str,
    *,
    can_send: bool,
    locked_until: str = "",
    params: Mapping[str, str] | None = None,
    back: str = "",
) -> str:
    """A refusal. `params` fill the messages of refused actions (escaped here); `back`,
    a portal path, adds a link back to the page the customer came from."""
    _ = page._
    title, message = messages.refusal(page, kind, params or {}, locked_until)
    body = _p(message)
    if kind in _LINK_KINDS:
        if can_send:
            body += _link_button(page.url("link"), _("Email me a new link"))
        else:
            body += _p(_("Contact us and we will send you a new link."))
    if back:
        label = _("Back to the page")
        if back.startswith("quotes/"):
            label = _("Back to the quote")
        elif back.startswith("invoices/"):
            label = _("Back to the invoice")
        body += _link_button(page.url(f"portal/{back}"), label)
    return layout(page, title, body)


def page_context(branding: Branding, request: GateRequest, language: str | None) -> PageContext:
    """What every gate page needs: the language (asked for, else the browser's best
    match), its catalog, and the business's name and contact links."""
    from portalgen.gate.i18n import negotiate, translations

    b = branding
    if language is None:
        language = negotiate(request.headers.get("Accept-Language", ""), b.language)
    parts = [f'<a href="mailto:{escape(b.email)}">{escape(b.email)}</a>'] if b.email else []
    if b.phone:
        parts.append(f'<a href="tel:{escape(b.phone.replace(" ", ""))}">{escape(b.phone)}</a>')
    return PageContext(
        language, translations(language), b.company, " · ".join(parts), request.script_root
    )
