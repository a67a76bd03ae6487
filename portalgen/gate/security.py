"""Sessions, the sign-in flow, CSRF and Origin checks, and the headers on every response.

Two signed cookies, both HttpOnly, SameSite=Lax, Secure unless the gate runs on plain
http://localhost, and named with the ``__Host-`` prefix when the gate is at the root of
an https origin (the browser then refuses them from a subdomain or over http):

- ``pg_session``: the session, ``{k, c, g, s, o}`` (customer_key, contact id,
  generation, a random session id, the start time). Its signature's timestamp slides:
  the gate signs it again (at most once a minute) while the customer is active, and it
  dies after ``gate.session_idle`` without a visit or ``gate.session_max_age`` after it
  began. Every request checks it against the registry entry it reads anyway: the
  contact's generation, and whether the session was ended there (logout, "sign out
  everywhere"), so a copy of the cookie dies with the session.
- ``pg_flow``: the steps before a session, ``{n, k?, c?, g?, step?, h?}``; ``n`` is a
  random nonce whose MAC is the CSRF token of the sign-in forms (double submit); ``h``
  binds the "choose your code" step to the temporary code it was issued for.

CSRF tokens are MACs of the session id (or flow nonce) under a key derived from the
secret; POSTs also need a same-origin ``Sec-Fetch-Site`` or an ``Origin`` that is
the gate's configured base_url (never the request's Host header).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from portalgen.access.tokens import FLOW, SESSION, TokenError, TokenSigner
from portalgen.gate.errors import Forbidden, NoSession, SessionExpired
from portalgen.slots import CSRF_FIELD

if TYPE_CHECKING:
    from werkzeug.wrappers import Request, Response

    from portalgen.config import UploadSettings
    from portalgen.gate.caches import Region

SESSION_COOKIE = "pg_session"
FLOW_COOKIE = "pg_flow"
HOST_PREFIX = "__Host-"
FLOW_MAX_AGE = 30 * 60  # the sign-in steps must be done within half an hour
REFRESH_AFTER = 60  # seconds before a session cookie is signed again
CSRF_SESSION = "csrf.session"
CSRF_FLOW = "csrf.flow"
LOCALHOST_NAMES = {"localhost", "127.0.0.1", "::1"}

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


@dataclass(frozen=True)
class CookieNames:
    session: str = SESSION_COOKIE
    flow: str = FLOW_COOKIE


def cookie_names(base_url: str) -> CookieNames:
    """``__Host-`` names at the root of an https origin (Secure, Path=/, no Domain: a
    subdomain or a plain-http page cannot set or overwrite them); plain names otherwise."""
    parts = urlsplit(base_url)
    if parts.scheme == "https" and parts.path.rstrip("/") == "":
        return CookieNames(HOST_PREFIX + SESSION_COOKIE, HOST_PREFIX + FLOW_COOKIE)
    return CookieNames()


def secure_cookies(base_url: str) -> bool:
    """Secure cookies, except for a gate on plain http on this machine."""
    parts = urlsplit(base_url)
    return not (parts.scheme == "http" and (parts.hostname or "") in LOCALHOST_NAMES)


@dataclass(frozen=True)
class SessionData:
    customer_key: str
    contact: str  # contact id
    generation: int
    sid: str
    started: float
    signed_at: float

    def payload(self) -> dict[str, Any]:
        return {
            "k": self.customer_key,
            "c": self.contact,
            "g": self.generation,
            "s": self.sid,
            "o": int(self.started),
        }


def new_session(customer_key: str, contact: str, generation: int, now: float) -> SessionData:
    return SessionData(customer_key, contact, generation, secrets.token_urlsafe(16), now, now)


def read_session(
    signer: TokenSigner,
    request: Request,
    *,
    idle: float,
    max_age: float,
    cache: Region[str, SessionData] | None = None,
    cookie_headers: Region[str, str | None] | None = None,
    name: str = SESSION_COOKIE,
) -> SessionData:
    """The request's session; NoSession without a cookie, SessionExpired when it is too
    old or not ours (a forged cookie is treated like an expired one).

    `cache` remembers cookies whose signature was verified (the same bytes always verify
    the same way, with the same signer); their age is checked every time."""
    raw = session_cookie(request, name, cookie_headers)
    if not raw:
        raise NoSession("no session cookie")
    data = cache.get(raw) if cache is not None else None
    if data is None:
        try:
            payload, signed_at = signer.verify(SESSION, raw)
            data = SessionData(
                str(payload["k"]),
                str(payload["c"]),
                int(payload["g"]),
                str(payload["s"]),
                float(payload["o"]),
                signed_at,
            )
        except (TokenError, KeyError, TypeError, ValueError):
            raise SessionExpired("session cookie expired or invalid", clear_session=True) from None
        if cache is not None:
            cache.put(raw, data)
    now = signer.clock()
    if now - data.signed_at > idle:
        raise SessionExpired("session cookie expired or invalid", clear_session=True)
    if now - data.started > max_age:
        raise SessionExpired("session older than its maximum age", clear_session=True)
    return data


def session_cookie(
    request: Request,
    name: str = SESSION_COOKIE,
    cache: Region[str, str | None] | None = None,
) -> str | None:
    """The session cookie's value, as werkzeug parses the Cookie header. A browser sends
    the same header on every request until a cookie changes: with a `cache` (one per
    cookie name), each header of at most 4 KiB is parsed once per process."""
    header = request.environ.get("HTTP_COOKIE")
    if not header:
        return None
    if cache is not None:
        try:
            return cache[header]
        except KeyError:
            pass
    value = request.cookies.get(name)
    if cache is not None and len(header) <= 4096:
        cache.put(header, value)
    return value


def csrf_token(signer: TokenSigner, session: SessionData) -> str:
    return signer.mac(CSRF_SESSION, session.sid)


def flow_csrf(signer: TokenSigner, flow: dict[str, Any]) -> str:
    return signer.mac(CSRF_FLOW, str(flow.get("n", "")))


def read_flow(signer: TokenSigner, raw: str | None) -> dict[str, Any] | None:
    """The flow cookie `raw`'s payload, or None (missing, too old, not ours)."""
    if not raw:
        return None
    try:
        payload, _ = signer.verify(FLOW, raw, max_age=FLOW_MAX_AGE)
    except TokenError:
        return None
    return payload if isinstance(payload, dict) and isinstance(payload.get("n"), str) else None


