"""Commands about the portal's pages: build."""

from __future__ import annotations

from pathlib import Path

import click

from portalgen.cli import CliState, cli
from portalgen.cli.types import format_option
from portalgen.load import LoadOptions, load_export

pass_state = click.make_pass_decorator(CliState)


@cli.command()
@click.argument("exports", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write the portals into (one sub-folder per customer code).",
)
@click.option("--only", multiple=True, metavar="CODE", help="Only this customer (repeatable).")
@format_option()
@pass_state
def build(
    state: CliState,
    exports: tuple[Path, ...],
    out: Path,
    only: tuple[str, ...],
    input_format: str | None,
) -> None:
    """Render every customer's portal (HTML and PDFs) into OUT, to look at before publishing.

    EXPORT defaults to export.path of the configuration. Nothing is written when the
    export has errors.
    """
    from portalgen.render import build_context
    from portalgen.render.build import build_site

    settings = state.settings()
    paths, input_format = state.exports(exports, input_format)
    result = load_export(paths, LoadOptions.from_settings(settings), format=input_format)
    for problem in result.warnings:
        click.secho(str(problem), err=True, fg="yellow")
    context = build_context(settings)
    for warning in context.warnings:
        click.secho(f"warning: {warning}", err=True, fg="yellow")
    count = 0
    for portal in build_site(result.export, context, out, only):
        count += 1
        state.info(f"{portal.code}: {portal.files} files, {portal.pdfs} PDFs")
    for warning in sorted(set(context.render_warnings)):
        click.secho(f"warning: {warning}", err=True, fg="yellow")
    click.echo(f"Wrote {count} portal{'s' if count != 1 else ''} to {out}.")
