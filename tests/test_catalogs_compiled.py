"""A checkout's .po catalogs are compiled once and kept, never served stale.

A checkout has no .mo files (the wheel has them), so `translations` compiles the .po, and
keeps the result in ``LC_MESSAGES/__pycache__/`` for the next process, named by the hash
of the .po (portalgen/presentation/catalogs.py).
"""

from __future__ import annotations

from pathlib import Path

from portalgen.presentation.catalogs import compiled_po

PO = """\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"

msgid "New invoice"
msgid_plural "New invoices"
msgstr[0] "Factura nueva"
msgstr[1] "Facturas nuevas"

msgid "Open my portal"
msgstr "{open}"
"""


def write_po(folder: Path, open_label: str) -> Path:
    po = folder / "LC_MESSAGES" / "portalgen.po"
    po.parent.mkdir(parents=True, exist_ok=True)
    po.write_text(PO.replace("{open}", open_label), encoding="utf-8")
    return po


def kept(po: Path) -> list[Path]:
    return sorted((po.parent / "__pycache__").glob("portalgen.*.mo"))


def test_the_compiled_catalog_is_kept_and_the_next_process_reads_it(tmp_path: Path) -> None:
    po = write_po(tmp_path / "a", "Abrir mi portal")
    first = compiled_po(po, "es")
    assert first.gettext("Open my portal") == "Abrir mi portal"
    assert first.ngettext("New invoice", "New invoices", 2) == "Facturas nuevas"
    [cached] = kept(po)
    # What is read back is the kept file: put another catalog's compiled bytes in its
    # place (the same name) and they are what the next process gets.
    other = write_po(tmp_path / "b", "Entrar")
    compiled_po(other, "es")
    cached.write_bytes(kept(other)[0].read_bytes())
    assert compiled_po(po, "es").gettext("Open my portal") == "Entrar"


def test_an_edited_catalog_is_compiled_again_and_its_old_copy_dropped(tmp_path: Path) -> None:
    po = write_po(tmp_path, "Abrir mi portal")
    compiled_po(po, "es")
    [old] = kept(po)
    po.write_text(PO.replace("{open}", "Ir a mi portal"), encoding="utf-8")
    assert compiled_po(po, "es").gettext("Open my portal") == "Ir a mi portal"
    [new] = kept(po)
    assert new != old and not old.exists()


def test_a_damaged_compiled_catalog_is_compiled_again(tmp_path: Path) -> None:
    po = write_po(tmp_path, "Abrir mi portal")
    compiled_po(po, "es")
    [cached] = kept(po)
    whole = cached.read_bytes()
    for damaged in (b"", b"not a catalog at all", whole[: len(whole) // 2]):
        cached.write_bytes(damaged)
        catalog = compiled_po(po, "es")
        assert catalog.gettext("Open my portal") == "Abrir mi portal"
        assert cached.read_bytes() == whole  # written again, whole


def test_a_catalog_folder_that_cannot_be_written_still_translates(tmp_path: Path) -> None:
    po = write_po(tmp_path, "Abrir mi portal")
    (po.parent / "__pycache__").write_text("a file where the folder would go")  # even for root
    assert compiled_po(po, "es").gettext("Open my portal") == "Abrir mi portal"
    assert compiled_po(po, "es").gettext("Open my portal") == "Abrir mi portal"
