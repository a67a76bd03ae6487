"""One behaviour suite for both storage backends (a folder and a real SeaweedFS S3)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest

from portalgen.storage import InvalidKeyError, LocalStorage, ObjectInfo, S3Storage, Storage

BAD_KEYS = [
    "",
    "/etc/passwd",
    "../outside",
    "a/../../outside",
    "a/..",
    "a/./b",
    ".",
    "a//b",
    "a/b/",
    "a\\b",
    "..\\outside",
    ".hidden",
    "a/.tmp",
    "a\x00b",
    "a\nb",
    "x" * 1025,
]


def test_put_then_get_returns_the_bytes(storage: Storage) -> None:
    storage.put("portals/k1/files/abc", b"%PDF-1.7 data", "application/pdf")
    assert storage.get("portals/k1/files/abc") == b"%PDF-1.7 data"


def test_get_of_a_missing_key_is_none(storage: Storage) -> None:
    assert storage.get("nothing/here.json") is None
    assert storage.get_with_version("nothing/here.json") is None
    assert storage.stat("nothing/here.json") is None
    assert storage.exists("nothing/here.json") is False
    assert storage.open_stream("nothing/here.json") is None


def test_put_replaces_an_existing_object(storage: Storage) -> None:
    storage.put("a/manifest.json", b"old", "application/json")
    storage.put("a/manifest.json", b"new content", "application/json")
    assert storage.get("a/manifest.json") == b"new content"
    info = storage.stat("a/manifest.json")
    assert info is not None and info.size == len(b"new content")


def test_non_ascii_keys_round_trip(storage: Storage) -> None:
    storage.put("documents/files/contrato año 2026.pdf", b"x", "application/pdf")
    assert storage.get("documents/files/contrato año 2026.pdf") == b"x"
    assert [i.key for i in storage.list("documents/")] == ["documents/files/contrato año 2026.pdf"]


def test_put_if_absent_creates_once(storage: Storage) -> None:
    assert storage.put_if_absent("_decisions/k/Q-1.json", b"accepted", "application/json")
    assert not storage.put_if_absent("_decisions/k/Q-1.json", b"rejected", "application/json")
    assert storage.get("_decisions/k/Q-1.json") == b"accepted"
    assert [i.key for i in storage.list()] == ["_decisions/k/Q-1.json"]  # no temp file left


def test_put_if_absent_has_one_winner_under_a_race(storage: Storage) -> None:
    winners: list[int] = []
    barrier = threading.Barrier(5)

    def decide(n: int) -> None:
        barrier.wait()
        if storage.put_if_absent("_decisions/k/Q-2.json", f"decision {n}".encode(), "text/plain"):
            winners.append(n)

    threads = [threading.Thread(target=decide, args=(n,)) for n in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    assert storage.get("_decisions/k/Q-2.json") == f"decision {winners[0]}".encode()


def test_put_if_version_is_a_compare_and_swap(storage: Storage) -> None:
    storage.put("_access/k.json", b'{"generation": 1}', "application/json")
    found = storage.get_with_version("_access/k.json")
    assert found is not None
    data, version = found
    assert data == b'{"generation": 1}'
    assert storage.put_if_version("_access/k.json", b'{"generation": 2}', "text/plain", version)
    # The version seen before is stale now: a second writer holding it must lose.
    assert not storage.put_if_version("_access/k.json", b'{"generation": 9}', "text/plain", version)
    assert storage.get("_access/k.json") == b'{"generation": 2}'
    assert not storage.put_if_version("_access/none.json", b"{}", "text/plain", version)
    assert storage.get("_access/none.json") is None


def test_put_if_version_loses_no_update_under_a_race(storage: Storage) -> None:
    storage.put("counter", b"0", "text/plain")
    barrier = threading.Barrier(4)

    def add(times: int) -> None:
        barrier.wait()
        for _ in range(times):
            while True:
                found = storage.get_with_version("counter")
                assert found is not None
                value = int(found[0]) + 1
                if storage.put_if_version("counter", str(value).encode(), "text/plain", found[1]):
                    break

    threads = [threading.Thread(target=add, args=(5,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert storage.get("counter") == b"20"


def test_readers_never_see_a_partial_object(storage: Storage) -> None:
    old, new = b"A" * 2_000_000, b"B" * 3_000_000
    storage.put("portals/k/manifest.json", old, "application/json")
    seen: set[bytes] = set()
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            data = storage.get("portals/k/manifest.json")
            assert data is not None
            seen.add(data[:1] + str(len(data)).encode())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(6):
            storage.put("portals/k/manifest.json", new if n % 2 == 0 else old, "application/json")
    finally:
        done.set()
        reader.join()
    assert seen <= {b"A2000000", b"B3000000"}


def test_delete_and_delete_of_a_missing_key(storage: Storage) -> None:
    storage.put("a/b/c", b"1", "text/plain")
    storage.delete("a/b/c")
    storage.delete("a/b/c")  # already gone: not an error
    storage.delete("never/was")
    assert storage.get("a/b/c") is None
    assert list(storage.list()) == []


def test_delete_many_removes_exactly_the_keys_given(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("portalgen.storage.s3.DELETE_BATCH", 3)  # several batches on S3
    keys = [f"portals/k/files/{n:02d}" for n in range(8)]
    for key in [*keys, "portals/other/files/keep"]:
        storage.put(key, b"x", "application/octet-stream")
    storage.delete_many(iter([*keys, "portals/k/files/missing"]))
    assert [i.key for i in storage.list()] == ["portals/other/files/keep"]


def test_list_by_prefix(storage: Storage) -> None:
    for key in ["b/x", "a/b/1", "a/b-c", "a/bc/2", "a/b/0", "a/c", "ab", "a/b.json"]:
        storage.put(key, key.encode(), "text/plain")

    def listed(prefix: str) -> list[str]:
        return sorted(i.key for i in storage.list(prefix))

    assert listed("a/b") == ["a/b-c", "a/b.json", "a/b/0", "a/b/1", "a/bc/2"]
    assert listed("a/b/") == ["a/b/0", "a/b/1"]
    assert listed("a") == ["a/b-c", "a/b.json", "a/b/0", "a/b/1", "a/bc/2", "a/c", "ab"]
    assert len(listed("")) == 8
    assert listed("zzz/") == []


def test_list_folders_names_the_folders_directly_below(storage: Storage) -> None:
    for key in [
        "portals/k1/manifest.json",
        "portals/k1/files/a",
        "portals/k2/files/b",
        "portals/top.json",
        "portals-x/k3/m",
        "other/k4/m",
    ]:
        storage.put(key, b"x", "text/plain")
    assert sorted(storage.list_folders("portals/")) == ["k1", "k2"]
    assert sorted(storage.list_folders("portals/k1/")) == ["files"]
    assert sorted(storage.list_folders("")) == ["other", "portals", "portals-x"]
    assert list(storage.list_folders("nothing/")) == []
    storage.delete_many(["portals/k2/files/b"])
    # A folder whose objects are all gone may still be named (SeaweedFS keeps empty
    # folders; a local folder and AWS S3 do not), but it holds nothing.
    left = set(storage.list_folders("portals/"))
    assert "k1" in left and left <= {"k1", "k2"}
    assert list(storage.list("portals/k2/")) == []
    if isinstance(storage, LocalStorage):
        assert left == {"k1"}
    with pytest.raises(InvalidKeyError):
        list(storage.list_folders("portals"))
    with pytest.raises(InvalidKeyError):
        list(storage.list_folders("../"))


def test_list_is_in_key_order_within_a_folder(storage: Storage) -> None:
    keys = [f"_events/2026/06/{day:02d}/01J{n:023d}.json" for day in (9, 15) for n in range(4)]
    for key in reversed(keys):
        storage.put(key, b"{}", "application/json")
    assert [i.key for i in storage.list("_events/")] == keys


@pytest.mark.realclock  # times stamped by the filesystem or the S3 server
def test_list_gives_sizes_and_times(storage: Storage) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    storage.put("p/one", b"12345", "text/plain")
    [info] = storage.list("p/")
    assert isinstance(info, ObjectInfo)
    assert (info.key, info.size) == ("p/one", 5)
    assert before <= info.last_modified <= datetime.now(UTC) + timedelta(seconds=5)
    assert storage.stat("p/one") == ObjectInfo("p/one", 5, info.last_modified, info.etag)
    if isinstance(storage, S3Storage):  # listings give whole seconds: the ETag tells versions
        storage.put("p/one", b"54321", "text/plain")
        [again] = storage.list("p/")
        assert again.size == 5 and again.etag != info.etag


def test_open_stream_reads_the_object_in_chunks(storage: Storage) -> None:
    payload = bytes(range(256)) * 4096
    storage.put("portals/k/files/big", payload, "application/pdf")
    stream = storage.open_stream("portals/k/files/big")
    assert stream is not None
    try:
        chunks = iter(lambda: stream.read(65536), b"")
        assert b"".join(chunks) == payload
    finally:
        stream.close()


@pytest.mark.parametrize("key", BAD_KEYS)
def test_unsafe_keys_are_refused_by_every_operation(storage: Storage, key: str) -> None:
    operations = [
        lambda: storage.get(key),
        lambda: storage.stat(key),
        lambda: storage.put(key, b"x", "text/plain"),
        lambda: storage.put_if_absent(key, b"x", "text/plain"),
        lambda: storage.delete(key),
        lambda: storage.delete_many([key]),
        lambda: storage.open_stream(key),
        lambda: storage.presigned_url(key, "f.pdf", "application/pdf"),
    ]
    for operation in operations:
        with pytest.raises(InvalidKeyError):
            operation()
    if key not in ("", "a/b/"):  # those two are fine as listing prefixes
        with pytest.raises(InvalidKeyError):
            list(storage.list(key))


def test_presigned_url_is_none_for_a_folder(tmp_path) -> None:
    storage = LocalStorage(tmp_path)
    storage.put("f/x.pdf", b"x", "application/pdf")
    assert storage.presigned_url("f/x.pdf", "x.pdf", "application/pdf") is None


@pytest.mark.s3
def test_presigned_url_serves_the_file_with_its_name(s3_storage_config) -> None:
    from portalgen.storage import open_storage
    from tests.storage_backends import settings_for

    storage = open_storage(settings_for(s3_storage_config))
    storage.put("portals/k/files/abc", b"%PDF-1.7 invoice", "application/octet-stream")
    url = storage.presigned_url("portals/k/files/abc", "Factura F-2026 ñ.pdf", "application/pdf")
    assert url is not None and "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url  # SigV4
    with urlopen(url) as response:
        assert response.read() == b"%PDF-1.7 invoice"
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.headers["Content-Disposition"] == (
            'attachment; filename="Factura F-2026 n.pdf"; '
            "filename*=UTF-8''Factura%20F-2026%20%C3%B1.pdf"
        )


@pytest.mark.s3
def test_presigned_url_expires(s3_storage_config) -> None:
    from portalgen.storage import open_storage
    from tests.storage_backends import settings_for

    storage = open_storage(settings_for(s3_storage_config))
    storage.put("portals/k/files/abc", b"data", "application/pdf")
    url = storage.presigned_url("portals/k/files/abc", "a.pdf", "application/pdf", expires=1)
    assert url is not None
    time.sleep(2.2)
    with pytest.raises(HTTPError) as refused:
        urlopen(url)
    refused.value.close()
    assert refused.value.code == 403


@pytest.mark.s3
def test_s3_prefixes_keep_storages_apart(s3_server, s3_bucket) -> None:
    client = s3_server.client()
    one = S3Storage(client, s3_bucket, "one")
    two = S3Storage(client, s3_bucket, "one-two")
    one.put("k", b"1", "text/plain")
    two.put("k", b"2", "text/plain")
    assert [i.key for i in one.list()] == ["k"]
    assert one.get("k") == b"1"
    assert client.get_object(Bucket=s3_bucket, Key="one-two/k")["Body"].read() == b"2"


@pytest.mark.s3
def test_s3_listing_follows_every_page(s3_server, s3_bucket) -> None:
    storage = S3Storage(s3_server.client(), s3_bucket, "p", page_size=2)
    keys = [f"_events/2026/06/15/{n:03d}.json" for n in range(7)]
    for key in reversed(keys):
        storage.put(key, b"{}", "application/json")
    assert [i.key for i in storage.list("_events/")] == keys
