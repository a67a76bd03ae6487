"""FacturaScripts attached files → original PDFs of documents and shared documents.

``attached_files`` lists files (``path`` under ``MyFiles/YYYY/MM/``, relative to the
FacturaScripts folder); ``attached_files_rel`` ties each to a record (``model`` +
``modelid``, or ``modelcode`` for customers). Copy the ``MyFiles`` folder into the
export folder so the paths resolve there.

- A PDF attached to a quote, order, delivery note or invoice whose file name contains
  that document's code (``F2024A1.pdf``, ``factura-F2024A1.pdf``) is its original PDF.
- Every other file attached to a document or a customer is a shared document of that
  customer: ``<document code>/<file name>`` for a document, ``<file name>`` for a
  customer.
- A file missing from the export is a warning (not published); a path that leads out
  of the export folder, a file with a hard link outside it, and a file name with a
  control character are errors (own_files.py says why).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from portalgen.domain.model import Customer, SharedDocument, slugify_number
from portalgen.load.facturascripts.tables import Row
from portalgen.load.own_files import OwnFiles
from portalgen.load.problems import ProblemLog
from portalgen.textsafe import control_characters

DOCUMENT_MODELS = ("PresupuestoCliente", "PedidoCliente", "AlbaranCliente", "FacturaCliente")


def attach_files(
    tables: dict[str, list[Row]],
    base: Path,
    documents: dict[str, dict[int, Row]],
    customers: Sequence[Customer],
    log: ProblemLog,
) -> tuple[dict[tuple[str, str], Path], list[SharedDocument]]:
    """Original PDFs by (model, document code), and the shared documents."""
    files = {r.get("idfile"): r for r in tables["attached_files"] if r.get("idfile") is not None}
    codes = {c.code for c in customers}
    pdfs: dict[tuple[str, str], Path] = {}
    shared: list[SharedDocument] = []
    names: set[tuple[str, str]] = set()
    root = base.resolve()
    own = OwnFiles(base, "the export folder")
    for rel in tables["attached_files_rel"]:
        model = rel.get("model", "")
        file = files.get(rel.get("idfile"))
        if file is None:
            log.error(rel.origin, "idfile", f"no file {rel.get('idfile')} in attached_files")
            continue
        owner = _owner(rel, model, documents, codes)
        if owner is None:
            continue  # a file of something the portal does not show (a product, a supplier)
        customer, code = owner
        path = _locate(file, base, root, log)
        if path is None or _refused(file, path, own, log):
            continue
        filename = Path(str(file.get("filename") or path.name)).name or path.name
        content_type = file.get("mimetype") or mimetypes.guess_type(filename)[0] or ""
        if code and content_type == "application/pdf" and _names_document(filename, code):
            pdfs.setdefault((model, code), path)
            continue
        name = f"{slugify_number(code)}/{filename}" if code else filename
        if (customer, name) in names:
            name = f"{Path(name).parent}/{file.get('idfile')}-{filename}".lstrip("./")
        names.add((customer, name))
        shared.append(
            SharedDocument(
                customer_code=customer,
                name=name,
                path=path,
                size=path.stat().st_size,
                modified=file.get("date")
                or rel.get("creationdate")
                or date.fromtimestamp(path.stat().st_mtime),
                content_type=content_type or "application/octet-stream",
                origin=rel.origin,
            )
        )
    return pdfs, shared


def _owner(
    rel: Row, model: str, documents: dict[str, dict[int, Row]], customers: set[str]
) -> tuple[str, str] | None:
    """(customer code, document code or "") the file belongs to, or None."""
    if model == "Cliente":
        code = str(rel.get("modelcode") or rel.get("modelid") or "")
        return (code, "") if code in customers else None
    if model in DOCUMENT_MODELS:
        header = documents.get(model, {}).get(rel.get("modelid"))
        if header is not None and header.get("codcliente") in customers:
            return header.get("codcliente"), str(header.get("codigo") or "")
    return None


def _locate(file: Row, base: Path, root: Path, log: ProblemLog) -> Path | None:
    relative = str(file.get("path") or "")
    if not relative:
        log.error(file.origin, "path", "this field is required but empty")
        return None
    path = base / relative
    if not path.resolve().is_relative_to(root):
        log.error(file.origin, "path", f"{relative!r} leads outside the export folder; refused")
        return None
    if not path.is_file():
        log.warning(file.origin, "path", f"{relative} is not in the export folder; not published")
        return None
    return path


def _refused(file: Row, path: Path, own: OwnFiles, log: ProblemLog) -> bool:
    """Whether the file is refused (an error said why): a hard link to a file outside
    the export, or a name with control characters (in the file or the record)."""
    problem = own.refusal(path)
    if problem is not None:
        log.error(file.origin, "path", problem)
        return True
    bad = control_characters(str(file.get("filename") or ""))
    if bad:
        log.error(
            file.origin,
            "filename",
            f"the file name holds control characters ({', '.join(bad)}); such a name "
            "cannot be opened in the portal: rename the file",
        )
    return bool(bad)


def _names_document(filename: str, code: str) -> bool:
    return slugify_number(code).lower() in slugify_number(filename).lower()
