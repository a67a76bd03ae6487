"""A FacturaScripts export published for customer 1 (Talleres Pérez), a gate over it, and
the FacturaScripts API stand-in (tests/fs_api.py) holding the same records.

`fs_world` copies a site published once per session (tests/fs_fixture.py's export, on
TODAY) into the test's own folder, with config.yaml and secret.key beside it, so a test
can run `portalgen` against it in this process or in a subprocess.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from portalgen.access.grants import AccessService
from portalgen.access.secret import create_secret_file, load_secrets
from portalgen.access.tokens import TokenSigner
from portalgen.cli import cli
from portalgen.config import Settings, load_settings
from portalgen.gate import Gate, create_app
from portalgen.load import LoadOptions, load_export
from portalgen.publish import publish_export
from portalgen.storage import Storage, open_storage
from tests.conftest import TODAY
from tests.fs_api import TOKEN, FakeApi
from tests.fs_fixture import write_json
from tests.gate_fixtures import GateClient
from tests.interact_fixtures import JuneClock

CUSTOMER = "1"  # Talleres Pérez
QUOTE = "PRE2026A1"  # pending, editable, idpresupuesto 1, valid until 31 July 2026
CONFIG = """\
company:
  name: Talleres Demo
storage:
  url: site
audit:
  path: audit.jsonl
export:
  path: export
  format: facturascripts
gate:
  base_url: http://127.0.0.1:8000
publish:
  jobs: 1
  cache_dir: cache
facturascripts:
  url: "{url}"
  push: {push}
  push_comments: {comments}
  online_payment_method: "{method}"
"""


def write_config(folder: Path, url: str = "", **keys: Any) -> Path:
    path = folder / "config.yaml"
    text = CONFIG.format(
        url=url,
        push=str(keys.get("push", False)).lower(),
        comments=str(keys.get("comments", True)).lower(),
        method=keys.get("method", ""),
    )
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def fs_published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fs-published")
    write_json(folder / "export")
    create_secret_file(folder / "secret.key")
    settings = load_settings(write_config(folder), environ={})
    storage = open_storage(settings)
    export = load_export(folder / "export", LoadOptions(today=TODAY)).export
    customer = next(c for c in export.customers if c.code == CUSTOMER)
    service = AccessService(
        storage,
        TokenSigner(load_secrets(folder / "secret.key", environ={}), clock=JuneClock()),
        base_url="http://127.0.0.1:8000",
        link_max_age=settings.gate.link_max_age,
    )
    service.grant(CUSTOMER, customer.emails[:1])
    report = publish_export(settings, export, only=(CUSTOMER,), today=TODAY)
    assert report.ok, report.failed
    return folder


@dataclass
class FsWorld:
    folder: Path
    url: str  # the API stand-in
    api: FakeApi

    @property
    def config(self) -> Path:
        return self.folder / "config.yaml"

    def settings(self) -> Settings:
        return load_settings(self.config, environ={})

    @property
    def storage(self) -> Storage:
        return open_storage(self.settings())

    def gate(self) -> Gate:
        secrets = load_secrets(self.folder / "secret.key", environ={})
        return create_app(self.settings(), self.storage, secrets=secrets, clock=JuneClock())

    def link(self) -> str:
        secrets = load_secrets(self.folder / "secret.key", environ={})
        service = AccessService(
            self.storage,
            TokenSigner(secrets, clock=JuneClock()),
            base_url="http://127.0.0.1:8000",
            link_max_age=self.settings().gate.link_max_age,
        )
        return service.links(CUSTOMER).links[0].url

    def client(self) -> GateClient:
        client = GateClient(self.gate())
        client.sign_in(self.link())
        return client

    def customer_key(self) -> str:
        from portalgen.access.registry import AccessRegistry

        return AccessRegistry(self.storage).index()[CUSTOMER]

    def push(self, *args: str, token: str | None = TOKEN, url: str | None = None) -> Result:
        env = {"FACTURASCRIPTS_API_TOKEN": token} if token is not None else {}
        command = ["--config", str(self.config), "push", "facturascripts"]
        command += ["--url", url or self.url, *args]
        return CliRunner().invoke(cli, command, env=env)

    def quote(self, number: str = QUOTE) -> dict[str, Any]:
        return next(r for r in self.api.data["presupuestoclientes"] if r["codigo"] == number)


@pytest.fixture
def fs_world(fs_published: Path, tmp_path: Path, api: tuple[str, FakeApi]) -> Iterator[FsWorld]:
    folder = tmp_path / "fs"
    shutil.copytree(fs_published, folder)
    url, state = api
    write_config(folder, url)
    yield FsWorld(folder, url, state)


def push_process(world: FsWorld) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FACTURASCRIPTS_API_TOKEN": TOKEN}
    command = [sys.executable, "-m", "portalgen", "--config", str(world.config)]
    command += ["push", "facturascripts", "--url", world.url]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def kill_when(
    world: FsWorld,
    method: str,
    *,
    after_write: bool = False,
    resource: str = "presupuestoclientes",
    nth: int = 1,
) -> None:
    """Run `portalgen push` in a real process and SIGKILL it when the stand-in holds its
    `nth` `method` request on `resource` (before answering; or, `after_write`, once
    saved)."""
    held = world.api.hold(method, resource, after_write=after_write, nth=nth)
    process = push_process(world)
    try:
        assert held.arrived.wait(60), process.communicate(timeout=5)
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(30) == -signal.SIGKILL
    finally:
        held.release.set()
        world.api.holds.remove(held)
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
        if process.stderr is not None:
            process.stderr.close()
