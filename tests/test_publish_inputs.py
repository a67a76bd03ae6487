"""A customer's input fingerprint: equal exactly when the portal would render alike."""

from __future__ import annotations

import hashlib
import shutil
from collections import defaultdict
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from portalgen.publish.inputs import (
    Shard,
    _values,
    customer_dates,
    customer_inputs,
    data_print,
    today_bucket,
)
from portalgen.render import build_context, plan_portal
from tests.conftest import TODAY, demo_settings, load_demo


def test_days_in_the_same_bucket_render_the_same_portal(publish_demo: Path) -> None:
    """The rule customer_inputs relies on: today matters only through the customer's own
    dates. If a page ever shows something like "due in 3 days", this test fails."""
    settings = demo_settings(publish_demo)
    context = build_context(settings, today=TODAY)
    export = load_demo(publish_demo).export
    buckets_seen = 0
    for data in export.by_customer().values():
        by_bucket: dict[tuple[int, int], set[tuple[tuple[str, str], ...]]] = defaultdict(set)
        for offset in range(-90, 60, 2):
            day = TODAY + timedelta(days=offset)
            context.today = day
            keys = tuple(sorted((f.path, f.key) for f in plan_portal(data, context)))
            by_bucket[today_bucket(data, day)].add(keys)
        assert all(len(variants) == 1 for variants in by_bucket.values())
        assert len({next(iter(v)) for v in by_bucket.values()}) > 1  # days do matter
        buckets_seen += len(by_bucket)
    assert buckets_seen > 8


def test_inputs_follow_the_data_not_where_it_was_read(publish_demo: Path, tmp_path: Path) -> None:
    export = load_demo(publish_demo).export
    data = export.customer_data("C00001")
    base = "b" * 64
    inputs = customer_inputs(data, base, TODAY)
    assert customer_inputs(data, base, TODAY) == inputs
    copy = tmp_path / "copy"
    shutil.copytree(publish_demo, copy)  # same files, same times, another folder
    moved = load_demo(copy).export.customer_data("C00001")
    assert customer_inputs(moved, base, TODAY) == inputs
    assert customer_inputs(data, "c" * 64, TODAY) != inputs  # settings, theme, version
    assert customer_inputs(data, base, TODAY, ["_decisions/k/P1.json"]) != inputs
    invoice = replace(data.invoices[0], notes="changed")
    assert customer_inputs(replace(data, invoices=(invoice, *data.invoices[1:])), base, TODAY) != (
        inputs
    )
    original = next(d.original_pdf for d in moved.invoices if d.original_pdf)
    original.write_bytes(original.read_bytes() + b"\n% new version")
    assert customer_inputs(moved, base, TODAY) != inputs


def test_the_records_fingerprint_is_their_values_without_origin(publish_demo: Path) -> None:
    """data_print takes shortcuts for speed; its digest must stay the plain definition (the
    records' values without `origin`, files by stamp), or every portal published before
    would be re-planned once, and a value it skipped would go unnoticed when it changes."""
    export = load_demo(publish_demo).export
    for data in export.by_customer().values():
        records = [*data.all_documents(), *data.payments, *data.documents]
        plain = repr(("records-v1", _values(data.customer)[0], [_values(r)[0] for r in records]))
        found = data_print(data)
        assert found.digest == hashlib.sha256(plain.encode()).hexdigest()
        assert list(found.dates) == customer_dates(data)
        invoice = next(iter(data.invoices), None)
        if invoice is not None:  # and a change to any value shows
            changed = replace(invoice, notes=invoice.notes + ".")
            other = replace(data, invoices=(changed, *data.invoices[1:]))
            assert data_print(other).digest != found.digest


def test_shards_split_customers_stably_and_disjointly() -> None:
    codes = [f"C{i:05d}" for i in range(1000)]
    parts = [[c for c in codes if Shard(i, 4).owns(c)] for i in range(1, 5)]
    assert sorted(c for part in parts for c in part) == codes
    assert all(200 < len(p) < 300 for p in parts)
    assert Shard.parse("2/4") == Shard(2, 4) and str(Shard(2, 4)) == "2/4"
    for bad in ("0/4", "5/4", "2", "a/b", "1/0", "-1/2"):
        with pytest.raises(ValueError, match="shard"):
            Shard.parse(bad)
