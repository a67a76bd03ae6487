"""The load cache: an unchanged export is not read again, and a changed one always is.

Nothing here times anything: bench/publish.py measures what the cache saves.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickletools
import tracemalloc
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from portalgen.cli import cli
from portalgen.domain.model import Export, Money, record_items
from portalgen.load import LoadCache, LoadOptions, LoadResult, cache_stream, load_export
from portalgen.publish.manifest import load_manifest
from tests.conftest import TODAY
from tests.publish_fixtures import Site

OPTIONS = LoadOptions(today=TODAY)


def load(export: Path, cache: LoadCache) -> LoadResult:
    return load_export(export, OPTIONS, cache=cache)


@pytest.fixture
def cache(tmp_path: Path) -> LoadCache:
    return LoadCache(tmp_path / "cache" / "loads", version="1.0+test")


def entry(cache: LoadCache) -> Path:
    (found,) = cache.folder.glob("*.pickle")
    return found


def test_an_unchanged_export_comes_from_the_cache(fresh_demo: Path, cache: LoadCache) -> None:
    first = load(fresh_demo, cache)
    second = load(fresh_demo, cache)
    assert not first.cached and second.cached
    assert second.export == first.export and second.warnings == first.warnings
    assert os.stat(cache.folder).st_mode & 0o777 == 0o700


def test_a_changed_byte_is_noticed_with_the_same_size_and_time(
    fresh_demo: Path, cache: LoadCache
) -> None:
    load(fresh_demo, cache)
    customers = fresh_demo / "customers.csv"
    before = customers.stat()
    data = customers.read_bytes()
    first = load(fresh_demo, cache).export.customers[0]
    changed = data.replace(first.name.encode(), b"X" + first.name[1:].encode(), 1)
    assert changed != data and len(changed) == len(data)
    customers.write_bytes(changed)
    os.utime(customers, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert customers.stat().st_size == before.st_size
    assert customers.stat().st_mtime_ns == before.st_mtime_ns

    again = load(fresh_demo, cache)
    assert not again.cached
    assert again.export.customers[0].name == "X" + first.name[1:]


def test_a_new_file_in_the_export_is_noticed(fresh_demo: Path, cache: LoadCache) -> None:
    load(fresh_demo, cache)
    code = load(fresh_demo, cache).export.customers[0].code
    shared = fresh_demo / "documents" / code / "new-price-list.txt"
    shared.parent.mkdir(parents=True, exist_ok=True)
    shared.write_text("prices", encoding="utf-8")
    again = load(fresh_demo, cache)
    assert not again.cached
    assert any(d.name == "new-price-list.txt" for d in again.export.documents)


def test_another_portalgen_version_drops_the_entry(fresh_demo: Path, tmp_path: Path) -> None:
    folder = tmp_path / "loads"
    old, new = LoadCache(folder, version="1.0"), LoadCache(folder, version="1.1")
    load(fresh_demo, old)
    assert load(fresh_demo, old).cached
    assert not load(fresh_demo, new).cached  # read again, and kept for 1.1
    assert load(fresh_demo, new).cached
    assert not load(fresh_demo, old).cached


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:-100],  # a torn write
        lambda data: data[:-50] + bytes(50),  # damaged bytes, the header intact
        lambda data: b"not a cache entry at all",
        lambda data: b"",
    ],
    ids=["truncated", "damaged", "garbage", "empty"],
)
def test_a_damaged_entry_is_ignored_and_rebuilt(
    fresh_demo: Path, cache: LoadCache, damage: object
) -> None:
    expected = load(fresh_demo, cache).export
    path = entry(cache)
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    again = load(fresh_demo, cache)
    assert not again.cached and again.export == expected
    assert load(fresh_demo, cache).cached  # rebuilt


def test_an_entry_changed_into_another_valid_one_is_not_trusted(
    fresh_demo: Path, cache: LoadCache
) -> None:
    """A flipped byte that still unpickles (a customer's name) is caught by the checksum."""
    expected = load(fresh_demo, cache).export
    name = expected.customers[0].name.encode()
    path = entry(cache)
    data = path.read_bytes()
    assert name in data
    path.write_bytes(data.replace(name, b"X" + name[1:]))
    again = load(fresh_demo, cache)
    assert not again.cached and again.export == expected


def test_a_cache_that_cannot_be_used_costs_a_load_only(fresh_demo: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be", encoding="utf-8")
    cache = LoadCache(blocked / "loads", version="1.0")
    assert not load(fresh_demo, cache).cached
    assert not load(fresh_demo, cache).cached
    assert blocked.read_text(encoding="utf-8").startswith("a file")


def test_an_entry_others_could_have_written_is_not_read(fresh_demo: Path, cache: LoadCache) -> None:
    load(fresh_demo, cache)
    cache.folder.chmod(0o777)
    assert not load(fresh_demo, cache).cached


def test_storage_cache_and_audit_log_inside_the_export_are_not_part_of_it(
    fresh_demo: Path,
) -> None:
    from tests.conftest import demo_settings

    settings = demo_settings(fresh_demo)  # the demo keeps them all in the export folder
    cache = LoadCache.for_settings(settings)
    assert cache.folder == settings.publish.cache_dir / "loads"
    load(fresh_demo, cache)
    (fresh_demo / "site" / "portals").mkdir(parents=True)
    (fresh_demo / "site" / "portals" / "x.json").write_text("{}", encoding="utf-8")
    settings.audit.path.write_text("{}\n", encoding="utf-8")
    settings.audit.segments.mkdir()  # the audit log's closed segments (a month ended)
    (settings.audit.segments / "2026-11.jsonl").write_text("{}\n", encoding="utf-8")
    (settings.publish.cache_dir / "renders").mkdir(parents=True, exist_ok=True)
    assert load(fresh_demo, cache).cached


def test_a_broken_export_after_a_cached_good_one_still_fails(local_site: Site) -> None:
    config = local_site.write_config()
    command = ["--config", str(config), "publish", str(local_site.export_dir), "--json"]
    assert CliRunner().invoke(cli, command).exit_code == 0
    assert any((local_site.settings.publish.cache_dir / "loads").glob("*.pickle"))
    key = local_site.keys["C00001"]
    published = load_manifest(local_site.storage, key)

    invoices = local_site.export_dir / "invoices.csv"
    lines = invoices.read_text(encoding="utf-8").splitlines()
    header, row = lines[0].split(","), lines[1].split(",")
    row[header.index("total")] = "12x34"
    invoices.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n", "utf-8")
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 1
    assert "invoices.csv" in result.stderr and "row 2" in result.stderr
    assert "total" in result.stderr and "nothing was published" in result.stderr
    assert load_manifest(local_site.storage, key) == published


# -- the export in chunks (load/cache_stream.py) -------------------------------------------------


def values(export: Export) -> Iterable[Any]:
    """Every value in the export's records, records inside records included."""
    pending: list[Any] = [getattr(export, name) for name in cache_stream.TABLES]
    while pending:
        value = pending.pop()
        if isinstance(value, tuple):
            pending.extend(value)
        elif hasattr(value, "__dataclass_fields__"):
            pending.extend(v for _, v in record_items(value))
        yield value


def test_a_cached_export_is_the_fresh_one_to_the_digit(
    fresh_demo: Path, cache: LoadCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written in many small chunks, read back: every amount with its own digits (0.00 is
    not 0), every date, status and origin as loaded; and equal amounts and dates are one
    object again, as loading makes them, though each chunk was pickled on its own."""
    monkeypatch.setattr(cache_stream, "CHUNK", 7)
    fresh = load(fresh_demo, cache).export
    again = load(fresh_demo, cache)
    assert again.cached
    assert repr(again.export) == repr(fresh)  # repr shows origins and Decimal('0.00')
    assert len(again.export.invoices) > 7 * 3  # (so the export really was in chunks)
    moneys = [v for v in values(again.export) if isinstance(v, Money)]
    assert len({id(m) for m in moneys}) == len({(str(m.amount), m.currency) for m in moneys})
    dates = [v for v in values(again.export) if type(v) is date]
    assert len({id(d) for d in dates}) == len(set(dates))


def chunks(path: Path) -> tuple[bytes, list[bytes]]:
    """An entry's header line and meta, and its export's pickles one by one."""
    data = path.read_bytes()
    line, _, rest = data.partition(b"\n")
    meta = int(line.split()[3])
    stream = io.BytesIO(rest[meta:])
    pieces = []
    while stream.tell() < len(rest) - meta:
        start = stream.tell()
        for _ in pickletools.genops(stream):  # to the end of this pickle, nothing run
            pass
        pieces.append(rest[meta + start : meta + stream.tell()])
    return line + b"\n" + rest[:meta], pieces


@pytest.mark.parametrize(
    "cut",
    [
        lambda pieces: pieces[:-1],  # the end is missing: stopped at a chunk's end
        lambda pieces: pieces[:2] + pieces[3:],  # a chunk is missing
        lambda pieces: [*pieces, pieces[1]],  # something after the end
    ],
    ids=["end missing", "chunk missing", "after the end"],
)
def test_an_entry_whose_chunks_do_not_make_the_export_is_not_used(
    fresh_demo: Path, cache: LoadCache, monkeypatch: pytest.MonkeyPatch, cut: Any
) -> None:
    """Even with a checksum that matches (as if the writer had stopped or repeated itself
    and then signed what it wrote), a stream of chunks is only an export when it is whole."""
    monkeypatch.setattr(cache_stream, "CHUNK", 7)
    expected = load(fresh_demo, cache).export
    path = entry(cache)
    head, pieces = chunks(path)
    assert len(pieces) > 5
    stream = b"".join(cut(pieces))
    line, _, meta = head.partition(b"\n")
    fields = line.split()
    fields[5] = hashlib.sha256(stream).hexdigest().encode()
    path.write_bytes(b" ".join(fields) + b"\n" + meta + stream)
    again = load(fresh_demo, cache)
    assert not again.cached and repr(again.export) == repr(expected)
    assert load(fresh_demo, cache).cached  # rebuilt


class Discard:
    def write(self, data: bytes) -> int:
        return len(data)


def test_writing_an_entry_holds_a_chunk_not_the_whole_export(
    fresh_demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pickler keeps all it wrote until its dump ends: written in one dump, a large
    export's entry took about as much memory again as the export (docs/publish.md)."""
    export = load_export(fresh_demo, OPTIONS).export
    # Ten times the records, each its own objects (as in an export that size).
    copies = [load_export(fresh_demo, OPTIONS).export for _ in range(9)]
    tables: dict[str, Any] = {
        t: sum((getattr(e, t) for e in [export, *copies]), ()) for t in cache_stream.TABLES
    }
    large = Export(**tables)

    def peak(chunk: int) -> int:
        monkeypatch.setattr(cache_stream, "CHUNK", chunk)
        tracemalloc.start()
        try:
            cache_stream.write_export(large, Discard())
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    whole = peak(10**9)
    assert peak(50) * 4 < whole
