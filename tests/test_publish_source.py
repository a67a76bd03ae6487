"""Publishing from the load cache: a quiet run decides from kept fingerprints without the
export's records, and any change to what a portal is made from is still published.

Nothing here times anything: bench/publish.py measures what this saves.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portalgen.domain.model import slugify_number
from portalgen.load import LoadCache, LoadOptions, LoadResult, load_export
from portalgen.publish.decisions import DecisionListing
from portalgen.publish.report import PublishReport
from portalgen.publish.run import publish_export
from tests.conftest import TODAY
from tests.publish_fixtures import Site, edit_csv, rows_of


def load(site: Site, cache: LoadCache | None = None) -> LoadResult:
    options = LoadOptions.from_settings(site.settings, today=TODAY)
    cache = cache or LoadCache.for_settings(site.settings)
    return load_export(site.export_dir, options, cache=cache)


def publish(site: Site, result: LoadResult) -> PublishReport:
    report = publish_export(site.settings, result, today=TODAY, jobs=1)
    assert report.ok, report.failed
    return report


def changed(report: PublishReport) -> set[str]:
    return {o.code for o in report.outcomes if o.status == "changed"}


def test_a_quiet_run_decides_without_reading_the_records(local_site: Site) -> None:
    publish(local_site, load(local_site))  # loads, fingerprints and keeps both
    quiet = load(local_site)
    report = publish(local_site, quiet)
    assert changed(report) == set()
    assert {o.status for o in report.outcomes} == {"unchanged"}
    assert not quiet.resolved  # the export was never unpickled


def test_fingerprints_kept_by_another_portalgen_are_taken_again(
    local_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upgrade may fingerprint records otherwise (a field newly read): what an older
    portalgen kept is not used, so the records are read again."""
    publish(local_site, load(local_site))
    monkeypatch.setattr("portalgen.publish.source.code_version", lambda: "9.9+another")
    after_upgrade = load(local_site)
    assert changed(publish(local_site, after_upgrade)) == set()
    assert after_upgrade.resolved  # the records were read to fingerprint them
    quiet = load(local_site)
    publish(local_site, quiet)
    assert not quiet.resolved  # and kept again, for this portalgen


def test_a_changed_row_is_published_though_fingerprints_were_kept(local_site: Site) -> None:
    publish(local_site, load(local_site))
    publish(local_site, load(local_site))
    [unpaid, *_] = [r for r in rows_of(local_site.export_dir / "payments.csv", "C00002")]
    edit_csv(local_site.export_dir / "payments.csv", unpaid["number"], paid_date="2026-06-14")
    report = publish(local_site, load(local_site))
    assert changed(report) == {"C00002"}
    assert changed(publish(local_site, load(local_site))) == set()


def test_a_file_the_fingerprint_leaves_out_is_stamped_again(local_site: Site) -> None:
    """A file the records point at where the load cache does not look (like the PDFs taken
    out of e-invoices into the cache folder): here the invoicing program's PDF folder,
    left out of the load cache's key. A new version of one is published all the same."""
    folder = local_site.export_dir / "pdf"
    cache = LoadCache(local_site.settings.publish.cache_dir / "loads", skip=(folder,))
    publish(local_site, load(local_site, cache))
    publish(local_site, load(local_site, cache))
    numbers = [r["number"] for r in rows_of(local_site.export_dir / "invoices.csv", "C00001")]
    [pdf, *_] = [
        p for n in numbers if (p := folder / "invoices" / f"{slugify_number(n)}.pdf").exists()
    ]
    pdf.write_bytes(pdf.read_bytes() + b"\n% a new version\n")
    report = publish(local_site, load(local_site, cache))
    assert changed(report) == {"C00001"}
    [path] = [p for p in local_site.manifest("C00001").files if p.endswith(f"/{pdf.name}")]
    assert local_site.file("C00001", path) == pdf.read_bytes()


NOW = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)


def test_settling_the_audit_log_is_skipped_only_when_it_could_find_nothing() -> None:
    def listing(newest: datetime | None, at: datetime = NOW) -> DecisionListing:
        return DecisionListing({}, newest, at)

    assert not listing(None).may_need_events(NOW)  # no decision at all
    assert not listing(NOW - timedelta(days=8)).may_need_events(NOW)  # all checked before
    assert listing(NOW - timedelta(days=6)).may_need_events(NOW)  # within the look-back
    assert listing(NOW - timedelta(minutes=1)).may_need_events(NOW)
    # a run long enough for a decision written after the listing to be due
    assert listing(None, NOW - timedelta(minutes=11)).may_need_events(NOW)
