"""The signing secret: created 0600, refused when readable by others, overridable by env."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from portalgen.access.secret import create_secret_file, load_secrets, write_secrets
from portalgen.errors import ConfigError


def test_created_private_and_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    assert create_secret_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = load_secrets(path, environ={})
    assert len(first) == 1 and len(first[0]) >= 32
    assert not create_secret_file(path)
    assert load_secrets(path, environ={}) == first


def test_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    create_secret_file(path)
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_secrets(path, environ={})


def test_missing_file_and_short_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="portalgen init"):
        load_secrets(tmp_path / "none", environ={})
    with pytest.raises(ConfigError, match="at least 32"):
        load_secrets(tmp_path / "none", environ={"PORTALGEN_SECRET": "short"})


def test_environment_wins_and_keeps_order(tmp_path: Path) -> None:
    old, new = "o" * 40, "n" * 40
    assert load_secrets(tmp_path / "none", environ={"PORTALGEN_SECRET": f"{old}, {new}"}) == (
        old,
        new,
    )
    path = tmp_path / "secret.key"
    write_secrets(path, [old, new])
    assert load_secrets(path, environ={}) == (old, new)
