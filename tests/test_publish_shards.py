"""Beyond one machine, on one machine: `portalgen publish --shard i/4` as four processes at
once against SeaweedFS, one of them SIGKILLed midway and run again, then a whole publish
with nothing left to do, then the settle step exactly as the AWS Batch settle job runs it
(deploy/batch/: `audit pull && notify`) sending each customer at most one digest.

The shards share one render cache folder and one working directory, as the Batch jobs
share their EFS file system (docs/scale.md).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from ulid import ULID

from portalgen.access.entry import RegistryEntry
from portalgen.access.registry import AccessRegistry
from portalgen.access.secret import create_secret_file, load_secrets
from portalgen.audit import StorageAuditSink, new_event
from portalgen.audit.anchored import open_audit_log
from portalgen.config import Settings, load_settings
from portalgen.demo import demo_config_text, generate_demo
from portalgen.publish.inputs import Shard
from portalgen.publish.manifest import Manifest, load_manifest, manifest_key
from portalgen.storage import S3Storage, Storage, open_storage
from portalgen.uploads.records import UPLOADS_PREFIX
from portalgen.verification import PREFIX as VERIFY_PREFIX
from tests.conftest import TODAY, load_demo
from tests.smtpserver import SmtpServer
from tests.test_deploy_batch import run_settle_job
from tests.test_publish_faults import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.s3, pytest.mark.realclock]  # subprocesses

CUSTOMERS = 24
WITHOUT_ACCESS = ("C00007", "C00019")  # in the export, never granted: no portal
SHARDS = 4
GRANTED_AT = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)  # before the documents the digest tells
PROGRESS = re.compile(r"^\[\d+/\d+\] (C\d{5}) done$", re.MULTILINE)
SUMMARY = re.compile(r"^Published (\d+) customers? \((\d+) changed, (\d+) unchanged\)", re.M)
PER_CUSTOMER = ("portals/", "_publish/current/", VERIFY_PREFIX)  # each key names its customer


@dataclass
class Office:
    directory: Path
    config: Path
    storage: Storage
    keys: dict[str, str]  # granted customer code -> customer_key
    contacts: dict[str, str]  # contact email -> customer code

    def portalgen(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "portalgen", "--config", str(self.config), *args]

    def manifests(self) -> dict[str, bytes | None]:
        return {code: self.storage.get(manifest_key(key)) for code, key in self.keys.items()}

    def manifest(self, code: str) -> Manifest:
        manifest = load_manifest(self.storage, self.keys[code])
        assert manifest is not None, f"{code} has no portal"
        return manifest

    def check_portal(self, code: str) -> None:
        """The customer's manifest names only blobs that are there, with their size."""
        key = self.keys[code]
        manifest = self.manifest(code)
        prefix = f"portals/{key}/files/"
        sizes = {i.key[len(prefix) :]: i.size for i in self.storage.list(prefix)}
        for path, entry in manifest.files.items():
            assert sizes.get(entry.sha256) == entry.size, f"{code}: {path} is broken"

    def shared_objects(self) -> dict[str, str]:
        """Every object outside the per-customer prefixes, with its ETag."""
        listing = self.storage.list("")
        return {i.key: i.etag for i in listing if not i.key.startswith(PER_CUSTOMER)}


@dataclass
class ShardRun:
    shard: Shard
    process: subprocess.Popen[bytes]
    log: Path

    def finish(self) -> tuple[list[str], tuple[int, int], str]:
        """Wait; (customers it did, (changed, unchanged), its output). Fails if it failed."""
        self.process.wait(timeout=900)
        output = self.log.read_text(encoding="utf-8")
        assert self.process.returncode == 0, f"shard {self.shard}:\n{output}"
        [(published, changed, unchanged)] = SUMMARY.findall(output)
        customers = PROGRESS.findall(output)
        assert int(published) == len(customers), output
        return customers, (int(changed), int(unchanged)), output


def grant(storage: Storage, emails: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """`portalgen grant` for each code, back on GRANTED_AT: code -> customer_key."""
    registry = AccessRegistry(storage)
    keys = {}
    for code, addresses in emails.items():
        entry, _ = registry.get_or_create(code, GRANTED_AT)

        def enable(e: RegistryEntry, addresses: tuple[str, ...] = addresses) -> RegistryEntry:
            for email in addresses:
                e = e.with_contact(email, GRANTED_AT)
            return e.granted(GRANTED_AT)

        registry.update(entry.customer_key, enable)
        keys[code] = entry.customer_key
    return keys


@pytest.fixture
def office(tmp_path: Path, s3_storage_config: dict[str, Any], smtp_server: SmtpServer) -> Office:
    directory = tmp_path / "data"  # the working directory the Batch jobs mount
    generate_demo(directory, customers=CUSTOMERS, seed=11, today=TODAY, originals=True)
    create_secret_file(directory / "secret.key")
    config = yaml.safe_load(demo_config_text())
    config["storage"] = s3_storage_config
    config["publish"] = {"cache_dir": str(directory / "cache")}  # shared by every shard
    config["mail"] = smtp_server.mail_settings()
    config["gate"] = {**config.get("gate", {}), "base_url": "https://portal.levante.example"}
    config["export"] = {**config.get("export", {}), "path": str(directory)}
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    storage = open_storage(load_settings(path, environ={}))
    export = load_demo(directory).export
    emails = {c.code: c.emails for c in export.customers if c.code not in WITHOUT_ACCESS}
    contacts = {email: code for code, addresses in emails.items() for email in addresses}
    return Office(directory, path, storage, grant(storage, emails), contacts)


def load_settings_of(office: Office) -> Settings:
    return load_settings(office.config, environ={})


def start_shard(office: Office, shard: Shard, attempt: str = "") -> ShardRun:
    log = office.directory / f"shard-{shard.index}{attempt}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            office.portalgen("publish", "--shard", str(shard), "--jobs", "1"),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its render worker is in its process group
        )
    return ShardRun(shard, process, log)


