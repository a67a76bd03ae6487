"""`portalgen check --json`: the export as read, as the portal will show it, in any format."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from lxml import html as lxml_html

from portalgen.cli import cli
from portalgen.cli.readout import plain
from portalgen.load import LoadOptions, load_export
from portalgen.render import build_context, plan_portal
from tests.bundles import small_bundle_json, write_small_bundle
from tests.conftest import TODAY
from tests.fs_fixture import write_csv as write_facturascripts
from tests.render_fixtures import render_settings
from tests.test_arithmetic import bundle as rounding_bundle

SAMPLES = Path(__file__).parent / "data" / "samples"
DOCS = Path(__file__).resolve().parent.parent / "docs"
# The only JSON numbers: counts and sizes, never an amount, quantity, price or rate.
WHOLE_NUMBERS = {"portalgen_readout", "errors", "size"}


@pytest.fixture(autouse=True)
def clock(time_machine: Any) -> None:
    """`check` computes statuses for today where the business is: the test's own day."""
    time_machine.move_to(datetime(2026, 6, 15, 12, tzinfo=UTC), tick=False)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"locale: es_ES\ncurrency: EUR\nstorage: {{url: {tmp_path / 'site'}}}\n", encoding="utf-8"
    )
    return path


def check_json(config: Path, *exports: Path) -> tuple[Result, dict[str, Any]]:
    def no_floats(text: str) -> Any:
        raise AssertionError(f"a JSON number with decimals: {text}")

    args = ["--config", str(config), "check", "--json", *map(str, exports)]
    result = CliRunner().invoke(cli, args)
    return result, json.loads(result.stdout, parse_float=no_floats)


def numbers(value: Any, key: str = "") -> list[str]:
    """Keys holding a JSON number (ints only: floats are refused while parsing)."""
    if isinstance(value, dict):
        return [k for key, v in value.items() for k in numbers(v, key)]
    if isinstance(value, list):
        return [k for v in value for k in numbers(v, key)]
    return [key] if isinstance(value, int) and not isinstance(value, bool) else []


def test_the_small_bundle_as_read(config: Path, tmp_path: Path) -> None:
    result, data = check_json(config, write_small_bundle(tmp_path / "export"))
    assert result.exit_code == 0, result.stderr
    assert (data["ok"], data["formats"], data["today"]) == (True, ["bundle"], "2026-06-15")
    assert [c["code"] for c in data["customers"]] == ["C1", "C2"]
    assert data["customers"][0]["emails"] == ["admin@garcia.example", "compras@garcia.example"]
    rent = data["invoices"][1]
    assert rent["lines"] == [
        {
            "description": "Alquiler",
            "quantity": "1",
            "unit_price": "1000.00",
            "discount": "0",
            "tax_rate": "21",
            "surcharge_rate": "0",
            "withholding_rate": "19",
            "unit": "",
            "reference": "",
            "disbursement": False,
            "show_quantity": True,
            "show_price": True,
            "tax_category": "",
            "tax_exemption": "",
            "source": "invoice_lines.csv, row 3",
            "net": "1000.00",
        }
    ]
    assert rent["taxes"] == [
        {
            "kind": "vat",
            "rate": "21",
            "base": "1000.00",
            "amount": "210.00",
            "exemptions": [],
            "category": "",
        },
        {
            "kind": "withholding",
            "rate": "19",
            "base": "1000.00",
            "amount": "190.00",
            "exemptions": [],
            "category": "",
        },
    ]
    assert rent["totals"] == {
        "base": "1000.00",
        "tax": "210.00",
        "surcharge": "0.00",
        "withholding": "190.00",
        "total": "1020.00",
        "disbursements": None,
        "subtotal": None,
        "discounts": [],
        "rounding": None,
    }
    assert (rent["status"], rent["outstanding"], rent["source"]) == (
        "unpaid",  # due on 1 July
        "1020.00",
        "invoices.csv, row 3",
    )
    assert data["invoices"][0]["status"] == "paid"
    assert data["quotes"][0]["lines"][0]["net"] == "63.90"  # 2 × 35.50 − 10 %
    assert data["payments"][0]["amount"] == "121.00" and data["payments"][0]["currency"] == "EUR"
    assert numbers(data) == ["portalgen_readout"]


