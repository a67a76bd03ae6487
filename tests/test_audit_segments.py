"""The audit log in segments: audit.jsonl is the open file, each month (or every
ROLL_BYTES) closes it into audit/<month>.jsonl with a summary beside it. The chain and
the checkpoint run across segments; the quick readers (recent.py) answer exactly what a
full read of every line answers."""

from __future__ import annotations

import json
import multiprocessing
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

import portalgen.audit.segments as segments_module
from portalgen.access.grants import last_visits as visits_from_every_event
from portalgen.audit import AuditEvent, AuditLog, StorageAuditSink, new_event
from portalgen.audit.anchor import Anchor
from portalgen.audit.anchored import verify_anchored
from portalgen.audit.events import ACTION_TYPES
from portalgen.audit.pull import pull_events
from portalgen.audit.recent import known_ids, last_visits, newest_events, recent_actions
from portalgen.audit.summary import summary_path
from portalgen.cli import cli
from portalgen.storage import LocalStorage, Storage

SECRET = "segments-test-secret-" + "s" * 32
OCT = datetime(2026, 10, 28, 9, 0, tzinfo=UTC)
KINDS = ("document.viewed", "comment.added", "session.started", "quote.accepted")


def event(i: int, at: datetime, customer: str = "") -> AuditEvent:
    kind = KINDS[i % len(KINDS)]
    data = {"comment": f"comentario {i}"} if kind == "comment.added" else {}
    return new_event(kind, customer or f"C{i % 5}", contact="a@b.example", data=data, now=at)


def every_twelve_hours(count: int, start: datetime = OCT) -> list[AuditEvent]:
    return [event(i, start + timedelta(hours=12 * i)) for i in range(count)]


@pytest.fixture
def site(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "site")


def anchored(storage: Storage, path: Path) -> AuditLog:
    return AuditLog(path, Anchor(storage, [SECRET]))


@pytest.fixture
def events() -> list[AuditEvent]:
    """Events from 28 October to 21 December."""
    return every_twelve_hours(110)


@pytest.fixture
def log(site: LocalStorage, tmp_path: Path, events: list[AuditEvent]) -> AuditLog:
    """The events, appended one by one as a gate does."""
    log = anchored(site, tmp_path / "audit.jsonl")
    for e in events:
        log.append(e)
    return log


def folder(log: AuditLog) -> Path:
    return log.path.with_name("audit")


def test_each_month_closes_into_a_segment_and_the_chain_runs_through(
    log: AuditLog, events: list[AuditEvent]
) -> None:
    names = sorted(p.name for p in folder(log).glob("*.jsonl"))
    assert names == ["2026-10.jsonl", "2026-11.jsonl"]
    with log.path.open() as fh:
        assert json.loads(fh.readline())["ts"].startswith("2026-12-01")
    november = (folder(log) / "2026-11.jsonl").read_text().splitlines()
    october = (folder(log) / "2026-10.jsonl").read_text().splitlines()
    assert json.loads(november[0])["prev"] == json.loads(october[-1])["hash"]
    assert log.verify() == (110, None)
    assert verify_anchored(log).problem is None
    assert list(log.events()) == events


def test_a_size_limit_closes_segments_too_and_concurrent_writers_stay_whole(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.jsonl"
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_small_writer, args=(str(path), w, 150)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(timeout=300)
        assert p.exitcode == 0
    log = AuditLog(path)
    assert len(list(folder(log).glob("*.jsonl"))) > 5  # many closed segments, one month
    assert log.verify() == (600, None)
    comments = sorted(str(e.data["comment"]) for e in log.events())
    assert comments == sorted(f"{w}-{i}" for w in range(4) for i in range(150))


def _small_writer(path: str, worker: int, count: int) -> None:
    segments_module.ROLL_BYTES = 4000  # in this process only: a segment every ~10 lines
    log = AuditLog(Path(path))
    for i in range(count):
        at = OCT + timedelta(seconds=i)
        log.append(
            new_event("comment.added", f"C{worker}", data={"comment": f"{worker}-{i}"}, now=at)
        )


def test_tail_shows_the_newest_events_across_a_month_boundary(
    log: AuditLog, events: list[AuditEvent], tmp_path: Path
) -> None:
    from zoneinfo import ZoneInfo

    from portalgen.audit.query import describe

    zone = ZoneInfo("Europe/Madrid")  # the default time zone
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"storage": {"url": str(tmp_path / "site")}}))
    tail = ["--config", str(config), "audit", "tail"]
    assert events[-44].ts.startswith("2026-11-30")  # 2 in November, 42 in December
    shown = CliRunner().invoke(cli, [*tail, "-n", "44"]).stdout.splitlines()
    assert shown == [describe(e, zone) for e in events[-44:]]
    quotes = CliRunner().invoke(cli, [*tail, "-n", "3", "--type", "quote", "--customer", "C2"])
    picked = [e for e in events if e.type == "quote.accepted" and e.customer == "C2"][-3:]
    assert picked[0].ts < "2026-12"  # reached back into a closed month
    assert quotes.stdout.splitlines() == [describe(e, zone) for e in picked]