def store_gate_event(office: Office) -> str:
    """A visit the gate recorded as an object in storage (on S3 it cannot append)."""
    settings = load_settings_of(office)
    secrets = load_secrets(settings.secret_file)
    code = next(iter(office.keys))
    event = new_event("document.viewed", code, now=datetime.now(UTC) - timedelta(hours=1))
    StorageAuditSink(office.storage, secrets).record(event)
    return event.id


def settle(office: Office) -> subprocess.CompletedProcess[str]:
    """The settle job's command, through the image's entrypoint (deploy/batch/)."""
    return run_settle_job(office.config, office.directory)


def test_four_shards_then_settle_once(office: Office, smtp_server: SmtpServer) -> None:
    granted = set(office.keys)
    shards = [Shard(i, SHARDS) for i in range(1, SHARDS + 1)]
    # The victim: the shard with the most customers, killed once part of them is out.
    victim = max(shards, key=lambda s: sum(s.owns(code) for code in granted))
    mine = {code for code in granted if victim.owns(code)}
    assert len(mine) >= 3
    event_id = store_gate_event(office)
    shared_before = office.shared_objects()
    watcher = S3Storage.from_settings(load_settings_of(office))  # a connection of its own

    runs = {s.index: start_shard(office, s) for s in shards}
    killed = runs.pop(victim.index)
    try:

        def part_committed() -> bool:
            if killed.process.poll() is not None:
                return True
            return any(watcher.exists(manifest_key(office.keys[c])) for c in mine)

        assert wait_for(part_committed, timeout=600)
    finally:
        os.killpg(killed.process.pid, signal.SIGKILL)  # the group of the process we started
        killed.process.wait(timeout=30)
    assert killed.process.returncode == -signal.SIGKILL, killed.log.read_text()
    committed = {c for c, m in office.manifests().items() if c in mine and m is not None}
    assert 1 <= len(committed) < len(mine)  # killed midway
    for code in committed:
        office.check_portal(code)  # what it had published is whole
    done = {index: run.finish() for index, run in runs.items()}

    rerun = start_shard(office, victim, attempt="-again")
    done[victim.index] = finished, changes, _ = rerun.finish()
    assert set(finished) == mine
    assert changes == (len(mine) - len(committed), len(committed))  # the rest, nothing more
    for code in committed:
        office.check_portal(code)  # the earlier portals are intact

    # Every granted customer published exactly once, by the shard that owns them.
    counts = Counter(code for finished, _, _ in done.values() for code in finished)
    assert set(counts) == granted and set(counts.values()) == {1}, counts
    for code in granted:
        office.check_portal(code)
    assert set(office.storage.list_folders("portals/")) == set(office.keys.values())
    # /verify: a record per issued PDF (not the shared documents), each of one portal.
    pdfs = Counter(
        entry.sha256
        for code in office.keys
        for entry in office.manifest(code).files.values()
        if entry.content_type == "application/pdf"
    )
    records = {i.key.removeprefix(VERIFY_PREFIX) for i in office.storage.list(VERIFY_PREFIX)}
    assert records and records <= set(pdfs)
    assert {pdfs[sha] for sha in records} == {1}
    # Shards write only under per-customer prefixes: no shared object changed
    # (the audit log, its checkpoint, the gate's events: left to the settle step).
    assert office.shared_objects() == shared_before
    for _, _, output in done.values():
        assert "the audit log was neither pulled nor settled" in output
    assert not open_audit_log(load_settings_of(office), office.storage).path.exists()
    assert smtp_server.messages == []

    # A whole publish afterwards has nothing to do, and says so.
    whole = subprocess.run(
        office.portalgen("publish", "--json"), capture_output=True, text=True, timeout=600
    )
    assert whole.returncode == 0, whole.stderr
    summary = json.loads(whole.stdout)
    assert summary["customers"]["unchanged"] == len(granted)
    assert (summary["customers"]["changed"], summary["customers"]["removed"]) == (0, 0)
    files = summary["files"]
    assert (files["rendered"], files["uploaded"], files["deleted"]) == (0, 0, 0)

    # A proof of payment a browser posted two days ago and the gate never took.
    posted = (datetime.now(UTC) - timedelta(days=2)).timestamp()
    customer_key = next(iter(office.keys.values()))
    abandoned = f"{UPLOADS_PREFIX}{customer_key}/incoming/{ULID.from_timestamp(posted)}"
    office.storage.put(abandoned, b"%PDF-1.7\n", "application/pdf")

    # The settle job: `uploads clean`, then `audit pull && notify`, once; each customer
    # at most one digest.
    first = settle(office)
    assert first.returncode == 0, first.stdout + first.stderr
    assert not office.storage.exists(abandoned)  # shards do not sweep: the settle job does
    assert f"removed {abandoned}" in first.stdout
    log = open_audit_log(load_settings_of(office), office.storage)
    assert event_id in log.ids()
    received = [r for m in smtp_server.messages for r in m.rcpt_tos]
    assert received, first.stdout
    assert set(received) <= set(office.contacts)
    assert max(Counter(received).values()) == 1, Counter(received)  # one per contact
    again = settle(office)  # Batch retries a failed settle job: nothing is sent twice
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(smtp_server.messages) == len(received)
