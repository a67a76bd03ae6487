"""LocalStorage specifics: it never reaches outside its folder; opening storage by URL."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from portalgen.errors import StorageError
from portalgen.storage import (
    InvalidKeyError,
    LocalStorage,
    S3Storage,
    content_disposition,
    open_storage,
)
from tests.storage_backends import settings_for


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_bytes(b"not yours")
    return folder


def files_in(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    "key",
    [
        "../outside/secret.txt",
        "a/../../outside/secret.txt",
        "/" + "tmp/x",
        "..\\outside\\secret.txt",
    ],
)
def test_traversal_keys_touch_nothing_outside(tmp_path: Path, outside: Path, key: str) -> None:
    storage = LocalStorage(tmp_path / "root")
    before = files_in(outside)
    for operation in (
        lambda: storage.get(key),
        lambda: storage.put(key, b"overwritten", "text/plain"),
        lambda: storage.put_if_absent(key, b"overwritten", "text/plain"),
        lambda: storage.delete(key),
    ):
        with pytest.raises(InvalidKeyError):
            operation()
    assert files_in(outside) == before
    assert not (tmp_path / "root").exists()


def test_encoded_dots_are_plain_names_inside_the_root(tmp_path: Path, outside: Path) -> None:
    storage = LocalStorage(tmp_path / "root")
    storage.put("%2e%2e/%2E%2E/outside/secret.txt", b"inside", "text/plain")
    assert (tmp_path / "root" / "%2e%2e" / "%2E%2E" / "outside" / "secret.txt").read_bytes() == (
        b"inside"
    )
    assert (outside / "secret.txt").read_bytes() == b"not yours"


def test_a_symlink_out_of_the_root_is_not_followed(tmp_path: Path, outside: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "portals").symlink_to(outside, target_is_directory=True)
    (root / "link.txt").symlink_to(outside / "secret.txt")
    storage = LocalStorage(root)
    for key in ("portals/secret.txt", "link.txt"):
        with pytest.raises(InvalidKeyError, match="outside"):
            storage.get(key)
    with pytest.raises(InvalidKeyError):
        storage.put("portals/new.txt", b"x", "text/plain")
    with pytest.raises(InvalidKeyError):
        storage.delete("portals/secret.txt")
    assert [i.key for i in storage.list()] == []  # symlinks are not objects
    assert files_in(outside) == {"secret.txt": b"not yours"}


def test_symlinks_inside_the_root_are_read_and_folders_are_not_objects(
    tmp_path: Path, outside: Path
) -> None:
    root = tmp_path / "root"
    storage = LocalStorage(root)
    storage.put("real/a.txt", b"inside", "text/plain")
    (root / "alias").symlink_to(root / "real", target_is_directory=True)
    (root / "real" / "b.txt").symlink_to(root / "real" / "a.txt")
    (root / "real" / "out.txt").symlink_to(outside / "secret.txt")
    assert storage.get("alias/a.txt") == b"inside"  # a linked folder that stays inside
    assert storage.get("real/b.txt") == b"inside"  # a linked file that stays inside
    stream = storage.open_stream("real/b.txt")
    assert stream is not None and stream.read() == b"inside"
    stream.close()
    for method in (storage.get, storage.open_stream):
        with pytest.raises(InvalidKeyError, match="outside"):
            method("real/out.txt")
        assert method("real") is None  # a folder is not an object
        assert method("nothing/here.txt") is None
        assert method("real/a.txt/below") is None
    assert [i.key for i in storage.list("alias/")] == ["alias/a.txt"]
    assert list(storage.list("nothing/here/")) == []
    assert list(storage.list("real/a.txt/x")) == []
    assert files_in(outside) == {"secret.txt": b"not yours"}


def test_temporary_files_never_show_and_are_cleaned_up(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.put("a/b", b"1", "text/plain")
    assert not storage.put_if_absent("a/b", b"2", "text/plain")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["b"]


def test_deleting_the_last_file_removes_empty_folders(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "root")
    storage.put("portals/k/files/one", b"1", "text/plain")
    storage.put("portals/j/manifest.json", b"1", "text/plain")
    storage.delete_many(["portals/k/files/one"])
    assert sorted(p.name for p in (tmp_path / "root" / "portals").iterdir()) == ["j"]
    assert (tmp_path / "root").is_dir()


def test_a_crashed_writer_leaves_the_old_object(tmp_path: Path) -> None:
    """SIGKILL a process while it replaces a file, again and again: never a partial file."""
    storage = LocalStorage(tmp_path)
    storage.put("m.json", b"A" * 4_000_000, "application/json")
    script = (
        "import sys; from pathlib import Path; from portalgen.storage import LocalStorage\n"
        "s = LocalStorage(Path(sys.argv[1]))\n"
        "print('go', flush=True)\n"
        "while True: s.put('m.json', b'B' * 4_000_000, 'application/json')\n"
    )
    for delay in (0.05, 0.2, 0.35):
        command = [sys.executable, "-c", script, str(tmp_path)]
        with subprocess.Popen(command, stdout=subprocess.PIPE) as proc:
            assert proc.stdout is not None and proc.stdout.readline() == b"go\n"
            time.sleep(delay)
            proc.kill()
        assert storage.get("m.json") in (b"A" * 4_000_000, b"B" * 4_000_000)
    assert [i.key for i in storage.list()] == ["m.json"]  # a killed writer's temp file is hidden


def test_an_append_goes_only_onto_the_version_it_was_meant_for(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    assert storage.append_if_version("r.json", b"x\n", "0" * 64) is None  # no object: none
    assert not (tmp_path / "r.json").exists()
    storage.put("r.json", b"{}\n", "application/json")
    found = storage.get_with_version("r.json")
    assert found is not None
    version = storage.append_if_version("r.json", b'{"a": 1}\n', found[1])
    assert storage.get_with_version("r.json") == (b'{}\n{"a": 1}\n', version)
    assert storage.append_if_version("r.json", b"late\n", found[1]) is None  # stale: refused
    assert storage.get("r.json") == b'{}\n{"a": 1}\n'
    assert [i.key for i in storage.list()] == ["r.json"]  # the lock file stays hidden


def test_a_swap_waits_for_another_process_holding_the_records_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer (here a process holding the lock with the filelock package, as
    earlier versions took it) makes a compare-and-swap wait; past the timeout it fails
    with an error naming the file, and once the lock is let go it goes through."""
    import portalgen.storage.local as local

    storage = LocalStorage(tmp_path)
    storage.put("r.json", b"{}\n", "application/json")
    found = storage.get_with_version("r.json")
    assert found is not None
    holder = (
        "import sys\nfrom filelock import FileLock\n"
        f"lock = FileLock({str(tmp_path / '.r.json.lock')!r})\nlock.acquire()\n"
        "print('held', flush=True)\nsys.stdin.read()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"held\n"
        monkeypatch.setattr(local, "LOCK_TIMEOUT", 0.3)  # instead of 30 s
        with pytest.raises(StorageError, match=r"r\.json: another process has held its lock"):
            storage.put_if_version("r.json", b"[]\n", "application/json", found[1])
        with pytest.raises(StorageError, match="held its lock"):
            storage.append_if_version("r.json", b"x\n", found[1])
        assert storage.get("r.json") == b"{}\n"
    finally:
        proc.communicate(b"")  # lets the lock go
    assert storage.put_if_version("r.json", b"[]\n", "application/json", found[1])
    assert storage.get("r.json") == b"[]\n"


def test_open_storage_picks_a_folder_relative_to_the_config(tmp_path: Path) -> None:
    storage = open_storage(settings_for({"url": "my site"}, base_dir=tmp_path))
    assert isinstance(storage, LocalStorage)
    assert storage.root == tmp_path / "my site"
    storage.put("x", b"1", "text/plain")
    assert (tmp_path / "my site" / "x").read_bytes() == b"1"


def test_open_storage_picks_s3_for_an_s3_url() -> None:
    storage = open_storage(
        settings_for({"url": "s3://acme-portals/prod/", "endpoint_url": "http://127.0.0.1:1"})
    )
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.prefix, storage.location) == (
        "acme-portals",
        "prod",
        "s3://acme-portals/prod",
    )


def test_importing_storage_does_not_import_boto3_or_renderers() -> None:
    code = (
        "import sys, portalgen.storage\n"
        "heavy = [m for m in ('boto3', 'botocore', 'jinja2', 'weasyprint', 'yaml') "
        "if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("F-2026-001.pdf", 'attachment; filename="F-2026-001.pdf"'),
        (
            "Presupuesto nº 7 – año.pdf",
            'attachment; filename="Presupuesto no 7  ano.pdf"; '
            "filename*=UTF-8''Presupuesto%20n%C2%BA%207%20%E2%80%93%20a%C3%B1o.pdf",
        ),
        (
            'say "hi"\r\n.pdf',
            "attachment; filename=\"say 'hi'.pdf\"; filename*=UTF-8''say%20%22hi%22.pdf",
        ),
        ("../../etc/passwd", 'attachment; filename=".._.._etc_passwd"'),
    ],
)
def test_content_disposition(filename: str, expected: str) -> None:
    assert content_disposition(filename) == expected


def test_content_disposition_inline() -> None:
    assert content_disposition("a.pdf", "inline") == 'inline; filename="a.pdf"'
