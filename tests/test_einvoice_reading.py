"""What real senders' UBL and Facturae files carry, read as they mean it.

Each test starts from a real sample (tests/data/samples) and changes only what it is
about, so the rest of the file stays what a sender really wrote.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from portalgen.domain.model import Export
from portalgen.load import LoadOptions, detect_format, load_export
from tests.conftest import TODAY

SAMPLES = Path(__file__).parent / "data" / "samples"
UBL = SAMPLES / "ubl" / "gobl_peppol_invoice-with-charges.xml"
UBL_CREDIT = SAMPLES / "ubl" / "gobl_peppol_credit-note.xml"
FACTURAE = SAMPLES / "facturae" / "facturae322_gobl_invoice-vat.xml"


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def replace_once(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def read(path: Path, tmp_path: Path, fmt: str | None = None) -> Export:
    options = LoadOptions(today=TODAY, cache_dir=tmp_path / "cache")
    return load_export(path, options, format=fmt).export


@pytest.mark.parametrize(("charge", "allowance"), [("1", "0"), ("true", "false"), ("1", "false")])
def test_charge_indicator_is_an_xs_boolean(tmp_path: Path, charge: str, allowance: str) -> None:
    """Some senders write 1/0: the same charge, the same allowance, the same totals."""
    text = replace_once(
        UBL.read_text(),
        "<cbc:ChargeIndicator>true</cbc:ChargeIndicator>",
        f"<cbc:ChargeIndicator>{charge}</cbc:ChargeIndicator>",
    )
    # A line allowance of 0.00 exercises the line-level indicator as well.
    text = replace_once(
        text,
        "<cac:Item>",
        f"<cac:AllowanceCharge><cbc:ChargeIndicator>{allowance}</cbc:ChargeIndicator>"
        '<cbc:Amount currencyID="EUR">0.00</cbc:Amount></cac:AllowanceCharge><cac:Item>',
    )
    (invoice,) = read(write(tmp_path, "numeric.xml", text), tmp_path).invoices
    (expected,) = read(UBL, tmp_path).invoices
    (shipping,) = [line for line in invoice.lines if line.reference == "CHARGE"]
    assert shipping.unit_price == Decimal("50.00")
    assert invoice.totals == expected.totals


@pytest.mark.parametrize(
    ("sample", "fmt"), [(UBL, "ubl"), (UBL_CREDIT, "ubl"), (FACTURAE, "facturae")]
)
@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_files_are_detected(tmp_path: Path, sample: Path, fmt: str, encoding: str) -> None:
    """With a byte-order mark (utf-16) or without one (-le, -be, as XML 1.0 allows)."""
    text = sample.read_text(encoding="utf-8")
    text = text.replace('encoding="UTF-8"', f'encoding="{encoding.upper()}"', 1)
    text = text.replace("encoding='UTF-8'", f"encoding='{encoding.upper()}'", 1)
    path = write(tmp_path, "wide.xml", text.encode(encoding))
    assert detect_format(path) == fmt
    assert detect_format(path.parent) == fmt
    invoices = read(path, tmp_path).invoices
    assert [i.number for i in invoices] == [i.number for i in read(sample, tmp_path).invoices]
