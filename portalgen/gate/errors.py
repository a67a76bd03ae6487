"""Every refusal the gate gives, with its status; turned into a page in one place (app.py).

Views raise these; nothing else decides a status. The message a customer reads is
chosen by `kind` in pages.py: generic, translated, never echoing a token or a path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar


class GateError(Exception):
    status = 400
    kind = "bad-request"
    params: Mapping[str, str] = {}  # fills the message (a quote number, a date)
    back = ""  # a portal page to offer a link back to

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


class SessionAccessEnded(AccessEnded):
    """The same, found on a signed-in session: it was the access that ended, not a link."""

    kind = "session-ended"


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


class Refused(GateError):
    """A decision or comment the customer cannot make (interact.ActionRefused), said
    plainly: already decided (when, by whom), expired, changed since the page was opened,
    a missing reason, too long, empty. With a link back to the page it came from."""

    STATUS: ClassVar[dict[str, int]] = {
        "quote-accepted": 409,
        "quote-rejected": 409,
        "quote-changed": 409,
        "quote-expired": 410,
        "quote-unknown": 404,
        "not-found": 404,
        "reason-missing": 400,
        "name-missing": 400,
        "signature-invalid": 400,
        "signature-too-large": 413,
        "comment-empty": 400,
        "too-long": 400,
        "too-many-actions": 429,
        "invoice-unknown": 404,
        "method-unknown": 400,
        "payment-unavailable": 502,
    }

    def __init__(
        self,
        kind: str,
        detail: str = "",
        *,
        params: Mapping[str, str] | None = None,
        back: str = "",
        language: str | None = None,
    ) -> None:
        super().__init__(detail, language=language)
        self.kind = kind
        self.status = self.STATUS.get(kind) or _upload_status(kind)
        self.params = dict(params or {})
        self.back = back


class TooManyActions(Refused):
    """Decisions and comments faster than a person makes them (a script, a stuck
    button): refused with 429 until the window has room again."""

    def __init__(self, detail: str, *, retry_after: int, back: str = "") -> None:
        super().__init__("too-many-actions", detail, back=back)
        self.retry_after = retry_after


def _upload_status(kind: str) -> int:
    from portalgen.gate.pages_upload import STATUS

    return STATUS.get(kind, 400)
