"""The documentation keeps up with the code: every column and every CLI option is described."""

from __future__ import annotations

from pathlib import Path

import click

from portalgen.cli import cli
from portalgen.load import schema

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_bundle_file_and_column_is_documented() -> None:
    text = (DOCS / "export-format.md").read_text(encoding="utf-8")
    missing = [t.filename for t in schema.TABLES if t.filename not in text]
    missing += [
        f"{t.name}.{c.name}" for t in schema.TABLES for c in t.columns if f"`{c.name}`" not in text
    ]
    assert missing == []


def commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found += commands(command, f"{prefix}{name} ")
    return found


def test_every_command_and_option_is_in_the_reference() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    missing = []
    for name, command in [("", cli), *commands(cli)]:
        if name and f"portalgen {name}" not in text:
            missing.append(f"command {name}")
        for param in command.params:
            if isinstance(param, click.Option):
                longest = max(param.opts, key=len)
                if longest not in ("--help",) and f"`{longest}" not in text:
                    missing.append(f"{name or 'portalgen'} {longest}")
    assert missing == []
