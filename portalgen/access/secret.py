"""The signing secret: from $PORTALGEN_SECRET or a 0600 file, never from the YAML.

Several secrets may be active at once so the secret can be rotated: the file holds one
per line, oldest first; the newest (last) signs, all verify. There is no random default:
a new secret at every start would silently break every link already sent.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

from portalgen.errors import ConfigError

SECRET_ENV = "PORTALGEN_SECRET"  # noqa: S105 - the variable's name, not a secret
MIN_LENGTH = 32


def new_secret() -> str:
    return secrets.token_urlsafe(48)


def load_secrets(secret_file: Path, environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The active secrets, oldest first. $PORTALGEN_SECRET (space or comma separated) wins."""
    environ = os.environ if environ is None else environ
    if environ.get(SECRET_ENV, "").strip():
        values = _split(environ[SECRET_ENV])
        where = f"${SECRET_ENV}"
    else:
        values = _read_file(secret_file)
        where = str(secret_file)
    short = [v for v in values if len(v) < MIN_LENGTH]
    if not values:
        raise ConfigError(f"{where}: no secret in it; run `portalgen init` to create one")
    if short:
        raise ConfigError(f"{where}: a secret must be at least {MIN_LENGTH} characters long")
    return tuple(values)


def _split(text: str) -> list[str]:
    return [s for s in re.split(r"[\s,]+", text) if s and not s.startswith("#")]


def _read_file(path: Path) -> list[str]:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no secret file; run `portalgen init` to create one, or set ${SECRET_ENV}"
        ) from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{path}: other users can read the secret; run `chmod 600 {path}`")
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def write_secrets(path: Path, values: list[str] | tuple[str, ...]) -> None:
    """Atomically write the secret file with mode 0600 (created that way, never widened)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("# portalgen signing secrets, oldest first; the last one signs.\n")
            fh.writelines(f"{value}\n" for value in values)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def create_secret_file(path: Path) -> bool:
    """Create the secret file if it does not exist. Returns whether it was created."""
    if path.exists():
        return False
    write_secrets(path, [new_secret()])
    return True
