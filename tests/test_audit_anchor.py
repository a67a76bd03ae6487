"""The audit log's end is anchored in storage: cutting, emptying or rewriting audit.jsonl
is caught by `audit verify`, and `audit pull` refuses event objects the gate did not MAC.
On a folder and on SeaweedFS."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from portalgen.audit import AuditLog, StorageAuditSink, new_event
from portalgen.audit.anchor import CHECKPOINT_KEY, Anchor
from portalgen.audit.anchored import verify_anchored
from portalgen.audit.events import AuditEvent
from portalgen.audit.log import GENESIS, canonical, chain_hash
from portalgen.audit.pull import pull_events
from portalgen.audit.sinks import event_key
from portalgen.cli import cli
from portalgen.config import load_settings
from portalgen.gate.factory import default_audit_sink
from portalgen.storage import LocalStorage, Storage

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
OLD, NEW = "old-secret-" + "o" * 32, "new-secret-" + "n" * 32


def event(i: int, text: str = "", at: datetime = NOW - timedelta(hours=1)) -> AuditEvent:
    return new_event(
        "comment.added",
        "C00001",
        contact="compras@cliente.example",
        document="invoices/F1.html",
        data={"comment": text or f"comentario {i}"},
        now=at + timedelta(seconds=i),
    )


@pytest.fixture
def log(storage: Storage, tmp_path: Path) -> AuditLog:
    log = AuditLog(tmp_path / "audit.jsonl", Anchor(storage, [NEW]))
    log.append_many([event(i) for i in range(4)])
    log.append(event(4))
    return log


def lines_of(log: AuditLog) -> list[str]:
    return log.path.read_text(encoding="utf-8").splitlines(keepends=True)


def rechain(records: list[dict[str, object]]) -> str:
    """What someone without the secret can do: write any events with a valid chain."""
    prev, out = GENESIS, []
    for record in records:
        body = {k: v for k, v in record.items() if k not in ("prev", "hash")}
        digest = chain_hash(prev, body)
        out.append(canonical({**body, "prev": prev, "hash": digest}).decode() + "\n")
        prev = digest
    return "".join(out)


def test_an_untouched_log_verifies(log: AuditLog) -> None:
    verdict = verify_anchored(log)
    assert (verdict.lines, verdict.problem) == (5, None)
    assert len(verdict.notes) == 1 and verdict.notes[0].startswith("anchored since line 0 (")


def test_cutting_the_last_events_is_caught(log: AuditLog) -> None:
    assert log.verify() == (5, None)
    log.path.write_text("".join(lines_of(log)[:3]), encoding="utf-8")
    assert log.verify() == (3, None)  # the chain alone sees nothing wrong
    problem = verify_anchored(log).problem
    assert problem is not None and problem.line == 3
    assert "the last 2 line(s) were removed" in problem.reason


def test_emptying_the_file_is_caught(log: AuditLog) -> None:
    log.path.write_bytes(b"")
    problem = verify_anchored(log).problem
    assert problem is not None and "the last 5 line(s) were removed" in problem.reason
    log.path.unlink()
    assert verify_anchored(log).problem is not None


def test_a_rewrite_with_recomputed_hashes_is_caught(log: AuditLog) -> None:
    records = [json.loads(line) for line in lines_of(log)]
    records[1]["data"] = {"comment": "Rechazamos el presupuesto."}
    log.path.write_text(rechain(records), encoding="utf-8")
    assert log.verify() == (5, None)  # a valid chain
    problem = verify_anchored(log).problem
    assert problem is not None and problem.line == 5
    assert "the log was rewritten" in problem.reason
    log.path.write_text(rechain(records + records[:2]), encoding="utf-8")  # longer, too
    assert "the log was rewritten" in str(verify_anchored(log).problem)


def test_lines_added_after_the_checkpoint_are_reported_then_noted(log: AuditLog) -> None:
    records = [json.loads(line) for line in lines_of(log)]
    forged = {**records[0], "id": event(9).id, "data": {"comment": "forged"}}
    log.path.write_text(rechain([*records, forged]), encoding="utf-8")
    problem = verify_anchored(log).problem
    assert problem is not None and problem.line == 6
    assert "lines 6-6 come after the checkpoint" in problem.reason
    log.append(event(10))  # the next append anchors them, and says so for good
    verdict = verify_anchored(log)
    assert verdict.problem is None and verdict.lines == 7
    assert any(note.startswith("lines 6-6 were anchored late") for note in verdict.notes)


def test_a_checkpoint_changed_without_the_secret_is_caught(log: AuditLog, storage: Storage) -> None:
    body = json.loads(storage.get(CHECKPOINT_KEY) or b"")
    body["lines"], body["size"] = 3, len("".join(lines_of(log)[:3]).encode())
    storage.put(CHECKPOINT_KEY, json.dumps(body).encode(), "application/json")
    log.path.write_text("".join(lines_of(log)[:3]), encoding="utf-8")
    problem = verify_anchored(log).problem
    assert problem is not None and "does not verify with the active secret" in problem.reason
    log.append(event(20))  # an append never replaces a checkpoint it cannot trust
    assert "does not verify" in str(verify_anchored(log).problem)


def test_a_rotated_secret_still_verifies_the_checkpoint(
    log: AuditLog, storage: Storage, tmp_path: Path
) -> None:
    rotated = AuditLog(log.path, Anchor(storage, [OLD, NEW]))
    assert verify_anchored(rotated).problem is None
    dropped = AuditLog(log.path, Anchor(storage, [OLD]))
    assert "does not verify" in str(verify_anchored(dropped).problem)


def test_upgrading_a_log_without_checkpoint_anchors_it_and_says_so(
    storage: Storage, tmp_path: Path
) -> None:
    plain = AuditLog(tmp_path / "audit.jsonl")  # as written before the checkpoint existed
    plain.append_many([event(i) for i in range(3)])
    log = AuditLog(plain.path, Anchor(storage, [NEW]))
    first = verify_anchored(log, now=NOW)
    assert first.problem is None and first.lines == 3
    assert "there was no checkpoint" in first.notes[0]
    assert "the 3 line(s) are anchored from now on" in first.notes[0]
    assert verify_anchored(log).notes == ["anchored since line 3 (2026-06-15T12:00:00Z)"]
    log.path.write_text("".join(lines_of(log)[:2]), encoding="utf-8")
    assert "the last 1 line(s) were removed" in str(verify_anchored(log).problem)


def test_the_first_append_after_upgrading_anchors_the_log(storage: Storage, tmp_path: Path) -> None:
    plain = AuditLog(tmp_path / "audit.jsonl")
    plain.append_many([event(i) for i in range(3)])
    log = AuditLog(plain.path, Anchor(storage, [NEW]))
    log.append(event(3))
    verdict = verify_anchored(log)
    assert verdict.problem is None and verdict.lines == 4
    assert verdict.notes[0].startswith("anchored since line 3 (")


def test_a_local_gate_advances_the_checkpoint(tmp_path: Path) -> None:
    """(A gate over S3 writes event objects, not audit.jsonl: the pull tests below.)"""
    storage = LocalStorage(tmp_path / "site")
    settings = load_settings(overrides={"audit": {"path": str(tmp_path / "a.jsonl")}}, environ={})
    sink = default_audit_sink(settings, storage, lambda: [NEW])
    sink.record(event(1))
    sink.record(event(2))
    log = AuditLog(settings.audit.path, Anchor(storage, [NEW]))
    assert verify_anchored(log).problem is None
    log.path.write_text(lines_of(log)[0], encoding="utf-8")
    assert "were removed" in str(verify_anchored(log).problem)


def test_pull_refuses_event_objects_without_the_gates_mac(storage: Storage, tmp_path: Path) -> None:
    StorageAuditSink(storage, [NEW]).record(event(1))
    injected = event(2, "Aceptado. (written by someone with bucket access)")
    key = f"_events/2026/06/15/{injected.id}.json"
    storage.put(key, json.dumps(injected.to_dict()).encode(), "application/json")
    wrong = event(3)
    forged = {**wrong.to_dict(), "mac": "0" * 64}
    forged_key = f"_events/2026/06/15/{wrong.id}.json"
    storage.put(forged_key, json.dumps(forged).encode(), "application/json")
    log = AuditLog(tmp_path / "audit.jsonl", Anchor(storage, [NEW]))
    result = pull_events(storage, log, now=NOW)
    assert result.added == 1 and sorted(result.refused) == sorted([key, forged_key])
    assert [e.data["comment"] for e in log.events()] == ["comentario 1"]
    assert verify_anchored(log).problem is None


@pytest.mark.realclock  # audit pull takes events older than its settle time, by the real clock
def test_audit_pull_and_verify_commands_report_what_they_find(
    storage: Storage, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    if storage.__class__.__name__ == "LocalStorage":
        config = {"url": str(tmp_path / "root")}
    else:
        config = request.getfixturevalue("s3_storage_config")
    path = tmp_path / "config.yaml"
    path.write_text(json.dumps({"storage": config, "audit": {"path": "audit.jsonl"}}))
    StorageAuditSink(storage, [NEW]).record(event(1, at=hour_ago))
    bad = event(2, at=hour_ago)
    bad_key = event_key(bad.id)
    storage.put(bad_key, json.dumps(bad.to_dict()).encode(), "application/json")
    runner = CliRunner(env={"PORTALGEN_SECRET": NEW})
    pulled = runner.invoke(cli, ["--config", str(path), "audit", "pull"])
    assert pulled.exit_code == 1
    assert f"refused {bad_key}: its MAC does not verify" in pulled.stderr
    assert "Added 1 new event(s)" in pulled.stdout
    ok = runner.invoke(cli, ["--config", str(path), "audit", "verify"])
    assert ok.exit_code == 0 and "1 line(s), the chain is intact and anchored" in ok.stdout
    log_path = tmp_path / "audit.jsonl"
    log_path.write_bytes(b"")
    cut = runner.invoke(cli, ["--config", str(path), "audit", "verify"])
    assert cut.exit_code == 1
    assert "the last 1 line(s) were removed" in cut.stderr