def test_the_json_shows_what_the_page_shows(config: Path, tmp_path: Path, demo_dir: Path) -> None:
    """Half-up rounding cases: the JSON and the rendered page agree to the cent."""
    export_dir = rounding_bundle(tmp_path / "export")
    result, data = check_json(config, export_dir)
    assert result.exit_code == 0, result.stderr
    invoice = data["invoices"][0]
    assert [line["net"] for line in invoice["lines"]] == ["1.01", "1.25", "2.67"]
    assert [(t["rate"], t["base"], t["amount"]) for t in invoice["taxes"]] == [
        ("0", "2.67", "0.00"),
        ("10", "1.25", "0.13"),
        ("21", "1.01", "0.21"),
    ]
    assert (invoice["totals"]["tax"], invoice["totals"]["total"]) == ("0.34", "5.27")
    export = load_export(export_dir, LoadOptions(today=TODAY)).export
    context = build_context(render_settings(demo_dir), today=TODAY)
    page = next(
        f
        for f in plan_portal(export.customer_data("C1"), context)
        if f.path == "invoices/F2026-050.html"
    )
    text = " ".join(lxml_html.fromstring(page.render()).text_content().split())
    shown = {m.replace(".", "").replace(",", ".") for m in re.findall(r"[\d.]+,\d\d", text)}
    amounts = [line["net"] for line in invoice["lines"]]
    amounts += [v for t in invoice["taxes"] for v in (t["base"], t["amount"])]
    amounts += [v for v in invoice["totals"].values() if isinstance(v, str)]
    assert set(amounts) <= shown


@pytest.mark.parametrize("form", ["json", "yaml", "facturascripts", "ubl", "facturae", "all"])
def test_every_format(config: Path, tmp_path: Path, form: str) -> None:
    if form in ("json", "yaml"):
        text = json.dumps(small_bundle_json(), ensure_ascii=False)
        if form == "yaml":
            text = yaml.safe_dump(json.loads(text), allow_unicode=True)
        exports = [tmp_path / f"export.{form}"]
        exports[0].write_text(text, encoding="utf-8")
    elif form == "facturascripts":
        exports = [write_facturascripts(tmp_path / "fs")]
    elif form == "all":
        exports = [shutil.copytree(SAMPLES / f, tmp_path / f) for f in ("ubl", "facturae")]
    else:
        exports = [shutil.copytree(SAMPLES / form, tmp_path / form)]
    result, data = check_json(config, *exports)
    assert result.exit_code == 0, result.stderr
    export = load_export(exports, LoadOptions(today=TODAY, cache_dir=tmp_path / "c")).export
    assert [i["number"] for i in data["invoices"]] == [i.number for i in export.invoices]
    for found, invoice in zip(data["invoices"], export.invoices, strict=True):
        assert found["totals"] == plain(invoice.totals)
        assert len(found["lines"]) == len(invoice.lines)
        assert all(line["source"] for line in found["lines"]) or form in ("ubl", "all")
    assert [c["code"] for c in data["customers"]] == [c.code for c in export.customers]
    assert set(numbers(data)) <= WHOLE_NUMBERS


def test_errors_are_json_too_and_exit_1(config: Path, tmp_path: Path) -> None:
    export_dir = write_small_bundle(tmp_path / "export")
    text = (export_dir / "invoices.csv").read_text(encoding="utf-8")
    (export_dir / "invoices.csv").write_text(text.replace("2026-05-01", "01/05/2026"), "utf-8")
    result, data = check_json(config, export_dir)
    assert result.exit_code == 1
    assert data == {
        "portalgen_readout": 1,
        "ok": False,
        "errors": 1,
        "problems": [
            {
                "file": "invoices.csv",
                "location": "row 2",
                "field": "issue_date",
                "message": "expected a date as YYYY-MM-DD (day-month-year is not accepted), "
                "found '01/05/2026'",
                "severity": "error",
            },
            {
                "file": "payments.csv",
                "location": "row 2",
                "field": "",
                "message": "1 payment of invoice 'F2026-001' not checked against it because "
                "of the error in invoices.csv, row 2",
                "severity": "note",
            },
        ],
    }
    assert result.stderr.endswith("Error: the export has 1 error\n")
    assert "invoices.csv, row 2, field 'issue_date'" in result.stderr


def test_the_documented_shape_is_the_real_one(config: Path, tmp_path: Path) -> None:
    """docs/export-format.md's example has exactly the keys check --json prints."""
    text = (DOCS / "export-format.md").read_text(encoding="utf-8")
    section = text.split("## See what was read: `portalgen check --json`")[1]
    examples = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", section, re.S)]
    result, data = check_json(config, write_small_bundle(tmp_path / "export"))
    assert result.exit_code == 0

    def shape(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: shape(v) for k, v in value.items()}
        if isinstance(value, list):
            return [shape(value[0])] if value else []
        return type(value).__name__

    documented, real = shape(examples[0]), shape(data)
    for key in ("quotes", "orders", "delivery_notes", "documents", "portal_decisions"):
        real[key] = []  # left empty in the example
    assert shape(examples[1]["problems"]) == documented["problems"]  # a warning in the example
    real["problems"] = documented["problems"]
    assert documented == real
    assert list(examples[1]) == ["portalgen_readout", "ok", "errors", "problems"]
