"""The gate: one WSGI application, the same behind `portalgen serve` and AWS Lambda.

`Gate.__call__` routes a request (routes.py), calls the view, and is the one place where
refusals become pages (errors.py → pages.py), security headers are set and a session
cookie is renewed. Views are ``view(gate, request, **args)``; those that need a signed-in
customer call `require_visit`, and POSTs `check_post` (session, CSRF token, Origin).
Nothing heavy is imported here (no renderer, Jinja, WeasyPrint, boto3 or argon2): the
Lambda handler imports it at cold start.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Response

from portalgen.access.entry import Contact, RegistryEntry, entry_from_json, is_customer_key
from portalgen.access.registry import AccessRegistry, entry_key
from portalgen.access.tokens import SESSION, TokenSigner
from portalgen.gate import errors, security
from portalgen.gate.access_log import AccessLog
from portalgen.gate.caches import MANIFEST_TTL, GateCaches
from portalgen.gate.ratelimit import ACTIONS_PER_CONTACT, ACTIONS_PER_CUSTOMER, RateLimiter
from portalgen.gate.recorder import BatchWriter, SideTasks, ViewRecorder
from portalgen.gate.request import (
    SECRETS_TTL,
    Branding,
    GateRequest,
    HandOff,
    PlainResponse,
    Route,
    SecretSource,
    SendLink,
    Visit,
)
from portalgen.gate.routes import ROUTES
from portalgen.gate.threads import CommentThreads
from portalgen.gate.wsgi import (
    plain_answer,
    portal_fast_path,
    proxy_fix,
    routing_redirect,
)

if TYPE_CHECKING:
    from portalgen.audit.events import AuditEvent
    from portalgen.audit.sinks import AuditSink
    from portalgen.config import GateSettings, UploadSettings
    from portalgen.gate import pages
    from portalgen.payments.providers import Providers
    from portalgen.publish.manifest import Manifest
    from portalgen.storage import Storage

log = logging.getLogger("portalgen.gate")


class Gate:
    def __init__(
        self,
        storage: Storage,
        secrets: Sequence[str] | SecretSource,
        *,
        gate: GateSettings,
        branding: Branding | None = None,
        routes: Iterable[Route] | None = None,
        audit: AuditSink | None = None,
        send_link: SendLink | None = None,
        clock: Callable[[], float] = time.time,
        background: bool = True,
        verify_retention: timedelta = timedelta(days=2190),
        uploads: UploadSettings | None = None,
    ) -> None:
        self.storage = storage
        self.registry = AccessRegistry(storage)
        self.settings = gate
        self.branding = branding or Branding()
        self.verify_retention = verify_retention  # verify.retention: /verify after withdrawal
        self.send_link = send_link
        self.clock = clock
        self._secret_source = secrets if callable(secrets) else (lambda: tuple(secrets))
        self._secrets_loaded = 0.0
        self.signer = self._new_signer()
        self.audit = audit
        self.limiter = RateLimiter(clock)
        self.actions_per_contact = ACTIONS_PER_CONTACT  # decisions and comments
        self.actions_per_customer = ACTIONS_PER_CUSTOMER
        self.base_url = gate.base_url.rstrip("/")
        self.base_origin = security.origin_of(self.base_url)
        self.base_path = urlsplit(self.base_url).path.rstrip("/")  # "" at the origin's root
        self.https = self.base_url.startswith("https://")
        self.secure = security.secure_cookies(self.base_url)
        self.cookies = security.cookie_names(self.base_url)
        self.cookie_path = self.base_path + "/"
        # gate.trusted_proxies: the client's address from X-Forwarded-For, that many hops back
        self._proxied = proxy_fix(self._serve, gate.trusted_proxies)
        self.routes = list(routes if routes is not None else ROUTES)
        self._portal_view = portal_fast_path(self.routes)
        self.url_map = Map(
            [
                Rule(r.rule, endpoint=r.view, methods=r.methods, defaults=r.defaults)
                for r in self.routes
            ],
            merge_slashes=False,
        )
        self.caches = GateCaches()
        self.access_log: AccessLog | None = None  # set by create_app (gate.access_log)
        self.threads = CommentThreads(clock)  # comment threads shown on pages
        self.background = background  # False on AWS Lambda: nothing may outlive a response
        self.views = ViewRecorder(
            BatchWriter(audit, background=background) if audit is not None else None, clock
        )
        self.later = SideTasks(background=background)  # work done after answering
        self.hand_off: HandOff | None = None  # AWS Lambda: "email me a link" (link_request.py)
        self.payments: Providers | None = None  # online payment (views_pay.py)
        self.uploads, self.connects, self.header_table = security.uploads_of(storage, uploads)

    def offer_payments(self, providers: Providers) -> None:
        """Take online payments through `providers`: their pages join form-action."""
        self.payments = providers
        self.header_table = security.header_table(providers.form_origins, self.connects)

    # -- WSGI -----------------------------------------------------------------------------------

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if self._proxied is not None:
            answer: Iterable[bytes] = self._proxied(environ, start_response)
            return answer
        return self._serve(environ, start_response)

    def _serve(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        # populate_request=False: no environ["werkzeug.request"], so no reference cycle
        # between the request and its environ that only the garbage collector frees
        request = GateRequest(environ, populate_request=False)
        started = time.perf_counter()
        response = self.dispatch(request)
        if self.access_log is not None:
            self.access_log.write(
                request, response, time.perf_counter() - started, self.client_hash(request)
            )
        https, table = self.https, self.header_table
        headers = plain_answer(response, environ)
        if headers is not None:
            # a 200 with its body in memory (a page, an asset): what werkzeug would send,
            # without its response machinery
            start_response(
                response.status, security.with_security_headers(headers, https=https, table=table)
            )
            return cast(list[bytes], response.response)  # plain_answer checked: bytes

        def start_with_headers(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            headers = security.with_security_headers(headers, https=https, table=table)
            return start_response(status, headers, exc_info)

        return response(environ, start_with_headers)

    def dispatch(self, request: GateRequest) -> Response:
        """The view's answer to `request` (refusals as pages, cookies set). The security
        headers are added to every answer by `__call__`, the WSGI entry point."""
        try:
            view, args = self.match(request)
            response: Response = view(self, request, **args)
        except errors.GateError as exc:
            response = self.refusal(request, exc)
        except HTTPException as exc:
            response = self._http_exception(request, exc)
        except Exception:
            log.exception("gate: unexpected error on %s %s", request.method, request.path[:80])
            response = self.refusal(request, errors.ServerError())
        self._finish(request, response)
        return response

    def match(self, request: GateRequest) -> tuple[Callable[..., Response], Mapping[str, Any]]:
        """The view and arguments of a request. A GET of a portal file (nearly every
        request) is recognised without werkzeug's routing when the gate has the standard
        routes — the same answer `url_map` gives (tests/test_gate_routing.py checks it)."""
        if self._portal_view is not None and request.method in ("GET", "HEAD"):
            path = request.path  # "/" + PATH_INFO without its leading slashes, as routing does
            if path.startswith("/portal/") and "\n" not in path:
                rest = path[8:]
                if not rest:
                    return self._portal_view, {"path": ""}
                if rest[0] != "/":
                    return self._portal_view, {"path": rest}
        adapter = self.url_map.bind_to_environ(request.environ)
        view, args = adapter.match()  # the endpoints of url_map are the views
        return cast(Callable[..., Response], view), args

    def _http_exception(self, request: GateRequest, exc: HTTPException) -> Response:
        code = exc.code or 500
        if 300 <= code < 400:  # routing redirects (a missing trailing slash)
            return routing_redirect(self.base_url, request, exc, code)
        mapped = {404: errors.NotFound, 405: errors.MethodNotAllowed, 413: errors.TooLarge}
        return self.refusal(request, mapped.get(code, errors.BadRequest)(str(exc.description)))

    def refusal(self, request: GateRequest, exc: errors.GateError) -> Response:
        """The one place a refusal becomes a page: friendly, translated, right status."""
        from portalgen.gate.refusals import refusal_response  # not needed to serve a portal

        return refusal_response(self, request, exc)

    def _finish(self, request: GateRequest, response: Response) -> None:
        if request.clear_session:
            security.delete_cookie(
                response, self.cookies.session, path=self.cookie_path, secure=self.secure
            )
        elif request.set_session is not None:
            token = self.signer.sign(SESSION, request.set_session.payload())
            security.set_cookie(
                response,
                self.cookies.session,
                token,
                path=self.cookie_path,
                secure=self.secure,
                max_age=int(self.settings.session_idle.total_seconds()),
            )

    # -- sessions -------------------------------------------------------------------------------

    def require_visit(self, request: GateRequest) -> Visit:
        """The signed-in contact, checked against the registry on every request."""
        if request.visit is not None:
            return request.visit
        self.maybe_reload_secrets(SECRETS_TTL)
        session = security.read_session(
            self.signer,
            request,
            cache=self.caches.sessions,
            cookie_headers=self.caches.cookie_headers,
            idle=self.settings.session_idle.total_seconds(),
            max_age=self.settings.session_max_age.total_seconds(),
            name=self.cookies.session,
        )
        entry, contact = self.check_access(
            session.customer_key, session.contact, session.generation, errors.SessionAccessEnded
        )
        if contact.session_ended(session.sid, session.started):  # logout, sign out everywhere
            raise errors.SessionExpired("session ended on the server", clear_session=True)
        if self.clock() - session.signed_at > security.REFRESH_AFTER:
            # sliding expiry: signed again with a new timestamp (and the newest secret's id)
            request.set_session = replace(session, contact=self.signer.contact_id(contact.email))
        csrf = self.caches.csrf.get(session.sid)
        if csrf is None:
            csrf = security.csrf_token(self.signer, session)
            self.caches.csrf.put(session.sid, csrf)
        visit = Visit(entry, contact, session, csrf)
        request.visit = visit
        return visit

    def verify(self, purpose: str, token: str, max_age: float | None = None) -> tuple[Any, float]:
        """A token's payload and signing time, verified by the secrets as they are now:
        every verification first reads the secrets again if they were read over
        SECRETS_TTL seconds ago, so a link signed with a secret that `portalgen secret
        drop-old` removed stops working within 5 minutes even on a gate that saw no
        signed-in request since (a clock reading per token; a read every 5 minutes)."""
        self.maybe_reload_secrets(SECRETS_TTL)
        return self.signer.verify(purpose, token, max_age)

    def read_flow(self, request: GateRequest) -> dict[str, Any] | None:
        """The sign-in flow cookie's payload, or None (missing, too old, not ours)."""
        self.maybe_reload_secrets(SECRETS_TTL)
        return security.read_flow(self.signer, request.cookies.get(self.cookies.flow))

    def check_access(
        self,
        customer_key: str,
        contact: str,
        generation: int,
        ended: type[errors.AccessEnded] = errors.AccessEnded,
    ) -> tuple[RegistryEntry, Contact]:
        """The entry and contact if a token for them is still good; `ended` if not."""
        entry = self.load_entry(customer_key)
        found = None if entry is None else self._contact_by_id(entry, contact)
        if entry is None or found is None or not entry.allows(found.email, generation):
            language = None if entry is None else self.language_of(entry)
            raise ended("revoked, reset or unknown", clear_session=True, language=language)
        return entry, found

    def load_entry(self, customer_key: str) -> RegistryEntry | None:
        """The registry entry as stored right now (read on every call; only the parsing
        of bytes already seen is skipped)."""
        if not is_customer_key(customer_key):
            return None
        raw = self.storage.get(entry_key(customer_key))
        if raw is None:
            return None
        entry = self.caches.entries.get(raw)
        if entry is None:
            entry = entry_from_json(raw, f"{self.storage.location}/{entry_key(customer_key)}")
            if entry.customer_key != customer_key:
                return None
            self.caches.entries.put(raw, entry)
        return entry

    def language_of(self, entry: RegistryEntry) -> str | None:
        """The customer's portal language: the published manifest's, else the one the
        registry kept when the customer was revoked (the portal is gone then)."""
        from portalgen.publish.manifest import load_manifest

        try:
            manifest = load_manifest(self.storage, entry.customer_key)
        except ValueError:
            manifest = None
        if manifest is not None and manifest.language:
            return manifest.language
        return entry.language or None

    def _contact_by_id(self, entry: RegistryEntry, contact: str) -> Contact | None:
        is_contact = self.signer.is_contact
        return next((c for c in entry.contacts if is_contact(c.email, contact)), None)

    def start_session(self, request: GateRequest, entry: RegistryEntry, contact: Contact) -> None:
        session = security.new_session(
            entry.customer_key,
            self.signer.contact_id(contact.email),
            contact.generation,
            self.clock(),
        )
        request.set_session = session
        self.record(request, "session.started", entry, contact.email)

    def check_post(self, request: GateRequest, visit: Visit) -> None:
        """Session POSTs: same origin and the session's CSRF token."""
        security.check_origin(request, self.base_origin)
        security.check_csrf(self.signer, request, security.CSRF_SESSION, visit.session.sid)

    # -- data -----------------------------------------------------------------------------------

    def manifest(self, visit: Visit) -> Manifest | None:
        """The customer's published manifest, kept for MANIFEST_TTL seconds per process.

        Safe to keep briefly: who may see it is checked against the registry on every
        request (a revoked customer is refused before this), and a publish replaces
        files by new content-addressed blobs, so an older manifest stays servable."""
        if "manifest" not in visit.manifest_cache:
            visit.manifest_cache["manifest"] = self._manifest(visit.customer_key)
        manifest: Manifest | None = visit.manifest_cache["manifest"]
        return manifest

    def _manifest(self, customer_key: str) -> Manifest | None:
        from portalgen.publish.manifest import load_manifest

        now = self.clock()
        cached = self.caches.manifests.get(customer_key)
        if cached is not None and cached[0] > now:
            return cached[1]
        manifest = load_manifest(self.storage, customer_key)
        if manifest is not None:
            self.caches.manifests.put(customer_key, (now + MANIFEST_TTL, manifest))
        return manifest

    def make_event(
        self,
        request: GateRequest,
        kind: str,
        entry: RegistryEntry,
        contact: str,
        *,
        document: str = "",
        data: Mapping[str, Any] | None = None,
    ) -> AuditEvent:
        """An audit event of this request: the hashed client address, the user agent."""
        from portalgen.audit.events import new_event

        return new_event(
            kind,
            entry.customer,
            contact=contact,
            document=document,
            data=data,
            ip_hash=self.client_hash(request),
            user_agent=request.headers.get("User-Agent", ""),  # = request.user_agent.string
            now=datetime.fromtimestamp(self.clock(), UTC),
        )

    def client_hash(self, request: GateRequest) -> str:
        """The keyed hash of the client's address (audit events, the access log)."""
        address = request.remote_addr or ""
        found = self.caches.client_hashes.get(address)
        if found is None:
            from portalgen.audit.events import hash_ip

            found = hash_ip(address, self.signer.derived_key("ip"))
            self.caches.client_hashes.put(address, found)
        return found

    def record(
        self,
        request: GateRequest,
        kind: str,
        entry: RegistryEntry,
        contact: str,
        *,
        document: str = "",
        data: Mapping[str, Any] | None = None,
    ) -> AuditEvent | None:
        """Record an audit event now, through the audit sink (a folder: audit.jsonl;
        S3: `_events/`). Views and downloads go through `record_view` instead."""
        if self.audit is None:
            return None
        event = self.make_event(request, kind, entry, contact, document=document, data=data)
        self.audit.record(event)
        return event

    def record_view(self, request: GateRequest, visit: Visit, path: str, *, page: bool) -> None:
        """A document page opened or a file downloaded: handed to the view recorder,
        which writes it off the request's thread (recorder.py)."""
        views = self.views
        kind = views.kind_of(path, page)
        if kind is None or views.writer is None:
            return
        data = None
        if visit.staff:  # never the customer's view: its own type, the contact "staff"
            kind, data = "staff.viewed", {"download": not page}
        if views.is_new(visit.customer_key, visit.contact.email, path):
            event = self.make_event(
                request, kind, visit.entry, visit.contact.email, document=path, data=data
            )
            views.writer.put(event)

    def flush(self, timeout: float = 10.0) -> bool:
        """Finish the side work under way: the views still queued, then the webhook
        deliveries and staff notices (tests, and a server shutting down). False if
        some of it is still running after `timeout`."""
        from portalgen.gate.recorder import settle_side_work

        writer = self.views.writer
        done = self.later.flush(timeout)
        written = True if writer is None else writer.flush(timeout)
        return settle_side_work(self.audit, timeout) and written and done

    # -- secrets --------------------------------------------------------------------------------

    def _new_signer(self) -> TokenSigner:
        self._secrets_loaded = self.clock()
        return TokenSigner(tuple(self._secret_source()), clock=self.clock)

    def maybe_reload_secrets(self, min_age: float = 60) -> bool:
        """Read the secrets again if they were read over `min_age` seconds ago: after a
        token failed to verify (at most once a minute), so a gate that started before
        `portalgen secret rotate` learns the new one; and every SECRETS_TTL seconds on
        signed-in requests, so `portalgen secret drop-old` ends old sessions."""
        if self.clock() - self._secrets_loaded < min_age:
            return False
        fresh = tuple(self._secret_source())
        self._secrets_loaded = self.clock()
        if fresh == self.signer.secrets:
            return False
        self.signer = TokenSigner(fresh, clock=self.clock)
        self.caches.secrets_changed()
        return True

    # -- pages ----------------------------------------------------------------------------------

    def page_context(self, request: GateRequest, language: str | None = None) -> pages.PageContext:
        from portalgen.gate import pages  # the gate's own pages: not needed to serve a portal

        return pages.page_context(self.branding, request, language)

    def html(self, body: str, status: int = 200) -> Response:
        return PlainResponse(body, status=status, content_type="text/html; charset=utf-8")

    def redirect(self, request: GateRequest, route: str) -> Response:
        """A 303 to one of the gate's routes, under base_url's path (never from Host)."""
        location = f"{self.base_path}/{route.lstrip('/')}"
        return Response("", status=303, headers={"Location": location})

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def local_time(self, when: datetime) -> datetime:
        from zoneinfo import ZoneInfo

        return when.astimezone(ZoneInfo(self.branding.timezone))

    def link_max_age(self, entry: RegistryEntry) -> timedelta:
        return entry.link_max_age or self.settings.link_max_age