def new_flow(**values: Any) -> dict[str, Any]:
    return {"n": secrets.token_urlsafe(16), **values}


def check_origin(request: Request, base_origin: str) -> None:
    """Refuse a POST another site made the browser send.

    Browsers send ``Sec-Fetch-Site``; when they do, it decides. Otherwise a present
    ``Origin`` must be the gate's base_url's (never derived from the Host header, which
    whoever sends the request chooses).
    Browsers send ``Origin: null`` for POSTs from pages with ``Referrer-Policy:
    no-referrer``, which the portal uses — with Sec-Fetch-Site beside it. Requests with
    neither header come from programs, not from a browser tricked by another site.
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        if site.strip().lower() != "same-origin":
            raise Forbidden(f"Sec-Fetch-Site: {site[:40]}")
        return
    origin = request.headers.get("Origin")
    if origin is None:
        return
    if origin.strip().lower() != base_origin:
        raise Forbidden(f"Origin: {origin[:80]}")


def check_csrf(signer: TokenSigner, request: Request, purpose: str, value: str) -> None:
    token = request.form.get(CSRF_FIELD, "")
    if not token or len(token) > 128 or not signer.check_mac(purpose, value, token):
        raise Forbidden("missing or wrong CSRF token")


def set_cookie(
    response: Response, name: str, value: str, *, path: str, secure: bool, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        secure=secure,
        httponly=True,
        samesite="Lax",
    )


def delete_cookie(response: Response, name: str, *, path: str, secure: bool) -> None:
    response.delete_cookie(name, path=path, secure=secure, httponly=True, samesite="Lax")


HEADERS = (
    ("Content-Security-Policy", CSP),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Cache-Control", "private, no-store"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000")


SECURITY_HEADERS = {
    False: [(name, value) for name, value in HEADERS],
    True: [*HEADERS, HSTS],
}
_NO_CACHE_CONTROL = {
    https: [(n, v) for n, v in headers if n != "Cache-Control"]
    for https, headers in SECURITY_HEADERS.items()
}


HeaderTable = dict[tuple[bool, bool], list[tuple[str, str]]]


def header_table(
    form_origins: tuple[str, ...] = (), connect_origins: tuple[str, ...] = ()
) -> HeaderTable:
    """The headers to add, by (https, the view set its own Cache-Control). `form_origins`
    join the CSP's form-action: the payment providers a "Pay now" form leads to (a form
    posted to Redsys, a redirect to Stripe Checkout after posting to the gate).
    `connect_origins` join its connect-src: the bucket a proof of payment is posted to
    (upload_origins)."""
    if not form_origins and not connect_origins:
        return {
            (https, own): (_NO_CACHE_CONTROL if own else SECURITY_HEADERS)[https]
            for https in (False, True)
            for own in (False, True)
        }
    csp = CSP
    if form_origins:
        csp = csp.replace("form-action 'self'", "form-action 'self' " + " ".join(form_origins))
    if connect_origins:
        csp = csp.replace("connect-src 'self'", "connect-src 'self' " + " ".join(connect_origins))
    table: HeaderTable = {}
    for (https, own), headers in header_table().items():
        table[(https, own)] = [
            (n, csp if n == "Content-Security-Policy" else v) for n, v in headers
        ]
    return table


DEFAULT_TABLE = header_table()


def with_security_headers(
    headers: list[tuple[str, str]], *, https: bool, table: HeaderTable = DEFAULT_TABLE
) -> list[tuple[str, str]]:
    """A response's WSGI header list with the security headers above added (every answer
    of the gate goes through this); a view's own Cache-Control stays."""
    for name, _value in headers:
        if name.lower() == "cache-control":
            return headers + table[(https, True)]
    return headers + table[(https, False)]


def upload_origins(storage: object) -> tuple[str, ...]:
    """The bucket's origin, which pages post proofs of payment to straight from the
    browser (portalgen/gate/views_upload.py); none when the storage has no presigned
    POST (a folder: proofs go through the gate, 'self')."""
    presign = getattr(storage, "presigned_post", None)
    if presign is None:
        return ()
    url, _fields = presign("_uploads/origin", "application/pdf", 1, 60)  # signed locally
    return (origin_of(url),)


def uploads_of(
    storage: object, uploads: UploadSettings | None
) -> tuple[UploadSettings, tuple[str, ...], HeaderTable]:
    """The gate's upload settings, the origins its pages post proofs of payment to (the
    bucket's, views_upload.py) and the headers that allow them (connect-src)."""
    from portalgen.config import UploadSettings

    settings = uploads or UploadSettings()
    origins = upload_origins(storage) if settings.enabled else ()
    return settings, origins, header_table(connect_origins=origins)
