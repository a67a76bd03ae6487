"""Publishing, on a folder and on SeaweedFS S3: what lands, what is redone, what goes."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from portalgen.config import Settings
from portalgen.interact.decisions import decision_key
from portalgen.publish.inputs import Shard
from portalgen.publish.manifest import blob_key, manifest_key
from portalgen.storage import Storage
from tests.publish_fixtures import GRANTED, Site, edit_csv, grant, revoke, rows_of


def paths_of(site: Site, code: str) -> set[str]:
    return set(site.manifest(code).files)


@pytest.mark.realclock  # the render cache and blob collection age files by their file times
def test_first_publish_puts_every_granted_portal(site: Site) -> None:
    report = site.publish()
    assert report.ok, report.failed
    assert sorted(o.code for o in report.outcomes) == list(GRANTED)
    assert report.count("changed") == 3 and report.without_access == 1
    assert report.files_rendered == 0, [o.rendered for o in report.outcomes]
    assert report.files_uploaded > 0 and report.bytes_uploaded > 0
    site.check_portals()
    for code in GRANTED:
        home = lxml_html.fromstring(site.file(code, "index.html"))
        assert home.xpath("//html/@lang")
        assert "invoices/index.html" in paths_of(site, code)
        assert site.manifest(code).inputs
    # C00004 has no access: nothing of theirs anywhere, and their code is in no key.
    assert not any("C00004" in info.key for info in site.storage.list(""))
    assert len(list(site.storage.list_folders("portals/"))) == 3


def test_republish_without_changes_renders_and_uploads_nothing(site: Site) -> None:
    site.publish()
    before = {code: site.storage.get(manifest_key(site.keys[code])) for code in GRANTED}
    report = site.publish()
    assert report.ok
    assert (report.files_rendered, report.files_uploaded, report.files_deleted) == (0, 0, 0)
    assert report.count("unchanged") == 3
    assert report.files_cached == sum(len(site.manifest(c).files) for c in GRANTED)
    after = {code: site.storage.get(manifest_key(site.keys[code])) for code in GRANTED}
    assert after == before  # not even rewritten


def test_changing_one_invoice_redoes_only_what_shows_it(site: Site) -> None:
    site.publish()
    invoice = rows_of(site.export_dir / "invoices.csv", "C00002")[0]
    number, slug = invoice["number"], invoice["number"].replace("/", "-")
    edit_csv(site.export_dir / "invoices.csv", number, notes="Entregar por la puerta trasera.")
    old = site.manifest("C00002")
    report = site.publish()
    assert report.ok
    changed = report.outcome("C00002")
    assert changed is not None and changed.status == "changed"
    assert {o.code: o.status for o in report.outcomes} == {
        "C00001": "unchanged",
        "C00002": "changed",
        "C00003": "unchanged",
    }
    # The notes are on the invoice's page only (its PDF is the original, unchanged).
    assert changed.rendered == [f"invoices/{slug}.html"]
    new = site.manifest("C00002")
    differing = {p for p in new.files if new.files[p] != old.files.get(p)}
    assert differing == {f"invoices/{slug}.html"}
    assert changed.uploaded == 1 and changed.deleted == 0
    assert "puerta trasera" in site.file("C00002", f"invoices/{slug}.html").decode()
    # The old page's blob is kept through the grace period, then collected.
    assert old.files[f"invoices/{slug}.html"].sha256 in new.retired
    site.check_portals()


def test_a_payment_redoes_the_invoice_statement_and_zip(site: Site) -> None:
    site.publish()
    unpaid = [r for r in rows_of(site.export_dir / "payments.csv", "C00001") if not r["paid_date"]]
    edit_csv(site.export_dir / "payments.csv", unpaid[0]["number"], paid_date="2026-06-10")
    report = site.publish()
    outcome = report.outcome("C00001")
    assert outcome is not None and outcome.status == "changed"
    rendered = set(outcome.rendered)
    slug = unpaid[0]["invoice"].replace("/", "-")
    assert {
        f"invoices/{slug}.html",
        "invoices/index.html",
        "payments/index.html",
        "payments/statement.pdf",
        "payments/statement.csv",
        "download/all-documents.zip",
    } <= rendered
    # No other document's page or PDF was redone.
    others = {p for p in rendered if p.startswith(("quotes/", "orders/", "delivery-notes/"))}
    assert others == set()
    assert not any(p.endswith(".pdf") and p.startswith("invoices/") for p in rendered)
    assert report.count("changed") == 1
    site.check_portals()


def test_a_new_theme_rerenders_everything(site: Site) -> None:
    site.publish()
    site.configure(theme={"primary_color": "#7c2d12"})
    report = site.publish()
    assert report.ok and report.count("changed") == 3
    for code in GRANTED:
        outcome = report.outcome(code)
        assert outcome is not None
        pages = {p for p in site.manifest(code).files if p.endswith(".html")}
        assert pages <= set(outcome.rendered)
        assert "payments/statement.pdf" in outcome.rendered
        assert b"#7c2d12" in site.file(code, "static/theme.css")
    site.check_portals()


def test_a_revoked_customer_has_nothing_left(site: Site) -> None:
    site.publish()
    assert site.objects("C00002")
    revoke(site.storage, "C00002")
    report = site.publish()
    removed = report.outcome("C00002")
    assert removed is not None and removed.status == "removed" and removed.deleted > 0
    assert site.objects("C00002") == []
    assert site.objects("C00001") and site.objects("C00003")


def test_a_customer_gone_from_the_export_or_registry_is_removed(site: Site) -> None:
    site.publish()
    # C00003 leaves the export: drop their rows from every file.
    for name in ("customers", "quotes", "orders", "delivery_notes", "invoices", "payments"):
        _drop_customer(site.export_dir / f"{name}.csv", "C00003")
    for name in ("quote_lines", "order_lines", "delivery_note_lines", "invoice_lines"):
        _drop_lines(site, name)
    shutil.rmtree(site.export_dir / "documents" / "C00003", ignore_errors=True)
    # C00001's registry entry disappears (deleted by hand).
    site.storage.delete(f"_access/{site.keys['C00001']}.json")
    report = site.publish()
    assert report.ok, report.failed
    assert site.objects("C00003") == [] and site.objects("C00001") == []
    assert site.objects("C00002")


def _drop_customer(path: object, code: str) -> None:
    import csv
    from pathlib import Path

    assert isinstance(path, Path)
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, list(reader)
    assert fields is not None
    column = "code" if "code" in fields and "customer" not in fields else "customer"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(r for r in rows if r[column] != code)


def _drop_lines(site: Site, name: str) -> None:
    import csv

    table = name.removesuffix("_lines") + "s"
    with (site.export_dir / f"{table}.csv").open(encoding="utf-8", newline="") as fh:
        numbers = {r["number"] for r in csv.DictReader(fh)}
    path = site.export_dir / f"{name}.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, list(reader)
    assert fields is not None
    key = next(f for f in fields if f.endswith("number") or f == "document")
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(r for r in rows if r[key] in numbers)


def test_a_quote_decided_in_the_portal_is_published_as_decided(site: Site) -> None:
    site.publish()
    quotes = rows_of(site.export_dir / "quotes.csv", "C00001")
    quote = next(r for r in quotes if r["status"] == "pending" and r["valid_until"] >= "2026-06-15")
    slug = quote["number"].replace("/", "-")
    page = f"quotes/{slug}.html"
    before = lxml_html.fromstring(site.file("C00001", page))
    assert before.xpath("//form[contains(@class, 'form-accept')]")
    decision = {
        "version": 1,
        "quote": quote["number"],
        "slug": slug,
        "decision": "accepted",
        "ts": "2026-06-15T09:00:00Z",
        "contact": "C00001@x.example",
        "name": "Ana",
        "comment": "",
        "pdf_sha256": site.manifest("C00001").files[f"quotes/{slug}.pdf"].sha256,
        "event_id": "01J0000000000000000000000",
    }
    key = decision_key(site.keys["C00001"], slug)
    site.storage.put_if_absent(key, json.dumps(decision).encode(), "application/json")
    report = site.publish()
    outcome = report.outcome("C00001")
    assert outcome is not None and outcome.status == "changed"
    assert page in outcome.rendered and "quotes/index.html" in outcome.rendered
    tree = lxml_html.fromstring(site.file("C00001", page))
    assert not tree.xpath("//form[contains(@class, 'form-accept')]")
    assert tree.xpath("//span[contains(@class, 'badge-accepted')]")
    assert report.count("unchanged") == 2


def test_a_damaged_decision_is_ignored_with_a_warning(tmp_path: Path) -> None:
    """Publishing reads a decision as the gate does: one the gate would not show (no
    contact, a quote that is not its file's, not JSON) is not rendered, and staff are told."""
    from portalgen.publish.decisions import list_decisions, read_decisions
    from portalgen.storage import LocalStorage

    storage = LocalStorage(tmp_path)
    key = "0" * 32
    good = {
        "version": 1,
        "quote": "P2025/7",
        "slug": "P2025-7",
        "decision": "rejected",
        "ts": "2026-06-15T09:00:00Z",
        "contact": "a@x.example",
    }
    records = {
        "P2025-7": good,
        "P2025-8": {**good, "slug": "P2025-8"},  # names another quote than its file
        "P2025-9": {k: v for k, v in good.items() if k != "contact"} | {"quote": "P2025/9"},
    }
    for slug, record in records.items():
        storage.put(decision_key(key, slug), json.dumps(record).encode(), "application/json")
    storage.put(decision_key(key, "P2025-10"), b"{broken", "application/json")
    keys = list_decisions(storage)[key]
    decided, warnings = read_decisions(storage, keys)
    assert decided == {"P2025/7": "rejected"}
    assert sorted(w.split(": ", 1)[0].rsplit("/", 1)[-1] for w in warnings) == [
        "P2025-10.json",
        "P2025-8.json",
        "P2025-9.json",
    ]
    assert all("not a valid quote decision" in w for w in warnings)


def test_only_and_shards_split_the_work(site: Site) -> None:
    report = site.publish(only=["C00002"])
    assert [o.code for o in report.outcomes] == ["C00002"]
    assert site.objects("C00002") and not site.objects("C00001")
    shards = [site.publish(shard=Shard(i, 2)) for i in (1, 2)]
    codes = [sorted(o.code for o in r.outcomes) for r in shards]
    assert sorted(codes[0] + codes[1]) == list(GRANTED)  # disjoint, and all of them
    assert codes == [[c for c in GRANTED if Shard(i, 2).owns(c)] for i in (1, 2)]
    site.check_portals()
    # A shard cleans up only its own customers' portals.
    revoke(site.storage, "C00001")
    revoke(site.storage, "C00003")
    owner = 1 if Shard(1, 2).owns("C00001") else 2
    site.publish(shard=Shard(owner, 2))
    assert site.objects("C00001") == []
    assert bool(site.objects("C00003")) == (not Shard(owner, 2).owns("C00003"))


def test_only_an_unknown_code_is_an_error(local_site: Site) -> None:
    from portalgen.errors import PublishError

    with pytest.raises(PublishError, match="no customer with code 'C99999'"):
        local_site.publish(only=["C99999"])
    assert list(local_site.storage.list("portals/")) == []


def test_dry_run_changes_nothing_and_says_what_would(site: Site) -> None:
    dry = site.publish(dry_run=True)
    assert dry.dry_run and dry.count("changed") == 3
    assert dry.files_uploaded > 0
    assert list(site.storage.list("portals/")) == []
    site.publish()
    site.configure(theme={"primary_color": "#7c2d12"})
    revoke(site.storage, "C00003")
    before = sorted(i.key for i in site.storage.list(""))
    dry = site.publish(dry_run=True)
    assert dry.count("changed") == 2 and dry.count("removed") == 1
    assert all(o.rendered for o in dry.outcomes if o.status == "changed")
    assert sorted(i.key for i in site.storage.list("")) == before


def test_blobs_no_longer_used_are_deleted_after_the_grace_period(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    from portalgen.publish import commit

    site.publish()
    invoice = rows_of(site.export_dir / "invoices.csv", "C00002")[0]
    page = f"invoices/{invoice['number'].replace('/', '-')}.html"
    old_sha = site.manifest("C00002").files[page].sha256
    edit_csv(site.export_dir / "invoices.csv", invoice["number"], notes="Versión 2.")
    site.publish()
    old_blob = blob_key(site.keys["C00002"], old_sha)
    assert site.storage.exists(old_blob)  # within the grace period: still there
    assert site.publish().files_deleted == 0  # nothing changed, nothing expired
    later = dt.datetime.now(dt.UTC) + site.settings.publish.gc_grace + dt.timedelta(minutes=1)
    monkeypatch.setattr(commit, "utc_now", lambda: later)
    report = site.publish()
    assert report.outcome("C00002").deleted == 1  # type: ignore[union-attr]
    assert not site.storage.exists(old_blob)
    assert site.manifest("C00002").retired == {}
    assert report.count("unchanged") == 2
    site.check_portals()


@pytest.mark.realclock  # the render cache and blob collection age files by their file times
def test_an_orphan_blob_is_collected_only_when_old(
    local_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A blob uploaded by a run that died before its manifest is deleted after the grace
    period (by its upload time), not before: another publish may be about to use it."""
    import datetime as dt

    from portalgen.publish import commit

    site = local_site
    site.publish()
    orphan = blob_key(site.keys["C00001"], hashlib.sha256(b"orphan").hexdigest())
    site.storage.put(orphan, b"orphan", "text/plain")
    site.configure(theme={"primary_color": "#123456"})
    site.publish()
    assert site.storage.exists(orphan)
    site.configure(theme={"primary_color": "#654321"})
    later = dt.datetime.now(dt.UTC) + site.settings.publish.gc_grace + dt.timedelta(minutes=1)
    monkeypatch.setattr(commit, "utc_now", lambda: later)
    site.publish()
    assert not site.storage.exists(orphan)
    site.check_portals()


def test_grant_then_publish_one_customer(site: Site) -> None:
    """What `grant` does: give access, then publish only that customer."""
    site.publish()
    keys = grant(site.storage, "C00004")
    report = site.publish(only=["C00004"])
    assert [(o.code, o.status) for o in report.outcomes] == [("C00004", "changed")]
    site.keys.update(keys)
    site.check_portals(["C00004"])


def count_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every key publishing reads (instrumentation on the real storage)."""
    from portalgen.publish import run
    from portalgen.storage import open_storage

    reads: list[str] = []

    def counting(method: Any) -> Any:
        def read(key: str) -> Any:
            reads.append(key)
            return method(key)

        return read

    def open_counting(settings: Settings) -> Storage:
        storage = open_storage(settings)
        for name in ("get", "get_with_version"):
            setattr(storage, name, counting(getattr(storage, name)))
        return storage

    monkeypatch.setattr(run, "open_storage", open_counting)
    return reads


@pytest.mark.realclock  # the render cache and blob collection age files by their file times
def test_a_run_with_nothing_to_do_reads_no_manifest_and_no_entry(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.publish()
    markers = [i.key for i in site.storage.list("_publish/current/")]
    assert sorted(k.split("/")[2] for k in markers) == sorted(site.keys.values())
    reads = count_reads(monkeypatch)
    report = site.publish()
    assert report.count("unchanged") == 3
    assert report.files_cached == sum(len(site.manifest(c).files) for c in GRANTED)
    assert not [k for k in reads if k.endswith("manifest.json") or k.startswith("_access/0")]
    assert not [k for k in reads if k.startswith("_access/") and k != "_access/index.json"]


def test_a_marker_never_hides_a_change_it_cannot_see(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Markers stand in for manifests and registry entries only while nothing they vouch
    for changed: a revoke and re-grant, a second marker; and never for more than a week."""
    import datetime as dt

    from portalgen.publish import commit
    from portalgen.publish.manifest import portal_prefix

    site.publish()
    # The gate's revoke deletes the portal (not the markers); a later grant re-enables.
    revoke(site.storage, "C00001")
    key = site.keys["C00001"]
    site.storage.delete(manifest_key(key))
    site.storage.delete_many(i.key for i in site.storage.list(portal_prefix(key)))
    grant(site.storage, "C00001")
    # C00003 gets a second, stale marker.
    [marker] = site.storage.list(f"_publish/current/{site.keys['C00003']}/")
    site.storage.put(marker.key[:-1] + "7", b"", "text/plain")
    report = site.publish()
    assert report.ok
    assert {o.code: o.status for o in report.outcomes} == {
        "C00001": "changed",
        "C00002": "unchanged",
        "C00003": "unchanged",
    }
    assert len(list(site.storage.list(f"_publish/current/{site.keys['C00003']}/"))) == 1
    site.check_portals()
    # Someone deletes C00002's manifest by hand: noticed within a week at the latest.
    site.storage.delete(manifest_key(site.keys["C00002"]))
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=7, minutes=1)
    monkeypatch.setattr(commit, "utc_now", lambda: later)
    report = site.publish()
    assert {o.code: o.status for o in report.outcomes}["C00002"] == "changed"
    assert report.files_rendered == 0  # the rest was verified, nothing redone
    site.check_portals()


def test_an_entry_rewritten_within_one_second_has_a_new_stamp() -> None:
    """S3 lists whole seconds: a revoke and a re-grant in the second of the last grant keep
    the entry's size and time, and its marker must still not vouch for the deleted portal."""
    import datetime as dt

    from portalgen.publish.markers import entry_stamp
    from portalgen.storage import ObjectInfo

    second = dt.datetime(2026, 6, 15, 10, 30, 1, tzinfo=dt.UTC)
    granted = ObjectInfo("_access/" + "a" * 32 + ".json", 412, second, '"9b2cf5"')
    regranted = ObjectInfo(granted.key, 412, second, '"41d8cd"')
    assert entry_stamp(granted) != entry_stamp(regranted)


@pytest.mark.s3
def test_publish_pulls_the_gates_events_first_on_s3(s3_site: Site) -> None:
    import datetime as dt

    from portalgen.audit.events import new_event
    from portalgen.audit.log import AuditLog
    from portalgen.audit.sinks import StorageAuditSink

    site = s3_site
    earlier = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)  # past pull's settle time
    event = new_event(
        "document.viewed", "C00001", contact="a@x.example", document="index.html", now=earlier
    )
    from portalgen.access.secret import load_secrets

    StorageAuditSink(site.storage, load_secrets(site.settings.secret_file)).record(event)
    report = site.publish()
    assert report.events is not None and report.events.added == 1
    assert event.id in AuditLog(site.settings.audit.path).ids()
    assert site.publish().events.added == 0  # type: ignore[union-attr]
