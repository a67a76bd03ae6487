"""Proofs posted straight to S3 and never taken are removed after a day
(portalgen/uploads/sweep.py, docs/payments.md): by `publish`, once a day, and by
`portalgen uploads clean`; an upload in progress and every proof taken stay."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner
from ulid import ULID

from portalgen.cli import cli
from portalgen.storage import Storage
from portalgen.uploads.records import UPLOADS_PREFIX, UploadRecord, customer_records, store
from portalgen.uploads.sweep import MAX_AGE, sweep_incoming
from tests.gate_fixtures import GateWorld
from tests.interact_fixtures import JUNE, move_to, signed_in
from tests.publish_fixtures import Site
from tests.test_uploads_gate import report, start
from tests.upload_fixtures import PDF, UNPAID, post_to_bucket

NOW = datetime(2026, 6, 16, 9, 0, tzinfo=UTC).timestamp()
HOUR = 3600
CUSTOMER_KEY = "0123456789abcdef0123456789abcdef"


def incoming(storage: Storage, posted: float, customer_key: str = CUSTOMER_KEY) -> str:
    """An object as a browser's presigned POST leaves it: its id the gate's ULID."""
    key = f"{UPLOADS_PREFIX}{customer_key}/incoming/{ULID.from_timestamp(posted)}"
    storage.put(key, PDF, "application/pdf")
    return key


def taken(storage: Storage, posted: float) -> UploadRecord:
    """A proof the gate accepted, whose incoming object a crash left behind."""
    upload_id = str(ULID.from_timestamp(posted))
    record = UploadRecord(
        id=upload_id,
        ts="2026-06-14T09:00:00Z",
        customer="C00007",
        customer_key=CUSTOMER_KEY,
        contact="c00007@example.com",
        invoice=UNPAID,
        filename="transferencia.pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256="0" * 64,
    )
    assert store(storage, record, PDF)
    storage.put(f"{UPLOADS_PREFIX}{CUSTOMER_KEY}/incoming/{upload_id}", PDF, "application/pdf")
    return record


def test_old_uploads_never_taken_go_and_the_rest_stays(storage: Storage) -> None:
    abandoned = incoming(storage, NOW - MAX_AGE - HOUR)
    other_customer = incoming(storage, NOW - 3 * MAX_AGE, "f" * 32)
    in_progress = incoming(storage, NOW - 5 * 60)  # posted 5 minutes ago, not reported yet
    within_a_day = incoming(storage, NOW - MAX_AGE + HOUR)
    record = taken(storage, NOW - MAX_AGE - HOUR)
    quarantined = f"{UPLOADS_PREFIX}{CUSTOMER_KEY}/quarantine/01KV0000000000000000000000.pdf"
    storage.put(quarantined, PDF, "application/pdf")

    swept = sweep_incoming(storage, NOW)

    left_over = f"{UPLOADS_PREFIX}{CUSTOMER_KEY}/incoming/{record.id}"
    assert sorted(swept.removed) == sorted([abandoned, other_customer, left_over])
    assert swept.kept == 2
    assert storage.exists(in_progress) and storage.exists(within_a_day)
    assert not storage.exists(abandoned) and not storage.exists(other_customer)
    # the proof taken is whole: its bytes, its record, `uploads list` shows it
    assert storage.get(record.key) == PDF and storage.get(quarantined) == PDF
    assert list(customer_records(storage, CUSTOMER_KEY)) == [record]
    assert sweep_incoming(storage, NOW).removed == ()


def test_a_name_that_is_no_ulid_is_aged_by_its_time_in_storage(storage: Storage) -> None:
    key = f"{UPLOADS_PREFIX}{CUSTOMER_KEY}/incoming/not-a-ulid"
    storage.put(key, PDF, "application/pdf")
    info = storage.stat(key)
    assert info is not None
    stored = info.last_modified.timestamp()  # the storage's clock, not this process's
    assert sweep_incoming(storage, stored + MAX_AGE - HOUR).removed == ()
    assert sweep_incoming(storage, stored + MAX_AGE + HOUR).removed == (key,)


@pytest.mark.s3
def test_on_s3_only_the_abandoned_direct_upload_goes(june_s3: GateWorld) -> None:
    """Through the gate and SeaweedFS: one proof reported and taken, one posted and never
    reported, one posted a moment before the sweep and reported after it."""
    world = june_s3
    client = signed_in(world)
    done = start(client, PDF)
    assert post_to_bucket(done["url"], done["fields"], PDF, "application/pdf") == 204
    assert report(client, done).status_code == 303
    abandoned = start(client, PDF)
    assert post_to_bucket(abandoned["url"], abandoned["fields"], PDF, "application/pdf") == 204
    later = JUNE + MAX_AGE + HOUR
    move_to(world, later - 10 * 60)
    client = signed_in(world)
    fresh = start(client, PDF)
    assert post_to_bucket(fresh["url"], fresh["fields"], PDF, "application/pdf") == 204

    swept = sweep_incoming(world.storage, later)

    key = world.key("C00007")
    assert swept.removed == (f"{UPLOADS_PREFIX}{key}/incoming/{abandoned['upload']}",)
    assert swept.kept == 1
    assert report(client, fresh).status_code == 303  # still there to be taken
    records = list(customer_records(world.storage, key))
    assert [r.id for r in records] == [done["upload"], fresh["upload"]]
    assert all(world.storage.get(r.key) == PDF for r in records)
    page = client.get(f"/portal/invoices/{UNPAID}.html").get_data(as_text=True)
    assert "Justificante recibido el 16/06/2026" in page
    assert [i.key for i in world.storage.list(f"{UPLOADS_PREFIX}{key}/incoming/")] == []


def test_publish_sweeps_once_a_day(local_site: Site, time_machine: Any) -> None:
    site = local_site
    time_machine.move_to(datetime.fromtimestamp(NOW, UTC), tick=False)
    abandoned = incoming(site.storage, NOW - MAX_AGE - HOUR)
    fresh = incoming(site.storage, NOW - HOUR)

    first = site.publish()

    assert first.uploads_removed == 1 and first.to_dict()["uploads_removed"] == 1
    assert not site.storage.exists(abandoned) and site.storage.exists(fresh)
    found_later = incoming(site.storage, NOW - 2 * MAX_AGE, "f" * 32)
    time_machine.move_to(datetime.fromtimestamp(NOW + 12 * HOUR, UTC), tick=False)
    assert site.publish().uploads_removed == 0  # swept today already: not listed again
    assert site.storage.exists(fresh) and site.storage.exists(found_later)
    time_machine.move_to(datetime.fromtimestamp(NOW + MAX_AGE, UTC), tick=False)
    assert site.publish().uploads_removed == 2
    assert not site.storage.exists(fresh) and not site.storage.exists(found_later)
    assert site.publish(dry_run=True).uploads_removed == 0


def test_uploads_clean_on_the_command_line(local_site: Site, time_machine: Any) -> None:
    site = local_site
    time_machine.move_to(datetime.fromtimestamp(NOW, UTC), tick=False)
    abandoned = incoming(site.storage, NOW - MAX_AGE - HOUR)
    incoming(site.storage, NOW - HOUR)
    config = site.write_config()
    result = CliRunner().invoke(cli, ["--config", str(config), "uploads", "clean"])
    assert result.exit_code == 0, result.output
    assert f"removed {abandoned}" in result.output
    assert "Removed 1 upload(s) never taken; kept 1 younger than 24 hours." in result.output
