"""Commands that download an export from an invoicing program: fetch facturascripts."""

from __future__ import annotations

import os
from pathlib import Path

import click

from portalgen.cli.group import CliState, cli
from portalgen.load.facturascripts.api import FetchedResource, fetch_facturascripts

pass_state = click.make_pass_decorator(CliState)


@cli.group()
def fetch() -> None:
    """Download an export from an invoicing program's API."""


@fetch.command("facturascripts")
@click.option("--url", required=True, help="FacturaScripts address, e.g. https://erp.example.com")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the export to (one <resource>.json per table).",
)
@click.option(
    "--token-env",
    default="FACTURASCRIPTS_API_TOKEN",
    show_default=True,
    help="Environment variable that holds the API key (never pass the key itself).",
)
@click.option(
    "--page-size",
    type=click.IntRange(1, 1000),
    default=200,
    show_default=True,
    help="Rows per request (the API's limit).",
)
@pass_state
def fetch_facturascripts_command(
    state: CliState, url: str, out: Path, token_env: str, page_size: int
) -> None:
    """Download customers, documents, receipts and states through the REST API.

    The result is a folder that `portalgen check`, `build` and `publish` read as a
    FacturaScripts export.
    """
    token = os.environ.get(token_env, "").strip()
    if not token:
        raise click.UsageError(
            f"set the environment variable {token_env} to a FacturaScripts API key "
            "(Admin → API keys in FacturaScripts)"
        )

    def progress(item: FetchedResource) -> None:
        if item.skipped:
            state.info(f"  {item.resource}: skipped ({item.skipped})")
        else:
            state.info(f"  {item.resource}: {item.rows} rows")

    report = fetch_facturascripts(url, out, token, page_size=page_size, progress=progress)
    rows = sum(r.rows for r in report)
    saved = sum(1 for r in report if not r.skipped)
    click.echo(f"Saved {saved} resources ({rows} rows) to {out}.")
    click.echo(f"Next: portalgen check {out}")
