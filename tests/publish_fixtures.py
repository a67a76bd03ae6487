"""Fixtures for publishing tests: a small export with originals, granted customers, a warm cache.

- `publish_demo` (session): 4 customers with the invoicing program's own PDFs (so only
  the payment statements go through WeasyPrint), a config and a secret. Read-only.
- `warm_cache` (session): a render cache filled by one publish of `publish_demo` on
  TODAY, shared between pytest-xdist workers; `Site` copies it so a test's first publish
  renders nothing it does not need to.
- `site` (function, parametrised over a folder and SeaweedFS S3): a private copy of the
  export, storage, settings and helpers (`grant`, `publish`, `check_portals`...).
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from portalgen.access.entry import RegistryEntry
from portalgen.access.registry import AccessRegistry
from portalgen.config import Settings, load_settings
from portalgen.demo import demo_config_text, generate_demo
from portalgen.publish.manifest import Manifest, blob_key, load_manifest
from portalgen.publish.report import PublishReport
from portalgen.publish.run import publish_export
from portalgen.storage import LocalStorage, Storage, open_storage
from tests.conftest import TODAY, demo_settings, load_demo

GRANTED = ("C00001", "C00002", "C00003")  # C00004 has no portal access


@pytest.fixture(scope="session")
def publish_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from portalgen.access.secret import create_secret_file

    directory = tmp_path_factory.mktemp("publish-demo")
    generate_demo(directory, customers=4, seed=5, today=TODAY, originals=True)
    (directory / "config.yaml").write_text(demo_config_text(), encoding="utf-8")
    create_secret_file(directory / "secret.key")
    return directory


@pytest.fixture(scope="session")
def warm_cache(
    publish_demo: Path, tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Path:
    """A render cache holding every file of the granted customers' portals on TODAY."""
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent
    target = shared / "publish-warm-cache"
    with FileLock(str(shared / "publish-warm-cache.lock")):
        if not (target / "done").exists():
            scratch = Path(str(target) + "-site")
            shutil.rmtree(scratch, ignore_errors=True)
            settings = demo_settings(
                publish_demo,
                storage={"url": str(scratch)},
                publish={"cache_dir": str(target), "jobs": 1},
            )
            storage = open_storage(settings)
            grant(storage, *GRANTED)
            report = publish_export(settings, load_demo(publish_demo).export, today=TODAY)
            assert report.ok, report.failed
            shutil.rmtree(scratch)
            (target / "done").touch()
    return target


def _grant(email: str, now: datetime, entry: RegistryEntry) -> RegistryEntry:
    return entry.granted(now).with_contact(email, now)


def grant(storage: Storage, *codes: str) -> dict[str, str]:
    """Give customers portal access (what `portalgen grant` does); code -> customer_key."""
    registry = AccessRegistry(storage)
    now = datetime.now(UTC)
    keys = {}
    for code in codes:
        entry, _ = registry.get_or_create(code, now)
        registry.update(entry.customer_key, functools.partial(_grant, f"{code}@x.example", now))
        keys[code] = entry.customer_key
    return keys


def revoke(storage: Storage, code: str) -> None:
    registry = AccessRegistry(storage)
    entry = registry.find(code)
    assert entry is not None
    registry.update(entry.customer_key, lambda e: e.revoked(datetime.now(UTC)))


