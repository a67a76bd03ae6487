"""The `portalgen` group: its global options, the shared state, and the one place where
library errors become one-line messages (tracebacks only with --debug).

Command modules import `cli` and `CliState` from here and add their commands to the group.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from portalgen import __version__
from portalgen.config import CONFIG_ENV, Settings, load_settings
from portalgen.errors import InputError, PortalgenError

if TYPE_CHECKING:
    from portalgen.load import LoadResult


@dataclass
class CliState:
    config_path: Path | None
    verbosity: int = 0
    debug: bool = False
    _settings: Settings | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        if self._settings is None:
            path = self.config_path
            if path is None and Path("config.yaml").is_file():
                path = Path("config.yaml")
            self._settings = load_settings(path)
        return self._settings

    def exports(
        self, given: tuple[Path, ...], input_format: str | None
    ) -> tuple[list[Path], str | None]:
        """The export paths and format from the command line, else from the configuration."""
        settings = self.settings()
        if given:
            return list(given), input_format
        if settings.export.path is None:
            raise click.UsageError(
                "say which export to read (EXPORT), or set export.path in the configuration"
            )
        return [settings.export.path], input_format or settings.export.format or None

    def load(
        self, given: tuple[Path, ...], input_format: str | None, *, cached: bool = True
    ) -> LoadResult:
        """The export of the command line or the configuration, loaded and validated;
        from the load cache when its files did not change (`cached`)."""
        from portalgen.load import LoadCache, LoadOptions, load_export

        settings = self.settings()
        paths, input_format = self.exports(given, input_format)
        cache = LoadCache.for_settings(settings) if cached else None
        options = LoadOptions.from_settings(settings)
        return load_export(paths, options, format=input_format, cache=cache)

    def info(self, message: str) -> None:
        """Progress and advice: hidden by -q."""
        if self.verbosity >= 0:
            click.echo(message, err=True)


PROBLEM_COLOURS = {"error": None, "warning": "yellow", "note": "cyan"}
# What each command that reads an export does not do when the export has errors.
REFUSED = {
    "build": "nothing was written",
    "publish": "nothing was published",
    "grant": "nobody was granted access",
    "notify": "no email was sent",
}


# The module defining each command, imported when the command is used: a quiet night's
# `publish` must not pay for importing what `serve`, `demo` or `audit` need.
COMMAND_MODULES = {
    "init": "data",
    "demo": "data",
    "check": "data",
    "fetch": "fetch",
    "build": "site",
    "publish": "site",
    "audit": "audit",
    "grant": "access",
    "revoke": "access",
    "sign-out": "access",
    "reset": "access",
    "link": "access",
    "preview": "access",
    "access": "access",
    "secret": "access",
    "serve": "serve",
    "notify": "mail",
    "push": "push",
    "uploads": "uploads",
}


class PortalgenGroup(click.Group):
    """Turns PortalgenError into a clean message and exit status 1; imports a command's
    module when the command is asked for (`commands` and --help import them all)."""

    _all_loaded = False

    @property
    def commands(self) -> MutableMapping[str, click.Command]:
        if not self._all_loaded:
            self._all_loaded = True
            for module in sorted(set(COMMAND_MODULES.values())):
                importlib.import_module(f"portalgen.cli.{module}")
        return self._commands

    @commands.setter
    def commands(self, value: MutableMapping[str, click.Command]) -> None:
        self._commands = value

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        name = name or cmd.name
        if name is None:
            raise TypeError("Command has no name.")
        self._commands[name] = cmd

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(cmd_name)
        if cmd_name not in self._commands and module is not None:
            importlib.import_module(f"portalgen.cli.{module}")
        return self._commands.get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PortalgenError as exc:
            state = ctx.find_object(CliState)
            if state is not None and state.debug:
                raise
            if isinstance(exc, InputError):
                for problem in exc.problems:
                    click.secho(
                        str(problem),
                        err=True,
                        fg=PROBLEM_COLOURS[problem.severity],
                    )
                refused = REFUSED.get(ctx.invoked_subcommand or "")
                summary = f"{exc.summary}; {refused}" if refused else exc.summary
                raise click.ClickException(summary) from None
            raise click.ClickException(str(exc)) from None


@click.group(cls=PortalgenGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="portalgen")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=CONFIG_ENV,
    help="Configuration file (default: ./config.yaml if present, else built-in defaults).",
)
@click.option("-v", "--verbose", count=True, help="Say more (repeat for more).")
@click.option("-q", "--quiet", is_flag=True, help="Only print errors and results.")
@click.option("--debug", is_flag=True, help="Show tracebacks (for bug reports).")
@click.pass_context
def cli(
    ctx: click.Context, config_path: Path | None, verbose: int, quiet: bool, debug: bool
) -> None:
    """portalgen: a private, branded portal for every customer.

    Typical night: `portalgen publish EXPORT`. Day to day: `portalgen grant`,
    `portalgen revoke`, `portalgen reset`. Start with `portalgen demo` to try it.
    """
    verbosity = -1 if quiet else verbose
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    ctx.obj = CliState(config_path=config_path, verbosity=verbosity, debug=debug)
