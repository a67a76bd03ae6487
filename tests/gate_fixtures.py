"""Fixtures for the gate's tests: two customers granted and published, a gate over them.

`gate_world` (function scope, parametrised over a local folder and SeaweedFS S3 where a
test asks for `gate_world_any`) holds the settings, storage, access service, the gate
app and the grant results of C00007 (Spanish) and C00008 (English), whose portals are
the renderer's real output (`built_portals`). `GateClient` drives the app the way a
browser does: cookies, the one-click link page and its form, CSRF tokens from pages.
"""

from __future__ import annotations

import mimetypes
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client, TestResponse

from portalgen.access.grants import AccessResult, AccessService, CodeRequest
from portalgen.access.secret import load_secrets
from portalgen.access.tokens import TokenSigner
from portalgen.config import Settings
from portalgen.gate import Gate, create_app
from portalgen.publish.manifest import write_portal
from portalgen.storage import Storage, open_storage
from tests.conftest import demo_settings, load_demo
from tests.render_fixtures import BUILT_CUSTOMERS

BASE_URL = "http://127.0.0.1:8000"
LANGUAGES = {"C00007": "es", "C00008": "en"}


class ManualClock:
    """A clock tests move by hand (epoch seconds)."""

    def __init__(self, start: float | None = None) -> None:
        import time

        self.now = start if start is not None else time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def portal_files(folder: Path) -> list[tuple[str, bytes, str]]:
    files = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if kind.startswith("text/") or kind in ("application/javascript",):
                kind += "; charset=utf-8"
            files.append((path.relative_to(folder).as_posix(), path.read_bytes(), kind))
    return files


def publish_folder(storage: Storage, customer_key: str, folder: Path, language: str) -> None:
    write_portal(storage, customer_key, portal_files(folder), language=language)


@dataclass
class GateWorld:
    settings: Settings
    storage: Storage
    service: AccessService
    secrets: tuple[str, ...]
    clock: ManualClock
    grants: dict[str, AccessResult] = field(default_factory=dict)
    sent: list[tuple[str, str, str]] = field(default_factory=list)  # (customer, email, link)
    _gate: Gate | None = None

    @property
    def gate(self) -> Gate:
        if self._gate is None:
            self._gate = self.make_gate()
        return self._gate

    def make_gate(self, **options: Any) -> Gate:
        options.setdefault("secrets", self.secrets)
        options.setdefault("clock", self.clock)
        return create_app(self.settings, self.storage, **options)

    def link(self, code: str) -> str:
        return self.grants[code].links[0].url

    def key(self, code: str) -> str:
        return self.grants[code].entry.customer_key

    def client(self, gate: Gate | None = None) -> GateClient:
        return GateClient(gate or self.gate)


class GateClient:
    """A werkzeug test client that behaves like a browser on the gate."""

    def __init__(self, app: Gate) -> None:
        self.app = app
        self.client = Client(app)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(_path(path), buffered=True, **kwargs)

    def post(self, path: str, data: dict[str, str] | None = None, **kwargs: Any) -> TestResponse:
        headers = kwargs.pop("headers", {"Sec-Fetch-Site": "same-origin"})
        return self.client.post(
            _path(path), data=data or {}, headers=headers, buffered=True, **kwargs
        )

    def open_link(self, link: str) -> TestResponse:
        """GET the link page, then submit its one-click form (as a person does)."""
        page = self.get(link)
        if page.status_code != 200:
            return page
        return self.post(link, {"csrf_token": csrf_of(page.get_data(as_text=True))})

    def sign_in(self, link: str) -> TestResponse:
        response = self.open_link(link)
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return response

    def csrf(self, path: str = "/portal/") -> str:
        return csrf_of(self.get(path).get_data(as_text=True))

    def cookie(self, name: str) -> str | None:
        found = self.client.get_cookie(name)
        return None if found is None else found.value


def _path(url: str) -> str:
    return url.removeprefix(BASE_URL)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


def build_world(
    directory: Path,
    built: Path,
    tmp_path: Path,
    storage_config: dict[str, Any] | None = None,
    *,
    template: GateWorld | None = None,
) -> GateWorld:
    """Grant and publish C00007 and C00008 (or copy a `template` world's local site)."""
    storage_config = storage_config or {"url": str(tmp_path / "site")}
    if template is not None:
        shutil.copytree(Path(template.storage.location.removeprefix("file://")), tmp_path / "site")
    settings = demo_settings(
        directory,
        storage=storage_config,
        audit={"path": str(tmp_path / "audit.jsonl")},
        gate={"base_url": BASE_URL},
    )
    storage = open_storage(settings)
    secrets = load_secrets(directory / "secret.key", environ={})
    clock = ManualClock()
    service = AccessService(
        storage,
        TokenSigner(secrets, clock=clock),
        base_url=BASE_URL,
        link_max_age=settings.gate.link_max_age,
    )
    world = GateWorld(settings, storage, service, secrets, clock)
    if template is not None:
        world.grants = dict(template.grants)
        return world
    export = load_demo(directory).export
    for code in BUILT_CUSTOMERS:
        customer = next(c for c in export.customers if c.code == code)
        world.grants[code] = service.grant(code, customer.emails[:1])
        publish_folder(storage, world.key(code), built / code, LANGUAGES[code])
    return world


@pytest.fixture(scope="session")
def gate_template(
    demo_dir: Path, built_portals: Path, tmp_path_factory: pytest.TempPathFactory
) -> GateWorld:
    return build_world(demo_dir, built_portals, tmp_path_factory.mktemp("gate-template"))


@pytest.fixture
def gate_world(
    demo_dir: Path, built_portals: Path, tmp_path: Path, gate_template: GateWorld
) -> GateWorld:
    """Two granted, published customers on a local folder of the test's own."""
    return build_world(demo_dir, built_portals, tmp_path, template=gate_template)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def gate_world_any(
    request: pytest.FixtureRequest, demo_dir: Path, built_portals: Path, tmp_path: Path
) -> GateWorld:
    """The same world on a local folder and on SeaweedFS S3."""
    if request.param == "local":
        template = request.getfixturevalue("gate_template")
        return build_world(demo_dir, built_portals, tmp_path, template=template)
    config = request.getfixturevalue("s3_storage_config")
    return build_world(demo_dir, built_portals, tmp_path, config)


def with_code(world: GateWorld, code: str, plain: str | None = None) -> str:
    """Give customer `code` a temporary access code; returns it."""
    result = world.service.grant(
        code, [world.grants[code].links[0].email], code=CodeRequest("new", plain)
    )
    world.grants[code] = result
    return plain or str(result.code)


Recorder = Callable[[str, str, str], None]
