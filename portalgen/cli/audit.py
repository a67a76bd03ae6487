"""`portalgen audit ...`: the record of what customers did, for staff."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import click

from portalgen.audit import AuditLog
from portalgen.audit.followup import follow_up
from portalgen.audit.query import EventFilter, describe, export_csv, export_json, select
from portalgen.audit.recent import newest_events
from portalgen.cli.group import CliState, cli
from portalgen.cli.types import DATE
from portalgen.config import Settings
from portalgen.errors import PortalgenError
from portalgen.storage import open_storage
from portalgen.textsafe import escape_controls

pass_state = click.make_pass_decorator(CliState)


@cli.group()
def audit() -> None:
    """The audit log: what customers did in their portals, and staff access changes."""


@audit.command()
@pass_state
def pull(state: CliState) -> None:
    """Bring the events the gate stored in S3 into the local audit log.

    Safe to run any number of times, and after an interruption: each event is added once.
    Also sends the webhook (audit.webhook_url) the recent decisions and comments it has
    not received yet. An event object whose MAC does not verify (not written by the
    gate) is refused and named; the exit status is then 1.
    """
    settings = state.settings()
    report = follow_up(settings, open_storage(settings))
    result = report.pulled
    click.echo(f"Added {result.added} new event(s) to {settings.audit.path}.")
    if result.waiting:
        state.info(f"{result.waiting} event(s) from the last seconds are left for the next pull.")
    for key in result.unreadable:
        click.secho(f"warning: could not read {key}; it was skipped", err=True, fg="yellow")
    for key in result.refused:
        click.secho(
            f"refused {key}: its MAC does not verify, so the gate did not write it (or wrote "
            "it with a secret since dropped); it was not added",
            err=True,
            fg="red",
        )
    if report.recovered:
        click.echo(f"Recovered {report.recovered} quote decision event(s) a gate had not written.")
    if report.webhook is not None:
        sent, failed = report.webhook.delivered, report.webhook.failures
        if sent:
            click.echo(f"Sent {sent} event(s) the webhook had not received.")
        if failed:
            click.secho(
                f"warning: the webhook did not take {len(failed)} event(s); "
                "the next pull tries again",
                err=True,
                fg="yellow",
            )
    if result.refused:
        raise click.ClickException(
            f"{len(result.refused)} event object(s) refused; see docs/security.md"
        )


def warn_unpulled(settings: Settings) -> None:
    """On S3, say how many events the gate stored are not in audit.jsonl yet (a folder's
    gate writes audit.jsonl itself). Reading the log stays read-only: no pull here."""
    from portalgen.audit.pull import count_unpulled
    from portalgen.storage import LocalStorage

    try:
        storage = open_storage(settings)
        if isinstance(storage, LocalStorage):
            return
        waiting = count_unpulled(storage, AuditLog(settings.audit.path))
    except PortalgenError as exc:
        click.secho(f"warning: could not look for events not pulled yet: {exc}", err=True)
        return
    if waiting:
        click.secho(
            f"{waiting} event(s) in storage not pulled yet — `portalgen audit pull`",
            err=True,
            fg="yellow",
        )


@audit.command()
@pass_state
def verify(state: CliState) -> None:
    """Check that no line of the audit log was changed, deleted, inserted or moved, and
    that the log still ends where its checkpoint in storage says (no cut, no rewrite)."""
    from portalgen.audit.anchored import open_audit_log, verify_anchored

    settings = state.settings()
    path = settings.audit.path
    verdict = verify_anchored(open_audit_log(settings, open_storage(settings)))
    for note in verdict.notes:
        click.secho(f"note: {escape_controls(note)}", err=True, fg="yellow")
    problem = verdict.problem
    if problem is not None:
        where = problem.where if problem.file else str(path)
        if problem.line and not problem.file:
            where += f", line {problem.line}"
        raise click.ClickException(f"{where}: {problem.reason}")
    click.echo(f"{path}: {verdict.lines} line(s), the chain is intact and anchored.")


def _filters(since: date | None, types: tuple[str, ...], customers: tuple[str, ...]) -> EventFilter:
    return EventFilter(since=since, types=types, customers=customers)


@audit.command()
@click.option("--since", type=DATE, help="Only events from this date on (YYYY-MM-DD).")
@click.option(
    "--type",
    "types",
    multiple=True,
    help="Only this event type (quote.accepted, comment.added...) or family (quote).",
)
@click.option("--customer", "customers", multiple=True, help="Only this customer code.")
@click.option(
    "--format",
    "output",
    type=click.Choice(["csv", "json"]),
    default="csv",
    show_default=True,
    help="CSV for spreadsheets, JSON lines for programs.",
)
@pass_state
def export(
    state: CliState,
    since: date | None,
    types: tuple[str, ...],
    customers: tuple[str, ...],
    output: str,
) -> None:
    """Print decisions, comments and other events to enter into the invoicing program.

    Without --type, only quote decisions and comments are exported. With S3 storage,
    says how many events are there not pulled yet (`portalgen audit pull`).
    """
    settings = state.settings()
    warn_unpulled(settings)
    zone = ZoneInfo(settings.timezone)
    where = _filters(since, types or ("quote", "comment"), customers)
    events = select(AuditLog(settings.audit.path).events(), where, zone)
    click.echo(export_csv(events, zone) if output == "csv" else export_json(events), nl=False)


@audit.command()
@click.option(
    "-n",
    "--lines",
    "count",
    type=click.IntRange(1),
    default=20,
    show_default=True,
    help="How many recent events to show.",
)
@click.option("--type", "types", multiple=True, help="Only this event type or family.")
@click.option("--customer", "customers", multiple=True, help="Only this customer code.")
@pass_state
def tail(state: CliState, count: int, types: tuple[str, ...], customers: tuple[str, ...]) -> None:
    """Show the most recent activity, one readable line per event (with S3 storage,
    and how many events are not pulled yet)."""
    settings = state.settings()
    warn_unpulled(settings)
    zone = ZoneInfo(settings.timezone)
    where = _filters(None, types, customers)
    log = AuditLog(settings.audit.path)
    for event in newest_events(log, count, lambda e: where.matches(e, zone)):
        click.echo(describe(event, zone))
