"""Every refusal the gate gives, with its status; turned into a page in one place (app.py).

Views raise these; nothing else decides a status. The message a customer reads is
chosen by `kind` in pages.py: generic, translated, never echoing a token or a path.
"""

from __future__ import annotations


class GateError(Exception):
    status = 400
    kind = "bad-request"

    def __init__(
        self, detail: str = "", *, clear_session: bool = False, language: str | None = None
    ) -> None:
        super().__init__(detail or self.kind)
        self.detail = detail  # for the log only
        self.clear_session = clear_session
        self.language = language  # the customer's, when the gate knows who it is


class BadRequest(GateError):
    status, kind = 400, "bad-request"


class BadLink(GateError):
    """Tampered, truncated, signed with another secret or for another purpose."""

    status, kind = 400, "bad-link"


class LinkExpired(GateError):
    status, kind = 410, "link-expired"


class AccessEnded(GateError):
    """Revoked customer or contact, or an older generation (reset): refused at once."""

    status, kind = 410, "access-ended"


class NoSession(GateError):
    status, kind = 403, "no-session"


class SessionExpired(GateError):
    status, kind = 403, "session-expired"


class Forbidden(GateError):
    """A POST without the right CSRF token or from another origin."""

    status, kind = 403, "forbidden"


class NotFound(GateError):
    status, kind = 404, "not-found"


class PortalNotReady(GateError):
    status, kind = 404, "not-ready"


class MethodNotAllowed(GateError):
    status, kind = 405, "bad-request"


class TooLarge(GateError):
    status, kind = 413, "too-large"


class TooManyRequests(GateError):
    status, kind = 429, "too-many"

    def __init__(
        self, detail: str = "", *, retry_after: int = 60, language: str | None = None
    ) -> None:
        super().__init__(detail, language=language)
        self.retry_after = retry_after


class LockedOut(TooManyRequests):
    kind = "locked"


class ServerError(GateError):
    status, kind = 500, "server-error"
