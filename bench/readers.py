"""How much the readers cost over parsing the XML alone (ratios, measured in one run).

Run: .venv/bin/python bench/readers.py [N]

Writes N copies of each sample e-invoice (different numbers) into a temporary folder and
times, on the same files in the same run:
- baseline: lxml parsing every file (what any reader must pay);
- the UBL and Facturae readers through load_export (parsing, checks, validation);
- Facturae again with its XAdES signatures checked (signxml), the costly part.
And a FacturaScripts export of N invoices (JSON and CSV) against json.load/csv.reader.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portalgen.load import LoadOptions, load_export

SAMPLES = Path(__file__).resolve().parent.parent / "tests" / "data" / "samples"


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def copies(folder: Path, source: Path, n: int, number: str, strip_signature: bool) -> None:
    folder.mkdir(parents=True)
    text = source.read_text(encoding="utf-8")
    if strip_signature:
        text = re.sub(r"<ds:Signature.*</ds:Signature>", "", text, flags=re.S)
    for i in range(n):
        (folder / f"{i:05d}.xml").write_text(
            text.replace(number, f"{number}-{i}"), encoding="utf-8"
        )


def parse_all(folder: Path) -> None:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    for path in sorted(folder.glob("*.xml")):
        etree.parse(str(path), parser)


def main(n: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="portalgen-bench-"))
    options = LoadOptions(cache_dir=work / "cache")
    try:
        ubl = work / "ubl"
        copies(
            ubl, SAMPLES / "ubl" / "gobl_peppol_invoice-with-charges.xml", n, "CHARGE-001", False
        )
        fe = work / "facturae"
        copies(fe, SAMPLES / "facturae" / "facturae322_gobl_invoice-vat.xml", n, "TEST01001F", True)
        signed = work / "signed"
        copies(
            signed,
            SAMPLES / "facturae" / "facturae322_gobl_invoice-vat.xml",
            n,
            "TEST01001F",
            False,
        )
        rows = [
            ("UBL", ubl, lambda: load_export(ubl, options)),
            ("Facturae", fe, lambda: load_export(fe, options)),
            ("Facturae signed", signed, lambda: load_export(signed, options)),
        ]
        print(f"{n} files each; best of 3; ratio = reader time / lxml parse time of the same files")
        for label, folder, fn in rows:
            base = timed(lambda folder=folder: parse_all(folder))
            took = timed(fn)
            print(
                f"{label:16} parse {base * 1000:8.1f} ms   reader {took * 1000:8.1f} ms   "
                f"ratio {took / base:6.1f}   {took / n * 1000:.2f} ms/file"
            )
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from tests.fs_fixture import write_csv, write_json

        for label, writer in (("FS JSON", write_json), ("FS CSV", write_csv)):
            folder = writer(work / label.replace(" ", "-"))
            files = sorted(folder.glob("*.json" if "JSON" in label else "*.csv"))

            def raw(files: list[Path] = files) -> None:
                for path in files:
                    with path.open(encoding="utf-8") as fh:
                        json.load(fh) if path.suffix == ".json" else list(csv.reader(fh))

            base, took = timed(raw), timed(lambda folder=folder: load_export(folder, options))
            print(
                f"{label:16} parse {base * 1000:8.1f} ms   reader {took * 1000:8.1f} ms   "
                f"ratio {took / base:6.1f}   (the 5-invoice fixture)"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
