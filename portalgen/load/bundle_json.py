"""The native bundle as one file, export.json or export.yaml: the same tables as the CSV
folder, each a list of objects, with a document's lines nested in it (docs/export-format.md).

Numbers are read exactly (JSON and YAML floats become Decimal), and every record keeps
where it came from (``$.invoices[3].lines[1]``), so an error names the file and the path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from portalgen.domain.model import Origin
from portalgen.load import schema
from portalgen.load.problems import ProblemLog


@dataclass(frozen=True)
class RawRecord:
    origin: Origin
    values: Mapping[str, Any]  # column → raw value; missing/empty cells are absent


class _DecimalLoader(yaml.SafeLoader):
    """YAML with exact numbers: floats are read as Decimal, never as binary floats."""


def _yaml_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    return Decimal(str(loader.construct_scalar(node)).replace("_", ""))


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _yaml_decimal)


def present(value: Any) -> bool:
    """Whether a cell holds something (not None, not blank text)."""
    return value is not None and not (isinstance(value, str) and not value.strip())


def read_json_or_yaml(file: Path, log: ProblemLog) -> dict[str, list[RawRecord]]:
    """The file's tables by name (line tables filled from each document's ``lines``);
    {} when the file cannot be read as a bundle (reported)."""
    data = _parse(file, log)
    if data is None:
        return {}
    name = file.name
    known = {t.name for t in schema.TABLES if not t.name.endswith("_lines")}
    for key in data:
        if key not in known:
            log.warning(Origin(name, "$"), str(key), "unknown section, ignored")
    if "customers" not in data:
        log.error(Origin(name, "$"), "customers", "the customers list is missing")
    tables: dict[str, list[RawRecord]] = {}
    for table in schema.TABLES:
        items = data.get(table.name)
        if items is None:
            continue
        if not isinstance(items, list):
            log.error(Origin(name, f"$.{table.name}"), "", "expected a list")
            continue
        _read_section(name, table.name, items, tables, log)
    return tables


def _parse(file: Path, log: ProblemLog) -> dict[str, Any] | None:
    name = file.name
    try:
        text = file.read_text(encoding="utf-8-sig")
        if file.suffix.lower() == ".json":
            data = json.loads(text, parse_float=Decimal)
        else:
            data = yaml.load(text, Loader=_DecimalLoader)  # noqa: S506 - a SafeLoader subclass
    except UnicodeDecodeError as exc:
        log.error(Origin(name), "", f"the file is not UTF-8 (byte {exc.start})")
        return None
    except json.JSONDecodeError as exc:
        where = Origin(name, f"line {exc.lineno}, column {exc.colno}")
        log.error(where, "", f"invalid JSON: {exc.msg}")
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = Origin(name, f"line {mark.line + 1}, column {mark.column + 1}" if mark else "")
        log.error(where, "", f"invalid YAML: {getattr(exc, 'problem', exc)}")
        return None
    if not isinstance(data, dict):
        log.error(Origin(name, "$"), "", "expected an object with customers, invoices, ... lists")
        return None
    return data


_LINE_TABLE_OF = {t.name: schema.LINE_TABLES[k].name for k, t in schema.DOCUMENT_TABLES.items()}


def _read_section(
    name: str, table: str, items: list[Any], tables: dict[str, list[RawRecord]], log: ProblemLog
) -> None:
    records = tables.setdefault(table, [])
    for i, item in enumerate(items):
        path = f"$.{table}[{i}]"
        if not isinstance(item, dict):
            log.error(Origin(name, path), "", "expected an object")
            continue
        values = {k: v for k, v in item.items() if k != "lines" and present(v)}
        records.append(RawRecord(Origin(name, path), values))
        if table in _LINE_TABLE_OF:
            lines = tables.setdefault(_LINE_TABLE_OF[table], [])
            lines.extend(_nested_lines(name, path, item, log))


def _nested_lines(name: str, path: str, item: dict[str, Any], log: ProblemLog) -> list[RawRecord]:
    """A document's ``lines`` as line-table records: its number as ``document``, and the
    position in the list unless given."""
    raw_lines = item.get("lines", [])
    if not isinstance(raw_lines, list):
        log.error(Origin(name, path), "lines", "expected a list of lines")
        return []
    records = []
    for j, line in enumerate(raw_lines):
        origin = Origin(name, f"{path}.lines[{j}]")
        if not isinstance(line, dict):
            log.error(origin, "", "expected an object")
            continue
        values = {k: v for k, v in line.items() if present(v)}
        if "number" in item:
            values["document"] = item["number"]
        values.setdefault("position", j + 1)
        records.append(RawRecord(origin, values))
    return records