def edit_csv(path: Path, number: str, **changes: str) -> None:
    """Change fields of the row whose `number` is given, in place."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, list(reader)
    assert fields is not None
    hits = [row for row in rows if row["number"] == number]
    assert len(hits) == 1, f"{number} not in {path.name}"
    hits[0].update(changes)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def rows_of(path: Path, customer: str) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [row for row in csv.DictReader(fh) if row["customer"] == customer]


@dataclass
class Site:
    """One test's export, storage and settings; `publish()` runs the library call."""

    export_dir: Path
    settings: Settings
    storage: Storage
    kind: str  # "local" or "s3"
    keys: dict[str, str]

    def publish(self, **options: Any) -> PublishReport:
        export = load_demo(self.export_dir, self.settings).export
        options.setdefault("today", TODAY)
        options.setdefault("jobs", 1)
        return publish_export(self.settings, export, **options)

    def configure(self, **overrides: Any) -> None:
        """New settings for the same export, storage and cache (e.g. another theme)."""
        publish = {"cache_dir": str(self.settings.publish.cache_dir), "jobs": 1}
        publish.update(overrides.pop("publish", {}))
        self.settings = demo_settings(
            self.export_dir,
            storage=dataclasses.asdict(self.settings.storage),
            publish=publish,
            **overrides,
        )

    def write_config(self, **sections: Any) -> Path:
        """config.yaml for `portalgen publish` in a subprocess: this site's storage and
        cache plus `sections`; the site's settings follow it."""
        import yaml

        config = yaml.safe_load(demo_config_text())
        config["storage"] = {
            k: v for k, v in dataclasses.asdict(self.settings.storage).items() if v
        }
        config["publish"] = {"cache_dir": str(self.settings.publish.cache_dir)}
        config.update(sections)
        path = self.export_dir / "config.yaml"
        path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        self.settings = load_settings(path, environ={})
        return path

    def cached_keys(self) -> set[str]:
        root = self.settings.publish.cache_dir / "renders"
        return {p.name for p in root.glob("??/*") if not p.name.startswith(".")}

    def blobs(self, code: str) -> set[str]:
        prefix = f"portals/{self.keys[code]}/files/"
        return {info.key[len(prefix) :] for info in self.storage.list(prefix)}

    def manifest(self, code: str) -> Manifest:
        found = load_manifest(self.storage, self.keys[code])
        assert found is not None, f"{code} has no portal"
        return found

    def file(self, code: str, path: str) -> bytes:
        entry = self.manifest(code).files[path]
        data = self.storage.get(blob_key(self.keys[code], entry.sha256))
        assert data is not None, f"{code}: {path} is in the manifest but its blob is missing"
        return data

    def objects(self, code: str) -> list[str]:
        return [info.key for info in self.storage.list(f"portals/{self.keys[code]}/")]

    def check_portals(self, codes: Sequence[str] = GRANTED) -> None:
        """Every manifest is whole: each blob it names exists with its size."""
        for code in codes:
            key = self.keys[code]
            present = {
                info.key.rsplit("/", 1)[-1]: info.size
                for info in self.storage.list(f"portals/{key}/files/")
            }
            for path, entry in self.manifest(code).files.items():
                assert present.get(entry.sha256) == entry.size, f"{code}: {path} is broken"


def make_site(
    kind: str, tmp_path: Path, publish_demo: Path, warm: Path | None, s3_config: Any = None
) -> Site:
    export_dir = tmp_path / "export"
    shutil.copytree(publish_demo, export_dir)
    cache = tmp_path / "cache"
    if warm is not None:
        shutil.copytree(warm, cache)
    storage_config = s3_config if kind == "s3" else {"url": str(tmp_path / "site")}
    settings = demo_settings(
        export_dir, storage=storage_config, publish={"cache_dir": str(cache), "jobs": 1}
    )
    storage = open_storage(settings)
    return Site(export_dir, settings, storage, kind, grant(storage, *GRANTED))


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def site(
    request: pytest.FixtureRequest, tmp_path: Path, publish_demo: Path, warm_cache: Path
) -> Site:
    s3_config = request.getfixturevalue("s3_storage_config") if request.param == "s3" else None
    return make_site(request.param, tmp_path, publish_demo, warm_cache, s3_config)


@pytest.fixture
def s3_site(tmp_path: Path, publish_demo: Path, warm_cache: Path, s3_storage_config: Any) -> Site:
    return make_site("s3", tmp_path, publish_demo, warm_cache, s3_storage_config)


@pytest.fixture
def local_site(tmp_path: Path, publish_demo: Path, warm_cache: Path) -> Site:
    return make_site("local", tmp_path, publish_demo, warm_cache)


def local_root(site: Site) -> Path:
    assert isinstance(site.storage, LocalStorage)
    return site.storage.root
