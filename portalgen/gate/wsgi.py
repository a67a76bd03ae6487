"""The gate's WSGI plumbing: what it sends without werkzeug's response machinery, the
route it answers without werkzeug's routing, and what it trusts of proxies."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from portalgen.gate.request import PlainResponse, Route


def plain_answer(response: Response, environ: dict[str, Any]) -> list[tuple[str, str]] | None:
    """The WSGI headers of `response` if werkzeug would send it exactly as it holds it:
    a PlainResponse (nothing to run on close) with a 200 (not to a HEAD) whose body is a
    list of bytes with its Content-Length, and no Location. None otherwise."""
    if (
        response.status_code != 200
        or type(response) is not PlainResponse
        or type(response.response) is not list
        or response.direct_passthrough
        or environ.get("REQUEST_METHOD") == "HEAD"
        or not all(type(chunk) is bytes for chunk in response.response)
    ):
        return None
    headers = response.headers.to_wsgi_list()
    names = {name.lower() for name, _value in headers}
    if "content-length" not in names or "location" in names or "content-location" in names:
        return None
    return headers


def portal_fast_path(routes: Sequence[Route]) -> Callable[..., Response] | None:
    """The view every GET of ``/portal/<path>`` goes to, read from the route table: when
    the table's only GET routes under /portal/ are ``/portal/`` and
    ``/portal/<path:path>`` with one view, `Gate.match` answers those paths without
    werkzeug's routing (nearly every request). None (always route) otherwise."""
    under_portal = [r for r in routes if r.rule.startswith("/portal/") and "GET" in r.methods]
    rules = {r.rule for r in under_portal}
    views = {r.view for r in under_portal}
    if rules == {"/portal/", "/portal/<path:path>"} and len(views) == 1:
        return views.pop()
    return None


def proxy_fix(app: Callable[..., Iterable[bytes]], hops: int) -> Callable[..., Any] | None:
    """werkzeug's ProxyFix trusting `hops` proxies' X-Forwarded-For (None for 0: the
    header is ignored, as anyone can send it)."""
    if hops <= 0:
        return None
    from werkzeug.middleware.proxy_fix import ProxyFix

    return ProxyFix(app, x_for=hops, x_proto=0, x_host=0, x_port=0, x_prefix=0)


def safe_path(request: Request) -> str:
    """The path for logs, without a link's or preview's token."""
    path = request.path
    if path.startswith(("/l/", "/s/")):  # a customer's link, a staff preview
        return path[:3] + "…"
    return path[:120]


def routing_redirect(base_url: str, request: Request, exc: HTTPException, code: int) -> Response:
    """werkzeug's redirect (a missing trailing slash), to the same path on the gate's
    base_url: werkzeug builds its URL from the Host header, which the sender chooses."""
    target = urlsplit(getattr(exc, "new_url", "") or "")
    path = target.path.removeprefix(request.script_root)
    location = base_url + "/" + path.lstrip("/")
    if target.query:
        location += "?" + target.query
    return Response("", status=code, headers={"Location": location})