def test_pull_never_adds_an_event_twice_whose_id_is_in_an_older_segment(
    site: LocalStorage, tmp_path: Path
) -> None:
    sink = StorageAuditSink(site, [SECRET])
    stored = [
        event(i, datetime(2026, 11, 30, 20, tzinfo=UTC) + timedelta(minutes=i)) for i in range(6)
    ]
    for e in stored:
        sink.record(e)
    log = anchored(site, tmp_path / "audit.jsonl")
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert pull_events(site, log, now=now).added == 6
    log.append(event(7, datetime(2026, 12, 1, 11, tzinfo=UTC)))  # November closes
    assert (folder(log) / "2026-11.jsonl").exists()
    again = pull_events(site, log, now=now)
    assert (again.added, again.already_present) == (0, 6)
    later = datetime(2027, 1, 20, tzinfo=UTC)  # a month on: 2026-12 closed, a summary each
    log.append(event(8, later))
    log.append(event(9, later + timedelta(days=31)))
    long_look = pull_events(site, log, now=later + timedelta(days=32), lookback=timedelta(days=90))
    assert (long_look.added, long_look.already_present) == (0, 6)  # older than any summary
    assert [e.id for e in log.events()].count(stored[0].id) == 1
    assert verify_anchored(log).problem is None


def test_access_list_and_notify_read_what_every_event_says(log: AuditLog) -> None:
    events = list(log.events())
    assert last_visits(log) == visits_from_every_event(events)
    assert summary_path(folder(log) / "2026-11.jsonl").exists()  # written by that read
    log.append(event(200, datetime(2026, 12, 22, tzinfo=UTC), customer="C9"))
    assert last_visits(log) == visits_from_every_event(log.events())
    for days in (1, 3, 7, 30, 60):  # within the summary's window, and beyond it
        since = datetime(2026, 12, 22, tzinfo=UTC) - timedelta(days=days)
        every = [e for e in log.events() if e.type in ACTION_TYPES and e.when >= since]
        assert recent_actions(log, since) == every, days
    ids = known_ids(log)
    assert all(e.id in ids for e in log.events())
    assert event(0, OCT + timedelta(hours=1)).id not in ids  # an old id not in the log


def test_access_list_shows_a_visit_from_a_closed_month(fresh_demo: Path) -> None:
    env = {"PORTALGEN_SECRET": ""}
    config = ["--config", str(fresh_demo / "config.yaml")]
    runner = CliRunner(env=env)
    runner.invoke(cli, [*config, "grant", "C00001", "--no-publish", "--export", str(fresh_demo)])
    log = AuditLog(fresh_demo / "audit.jsonl")
    log.append(event(2, datetime(2027, 1, 3, 9, 30, tzinfo=UTC), customer="C00001"))
    log.append(event(3, datetime(2027, 2, 1, 9, 30, tzinfo=UTC), customer="C00002"))
    assert (fresh_demo / "audit" / "2027-01.jsonl").exists()
    data = json.loads(runner.invoke(cli, [*config, "access", "list", "--json"]).output)
    assert [row["last_visit"][:16] for row in data] == ["2027-01-03T09:30"]


def test_an_old_single_file_log_is_kept_whole_and_becomes_the_first_segment(
    site: LocalStorage, tmp_path: Path
) -> None:
    """A log written before segments: one file, whatever the months it spans."""
    old = every_twelve_hours(50)  # 28 October to 22 November
    path = tmp_path / "audit.jsonl"
    path.write_bytes(_chained(old))
    log = anchored(site, path)
    assert verify_anchored(log).problem is None  # anchors it, as after an upgrade
    new = event(60, datetime(2026, 12, 2, tzinfo=UTC))
    log.append(new)
    assert (folder(log) / "2026-10.jsonl").read_bytes() == _chained(old)  # moved, unchanged
    assert [e.id for e in log.events()] == [*(e.id for e in old), new.id]
    verdict = verify_anchored(log)
    assert (verdict.lines, verdict.problem) == (51, None)
    assert last_visits(log) == visits_from_every_event(log.events())
    assert pull_events(site, log, now=datetime(2026, 12, 3, tzinfo=UTC)).added == 0


