"""A customer's shared files and original PDFs come only from that customer's own folder:
no symbolic link leaving it, no hard link to a file elsewhere, no name a portal cannot
serve. `check` names each refused file, and nothing is published."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from portalgen.cli import cli
from portalgen.errors import InputError
from portalgen.load import LoadOptions, load_export
from tests.bundles import write_small_bundle
from tests.conftest import TODAY

OPTIONS = LoadOptions(today=TODAY)


@pytest.fixture
def export(tmp_path: Path) -> Path:
    base = tmp_path / "export"
    base.mkdir()
    write_small_bundle(base)
    for code in ("C1", "C2"):
        (base / "documents" / code).mkdir(parents=True)
    (base / "documents" / "C1" / "plano.pdf").write_bytes(b"%PDF-1.7 C1's own")
    (base / "documents" / "C2" / "secret.txt").write_text("C2's contract")
    return base


def check(export: Path) -> tuple[int, str, str]:
    config = export.parent / "config.yaml"
    config.write_text(json.dumps({"storage": {"url": "site"}}))
    result = CliRunner().invoke(cli, ["--config", str(config), "check", str(export)])
    return result.exit_code, result.stdout, result.stderr


def shared(export: Path) -> dict[str, list[str]]:
    result = load_export(export, OPTIONS)
    found: dict[str, list[str]] = {}
    for doc in result.export.documents:
        found.setdefault(doc.customer_code, []).append(doc.name)
    return found


def refused(export: Path) -> dict[str, str]:
    with pytest.raises(InputError) as caught:
        load_export(export, OPTIONS)
    return {p.file: p.message for p in caught.value.problems if p.severity == "error"}


def test_a_link_to_another_customers_file_is_refused_and_named(export: Path) -> None:
    os.symlink("../C2/secret.txt", export / "documents" / "C1" / "x")
    assert "documents/C1/x" in refused(export)
    assert "outside documents/C1" in refused(export)["documents/C1/x"]
    code, _, err = check(export)
    assert code == 1
    assert "documents/C1/x: the file is a link to a file outside documents/C1" in err
    assert err.endswith("Error: the export has 1 error\n")  # check never publishes


def test_a_customer_folder_that_is_a_link_to_another_is_refused(export: Path) -> None:
    (export / "documents" / "C1" / "plano.pdf").unlink()
    (export / "documents" / "C1").rmdir()
    os.symlink("C2", export / "documents" / "C1")
    assert "a customer's folder must be a real folder" in refused(export)["documents/C1"]


def test_a_link_inside_the_customers_own_folder_is_fine(export: Path) -> None:
    (export / "documents" / "C1" / "obra").mkdir()
    os.symlink("../plano.pdf", export / "documents" / "C1" / "obra" / "plano-copia.pdf")
    assert shared(export) == {"C1": ["obra/plano-copia.pdf", "plano.pdf"], "C2": ["secret.txt"]}


def test_a_hard_link_to_a_file_outside_the_folder_is_refused(export: Path) -> None:
    os.link(export / "documents" / "C2" / "secret.txt", export / "documents" / "C1" / "y.txt")
    outside = export.parent / "elsewhere.txt"
    outside.write_text("a file of the machine")
    os.link(outside, export / "documents" / "C2" / "z.txt")
    problems = refused(export)
    assert "2 hard links and 1 of them are outside documents/C1" in problems["documents/C1/y.txt"]
    assert "outside documents/C2" in problems["documents/C2/z.txt"]
    # secret.txt itself has a second name in C1's folder: it is refused in C2's too.
    assert "outside documents/C2" in problems["documents/C2/secret.txt"]


def test_a_hard_link_within_the_same_folder_is_fine(export: Path) -> None:
    os.link(export / "documents" / "C1" / "plano.pdf", export / "documents" / "C1" / "copia.pdf")
    assert shared(export)["C1"] == ["copia.pdf", "plano.pdf"]


def test_a_file_name_with_a_control_character_is_refused_and_named(export: Path) -> None:
    (export / "documents" / "C1" / "acta\nfinal.pdf").write_bytes(b"%PDF-1.7")
    (export / "documents" / "C1" / "fact\u202efdp.exe").write_bytes(b"MZ")
    problems = refused(export)
    assert "LINE FEED" in problems["documents/C1/acta\nfinal.pdf"]
    assert "RIGHT-TO-LEFT OVERRIDE" in problems["documents/C1/fact\u202efdp.exe"]
    code, _, err = check(export)
    assert code == 1
    assert "documents/C1/acta\\nfinal.pdf: the file name holds control characters" in err
    assert "acta\nfinal" not in err  # the name is escaped: one line per problem


def test_an_original_pdf_that_links_elsewhere_is_refused(export: Path) -> None:
    invoices = export / "pdf" / "invoices"
    invoices.mkdir(parents=True)
    outside = export / "pdf" / "quotes"
    outside.mkdir()
    (outside / "other.pdf").write_bytes(b"%PDF-1.7 another document")
    (outside / "third.pdf").write_bytes(b"%PDF-1.7 a third document")
    os.symlink("../quotes/third.pdf", invoices / "F2026-001.pdf")
    os.link(outside / "other.pdf", invoices / "F2026-002.pdf")
    problems = refused(export)
    assert "is a link to a file outside pdf/invoices" in problems["pdf/invoices/F2026-001.pdf"]
    assert "hard links" in problems["pdf/invoices/F2026-002.pdf"]
    assert "(document F2026-002)" in problems["pdf/invoices/F2026-002.pdf"]


def test_facturascripts_attachments_follow_the_same_rules(tmp_path: Path) -> None:
    from tests.fs_fixture import write_json

    folder = write_json(tmp_path / "fs")
    contract = folder / "MyFiles/2026/01/contrato-mantenimiento.pdf"
    outside = tmp_path / "elsewhere.pdf"
    outside.write_bytes(b"%PDF-1.7 a file of the machine")
    contract.unlink()
    os.link(outside, contract)
    records = json.loads((folder / "attachedfiles.json").read_text())
    photos = next(r for r in records if r["path"].endswith("fotos-pintura.pdf"))
    photos["filename"] = "fotos\npintura.pdf"
    (folder / "attachedfiles.json").write_text(json.dumps(records))
    with pytest.raises(InputError) as caught:
        load_export(folder, OPTIONS)
    found = {(p.field, p.message.split(";")[0]) for p in caught.value.problems}
    assert (
        "path",
        "the file has 2 hard links and 1 of them are outside the export folder: "
        "it may be another file's content",
    ) in found
    assert ("filename", "the file name holds control characters (U+000A LINE FEED)") in found
