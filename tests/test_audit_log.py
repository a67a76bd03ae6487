"""The staff's audit.jsonl: concurrent appends stay whole, the chain catches tampering."""

from __future__ import annotations

import json
import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from portalgen.audit import AuditEvent, AuditLog, new_event
from portalgen.audit.query import EventFilter, describe, export_csv, select

T0 = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)


def comment(i: int, customer: str = "C1") -> AuditEvent:
    return new_event(
        "comment.added",
        customer,
        contact="a@x.example",
        document="invoices/F1.html",
        data={"comment": f"comentario nº {i} — «ok»"},
        now=T0 + timedelta(seconds=i),
    )


def _writer(path: str, worker: int, count: int) -> None:
    log = AuditLog(Path(path))
    for i in range(count):
        log.append(new_event("comment.added", f"C{worker}", data={"comment": f"{worker}-{i}"}))


def test_eight_processes_append_4000_intact_lines(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_writer, args=(str(path), w, 500)) for w in range(8)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(timeout=300)
        assert p.exitcode == 0
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    records = [json.loads(line) for line in lines[:-1]]
    assert len(records) == 4000
    assert {r["data"]["comment"] for r in records} == {
        f"{w}-{i}" for w in range(8) for i in range(500)
    }
    assert AuditLog(path).verify() == (4000, None)


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append_many([comment(i) for i in range(5)])
    return log


def rewrite(log: AuditLog, change: object) -> None:
    lines = log.path.read_text(encoding="utf-8").splitlines(keepends=True)
    change(lines)  # type: ignore[operator]
    log.path.write_text("".join(lines), encoding="utf-8")


def test_verify_passes_on_an_untouched_log(log: AuditLog) -> None:
    assert log.verify() == (5, None)


def test_verify_catches_an_edited_line(log: AuditLog) -> None:
    def edit(lines: list[str]) -> None:
        lines[2] = lines[2].replace("comentario nº 2", "comentario nº 9")

    rewrite(log, edit)
    _, problem = log.verify()
    assert problem is not None and problem.line == 3
    assert "changed" in problem.reason


def test_verify_catches_a_deleted_line(log: AuditLog) -> None:
    rewrite(log, lambda lines: lines.pop(1))
    _, problem = log.verify()
    assert problem is not None and problem.line == 2
    assert "deleted, inserted or moved" in problem.reason


def test_verify_catches_swapped_lines(log: AuditLog) -> None:
    def swap(lines: list[str]) -> None:
        lines[3], lines[4] = lines[4], lines[3]

    rewrite(log, swap)
    _, problem = log.verify()
    assert problem is not None and problem.line == 4


def test_an_incomplete_last_line_is_cut_before_the_next_append(log: AuditLog) -> None:
    with log.path.open("ab") as fh:
        fh.write(b'{"id": "01J-half-writ')  # a crash in the middle of a write
    assert len(list(log.events())) == 5
    log.append(comment(99))
    assert log.verify() == (6, None)
    assert [e.data["comment"] for e in log.events()][-1] == "comentario nº 99 — «ok»"


def test_filters_export_and_tail(log: AuditLog) -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/Madrid")
    log.append(
        new_event(
            "quote.accepted",
            "C2",
            contact="b@y.example",
            document="quotes/P1.html",
            data={"name": "Ana"},
            now=T0 + timedelta(days=1),
        )
    )
    picked = list(select(log.events(), EventFilter(types=["quote"]), zone))
    assert [e.type for e in picked] == ["quote.accepted"]
    picked = list(select(log.events(), EventFilter(since=(T0 + timedelta(days=1)).date()), zone))
    assert [e.customer for e in picked] == ["C2"]
    rows = export_csv(select(log.events(), EventFilter(customers=["C1"]), zone), zone).splitlines()
    assert rows[0] == "time,type,customer,contact,document,name,comment,id"
    assert rows[1].startswith("2026-06-15 10:00,comment.added,C1,a@x.example,invoices/F1.html,,")
    assert (
        describe(picked[0], zone)
        == "2026-06-16 10:00  C2 b@y.example accepted quote quotes/P1.html"
    )
