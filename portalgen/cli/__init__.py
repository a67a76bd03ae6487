"""The `portalgen` command: parses options, calls the library, prints the result.

Commands live in the modules of this package, one per area (data, site, access, ...), and
add themselves to the group defined in `group` when imported: the group imports a
command's module when the command is used (group.COMMAND_MODULES).
"""

from __future__ import annotations

from portalgen.cli.group import CliState, cli

__all__ = ["CliState", "cli", "main"]


def main() -> None:
    cli(prog_name="portalgen")
