"""Commands that write back into an invoicing program: push facturascripts."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

import click

from portalgen.cli.group import CliState, cli

if TYPE_CHECKING:
    from portalgen.config import Settings
    from portalgen.push import Outcome, PushReport

pass_state = click.make_pass_decorator(CliState)


@cli.group()
def push() -> None:
    """Write what happened in the portal back into the invoicing program."""


@push.command("facturascripts")
@click.option(
    "--url",
    default=None,
    help="FacturaScripts address, e.g. https://erp.example.com (default: facturascripts.url).",
)
@click.option("--dry-run", is_flag=True, help="Print every request it would make; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
@click.option(
    "--if-configured",
    is_flag=True,
    help="Push only if facturascripts.push is true; else say so and succeed "
    "(a job that always runs, such as the AWS Batch settle job).",
)
@pass_state
def push_facturascripts_command(
    state: CliState, url: str | None, dry_run: bool, as_json: bool, if_configured: bool
) -> None:
    """Push quote decisions, online payments and comments into FacturaScripts.

    The API key comes from FACTURASCRIPTS_API_TOKEN (facturascripts.token_env). Each
    thing is pushed once; one that changed in FacturaScripts meanwhile is skipped and
    recorded as push.skipped. Exit status 1 if something could not be pushed (the next
    run retries it).
    """
    settings = state.settings()
    if if_configured and not settings.facturascripts.push:
        off = "facturascripts.push is off: nothing pushed"
        click.echo(json.dumps({"ok": True, "off": off}) if as_json else off)
        return
    url, token = push_target(settings, url)
    if not url:
        raise click.UsageError("say which FacturaScripts (--url), or set facturascripts.url")
    if not token:
        raise click.UsageError(missing_token(settings))
    report = run_push(settings, url, token, dry_run=dry_run, as_json=as_json, state=state)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(summary(report))
    if not report.ok:
        raise click.ClickException(
            report.error or "some things could not be pushed; the next push retries them"
        )


def push_target(settings: Settings, url: str | None) -> tuple[str, str]:
    token = os.environ.get(settings.facturascripts.token_env, "").strip()
    return (url or settings.facturascripts.url), token


def missing_token(settings: Settings) -> str:
    return (
        f"set the environment variable {settings.facturascripts.token_env} to a "
        "FacturaScripts API key (Admin → API keys in FacturaScripts; docs/facturascripts.md)"
    )


def run_push(
    settings: Settings, url: str, token: str, *, dry_run: bool, as_json: bool, state: CliState
) -> PushReport:
    from portalgen.push import push_facturascripts

    def emit(outcome: Outcome) -> None:
        if as_json:
            return
        if outcome.status == "failed":
            click.secho(outcome.line(), err=True, fg="red")
        elif outcome.status == "skipped":
            click.secho(outcome.line(), err=True, fg="yellow")
        else:
            state.info(outcome.line())
        for request in outcome.requests if dry_run else ():
            click.echo(f"  would send: {request.describe()}")

    report = push_facturascripts(settings, url, token, dry_run=dry_run, emit=emit)
    if dry_run and not as_json:
        for request in report.requests:
            click.echo(f"request: {request.describe()}")
    return report


def summary(report: PushReport) -> str:
    verb = "Would push" if report.dry_run else "Pushed"
    counts = (len(report.of(s)) for s in ("pushed", "skipped", "failed"))
    pushed, skipped, failed = counts
    return f"{verb} {pushed}, skipped {skipped}, failed {failed}."
