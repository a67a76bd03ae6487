"""scripts/attack against a real `portalgen serve` started here: every attack it
knows is refused (one line each, exit status 0)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from portalgen.demo import demo_config_text
from tests.gate_fixtures import GateWorld, with_code

pytestmark = [pytest.mark.slow, pytest.mark.realclock]  # a subprocess gate: its own clock
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(config: Path) -> Iterator[str]:
    """`portalgen serve` on a free port until the block ends; yields its URL."""
    port = free_port()
    command = [sys.executable, "-m", "portalgen", "--config", str(config), "serve"]
    process = subprocess.Popen(
        [*command, "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        process.kill()
        process.communicate(timeout=10)


def test_every_attack_of_issue_13_is_refused(gate_world: GateWorld, demo_dir: Path) -> None:
    site = Path(gate_world.storage.location.removeprefix("file://"))
    folder = site.parent  # the world's site/ and audit.jsonl; a config and secret beside them
    (folder / "config.yaml").write_text(demo_config_text(), encoding="utf-8")
    shutil.copy(demo_dir / "secret.key", folder / "secret.key")
    code = with_code(gate_world, "C00008")
    with serve(folder / "config.yaml") as url:
        result = subprocess.run(
            [
                str(ROOT / "scripts" / "attack"),
                url,
                "--link",
                gate_world.link("C00007"),
                "--other-link",
                gate_world.link("C00008"),
                "--code-link",
                gate_world.link("C00008"),
                "--code",
                code,
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(lines) == 12 and all(line.startswith("ok ") for line in lines), result.stdout
    for attack in ("flow-cookie replay", "comment burst", "forged Host", "logout replay"):
        assert any(attack in line for line in lines), attack
