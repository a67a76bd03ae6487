"""The gate's quick route for portal GETs gives exactly werkzeug's routing answer.

`Gate.match` recognises ``GET|HEAD /portal/<path>`` without werkzeug's URL map (nearly
every request is one). These tests hold it to the map's answer for tricky paths, so the
shortcut can never route a request the map would refuse, or the other way round.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from werkzeug.test import EnvironBuilder

from portalgen.config import GateSettings
from portalgen.gate import Gate, views_portal
from portalgen.gate.request import GateRequest, PlainResponse, Route
from portalgen.gate.routes import ROUTES
from portalgen.gate.wsgi import portal_fast_path
from portalgen.storage import LocalStorage

PATHS = [
    "/portal/",
    "/portal",
    "/portal/index.html",
    "/portal/quotes/",
    "/portal/quotes/P2026A-00017.html",
    "/portal/quotes/P2026A-00017/accept",
    "/portal/quotes/P2026A-00017/reject",
    "/portal/comments",
    "/portal/comments/",
    "/portal//index.html",
    "/portal///",
    "//portal/index.html",
    "///portal/",
    "/portal/../_access/x.json",
    "/portal/%2e%2e/x",
    "/portal/a%2Fb",
    "/portal/a\nb",
    "/portal/a\rb",
    "/portal/\n",
    "/portal/ú/ñ.html",
    "/portal/static/portal.css",
    "/portal/_live/quotes.json",
    "/portalx/index.html",
    "/Portal/index.html",
    "/",
    "/l/abc",
    "/logout",
]
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"]


def outcome(call: Any) -> tuple[str, Any]:
    try:
        view, args = call()
    except RequestRedirect as exc:
        return ("redirect", exc.new_url)
    except HTTPException as exc:
        return ("refused", exc.code)
    return (view.__name__ + "@" + view.__module__, args)


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory) -> Gate:
    storage = LocalStorage(Path(tmp_path_factory.mktemp("routing")))
    return Gate(storage, ("s" * 40,), gate=GateSettings())


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("path", PATHS)
def test_the_quick_route_agrees_with_the_url_map(gate: Gate, path: str, method: str) -> None:
    environ = EnvironBuilder(path="/", method=method).get_environ()
    environ["PATH_INFO"] = path.encode("utf-8").decode("latin-1")  # as a WSGI server gives it
    expected = outcome(lambda: gate.url_map.bind_to_environ(environ).match())
    got = outcome(lambda: gate.match(GateRequest(environ)))
    assert got == expected


def test_the_quick_route_is_off_with_other_routes(tmp_path: Path) -> None:
    gate = Gate(LocalStorage(tmp_path), ("s" * 40,), gate=GateSettings(), routes=ROUTES[:2])
    environ = EnvironBuilder(path="/portal/index.html").get_environ()
    assert outcome(lambda: gate.match(GateRequest(environ))) == ("refused", 404)


def test_the_quick_route_is_read_from_the_route_table() -> None:
    assert portal_fast_path(ROUTES) is views_portal.serve
    # another GET under /portal/ in the table: every request goes through the URL map
    extra = Route("/portal/invoices/<slug>/receipt", views_portal.serve)
    assert portal_fast_path([*ROUTES, extra]) is None
    assert portal_fast_path([r for r in ROUTES if r.rule != "/portal/"]) is None


def test_a_plain_response_refuses_work_on_close() -> None:
    """The gate sends a PlainResponse without werkzeug's machinery, which is what would
    run callbacks on close: so a PlainResponse cannot take one."""
    with pytest.raises(TypeError):
        PlainResponse(b"x").call_on_close(lambda: None)
