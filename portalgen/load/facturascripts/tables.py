"""FacturaScripts tables as rows of typed values, from API JSON or from CSV dumps.

Two forms carry the same tables (portalgen/../docs/readers.md, "FacturaScripts"):

- **API JSON**: one file per resource as ``GET /api/3/<resource>`` returns it (a JSON
  array of row objects), named ``<resource>.json`` (``facturaclientes.json``) or
  ``<table>.json``. Dates are ``d-m-Y``, money and quantities JSON numbers (doubles),
  booleans true/false, NULL null. ``portalgen fetch facturascripts`` writes this form.
- **CSV dump**: one file per table, ``<table>.csv`` (``facturascli.csv``) with a header
  row, as ``\\copy facturascli TO 'facturascli.csv' CSV HEADER`` or a MySQL/phpMyAdmin
  export writes it: ``,`` ``;`` or tab separated; ISO dates; booleans ``t``/``f``,
  ``true``/``false`` or ``1``/``0``; NULL as an empty cell, ``\\N`` or ``NULL``.

Both date forms are accepted in both files (they cannot be confused). Money (a double in
FacturaScripts) is rounded half-up to cents; quantities, prices and percentages keep the
15 significant digits a double holds, which removes binary-float noise such as
``12.300000000000001`` and keeps a price like ``8.264462809917356`` (10 € with 21 % VAT).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from portalgen.domain.model import Origin, round_money
from portalgen.load import fields as f
from portalgen.load.problems import ProblemLog

# table → API resource name (FORMATS.md §1.3, from APIModel::pluralize).
RESOURCES = {
    "clientes": "clientes",
    "contactos": "contactos",
    "formaspago": "formapagos",
    "estados_documentos": "estadodocumentos",
    "presupuestoscli": "presupuestoclientes",
    "lineaspresupuestoscli": "lineapresupuestoclientes",
    "pedidoscli": "pedidoclientes",
    "lineaspedidoscli": "lineapedidoclientes",
    "albaranescli": "albaranclientes",
    "lineasalbaranescli": "lineaalbaranclientes",
    "facturascli": "facturaclientes",
    "lineasfacturascli": "lineafacturaclientes",
    "recibospagoscli": "reciboclientes",
    "pagoscli": "pagoclientes",
    "doctransformations": "doctransformations",
    "attached_files": "attachedfiles",
    "attached_files_rel": "attachedfilerelations",
    "impuestos": "impuestos",
    "settings": "settings",
}

_DATES = {"fecha", "fechapago", "vencimiento", "finoferta", "fechaalta", "fechabaja", "date"}
_DATETIMES = {"creationdate"}
_BOOLS = {"pagado", "vencido", "pagada", "vencida", "editable", "debaja", "domiciliado"}
_BOOLS |= {"suplido", "activo", "personafisica", "predeterminado"}
_BOOLS |= {"mostrar_cantidad", "mostrar_precio"}
_MONEY = {"total", "neto", "totaliva", "totalrecargo", "totalirpf", "totalsuplidos"}
_MONEY |= {"importe", "pvptotal", "pvpsindto", "gastos", "liquidado", "netosindto"}
_NUMBERS = {"cantidad", "pvpunitario", "dtopor", "dtopor1", "dtopor2", "iva", "recargo", "irpf"}
_INTEGERS = {"idfactura", "idlinea", "idpresupuesto", "idpedido", "idalbaran", "idrecibo"}
_INTEGERS |= {"idpago", "idestado", "idfile", "modelid", "iddoc1", "iddoc2", "idcontacto"}
_INTEGERS |= {"idcontactofact", "idfacturarect", "orden", "size", "idlinea1", "idlinea2"}
_NULLS = {"", "\\N", "NULL", "null"}


@dataclass(frozen=True)
class Row:
    origin: Origin
    values: Mapping[str, Any]  # column → typed value; NULL and absent columns are None
    bad: frozenset[str] = frozenset()  # columns whose value was wrong (already reported)

    def missing(self, column: str) -> bool:
        """Empty (NULL or absent), as opposed to present but wrong."""
        return self.values.get(column) is None and column not in self.bad

    def get(self, column: str, default: Any = None) -> Any:
        value = self.values.get(column)
        return default if value is None else value


def fs_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    raw = f.text(value)
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})|(\d{2})-(\d{2})-(\d{4})", raw.split(" ")[0])
    if match:
        y, m, d = (match[1], match[2], match[3]) if match[1] else (match[6], match[5], match[4])
        try:
            return date(int(y), int(m), int(d))
        except ValueError:
            pass
    raise f.FieldError(f"expected a date as dd-mm-yyyy or yyyy-mm-dd, found {f.found(raw)}")


def fs_datetime(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    return fs_date(value)


def fs_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raw = f.text(value).lower()
    if raw in ("t", "true", "1"):
        return True
    if raw in ("f", "false", "0"):
        return False
    raise f.FieldError(f"expected true or false (t/f, 1/0), found {f.found(value)}")


def fs_number(value: Any) -> Decimal:
    """A double as FacturaScripts stores it, without binary noise (15 significant digits)."""
    if isinstance(value, bool):
        raise f.FieldError(f"expected a number, found {value}")
    try:
        number = Decimal(value) if isinstance(value, (int, Decimal)) else Decimal(f.text(value))
    except InvalidOperation:
        raise f.FieldError(f"expected a number like 1234.56, found {f.found(value)}") from None
    if not number.is_finite():
        raise f.FieldError(f"expected a number, found {f.found(value)}")
    if number:
        digits = number.adjusted() - 14  # keep 15 significant digits
        number = number.quantize(Decimal(1).scaleb(min(digits, 0)), rounding=ROUND_HALF_UP)
    return number.quantize(Decimal(1)) if number == number.to_integral() else number.normalize()


def fs_money(value: Any) -> Decimal:
    return round_money(fs_number(value))


def _parser(column: str) -> Callable[[Any], Any]:
    if column in _DATES:
        return fs_date
    if column in _DATETIMES:
        return fs_datetime
    if column in _BOOLS:
        return fs_bool
    if column in _MONEY:
        return fs_money
    if column in _NUMBERS:
        return fs_number
    if column in _INTEGERS:
        return f.integer
    return f.text


def find_table_file(folder: Path, table: str) -> Path | None:
    for name in (f"{table}.csv", f"{RESOURCES[table]}.json", f"{table}.json"):
        if (folder / name).is_file():
            return folder / name
    return None


def read_table(folder: Path, table: str, log: ProblemLog) -> list[Row]:
    """Every row of `table` (empty when the export has no file for it)."""
    file = find_table_file(folder, table)
    if file is None:
        return []
    raw_rows = _json_rows(file, log) if file.suffix == ".json" else _csv_rows(file, log)
    rows = []
    for origin, record in raw_rows:
        values: dict[str, Any] = {}
        bad = set()
        for column, raw in record.items():
            if raw is None or (isinstance(raw, str) and raw.strip() in _NULLS):
                continue
            try:
                values[column] = _parser(column)(raw)
            except f.FieldError as exc:
                log.error(origin, column, str(exc))
                bad.add(column)
        rows.append(Row(origin, values, frozenset(bad)))
    return rows


def _json_rows(file: Path, log: ProblemLog) -> list[tuple[Origin, dict[str, Any]]]:
    try:
        data = json.loads(file.read_text(encoding="utf-8-sig"), parse_float=Decimal)
    except UnicodeDecodeError as exc:
        log.error(Origin(file.name), "", f"the file is not UTF-8 (byte {exc.start})")
        return []
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        log.error(Origin(file.name, where), "", f"invalid JSON: {exc.msg}")
        return []
    if isinstance(data, dict) and "error" in data:
        log.error(Origin(file.name, "$"), "", f"the file holds an API error: {data['error']}")
        return []
    if not isinstance(data, list):
        log.error(Origin(file.name, "$"), "", "expected a JSON array of rows, as the API returns")
        return []
    rows = []
    for index, item in enumerate(data):
        origin = Origin(file.name, f"$[{index}]")
        if isinstance(item, dict):
            rows.append((origin, item))
        else:
            log.error(origin, "", "expected an object (one row)")
    return rows


def _csv_rows(file: Path, log: ProblemLog) -> list[tuple[Origin, dict[str, Any]]]:
    try:
        content = file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        log.error(Origin(file.name), "", f"the file is not UTF-8 (byte {exc.start})")
        return []
    first_line = content.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    header = [h.strip() for h in next(reader, [])]
    if not header:
        log.error(Origin(file.name), "", "the file is empty; it needs a header row")
        return []
    rows = []
    for index, cells in enumerate(reader):
        if not any(c.strip() for c in cells):
            continue
        origin = Origin(file.name, f"row {index + 2}")
        if len(cells) != len(header):
            log.error(
                origin, "", f"the row has {len(cells)} cells but the header has {len(header)}"
            )
            continue
        rows.append((origin, dict(zip(header, cells, strict=True))))
    return rows


def parse_column(
    row: Row, column: str, parser: Any, log: ProblemLog, *, required: bool = False
) -> Any:
    """A text column parsed by a portalgen.load.fields parser; None (reported) if wrong."""
    raw = row.get(column)
    if raw is None or raw == "":
        if required and row.missing(column):
            log.error(row.origin, column, "this field is required but empty")
        return None
    try:
        return parser(raw)
    except f.FieldError as exc:
        log.error(row.origin, column, str(exc))
        return None
