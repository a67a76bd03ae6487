"""A wheel installed outside the checkout finds its templates, themes and example config."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel (no network: the build backend comes from the test environment) and
    unpack it into a bare folder, the way `pip install .` would."""
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(work / "dist"),
            str(ROOT),
        ],
        check=True,
    )
    [wheel] = (work / "dist").glob("portalgen-*.whl")
    target = work / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    return target


def run_installed(site: Path, cwd: Path, *code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site), "PORTALGEN_CONFIG": ""}
    return subprocess.run([sys.executable, *code], cwd=cwd, env=env, capture_output=True, text=True)


def test_wheel_carries_its_resources(installed_wheel: Path, tmp_path: Path) -> None:
    result = run_installed(
        installed_wheel,
        tmp_path,
        "-c",
        (
            "import portalgen, portalgen.presentation.resources as r; "
            "print(portalgen.__file__); print(r.templates_dir()); print(r.themes_dir()); "
            "print(r.example_config())"
        ),
    )
    assert result.returncode == 0, result.stderr
    package, templates, themes, example = result.stdout.split()
    for path in (package, templates, themes, example):
        assert path.startswith(str(installed_wheel)), path
    assert (Path(themes) / "default").is_dir()


def test_installed_cli_runs_init_demo_and_check(installed_wheel: Path, tmp_path: Path) -> None:
    init = run_installed(installed_wheel, tmp_path, "-m", "portalgen", "init", "site-config")
    assert init.returncode == 0, init.stderr
    assert (
        (tmp_path / "site-config" / "config.yaml")
        .read_text()
        .startswith("# portalgen configuration")
    )
    demo = run_installed(
        installed_wheel, tmp_path, "-m", "portalgen", "demo", "d", "--customers", "3"
    )
    assert demo.returncode == 0, demo.stderr
    check = run_installed(
        installed_wheel, tmp_path, "-m", "portalgen", "--config", "d/config.yaml", "check", "d"
    )
    assert check.returncode == 0, check.stderr
    assert "No problems found." in check.stdout
