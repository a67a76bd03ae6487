"""The `portalgen` command: parses options, calls the library, prints the result.

Commands live in the modules of this package, one per area (data, site, access, ...), and
add themselves to the group defined in `group`; importing them here registers them.
"""

from __future__ import annotations

from portalgen.cli import access, audit, data, fetch, mail, push, serve, site
from portalgen.cli.group import CliState, cli

__all__ = ["CliState", "cli", "main"]
_COMMAND_MODULES = (access, audit, data, fetch, mail, push, serve, site)


def main() -> None:
    cli(prog_name="portalgen")