def _chained(events: list[AuditEvent]) -> bytes:
    from portalgen.audit.log import GENESIS, canonical, chain_hash

    prev, out = GENESIS, b""
    for e in events:
        digest = chain_hash(prev, e.to_dict())
        out += canonical({**e.to_dict(), "prev": prev, "hash": digest}) + b"\n"
        prev = digest
    return out


def test_a_cut_at_a_segment_boundary_is_caught(log: AuditLog) -> None:
    open_lines = log.path.read_bytes()
    log.path.unlink()  # the log now ends where November ends
    assert log.verify() == (68, None)  # the chain alone sees nothing wrong
    problem = verify_anchored(log).problem
    assert problem is not None and "the last 42 line(s) were removed" in problem.reason
    log.path.write_bytes(open_lines)
    assert verify_anchored(log).problem is None
    november = folder(log) / "2026-11.jsonl"
    november.rename(november.with_suffix(".kept"))  # a whole closed month removed
    problem = verify_anchored(log).problem
    assert problem is not None and problem.file == log.path and problem.file_line == 1
    assert "does not follow the one before it" in problem.reason


def test_a_summary_changed_by_hand_is_rebuilt_by_verify(log: AuditLog) -> None:
    last_visits(log)  # writes the summaries
    path = summary_path(folder(log) / "2026-11.jsonl")
    body = json.loads(path.read_text())
    body["visits"]["C0"] = "2020-01-01T00:00:00.000Z"
    path.write_text(json.dumps(body))
    verdict = verify_anchored(log)
    assert verdict.problem is None
    assert any(str(path) in note and "rebuilt" in note for note in verdict.notes)
    assert json.loads(path.read_text())["visits"]["C0"] != "2020-01-01T00:00:00.000Z"


def test_newest_events_reads_back_from_the_end(log: AuditLog, events: list[AuditEvent]) -> None:
    assert [e.id for e in newest_events(log, 5, lambda e: True)] == [e.id for e in events[-5:]]
    with log.path.open("ab") as fh:
        fh.write(b'{"id": "half-writ')  # being written: not shown
    assert [e.id for e in newest_events(log, 1, lambda e: True)] == [events[-1].id]
    os.truncate(log.path, 0)
    assert [e.id for e in newest_events(log, 2, lambda e: True)] == [e.id for e in events[66:68]]


def test_lines_left_unanchored_before_a_month_closes_are_anchored_late(
    log: AuditLog, site: LocalStorage
) -> None:
    """A writer stopped between writing and anchoring; the next append closes the month."""
    unanchored = AuditLog(log.path)  # writes without moving the checkpoint
    unanchored.append(event(300, datetime(2026, 12, 30, tzinfo=UTC)))
    problem = verify_anchored(log).problem
    assert problem is not None and "lines 111-111 come after the checkpoint" in problem.reason
    log.append(event(301, datetime(2027, 1, 2, tzinfo=UTC)))  # December closes first
    assert (folder(log) / "2026-12.jsonl").exists()
    verdict = verify_anchored(log)
    assert (verdict.lines, verdict.problem) == (112, None)
    assert any(note.startswith("lines 111-111 were anchored late") for note in verdict.notes)


def test_what_readers_already_read_of_the_open_file_is_kept_and_still_right(
    log: AuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    import portalgen.audit.prefix as prefix

    monkeypatch.setattr(prefix, "KEEP_EVERY", 5)
    kept = folder(log) / "open.summary.json"
    december = datetime(2026, 12, 15, tzinfo=UTC)  # within the 9 days kept
    every_action = [e for e in log.events() if e.type in ACTION_TYPES and e.when >= december]
    assert recent_actions(log, december) == every_action  # the read that keeps it
    assert json.loads(kept.read_text())["lines"] == 110  # through the open file's end
    assert recent_actions(log, december) == every_action  # the read that uses it
    at = datetime(2026, 12, 22, tzinfo=UTC)
    for i in range(3):  # fewer than KEEP_EVERY: read after it, not stored
        log.append(event(400 + i, at + timedelta(hours=i), customer=f"C{10 + i}"))
    since = at - timedelta(days=4)
    every_action = [e for e in log.events() if e.type in ACTION_TYPES and e.when >= since]
    assert recent_actions(log, since) == every_action
    assert last_visits(log) == visits_from_every_event(log.events())
    assert json.loads(kept.read_text())["lines"] == 110
    assert all(e.id in known_ids(log) for e in log.events())
    log.append(event(500, datetime(2027, 1, 1, tzinfo=UTC), customer="C20"))  # a new month
    assert last_visits(log) == visits_from_every_event(log.events())  # no longer fits: unused
    assert all(e.id in known_ids(log) for e in log.events())
