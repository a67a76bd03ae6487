"""The render cache is used, never trusted; the commit refuses to undo another writer."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from portalgen.access.registry import AccessRegistry
from portalgen.errors import PublishError
from portalgen.publish.cache import KEEP, RenderCache
from portalgen.publish.commit import (
    AccessLost,
    PortalWriter,
    StoredPortal,
    list_blobs,
    read_manifest,
)
from portalgen.publish.manifest import blob_key
from tests.publish_fixtures import GRANTED, Site, revoke

KEY = "ab" * 32


def test_cache_round_trip_and_damage_is_a_miss(tmp_path: Path) -> None:
    cache = RenderCache(tmp_path)
    stored = cache.put(KEY, b"%PDF-1.7 bytes")
    assert stored.sha256 == hashlib.sha256(b"%PDF-1.7 bytes").hexdigest()
    found = cache.get(KEY)
    assert found is not None and found.data == b"%PDF-1.7 bytes"
    path = cache.path(KEY)
    raw = path.read_bytes()
    path.write_bytes(raw[:-1] + b"X")  # one byte changed
    assert cache.get(KEY) is None
    assert not path.exists()  # deleted, so the next run renders it again
    path.write_bytes(b"not a cache entry at all")
    assert cache.get(KEY) is None
    cache.put(KEY, b"abc")
    path.write_bytes(path.read_bytes()[:-1])  # torn write
    assert cache.get(KEY) is None
    with pytest.raises(ValueError):
        cache.path("../../etc/passwd")


@pytest.mark.realclock  # the render cache ages entries by their file times
def test_cache_prunes_entries_unused_for_long(tmp_path: Path) -> None:
    cache = RenderCache(tmp_path)
    cache.put(KEY, b"old")
    cache.put("cd" * 32, b"recent")
    old = time.time() - KEEP - 3600
    os.utime(cache.path(KEY), (old, old))
    assert cache.prune() == 1
    assert cache.get(KEY) is None and cache.get("cd" * 32) is not None
    assert cache.prune() == 0  # at most once a day


@pytest.mark.realclock  # the render cache ages entries by their file times
def test_a_damaged_cache_entry_is_rendered_again(local_site: Site) -> None:
    site = local_site
    cache = RenderCache(site.settings.publish.cache_dir)
    damaged = 0
    for cached in cache.root.glob("??/*"):  # damage every cached PDF's last bytes
        raw = cached.read_bytes()
        if raw.split(b"\n", 1)[1].startswith(b"%PDF"):
            cached.write_bytes(raw[:-10] + b"0123456789")
            damaged += 1
    assert damaged
    report = site.publish()
    assert report.ok
    for code in GRANTED:
        outcome = report.outcome(code)
        assert outcome is not None and "payments/statement.pdf" in outcome.rendered
        for name, entry in site.manifest(code).files.items():
            data = site.file(code, name)
            assert hashlib.sha256(data).hexdigest() == entry.sha256, name
            if name.endswith(".pdf"):
                assert data.startswith(b"%PDF") and b"0123456789" not in data[-20:]


def test_without_a_cache_nothing_is_rendered_that_storage_has(local_site: Site) -> None:
    """The manifest keeps each file's render key: a fresh machine (no cache) publishing
    an unchanged export renders nothing at all, not even the changed customer's PDFs."""
    site = local_site
    site.publish()
    shutil.rmtree(site.settings.publish.cache_dir)
    site.configure(theme={"primary_color": "#0f5132"})
    report = site.publish()
    assert report.ok and report.count("changed") == 3
    for code in GRANTED:
        outcome = report.outcome(code)
        assert outcome is not None
        # Pages are redone (the theme is in their key); original PDFs and shared files are not.
        assert not any(p.startswith("documents/files/") for p in outcome.rendered)
        assert not any(p.endswith(".pdf") and "statement" not in p for p in outcome.rendered)
    site.check_portals()


def writer_for(site: Site, pool: ThreadPoolExecutor) -> PortalWriter:
    return PortalWriter(
        site.storage,
        RenderCache(site.settings.publish.cache_dir),
        AccessRegistry(site.storage),
        pool,
        site.settings.publish.gc_grace,
    )


def test_a_concurrent_publish_of_the_same_customer_is_refused(site: Site) -> None:
    site.publish()
    key = site.keys["C00001"]
    manifest, version = read_manifest(site.storage, key)
    assert manifest is not None
    stale = StoredPortal(manifest, version, list_blobs(site.storage, key))
    site.configure(theme={"primary_color": "#0f5132"})
    site.publish(only=["C00001"])  # another publisher got there first
    current = site.manifest("C00001")
    with ThreadPoolExecutor(2) as pool:
        changed = replace(manifest, inputs="something else")
        with pytest.raises(PublishError, match="another publish changed this portal"):
            writer_for(site, pool).commit(key, stale, changed)
    assert site.manifest("C00001") == current  # not overwritten
    site.check_portals(["C00001"])


def test_access_revoked_while_publishing_leaves_nothing(site: Site) -> None:
    site.publish()
    key = site.keys["C00002"]
    manifest, version = read_manifest(site.storage, key)
    assert manifest is not None
    stored = StoredPortal(manifest, version, list_blobs(site.storage, key))
    revoke(site.storage, "C00002")  # revoke ran while we were rendering
    with ThreadPoolExecutor(2) as pool, pytest.raises(AccessLost):
        writer_for(site, pool).commit(key, stored, replace(manifest, inputs="new"))
    assert site.objects("C00002") == []
    assert not site.storage.exists(blob_key(key, next(iter(manifest.blobs()))))
