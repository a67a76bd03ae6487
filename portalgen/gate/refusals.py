"""A refusal as the customer sees it: logged (a server error as an error), then a page
in their language with the right status, Retry-After when they should wait, and the
session cookie cleared when the refusal ends the session."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from portalgen.gate import errors, pages
from portalgen.gate.wsgi import safe_path

if TYPE_CHECKING:
    from portalgen.gate.app import Gate
    from portalgen.gate.request import GateRequest

log = logging.getLogger("portalgen.gate")


def refusal_response(gate: Gate, request: GateRequest, exc: errors.GateError) -> Response:
    if exc.status >= 500:
        log.error("gate: %s", exc.detail)
    else:
        where = safe_path(request)
        log.info("gate: %s %s refused (%s): %s", request.method, where, exc.status, exc.detail)
    language = exc.language
    if language is None and request.visit is not None:
        manifest = request.visit.manifest_cache.get("manifest")
        language = getattr(manifest, "language", None)
    locked = exc.detail if isinstance(exc, errors.LockedOut) and exc.detail else ""
    html = pages.error_page(
        gate.page_context(request, language),
        exc.kind,
        can_send=gate.send_link is not None,
        locked_until=locked,
        params=exc.params,
        back=exc.back,
    )
    response = Response(html, status=exc.status, content_type="text/html; charset=utf-8")
    if isinstance(exc, errors.TooManyRequests | errors.TooManyActions):
        response.headers["Retry-After"] = str(exc.retry_after)
    if exc.clear_session:
        request.clear_session = True
    return response
