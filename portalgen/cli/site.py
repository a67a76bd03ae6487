"""Commands about the portal's pages: build, publish."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from portalgen.cli.group import CliState, cli
from portalgen.cli.report import outcome_lines, progress_bar, summary_lines
from portalgen.cli.types import SHARD, format_option

if TYPE_CHECKING:
    from portalgen.config import Settings
    from portalgen.domain.model import Export
    from portalgen.mail.mailer import Mailer
    from portalgen.mail.notify import NotifyReport
    from portalgen.publish.inputs import Shard
    from portalgen.publish.report import PublishReport

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
    from portalgen.load import LoadOptions, load_export
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


@cli.command()
@click.argument("exports", nargs=-1, type=click.Path(exists=True, path_type=Path))
@format_option()
@click.option("--only", multiple=True, metavar="CODE", help="Only this customer (repeatable).")
@click.option(
    "--shard",
    type=SHARD,
    default=None,
    help="Publish only part i of N of the customers (a stable split: run 1/N ... N/N "
    "on N machines).",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 512),
    default=None,
    help="Render processes (default: publish.jobs, 0 there meaning one per CPU).",
)
@click.option("--dry-run", is_flag=True, help="Say what would change; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines (as `portalgen -q`).")
@click.option(
    "--notify",
    is_flag=True,
    help="Then email the customers just published what is new (as `portalgen notify`; "
    "not with --shard).",
)
@pass_state
def publish(
    state: CliState,
    exports: tuple[Path, ...],
    input_format: str | None,
    only: tuple[str, ...],
    shard: Shard | None,
    jobs: int | None,
    dry_run: bool,
    as_json: bool,
    quiet: bool,
    notify: bool,
) -> None:
    """Render every granted customer's portal and put what changed into storage.

    EXPORT defaults to export.path of the configuration. Nothing is published when the
    export has errors. With --notify, each customer published then gets their digest
    email. A --shard only publishes: after the last shard, run `portalgen audit pull`
    and `portalgen notify` once. Exit status 1 if any customer could not be published
    (or emailed).
    """
    from portalgen.cli.services import open_mailer_for
    from portalgen.publish import publish_export

    _no_notify_per_shard(shard, notify)
    if quiet:
        state.verbosity = -1
    settings = state.settings()
    mailer = open_mailer_for(settings, dry_run=dry_run) if notify else None  # fail early
    result = state.load(exports, input_format)
    for problem in result.warnings:
        click.secho(str(problem), err=True, fg="yellow")
    with progress_bar(enabled=state.verbosity >= 0, lines=not as_json) as progress:
        report = publish_export(
            settings,
            result,  # its export read only if a customer is planned
            only=only,
            shard=shard,
            jobs=jobs,
            dry_run=dry_run,
            progress=progress,
        )
    notified = None
    if mailer is not None:
        notified = _notify(settings, result.export, report, mailer)
    pushes = settings.facturascripts.push and shard is None  # a shard leaves it to the end
    pushed = _push(state, settings, dry_run, as_json) if pushes else None
    _echo_report(state, report, as_json, notified, pushed)
    if report.failed:
        count = len(report.failed)
        raise click.ClickException(
            f"{count} customer{'s' if count != 1 else ''} could not be published; "
            "the others were (run publish again to retry)"
        )
    if notified is not None and not notified.ok:
        raise click.ClickException(
            "some messages could not be sent; the next `portalgen notify` (or publish "
            "--notify) sends them"
        )


def _no_notify_per_shard(shard: Shard | None, notify: bool) -> None:
    """A digest goes out once, after every shard has published (docs/scale.md)."""
    if shard is not None and notify:
        raise click.UsageError(
            "--notify cannot be used with --shard: the digests go out once, after every "
            "shard has published. Run the shards without it, then `portalgen audit pull` "
            "and `portalgen notify` once (docs/scale.md)."
        )


def _notify(
    settings: Settings, export: Export, report: PublishReport, mailer: Mailer
) -> NotifyReport | None:
    """`portalgen notify` for the customers this run published (not those it failed or
    left out by --only/--shard); None when there is nobody."""
    from portalgen.cli.mail import run_notify

    published = [o.code for o in report.outcomes if o.status in ("changed", "unchanged")]
    if not published:
        return None
    return run_notify(
        settings, export, only=published, dry_run=report.dry_run, mailer=mailer, pulled=True
    )


def _push(state: CliState, settings: Settings, dry_run: bool, as_json: bool) -> dict[str, Any]:
    """`portalgen push facturascripts` after publishing (facturascripts.push): a failure
    is a warning, since the portals are out; its summary for --json."""
    from portalgen.cli.push import missing_token, push_target, run_push, summary
    from portalgen.errors import PortalgenError

    url, token = push_target(settings, None)
    problem = "" if url else "set facturascripts.url to push into FacturaScripts"
    problem = problem or ("" if token else missing_token(settings))
    if problem:
        click.secho(f"warning: push: {problem}", err=True, fg="yellow")
        return {"ok": False, "error": problem}
    try:
        pushed = run_push(settings, url, token, dry_run=dry_run, as_json=as_json, state=state)
    except PortalgenError as exc:
        click.secho(f"warning: push: {exc}", err=True, fg="yellow")
        return {"ok": False, "error": str(exc)}
    if not as_json:
        click.echo(summary(pushed))
    if not pushed.ok:
        why = pushed.error or "some things could not be pushed; the next push retries them"
        click.secho(f"warning: push: {why}", err=True, fg="yellow")
    return pushed.to_dict()


def _echo_report(
    state: CliState,
    report: PublishReport,
    as_json: bool,
    notified: NotifyReport | None,
    pushed: dict[str, Any] | None = None,
) -> None:
    from portalgen.cli.mail import echo_notify_report

    for warning in report.warnings:
        click.secho(f"warning: {warning}", err=True, fg="yellow")
    for line in outcome_lines(report, verbose=report.dry_run or state.verbosity > 0):
        state.info(line)
    for failed in report.failed:
        click.secho(f"{failed.code}: {failed.reason}", err=True, fg="red")
    if as_json:
        summary = report.to_dict()
        if notified is not None:
            summary["notify"] = notified.to_dict()
        if pushed is not None:
            summary["push"] = pushed
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    for line in summary_lines(report):
        click.echo(line)
    if notified is not None:
        echo_notify_report(notified, as_json=False)
