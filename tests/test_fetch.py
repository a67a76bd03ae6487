"""`portalgen fetch facturascripts` against a small local API server with recorded JSON.

The server (tests/fs_api.py) answers like FacturaScripts' API v3 (FORMATS.md §1.3):
`X-Auth-Token`, `limit`/`offset` paging, a JSON array per resource, `X-Total-Count`, and
the error bodies FacturaScripts sends with a 4xx status.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from portalgen.cli import cli
from portalgen.load import LoadOptions, load_export
from portalgen.load.facturascripts.tables import RESOURCES
from tests.conftest import TODAY
from tests.fs_api import TOKEN, FakeApi
from tests.fs_fixture import api_rows, write_files, write_json
from tests.test_facturascripts import strip_origins
from tests.test_fs_documents import assert_facturascripts_totals, rendered_invoices


def run(args: list[str], token: str | None = TOKEN) -> Any:
    env = {"FACTURASCRIPTS_API_TOKEN": token} if token is not None else {}
    return CliRunner().invoke(cli, ["fetch", "facturascripts", *args], env=env)


def test_fetch_pages_through_every_resource(api: tuple[str, FakeApi], tmp_path: Path) -> None:
    url, state = api
    out = tmp_path / "export"
    result = run(["--url", url, "--out", str(out), "--page-size", "2"])
    assert result.exit_code == 0, result.output
    assert "Saved 19 resources" in result.output
    # Paging: limit/offset until a short page (X-Total-Count also stops it early).
    lines = [r for r in state.requests if r[0] == "lineafacturaclientes"]
    count = len(api_rows("lineasfacturascli"))
    assert [offset for _, _, offset in lines] == list(range(0, count, 2))
    for table, resource in RESOURCES.items():
        assert json.loads((out / f"{resource}.json").read_text()) == api_rows(table)
    # What was fetched reads as the same model as the recorded JSON export.
    write_files(out)
    fetched = load_export(out, LoadOptions(today=TODAY)).export
    recorded = load_export(write_json(tmp_path / "recorded"), LoadOptions(today=TODAY)).export
    for part in ("customers", "quotes", "orders", "delivery_notes", "invoices", "payments"):
        assert strip_origins(getattr(fetched, part)) == strip_origins(getattr(recorded, part))


def test_a_fetched_export_shows_facturascripts_totals(
    api: tuple[str, FakeApi], tmp_path: Path, demo_dir: Path
) -> None:
    """Through the REST API: suplidos, header discounts, odd prices, IRPF, recargo, an
    exempt and a reverse-charge invoice show FacturaScripts' own totals, page and PDF."""
    url, _ = api
    out = tmp_path / "export"
    assert run(["--url", url, "--out", str(out)]).exit_code == 0
    result = load_export(out, LoadOptions(today=TODAY))
    assert not [w for w in result.warnings if "FacturaScripts' rules" in w.message]
    numbers = tuple(f"F2026A{n}" for n in range(6, 13))
    assert_facturascripts_totals(result.export, rendered_invoices(result.export, demo_dir, numbers))


def test_fetch_without_total_count_stops_at_a_short_page(
    api: tuple[str, FakeApi], tmp_path: Path
) -> None:
    url, state = api
    state.total_count = False
    result = run(["--url", url + "/api/3/", "--out", str(tmp_path / "o"), "--page-size", "3"])
    assert result.exit_code == 0, result.output
    clientes = [offset for name, _, offset in state.requests if name == "clientes"]
    assert clientes == [0]  # 2 rows < 3: the first page was the last
    lines = [offset for name, _, offset in state.requests if name == "lineafacturaclientes"]
    count = len(api_rows("lineasfacturascli"))
    assert count % 3 == 0  # full pages only: the last request is an empty page
    assert lines == list(range(0, count + 1, 3))


def test_optional_resources_may_be_missing(api: tuple[str, FakeApi], tmp_path: Path) -> None:
    url, state = api
    state.missing = {"attachedfilerelations"}
    result = run(["--url", url, "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "attachedfilerelations: skipped (HTTP 404: api-resource-invalid)" in result.output
    assert not (tmp_path / "o" / "attachedfilerelations.json").exists()


def test_a_required_resource_missing_writes_nothing(
    api: tuple[str, FakeApi], tmp_path: Path
) -> None:
    url, state = api
    state.missing = {"facturaclientes"}
    out = tmp_path / "o"
    result = run(["--url", url, "--out", str(out)])
    assert result.exit_code == 1
    assert "facturaclientes: HTTP 404" in result.output
    assert not out.exists() or not list(out.iterdir())


def test_bad_or_missing_token(api: tuple[str, FakeApi], tmp_path: Path) -> None:
    url, _ = api
    result = run(["--url", url, "--out", str(tmp_path / "o")], token="wrong")
    assert result.exit_code == 1
    assert "refused the token (HTTP 401: auth-token-invalid)" in result.output
    assert "wrong" not in result.output
    result = run(["--url", url, "--out", str(tmp_path / "o")], token=None)
    assert result.exit_code == 2
    assert "FACTURASCRIPTS_API_TOKEN" in result.output


def test_unreachable_server_and_bad_url(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run(["--url", f"http://127.0.0.1:{port}", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "cannot reach" in result.output
    result = run(["--url", "ftp://example.com", "--out", str(tmp_path / "o")])
    assert (
        result.exit_code == 1 and "expected the FacturaScripts address as http(s)" in result.output
    )
