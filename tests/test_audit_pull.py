"""`portalgen audit pull`: events the gate stored become audit.jsonl lines, each exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from portalgen.audit import AuditLog, StorageAuditSink, new_event
from portalgen.audit.anchor import Anchor
from portalgen.audit.pull import pull_events
from portalgen.cli import cli
from portalgen.storage import LocalStorage, Storage, open_storage
from tests.storage_backends import settings_for

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
SECRET = "pull-test-secret-" + "x" * 32
ENV = {"PORTALGEN_SECRET": SECRET}


def anchored(storage: Storage, path: Path) -> AuditLog:
    return AuditLog(path, Anchor(storage, [SECRET]))


def store_events(storage: Storage, count: int, start: datetime) -> list[str]:
    """Store events as gates do (several at once); returns their ids, oldest first."""
    sink = StorageAuditSink(storage, [SECRET])
    events = [
        new_event(
            "document.viewed",
            f"C{i % 7}",
            contact="x@y.example",
            document=f"invoices/F{i}.html",
            now=start + timedelta(seconds=i),
        )
        for i in range(count)
    ]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(sink.record, events))
    return [e.id for e in events]


def test_pull_twice_adds_each_event_once_in_order(storage: Storage, tmp_path: Path) -> None:
    log = anchored(storage, tmp_path / "audit.jsonl")
    first = store_events(storage, 30, NOW - timedelta(days=3))
    assert pull_events(storage, log, now=NOW).added == 30
    assert pull_events(storage, log, now=NOW).added == 0
    later = store_events(storage, 5, NOW - timedelta(minutes=5))
    fresh = store_events(storage, 2, NOW - timedelta(seconds=5))  # still settling
    result = pull_events(storage, log, now=NOW)
    assert (result.added, result.waiting) == (5, 2)
    assert [e.id for e in log.events()] == first + later
    assert pull_events(storage, log, now=NOW + timedelta(minutes=1)).added == 2
    assert [e.id for e in log.events()] == first + later + fresh
    assert log.verify() == (37, None)


def test_an_unreadable_event_is_reported_and_skipped(storage: Storage, tmp_path: Path) -> None:
    store_events(storage, 3, NOW - timedelta(hours=1))
    bad_id = new_event("document.viewed", "C1", now=NOW - timedelta(hours=2)).id
    storage.put(f"_events/2026/06/15/{bad_id}.json", b"not json", "application/json")
    result = pull_events(storage, anchored(storage, tmp_path / "audit.jsonl"), now=NOW)
    assert result.added == 3
    assert result.unreadable == [f"_events/2026/06/15/{bad_id}.json"]


def config(tmp_path: Path, storage: dict[str, Any]) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        json.dumps({"storage": storage, "audit": {"path": str(tmp_path / "audit.jsonl")}})
    )
    return path


def test_killed_midway_then_rerun_adds_each_event_once(
    s3_storage_config: dict[str, Any], s3_server: Any, tmp_path: Path
) -> None:
    path = config(tmp_path, s3_storage_config)
    storage = open_storage(settings_for(s3_storage_config, tmp_path))
    ids = store_events(storage, 600, datetime.now(UTC) - timedelta(hours=2))
    log_path = tmp_path / "audit.jsonl"
    env = {**os.environ, **s3_server.env, **ENV}
    process = subprocess.Popen(
        [sys.executable, "-m", "portalgen", "--config", str(path), "audit", "pull"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if log_path.exists() and log_path.stat().st_size > 0:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    partial = len(list(AuditLog(log_path).events()))
    assert 0 < partial < 600, "the pull was not interrupted midway"
    result = CliRunner().invoke(cli, ["--config", str(path), "audit", "pull"], env=ENV)
    assert result.exit_code == 0, result.output
    assert f"Added {600 - partial} new event(s)" in result.stdout
    assert [e.id for e in AuditLog(log_path).events()] == ids
    assert AuditLog(log_path).verify() == (600, None)


def test_verify_export_and_tail_commands(tmp_path: Path) -> None:
    path = config(tmp_path, {"url": str(tmp_path / "site")})
    log = anchored(LocalStorage(tmp_path / "site"), tmp_path / "audit.jsonl")
    log.append(
        new_event(
            "quote.accepted",
            "C00001",
            contact="a@b.example",
            document="quotes/P1.html",
            data={"name": "Ana Ruiz", "comment": "De acuerdo"},
            now=NOW,
        )
    )
    log.append(new_event("document.viewed", "C00002", document="invoices/F1.html", now=NOW))
    log.append(
        new_event(
            "comment.added",
            "C00002",
            contact="c@d.example",
            document="invoices/F1.html",
            data={"comment": "¿Podéis enviar el albarán?"},
            now=NOW + timedelta(days=1),
        )
    )
    runner = CliRunner(env=ENV)
    ok = runner.invoke(cli, ["--config", str(path), "audit", "verify"])
    assert ok.exit_code == 0 and "3 line(s), the chain is intact and anchored" in ok.stdout

    exported = runner.invoke(cli, ["--config", str(path), "audit", "export"]).stdout.splitlines()
    assert [row.split(",")[1] for row in exported[1:]] == ["quote.accepted", "comment.added"]
    assert "Ana Ruiz,De acuerdo" in exported[1]
    only = runner.invoke(
        cli, ["--config", str(path), "audit", "export", "--since", "2026-06-16", "--format", "json"]
    ).stdout
    assert [json.loads(line)["type"] for line in only.splitlines()] == ["comment.added"]

    tail = runner.invoke(cli, ["--config", str(path), "audit", "tail", "-n", "1"]).stdout
    assert tail.strip() == (
        "2026-06-16 14:00  C00002 c@d.example commented on invoices/F1.html: "
        '"¿Podéis enviar el albarán?"'
    )

    lines = log.path.read_text(encoding="utf-8").splitlines(keepends=True)
    log.path.write_text(lines[0] + lines[2], encoding="utf-8")
    broken = runner.invoke(cli, ["--config", str(path), "audit", "verify"])
    assert broken.exit_code == 1
    assert "line 2: the line does not follow the one before it" in broken.stderr


def test_export_tail_and_access_list_say_what_is_not_pulled_yet(
    s3_storage_config: dict[str, Any], s3_server: Any, tmp_path: Path
) -> None:
    """On S3 the gate's events wait in the bucket: reading the log says so, and how many."""
    path = config(tmp_path, s3_storage_config)
    storage = open_storage(settings_for(s3_storage_config, tmp_path))
    store_events(storage, 3, datetime.now(UTC) - timedelta(hours=1))
    runner = CliRunner()
    note = "3 event(s) in storage not pulled yet — `portalgen audit pull`"
    env = {**s3_server.env, "PORTALGEN_SECRET": "s" * 48}  # access list signs nothing, reads it
    for command in (["audit", "export"], ["audit", "tail"], ["access", "list"]):
        result = runner.invoke(cli, ["--config", str(path), *command], env=env)
        assert result.exit_code == 0, result.output
        assert note in result.stderr, command
    exported = runner.invoke(cli, ["--config", str(path), "audit", "export"], env=s3_server.env)
    assert exported.stdout.count("\n") == 1  # the header only: nothing pulled yet
    signed = {**s3_server.env, **ENV}  # the secret the events were MACed with
    pulled = runner.invoke(cli, ["--config", str(path), "audit", "pull"], env=signed)
    assert "Added 3 new event(s)" in pulled.stdout
    tail = runner.invoke(cli, ["--config", str(path), "audit", "tail"], env=s3_server.env)
    assert tail.stderr == "" and len(tail.stdout.splitlines()) == 3
