"""The native export bundle: CSV and JSON/YAML forms, and every kind of bad input."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from portalgen.domain.model import Money
from portalgen.errors import InputError, Problem
from portalgen.load import LoadOptions, load_export
from tests.bundles import (
    TABLES,
    set_cell,
    small_bundle_json,
    write_csv,
    write_json_bundle,
    write_small_bundle,
)
from tests.conftest import TODAY

OPTIONS = LoadOptions(today=TODAY)


def problems_of(path: Path | list[Path], options: LoadOptions = OPTIONS) -> list[Problem]:
    with pytest.raises(InputError) as info:
        load_export(path, options)
    return list(info.value.problems)


def only_error(path: Path, options: LoadOptions = OPTIONS) -> Problem:
    errors = [p for p in problems_of(path, options) if p.severity == "error"]
    assert len(errors) == 1, errors
    return errors[0]


def test_small_bundle_reads_into_the_model(tmp_path: Path) -> None:
    result = load_export(write_small_bundle(tmp_path), OPTIONS)
    export = result.export
    assert result.formats == ("bundle",)
    assert result.warnings == ()
    c1 = export.customers[0]
    assert c1.emails == ("admin@garcia.example", "compras@garcia.example")
    assert c1.address.lines() == ("Calle Mayor 1", "46001 Valencia")
    invoice = export.invoices[1]
    # Totals left out of the CSV are computed from the lines: 1000 + 21 % IVA - 19 % IRPF.
    assert invoice.totals.tax == Money(Decimal("210.00"), "EUR")
    assert invoice.totals.withholding == Money(Decimal("190.00"), "EUR")
    assert invoice.totals.total == Money(Decimal("1020.00"), "EUR")
    quote = export.quotes[0]
    assert quote.lines[0].net == Decimal("63.90")  # 2 × 35.50 − 10 %
    assert export.payments[0].customer_code == "C1"  # follows from the invoice


def test_json_and_yaml_give_the_same_model_as_csv(tmp_path: Path) -> None:
    from_csv = load_export(write_small_bundle(tmp_path / "csv"), OPTIONS).export
    from_json = load_export(write_json_bundle(tmp_path / "json"), OPTIONS).export
    yaml_dir = tmp_path / "yaml"
    yaml_dir.mkdir()
    (yaml_dir / "export.yaml").write_text(
        yaml.safe_dump(small_bundle_json(), allow_unicode=True), encoding="utf-8"
    )
    from_yaml = load_export(yaml_dir, OPTIONS).export

    def content(export: object) -> object:
        # Same data; only the origins (file, row vs JSON path) differ, and they do not compare.
        return [getattr(export, n) for n in ("customers", "quotes", "invoices", "payments")]

    assert content(from_json) == content(from_csv)
    assert content(from_yaml) == content(from_csv)


def test_yaml_numbers_are_exact_not_floats(tmp_path: Path) -> None:
    data = small_bundle_json()
    data["invoices"][0]["lines"][0]["unit_price"] = "0.1"
    text = yaml.safe_dump(data, allow_unicode=True).replace("'0.1'", "0.1")
    (tmp_path / "export.yaml").write_text(text, encoding="utf-8")
    export = load_export(tmp_path, LoadOptions(today=TODAY)).export
    assert export.invoices[0].lines[0].unit_price == Decimal("0.1")


def test_semicolon_csv_with_bom_as_saved_by_spanish_excel(tmp_path: Path) -> None:
    write_small_bundle(tmp_path)
    write_csv(tmp_path / "customers.csv", TABLES["customers"], delimiter=";")
    content = (tmp_path / "customers.csv").read_bytes()
    (tmp_path / "customers.csv").write_bytes(b"\xef\xbb\xbf" + content)
    export = load_export(tmp_path, OPTIONS).export
    assert [c.code for c in export.customers] == ["C1", "C2"]


@pytest.mark.parametrize(
    ("file", "row", "column", "value", "field", "message"),
    [
        ("invoices.csv", 2, "total", "12x.5", "total", "expected a number like 1234.56"),
        ("invoices.csv", 2, "total", "1.234,56", "total", "with a dot for decimals"),
        (
            "invoices.csv",
            3,
            "issue_date",
            "01/06/2026",
            "issue_date",
            "day-month-year is not accepted",
        ),
        ("invoices.csv", 3, "issue_date", "2026-02-30", "issue_date", "a real date"),
        ("quotes.csv", 2, "status", "maybe", "status", "expected one of pending, accepted"),
        ("invoices.csv", 2, "customer", "C99", "customer", "no customer with code 'C99'"),
        ("customers.csv", 2, "tax_id", "B12345678", "tax_id", "not a valid Spanish NIF"),
        ("customers.csv", 2, "iban", "ES9121000418450200051333", "iban", "not a valid IBAN"),
        ("customers.csv", 3, "emails", "office@coastal", "emails", "expected an email address"),
        ("invoice_lines.csv", 2, "tax_rate", "121", "tax_rate", "between 0 and 100"),
        ("invoice_lines.csv", 3, "document", "F9999", "document", "no invoice numbered 'F9999'"),
        ("payments.csv", 2, "invoice", "F404", "invoice", "no invoice numbered 'F404'"),
        ("invoices.csv", 3, "currency", "EUROS", "currency", "ISO 4217"),
        ("customers.csv", 3, "code", "../etc", "code", "expected a code"),
        ("invoices.csv", 2, "total", "121.001", "total", "at most 2 decimals"),
    ],
)
def test_a_damaged_cell_is_named_by_file_row_and_field(
    tmp_path: Path, file: str, row: int, column: str, value: str, field: str, message: str
) -> None:
    write_small_bundle(tmp_path)
    set_cell(tmp_path / file, row, column, value)
    errors = [p for p in problems_of(tmp_path) if p.severity == "error"]
    matching = [p for p in errors if p.field == field and message in p.message]
    assert matching, errors
    problem = matching[0]
    assert (problem.file, problem.field) == (file, field)
    assert problem.location == f"row {row}"
    assert str(problem).startswith(f"{file}, row {row}, field '{field}': ")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    write_small_bundle(tmp_path)
    set_cell(tmp_path / "invoices.csv", 2, "total", "abc")
    set_cell(tmp_path / "customers.csv", 3, "tax_id", "00000000A")
    set_cell(tmp_path / "payments.csv", 2, "due_date", "tomorrow")
    errors = problems_of(tmp_path)
    assert {(p.file, p.field) for p in errors} >= {
        ("invoices.csv", "total"),
        ("customers.csv", "tax_id"),
        ("payments.csv", "due_date"),
    }


def test_duplicate_numbers_and_codes(tmp_path: Path) -> None:
    tables = copy.deepcopy(TABLES)
    tables["invoices"][1]["number"] = "F2026-001"
    tables["customers"][1]["code"] = "C1"
    write_small_bundle(tmp_path, tables)
    messages = [str(p) for p in problems_of(tmp_path)]
    assert any(
        "invoices.csv, row 3, field 'number': invoice number 'F2026-001' is used twice "
        "(first in invoices.csv, row 2)" in m
        for m in messages
    ), messages
    assert any("customer code 'C1' is used twice" in m for m in messages)


def test_numbers_that_would_share_a_web_address_are_refused(tmp_path: Path) -> None:
    tables = copy.deepcopy(TABLES)
    tables["invoices"][1]["number"] = "F2026/001"
    for line in tables["invoice_lines"]:
        if line["document"] == "F2026-002":
            line["document"] = "F2026/001"
    write_small_bundle(tmp_path, tables)
    problem = only_error(tmp_path)
    assert "differ only in punctuation" in problem.message


def test_totals_that_do_not_add_up_warn_and_fail_with_strict(tmp_path: Path) -> None:
    write_small_bundle(tmp_path)
    set_cell(tmp_path / "invoices.csv", 2, "total", "125.00")
    result = load_export(tmp_path, OPTIONS)
    assert [str(w) for w in result.warnings] == [
        "warning: invoices.csv, row 2, field 'total': the total is 125.00 EUR but the lines add "
        "up to 121.00 EUR"
    ]
    strict = problems_of(tmp_path, LoadOptions(today=TODAY, strict=True))
    assert [p.severity for p in strict] == ["error"]


def test_a_cent_of_rounding_is_not_a_mismatch(tmp_path: Path) -> None:
    write_small_bundle(tmp_path)
    set_cell(tmp_path / "invoices.csv", 2, "total", "121.01")
    set_cell(tmp_path / "invoices.csv", 2, "tax", "21.01")
    assert load_export(tmp_path, OPTIONS).warnings == ()


def test_missing_required_column_and_file(tmp_path: Path) -> None:
    tables = copy.deepcopy(TABLES)
    for row in tables["invoice_lines"]:
        del row["quantity"]
    write_small_bundle(tmp_path, tables)
    problem = only_error(tmp_path)
    assert (problem.file, problem.location, problem.field) == (
        "invoice_lines.csv",
        "header",
        "quantity",
    )

    (tmp_path / "customers.csv").unlink()
    (tmp_path / "export.json").write_text("{}")  # still a bundle folder, but no customers
    assert any(p.field == "customers" for p in problems_of(tmp_path))


def test_a_document_without_lines_is_an_error(tmp_path: Path) -> None:
    tables = copy.deepcopy(TABLES)
    tables["invoice_lines"] = tables["invoice_lines"][:1]
    write_small_bundle(tmp_path, tables)
    problem = only_error(tmp_path)
    assert (problem.file, problem.location) == ("invoices.csv", "row 3")
    assert "no lines in invoice_lines.csv" in problem.message


def test_unknown_column_is_a_warning_with_a_suggestion(tmp_path: Path) -> None:
    write_small_bundle(tmp_path)
    set_cell(tmp_path / "invoices.csv", 2, "totl", "1")
    warnings = load_export(tmp_path, OPTIONS).warnings
    assert any("did you mean 'total'" in str(w) for w in warnings)


def test_not_utf8_and_ragged_rows(tmp_path: Path) -> None:
    write_small_bundle(tmp_path)
    (tmp_path / "quotes.csv").write_bytes(
        b"number,customer,issue_date\nP1,C1,2026-01-01\n" + "P2,Café,2026-01-01\n".encode("latin-1")
    )
    assert any("not UTF-8" in p.message for p in problems_of(tmp_path))

    write_small_bundle(tmp_path)
    with (tmp_path / "payments.csv").open("a") as fh:
        fh.write("R-2,F2026-001,1.00,2026-06-01,,transfer,C1,EUR,extra\n")
    assert any(p.location == "row 3" and "cells" in p.message for p in problems_of(tmp_path))


def test_json_errors_point_at_the_json_path(tmp_path: Path) -> None:
    data = small_bundle_json()
    data["invoices"][0]["lines"][0]["quantity"] = "diez"
    data["customers"][1]["emails"] = ["not-an-address"]
    path = write_json_bundle(tmp_path, data)
    found = {(p.file, p.location, p.field) for p in problems_of(path)}
    assert ("export.json", "$.invoices[0].lines[0]", "quantity") in found
    assert ("export.json", "$.customers[1]", "emails") in found


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "export.json").write_text('{"customers": [\n  {"code": "C1",}\n]}')
    problem = only_error(tmp_path)
    assert problem.file == "export.json"
    assert problem.location.startswith("line 2")


def test_json_floats_are_read_exactly(tmp_path: Path) -> None:
    data = small_bundle_json()
    text = json.dumps(data).replace('"unit_price": "10.00"', '"unit_price": 0.1')
    (tmp_path / "export.json").write_text(text)
    assert load_export(tmp_path, OPTIONS).export.invoices[0].lines[0].unit_price == Decimal("0.1")


def test_payments_must_match_the_invoice_customer(tmp_path: Path) -> None:
    write_small_bundle(tmp_path)
    set_cell(tmp_path / "payments.csv", 2, "customer", "C2")
    problem = only_error(tmp_path)
    assert problem.field == "customer"
    assert "belongs to customer 'C1', not 'C2'" in problem.message


def test_corrective_invoice_must_point_at_an_existing_invoice(tmp_path: Path) -> None:
    write_small_bundle(tmp_path)
    set_cell(tmp_path / "invoices.csv", 3, "corrects", "F1999-404")
    problem = only_error(tmp_path)
    assert (problem.field, problem.message) == ("corrects", "no invoice numbered 'F1999-404'")


def test_shared_documents_and_original_pdfs(tmp_path: Path) -> None:
    write_small_bundle(tmp_path)
    (tmp_path / "documents" / "C1" / "Contratos").mkdir(parents=True)
    (tmp_path / "documents" / "C1" / "Contratos" / "Contrato 2026.pdf").write_bytes(b"%PDF-1.4 x")
    (tmp_path / "documents" / "C1" / ".DS_Store").write_bytes(b"junk")
    (tmp_path / "pdf" / "invoices").mkdir(parents=True)
    (tmp_path / "pdf" / "invoices" / "F2026-001.pdf").write_bytes(b"%PDF-1.7 original")
    (tmp_path / "pdf" / "invoices" / "F2099-999.pdf").write_bytes(b"%PDF-1.7 orphan")
    result = load_export(tmp_path, OPTIONS)
    [shared] = result.export.documents
    assert (shared.customer_code, shared.name) == ("C1", "Contratos/Contrato 2026.pdf")
    assert shared.content_type == "application/pdf"
    assert result.export.invoices[0].original_pdf == tmp_path / "pdf" / "invoices" / "F2026-001.pdf"
    assert result.export.invoices[1].original_pdf is None
    assert [w.file for w in result.warnings] == ["pdf/invoices/F2099-999.pdf"]


def test_files_in_the_pdf_folders_that_match_no_document(tmp_path: Path) -> None:
    """Every file of pdf/<table>/ that no document of that table claims is named, in name
    order (hidden and system files are not); a file without the .pdf suffix never matches."""
    write_small_bundle(tmp_path)
    invoices = tmp_path / "pdf" / "invoices"
    quotes = tmp_path / "pdf" / "quotes"
    invoices.mkdir(parents=True)
    quotes.mkdir(parents=True)
    for name in ("F2026-001.pdf", "F2026-002", "F2026-002.pdf.bak", "Z.pdf", "A.pdf", "x."):
        (invoices / name).write_bytes(b"%PDF-1.7")
    for name in (".hidden.pdf", "Thumbs.db", "desktop.ini"):
        (invoices / name).write_bytes(b"junk")
    (quotes / "F2026-001.pdf").write_bytes(b"%PDF-1.7")  # an invoice's name, in quotes/
    result = load_export(tmp_path, OPTIONS)
    assert [(w.file, w.message) for w in result.warnings] == [
        ("pdf/quotes/F2026-001.pdf", "no quote matches this file; it is not published"),
        *(
            (f"pdf/invoices/{name}", "no invoice matches this file; it is not published")
            for name in ("A.pdf", "F2026-002", "F2026-002.pdf.bak", "Z.pdf", "x.")
        ),
    ]
    assert result.export.invoices[0].original_pdf == invoices / "F2026-001.pdf"
    assert result.export.invoices[1].original_pdf is None


def test_original_pdfs_named_in_capitals_are_used(tmp_path: Path) -> None:
    """Windows programs write "F2026-002.PDF": it is the original, not lost in silence."""
    write_small_bundle(tmp_path)
    invoices = tmp_path / "pdf" / "invoices"
    invoices.mkdir(parents=True)
    (invoices / "F2026-002.PDF").write_bytes(b"%PDF-1.7 original")
    (invoices / "F2099-999.PDF").write_bytes(b"%PDF-1.7 orphan")
    result = load_export(tmp_path, OPTIONS)
    assert result.export.invoices[1].original_pdf == invoices / "F2026-002.PDF"
    assert [w.file for w in result.warnings] == ["pdf/invoices/F2099-999.PDF"]


def test_blank_rows_are_skipped_and_rows_keep_their_numbers(tmp_path: Path) -> None:
    write_small_bundle(tmp_path)
    path = tmp_path / "invoices.csv"
    header, *rows = path.read_text(encoding="utf-8").splitlines()
    blank = "," * header.count(",")
    path.write_text("\n".join([header, blank, " " + blank + " ", *rows]) + "\n", encoding="utf-8")
    assert len(load_export(tmp_path, OPTIONS).export.invoices) == len(rows)
    set_cell(path, 5, "issue_date", "31/12/2026")  # the data row after the two blank ones
    problem = only_error(tmp_path)
    assert (problem.file, problem.location, problem.field) == (
        "invoices.csv",
        "row 5",
        "issue_date",
    )


def test_shared_files_of_an_unknown_customer_and_links_outside(tmp_path: Path) -> None:
    write_small_bundle(tmp_path)
    (tmp_path / "documents" / "C404").mkdir(parents=True)
    (tmp_path / "documents" / "C404" / "a.pdf").write_bytes(b"%PDF-")
    (tmp_path / "documents" / "C1").mkdir(parents=True)
    (tmp_path / "documents" / "C1" / "passwd").symlink_to("/etc/passwd")
    messages = {(p.file, p.message) for p in problems_of(tmp_path)}
    assert (
        "documents/C404/a.pdf",
        "the folder documents/C404 does not match any customer code",
    ) in messages
    refusal = "the file is a link to a file outside documents/C1; only the customer's own files"
    assert any(m.startswith(refusal) for f, m in messages if f == "documents/C1/passwd")


def test_an_original_that_is_not_a_pdf(tmp_path: Path) -> None:
    write_small_bundle(tmp_path)
    (tmp_path / "pdf" / "invoices").mkdir(parents=True)
    (tmp_path / "pdf" / "invoices" / "F2026-001.pdf").write_text("<html>oops</html>")
    problem = only_error(tmp_path)
    assert problem.file == "pdf/invoices/F2026-001.pdf"


def test_a_path_that_is_not_an_export(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    [problem] = problems_of(tmp_path)
    assert "not an export portalgen can read" in problem.message
    [problem] = problems_of(tmp_path / "missing")
    assert problem.message == "no such file or folder"


def test_quote_expiring_before_issue_and_delivery_before_shipping(tmp_path: Path) -> None:
    write_small_bundle(tmp_path)
    set_cell(tmp_path / "quotes.csv", 2, "valid_until", "2026-01-01")
    problem = only_error(tmp_path)
    assert (problem.field, problem.message) == (
        "valid_until",
        "the quote expires before it was issued",
    )


def test_equal_numbers_written_differently_keep_their_own_digits(tmp_path: Path) -> None:
    """Loading shares one object per distinct cell text (an export repeats a few rates
    and amounts hundreds of thousands of times): 21, 21.0 and 21.00 are equal numbers
    but stay as each row wrote them."""
    folder = write_small_bundle(tmp_path)
    set_cell(folder / "invoice_lines.csv", 2, "tax_rate", "21.0")
    set_cell(folder / "quote_lines.csv", 2, "tax_rate", "21.00")
    export = load_export(folder, OPTIONS).export
    rates = [str(d.lines[0].tax_rate) for d in (*export.invoices, *export.quotes)]
    assert rates == ["21.0", "21", "21.00"]


def test_a_bad_byte_far_into_a_large_file_is_found_before_any_row_is_built(
    tmp_path: Path,
) -> None:
    # A table is read from its file as its rows are built: a byte that is not UTF-8 past
    # the first blocks must still refuse the whole file, naming that byte, as before.
    write_small_bundle(tmp_path)
    good = "".join(f"P{i},C1,2026-01-01\n" for i in range(1, 6000)).encode()
    head = b"number,customer,issue_date\n" + good
    (tmp_path / "quotes.csv").write_bytes(head + "P9,Café,2026-01-01\n".encode("latin-1"))
    problems = problems_of(tmp_path)
    quotes = [p for p in problems if p.file == "quotes.csv"]
    bad = len(head) + len("P9,Caf")
    assert [p.message for p in quotes] == [
        f"the file is not UTF-8 (byte {bad}); save it as 'CSV UTF-8'"
    ]
    assert not [p for p in problems if "P1" in p.message or "P1" in p.location]
