"""Views of signing in and out: the link page, access codes, "email me a new link".

Each view is ``view(gate, request, **args) -> Response`` and raises `GateError`s for
refusals (app.py turns them into pages).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from portalgen.access.codes import (
    ceiling,
    code_problem,
    contact_locked,
    locked_until,
    new_access_code,
    record_attempt,
    verify_code,
    with_code,
)
from portalgen.access.entry import AccessCode, Contact, RegistryEntry, normalize_email
from portalgen.access.tokens import FLOW, LINK, LinkClaims, TokenError, TokenExpired
from portalgen.errors import AccessError
from portalgen.gate import errors, link_request, pages, security
from portalgen.gate.request import PlainResponse
from portalgen.presentation.languages import is_offered

if TYPE_CHECKING:
    from portalgen.gate.app import Gate
    from portalgen.gate.request import GateRequest, Visit

CSS = Path(__file__).resolve().parent / "static" / "gate.css"
LINK_REQUESTS_PER_ADDRESS = (5, 15 * 60)  # per client address: 5 in 15 minutes
CODE_TRIES_PER_ADDRESS = (30, 15 * 60)
CHANGE_FLOW = "flow.change"  # the MAC binding a "choose your code" flow to its temporary code


def home(gate: Gate, request: GateRequest) -> Response:
    try:
        gate.require_visit(request)
    except errors.GateError:
        return gate.html(pages.home(gate.page_context(request), gate.send_link is not None))
    return gate.redirect(request, "portal/")


def stylesheet(gate: Gate, request: GateRequest) -> Response:
    css = CSS.read_text(encoding="utf-8").replace("#1e40af", gate.branding.primary_color)
    response = PlainResponse(css, content_type="text/css; charset=utf-8")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def favicon(gate: Gate, request: GateRequest) -> Response:
    """Browsers ask for one on every site; the portal's pages carry the theme's logo."""
    return Response(status=204, headers={"Cache-Control": "public, max-age=86400"})


def signed_out(gate: Gate, request: GateRequest) -> Response:
    language = request.args.get("lang")
    chosen = language if language is not None and is_offered(language) else None
    return gate.html(pages.signed_out(gate.page_context(request, chosen)))


# -- the link ---------------------------------------------------------------------------------


def read_link(gate: Gate, token: str) -> tuple[RegistryEntry, Contact]:
    """The entry and contact a link is good for, or the refusal (bad, expired, ended)."""
    try:
        claims, signed_at = _verify_link(gate, token)
    except TokenExpired:
        raise errors.LinkExpired("link token expired") from None
    except TokenError as exc:
        raise errors.BadLink(str(exc)) from None
    entry, contact = gate.check_access(claims.customer_key, claims.contact, claims.generation)
    if gate.clock() - signed_at > gate.link_max_age(entry).total_seconds():
        raise errors.LinkExpired("older than the link max age", language=gate.language_of(entry))
    return entry, contact


def _verify_link(gate: Gate, token: str) -> tuple[LinkClaims, float]:
    try:
        payload, signed_at = gate.verify(LINK, token)
    except TokenExpired:
        raise
    except TokenError:
        if not gate.maybe_reload_secrets():  # signed with a secret added since we started?
            raise
        payload, signed_at = gate.verify(LINK, token)
    return LinkClaims.from_payload(payload), signed_at


def open_link(gate: Gate, request: GateRequest, token: str) -> Response:
    """GET: a one-click page (mail scanners that prefetch links start nothing).
    POST: the exchange for a session (or, with an access code, the code form)."""
    entry, contact = read_link(gate, token)
    language = _language(gate, entry)
    if request.method == "GET":
        flow = gate.read_flow(request) or security.new_flow()
        action = f"{request.script_root}/l/{token}"
        page = pages.open_link(
            gate.page_context(request, language), action, security.flow_csrf(gate.signer, flow)
        )
        response = gate.html(page)
        _set_flow(gate, response, flow)
        return response
    _check_flow_post(gate, request)
    if entry.access_code is not None:
        flow = security.new_flow(
            k=entry.customer_key,
            c=gate.signer.contact_id(contact.email),
            g=contact.generation,
            step="code",
        )
        response = gate.redirect(request, "code")
        _set_flow(gate, response, flow)
        return response
    return _signed_in(gate, request, entry, contact)


def _signed_in(
    gate: Gate, request: GateRequest, entry: RegistryEntry, contact: Contact
) -> Response:
    gate.start_session(request, entry, contact)
    response = gate.redirect(request, "portal/")
    security.delete_cookie(response, gate.cookies.flow, path=gate.cookie_path, secure=gate.secure)
    return response


# -- access codes -----------------------------------------------------------------------------


def code(gate: Gate, request: GateRequest) -> Response:
    flow = gate.read_flow(request)
    if flow is None or flow.get("step") != "code":
        raise errors.NoSession("no link opened before the code form")
    entry, contact = _flow_access(gate, flow)
    if entry.access_code is None:  # staff removed the code meanwhile
        return _signed_in(gate, request, entry, contact)
    _refuse_if_locked(gate, entry, contact)
    page = gate.page_context(request, _language(gate, entry))
    csrf = security.flow_csrf(gate.signer, flow)
    if request.method == "GET":
        return gate.html(pages.code_form(page, csrf))
    _check_flow_post(gate, request)
    _limit(gate, request, "code", CODE_TRIES_PER_ADDRESS)
    correct = verify_code(entry.access_code.hash, request.form.get("code", ""))
    updated = _count_attempt(gate, request, entry, contact, correct)
    if not correct:
        _ = page._
        return gate.html(pages.code_form(page, csrf, _("That code is not right.")), 403)
    code = updated.access_code
    if code is None:  # revoked or reset while the code was being checked
        raise errors.AccessEnded("no access code any more", clear_session=True)
    if code.must_change:
        response = gate.redirect(request, "code/change")
        _set_flow(gate, response, change_flow(gate, flow, code))
        return response
    return _signed_in(gate, request, updated, contact)


def change_flow(gate: Gate, flow: dict[str, Any], code: AccessCode) -> dict[str, Any]:
    """The flow that lets the customer choose their code: a new nonce, bound to the
    temporary code just typed (a MAC of its stored hash), see `_change_access`."""
    values = {k: flow[k] for k in ("k", "c", "g")}
    return security.new_flow(**values, step="change", h=gate.signer.mac(CHANGE_FLOW, code.hash))


def _change_access(gate: Gate, flow: dict[str, Any]) -> tuple[RegistryEntry, Contact]:
    """The entry and contact of a "choose your code" flow while it is still good: the
    temporary code it was issued for is still the one to replace, and nobody typed a
    wrong code through the contact's link since (a lockout ends it too). Once the code
    is changed (or staff give a new one) the flow is dead: it works once."""
    entry, contact = _flow_access(gate, flow)
    code, tag = entry.access_code, flow.get("h")
    if (
        code is None
        or not code.must_change
        or not isinstance(tag, str)
        or not gate.signer.check_mac(CHANGE_FLOW, code.hash, tag)
        or code.attempts_of(contact.email).failed_attempts
        or contact_locked(entry, gate.now(), contact.email)
    ):
        raise errors.NoSession("the sign-in flow's temporary code is no longer current")
    return entry, contact


def _count_attempt(
    gate: Gate, request: GateRequest, entry: RegistryEntry, contact: Contact, correct: bool
) -> RegistryEntry:
    """Record the attempt in the registry (compare-and-swap); LockedOut if it is locked.
    A lockout of the contact and the customer-wide slow-down are told to staff in
    the audit log (``code.locked``, ``code.slowed``)."""
    now = gate.now()
    settings = gate.settings
    email = contact.email
    updated = gate.registry.update(
        entry.customer_key,
        lambda e: record_attempt(
            e, email, correct, now, attempts=settings.code_attempts, lockout=settings.code_lockout
        ),
    )
    if not correct and updated.access_code is not None:
        code = updated.access_code
        gate.record(request, "code.failed", entry, email)
        if contact_locked(updated, now, email) and not contact_locked(entry, now, email):
            data = {"attempts": code.attempts_of(email).failed_attempts}
            gate.record(request, "code.locked", entry, email, data=data)
        if code.failed_attempts == ceiling(settings.code_attempts):
            data = {"attempts": code.failed_attempts, "contacts": len(code.contacts)}
            gate.record(request, "code.slowed", entry, email, data=data)
    _refuse_if_locked(gate, updated, contact)
    return updated


def _refuse_if_locked(gate: Gate, entry: RegistryEntry, contact: Contact) -> None:
    until = locked_until(entry, gate.now(), contact.email)
    if until is not None:
        seconds = max(1, int((until - gate.now()).total_seconds()))
        local = gate.local_time(until).strftime("%H:%M")
        raise errors.LockedOut(local, retry_after=seconds, language=gate.language_of(entry))


def change_code(gate: Gate, request: GateRequest) -> Response:
    """Forced (a temporary code was just used) or by choice (signed in, with the current code)."""
    flow = gate.read_flow(request)
    forced = flow is not None and flow.get("step") == "change"
    if flow is not None and forced:
        entry, contact = _change_access(gate, flow)
        csrf, purpose, nonce = security.flow_csrf(gate.signer, flow), security.CSRF_FLOW, flow["n"]
    else:
        visit = gate.require_visit(request)
        entry, contact = visit.entry, visit.contact
        csrf, purpose, nonce = visit.csrf, security.CSRF_SESSION, visit.session.sid
    if entry.access_code is None:
        raise errors.NotFound("no access code to change")
    page = gate.page_context(request, _language(gate, entry))
    if request.method == "GET":
        return gate.html(pages.change_code_form(page, csrf, forced=forced))
    security.check_origin(request, gate.base_origin)
    security.check_csrf(gate.signer, request, purpose, nonce)
    error = _new_code_problem(gate, request, page, entry, contact, forced)
    if error:
        return gate.html(pages.change_code_form(page, csrf, forced=forced, error=error), 400)
    new = new_access_code(request.form["new"], gate.now(), temporary=False)
    replaced = entry.access_code.hash
    generation = contact.generation

    def change(e: RegistryEntry) -> RegistryEntry:
        # only the code this form was shown for: two replays of one flow, one winner
        same = e.access_code is not None and e.access_code.hash == replaced
        return with_code(e, new, gate.now()) if same and e.allows(contact.email, generation) else e

    updated = gate.registry.update(entry.customer_key, change)
    if updated.access_code is None or updated.access_code.hash != new.hash:
        raise errors.NoSession("the access code changed meanwhile")
    gate.record(request, "code.changed", entry, contact.email)
    if forced:
        return _signed_in(gate, request, entry, contact)
    return gate.html(pages.code_changed(page))


def _new_code_problem(
    gate: Gate,
    request: GateRequest,
    page: pages.PageContext,
    entry: RegistryEntry,
    contact: Contact,
    forced: bool,
) -> str:
    _ = page._
    new, repeat = request.form.get("new", ""), request.form.get("repeat", "")
    if not forced:
        _refuse_if_locked(gate, entry, contact)
        _limit(gate, request, "code", CODE_TRIES_PER_ADDRESS)
        current = entry.access_code
        if current is None:  # the caller checked; revoked meanwhile
            raise errors.AccessEnded("no access code any more", clear_session=True)
        correct = verify_code(current.hash, request.form.get("current", ""))
        _count_attempt(gate, request, entry, contact, correct)
        if not correct:
            return _("The current code is not right.")
    if new.strip() != repeat.strip():
        return _("The two new codes are not the same.")
    if code_problem(new):
        return _("The new code must have at least 8 characters.")
    return ""


def _flow_access(gate: Gate, flow: dict[str, Any]) -> tuple[RegistryEntry, Contact]:
    try:
        key, contact, generation = str(flow["k"]), str(flow["c"]), int(flow["g"])
    except (KeyError, TypeError, ValueError):
        raise errors.NoSession("sign-in flow without a link") from None
    return gate.check_access(key, contact, generation)


# -- new link, sign out -----------------------------------------------------------------------


def request_link(gate: Gate, request: GateRequest) -> Response:
    """Same answer whether the address is known or not; rate-limited."""
    can_send = gate.send_link is not None
    flow = gate.read_flow(request) or security.new_flow()
    page = gate.page_context(request)
    if request.method == "GET" or not can_send:
        response = gate.html(pages.link_form(page, security.flow_csrf(gate.signer, flow), can_send))
        _set_flow(gate, response, flow)
        return response
    _check_flow_post(gate, request)
    _limit(gate, request, "link", LINK_REQUESTS_PER_ADDRESS)
    try:
        address = normalize_email(request.form.get("email", "")[:254])
    except AccessError:
        address = ""
    if address:
        # nothing here looks the address up: the answer takes the same time whether it
        # is a customer's or not, or the time would tell (link_request.py)
        link_request.hand_off(gate, request, address)
    return gate.html(pages.link_sent(page))


def _end_session(gate: Gate, visit: Visit) -> None:
    """The session ends on the server, so a copy of its cookie dies too (the registry
    entry every request reads anyway remembers it until it would have expired)."""
    session = visit.session
    max_age = gate.settings.session_max_age.total_seconds()
    until = datetime.fromtimestamp(session.started + max_age, UTC)
    email, now = visit.contact.email, gate.now()
    gate.registry.update(
        visit.customer_key, lambda e: e.signed_out(email, now, sid=session.sid, until=until)
    )


def logout(gate: Gate, request: GateRequest) -> Response:
    try:
        visit = gate.require_visit(request)
    except errors.GateError:
        request.clear_session = True
        return gate.redirect(request, "signed-out")
    gate.check_post(request, visit)
    _end_session(gate, visit)
    gate.record(request, "session.ended", visit.entry, visit.contact.email)
    request.clear_session = True
    manifest = gate.manifest(visit)
    language = manifest.language if manifest is not None else gate.branding.language
    return gate.redirect(request, f"signed-out?lang={language}")


# -- helpers ----------------------------------------------------------------------------------


def _check_flow_post(gate: Gate, request: GateRequest) -> None:
    security.check_origin(request, gate.base_origin)
    flow = gate.read_flow(request)
    if flow is None:
        raise errors.Forbidden("no sign-in cookie (cookies off, or the page was open too long)")
    security.check_csrf(gate.signer, request, security.CSRF_FLOW, flow["n"])


def _set_flow(gate: Gate, response: Response, flow: dict[str, Any]) -> None:
    security.set_cookie(
        response,
        gate.cookies.flow,
        gate.signer.sign(FLOW, flow),
        path=gate.cookie_path,
        secure=gate.secure,
        max_age=security.FLOW_MAX_AGE,
    )


def _limit(gate: Gate, request: GateRequest, what: str, rule: tuple[int, int]) -> None:
    limit, window = rule
    if not gate.limiter.hit(f"{what}:{request.remote_addr}", limit, window):
        raise errors.TooManyRequests(f"{what} rate limit", retry_after=window)


def _language(gate: Gate, entry: RegistryEntry) -> str | None:
    return gate.language_of(entry)
