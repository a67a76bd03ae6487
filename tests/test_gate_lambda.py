"""The Lambda handler answers AWS's own event documents the same as the WSGI app does."""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from portalgen.gate import lambda_handler as handler_module
from portalgen.gate.lambda_handler import make_handler
from tests.gate_fixtures import BASE_URL, GateClient, GateWorld, csrf_of

EVENTS = Path(__file__).parent / "events"
KINDS = ["apigw-http-api-v2.json", "function-url.json"]


def event_for(
    kind: str,
    method: str,
    path: str,
    *,
    cookies: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A copy of AWS's example event with this request line, cookies and body."""
    event = copy.deepcopy(json.loads((EVENTS / kind).read_text()))
    event["rawPath"] = path
    event["rawQueryString"] = ""
    event["queryStringParameters"] = {}
    event["requestContext"]["http"].update(method=method, path=path)
    event["headers"] = {"host": "127.0.0.1:8000", "x-forwarded-proto": "http", **(headers or {})}
    event["cookies"] = [f"{k}={v}" for k, v in (cookies or {}).items()]
    if form is None:
        event["body"] = ""
    else:
        event["headers"]["content-type"] = "application/x-www-form-urlencoded"
        event["body"] = base64.b64encode(urlencode(form).encode()).decode()
        event["isBase64Encoded"] = True
    return event


def body_of(result: dict[str, Any]) -> bytes:
    body = result.get("body", "")
    return base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()


def lambda_cookies(result: dict[str, Any]) -> dict[str, str]:
    jar = {}
    for cookie in result.get("cookies", []):
        name, _, rest = cookie.partition("=")
        jar[name] = rest.split(";", 1)[0]
    return jar


@pytest.mark.parametrize("kind", KINDS)
def test_the_example_events_reach_the_gate(gate_world: GateWorld, kind: str) -> None:
    """AWS's documents, unchanged: a POST to /my/path is a 404 page, not a crash."""
    event = json.loads((EVENTS / kind).read_text())
    result = make_handler(gate_world.gate)(event, None)
    assert result["statusCode"] == 404
    assert b"Page not found" in body_of(result) or b"no encontrada" in body_of(result)
    headers = {k.lower(): v for k, v in result["headers"].items()}
    assert "default-src 'none'" in headers["content-security-policy"]


@pytest.mark.parametrize("kind", KINDS)
def test_lambda_and_wsgi_answer_the_same(
    gate_world: GateWorld, built_portals: Path, kind: str
) -> None:
    handler = make_handler(gate_world.gate)
    link_path = gate_world.link("C00007").removeprefix(BASE_URL)

    # Sign in through Lambda events only: link page, then its form.
    page = handler(event_for(kind, "GET", link_path), None)
    assert page["statusCode"] == 200
    flow = lambda_cookies(page)
    token = csrf_of(body_of(page).decode())
    exchange = handler(
        event_for(kind, "POST", link_path, cookies=flow, form={"csrf_token": token}), None
    )
    assert exchange["statusCode"] == 303 and exchange["headers"]["location"] == "/portal/"
    session = lambda_cookies(exchange)
    assert "pg_session" in session
    assert any("HttpOnly" in c for c in exchange["cookies"])

    # The same session through the WSGI app.
    wsgi = GateClient(gate_world.gate)
    wsgi.client.set_cookie("pg_session", session["pg_session"])
    for path in (
        "/portal/",
        "/portal/quotes/P2026A-00017.html",
        "/portal/static/portal.css",
        "/portal/invoices/F2026A-00010.pdf",
        "/portal/nothing-here.html",
        "/l/not-a-token",
    ):
        via_lambda = handler(event_for(kind, "GET", path, cookies=session), None)
        via_wsgi = wsgi.get(path)
        assert via_lambda["statusCode"] == via_wsgi.status_code, path
        assert body_of(via_lambda) == via_wsgi.get_data(), path
        lambda_headers = {k.lower(): v for k, v in via_lambda["headers"].items()}
        for name in (
            "content-type",
            "content-disposition",
            "cache-control",
            "content-security-policy",
        ):
            assert lambda_headers.get(name) == via_wsgi.headers.get(name), (path, name)
    pdf = handler(
        event_for(kind, "GET", "/portal/invoices/F2026A-00010.pdf", cookies=session), None
    )
    assert pdf["isBase64Encoded"] is True
    assert body_of(pdf) == (built_portals / "C00007/invoices/F2026A-00010.pdf").read_bytes()

    # Sign out through Lambda: the CSRF token of the page, and the cookie is cleared.
    csrf = csrf_of(
        body_of(handler(event_for(kind, "GET", "/portal/", cookies=session), None)).decode()
    )
    out = handler(
        event_for(kind, "POST", "/logout", cookies=session, form={"csrf_token": csrf}), None
    )
    assert out["statusCode"] == 303
    assert lambda_cookies(out)["pg_session"] == ""


def test_a_cross_site_post_through_lambda_is_refused(gate_world: GateWorld) -> None:
    handler = make_handler(gate_world.gate)
    client = gate_world.client()
    client.sign_in(gate_world.link("C00007"))
    session = {"pg_session": str(client.cookie("pg_session"))}
    event = event_for(
        "function-url.json",
        "POST",
        "/logout",
        cookies=session,
        form={"csrf_token": client.csrf()},
        headers={"origin": "https://evil.example", "sec-fetch-site": "cross-site"},
    )
    assert handler(event, None)["statusCode"] == 403
    assert client.get("/portal/").status_code == 200  # still signed in


def test_the_module_handler_builds_the_gate_from_the_environment(
    gate_world: GateWorld, demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = gate_world.storage.location.removeprefix("file://")
    monkeypatch.setenv("PORTALGEN_CONFIG", str(demo_dir / "config.yaml"))
    monkeypatch.setenv("PORTALGEN_STORAGE_URL", site)
    monkeypatch.setenv("PORTALGEN_BASE_URL", BASE_URL)
    monkeypatch.setenv("PORTALGEN_SECRET", " ".join(gate_world.secrets))
    handler_module.reset()
    try:
        link_path = gate_world.link("C00008").removeprefix(BASE_URL)
        result = handler_module.lambda_handler(
            event_for("apigw-http-api-v2.json", "GET", link_path), None
        )
        assert result["statusCode"] == 200
        assert b"Open my portal" in body_of(result)  # C00008 reads English
    finally:
        handler_module.reset()


def test_without_a_secret_the_handler_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    from portalgen.errors import ConfigError
    from portalgen.gate.environment import read_secrets

    with pytest.raises(ConfigError, match="PORTALGEN_SECRET_PARAMETER"):
        read_secrets({})
    with pytest.raises(ConfigError, match="at least 32"):
        read_secrets({"PORTALGEN_SECRET": "short"})
    assert read_secrets({"PORTALGEN_SECRET": "a" * 32 + " " + "b" * 32}) == ("a" * 32, "b" * 32)


def test_importing_the_handler_loads_nothing_heavy() -> None:
    code = (
        "import sys, portalgen.gate.lambda_handler\n"
        "heavy = ['weasyprint', 'jinja2', 'portalgen.render', 'segno', 'boto3', 'botocore',"
        " 'argon2', 'babel', 'yaml', 'portalgen.load', 'portalgen.config', 'lxml']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
