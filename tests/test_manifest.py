"""A published portal is a manifest over content-addressed blobs, committed last."""

from __future__ import annotations

import hashlib

from portalgen.publish.manifest import (
    Manifest,
    blob_key,
    load_manifest,
    manifest_key,
    published_paths,
    write_portal,
)
from portalgen.storage import Storage

KEY = "0123456789abcdef0123456789abcdef"


def test_write_then_read_back(storage: Storage) -> None:
    manifest = write_portal(
        storage,
        KEY,
        [
            ("index.html", b"<h1>Hola</h1>", "text/html; charset=utf-8"),
            ("copy.html", b"<h1>Hola</h1>", "text/html; charset=utf-8"),
        ],
        language="en",
    )
    sha = hashlib.sha256(b"<h1>Hola</h1>").hexdigest()
    assert storage.get(blob_key(KEY, sha)) == b"<h1>Hola</h1>"
    assert [o.key for o in storage.list(f"portals/{KEY}/files/")] == [blob_key(KEY, sha)]
    loaded = load_manifest(storage, KEY)
    assert loaded == manifest
    assert loaded is not None and loaded.language == "en"
    assert loaded.files["copy.html"].size == len(b"<h1>Hola</h1>")


def test_unchanged_blobs_are_not_sent_again(storage: Storage) -> None:
    write_portal(storage, KEY, [("a.html", b"A", "text/html")])
    storage.delete(blob_key(KEY, hashlib.sha256(b"A").hexdigest()))  # prove it is not re-sent
    write_portal(storage, KEY, [("a.html", b"A", "text/html"), ("b.html", b"B", "text/html")])
    assert storage.get(blob_key(KEY, hashlib.sha256(b"A").hexdigest())) is None
    assert storage.get(blob_key(KEY, hashlib.sha256(b"B").hexdigest())) == b"B"


def test_manifest_round_trip_and_version() -> None:
    manifest = Manifest({})
    assert Manifest.from_json(manifest.to_json()) == manifest
    assert manifest_key(KEY).endswith("/manifest.json")


def test_published_paths_are_the_manifests_files(storage: Storage) -> None:
    assert published_paths(storage, "k" * 22) is None
    files = [("index.html", b"a", "text/html"), ("invoices/f-1.pdf", b"b", "application/pdf")]
    write_portal(storage, "k" * 22, files)
    manifest = load_manifest(storage, "k" * 22)
    assert manifest is not None
    assert published_paths(storage, "k" * 22) == set(manifest.files) == {p for p, _, _ in files}
