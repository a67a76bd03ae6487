"""Email from the command line: `portalgen notify`, and what `--send` and `--notify` share."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from portalgen.cli.group import CliState, cli
from portalgen.cli.services import open_mailer_for, open_service
from portalgen.cli.types import format_option

if TYPE_CHECKING:
    from portalgen.access.entry import RegistryEntry
    from portalgen.config import Settings
    from portalgen.domain.model import Customer, Export
    from portalgen.mail.links import LinkLike, Reason
    from portalgen.mail.mailer import Mailer
    from portalgen.mail.notify import NotifyReport
    from portalgen.storage import Storage

pass_state = click.make_pass_decorator(CliState)
F = TypeVar("F", bound=Callable[..., Any])


def send_option(help: str) -> Callable[[F], F]:
    return click.option("--send", is_flag=True, help=help)


def email_links(
    mailer: Mailer,
    storage: Storage,
    reason: Reason,
    entry: RegistryEntry,
    links: Iterable[LinkLike],
    customer: Customer | None = None,
) -> int:
    """Email each link, say so per contact; the number of contacts it failed for."""
    from portalgen.mail.links import email_links as send

    failed = 0
    for delivery in send(mailer, storage, reason, entry, links, customer):
        if delivery.error:
            failed += 1
            click.secho(f"  NOT emailed to {delivery.contact}: {delivery.error}", fg="red")
        elif mailer.dry_run:
            click.echo(f"  written for {delivery.contact} to {mailer.settings.mail.outbox}")
        else:
            click.echo(f"  emailed to {delivery.contact}")
    return failed


def fail_if_not_emailed(failed: int, command: str) -> None:
    if failed:
        raise click.ClickException(
            f"{failed} message(s) could not be sent; the links printed above work: give them "
            f"yourself, or try again later with `{command}`"
        )


def echo_notify_report(report: NotifyReport, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return
    for customer in report.customers:
        for note in customer.notes:
            click.secho(f"{customer.code}: {note}", fg="yellow")
        for failure in customer.failures:
            click.secho(f"{customer.code}: NOT sent: {failure}", fg="red")
    for failure in report.staff_failures:
        click.secho(f"NOT sent: {failure}", fg="red")
    if report.staff_waiting:
        click.secho(
            f"{len(report.staff_waiting)} event(s) held for a staff notice are still waiting "
            "(their customer is not in this run, or mail failed); the next run tells them:",
            fg="yellow",
        )
        for waiting in report.staff_waiting:
            click.secho(f"  {waiting}", fg="yellow")
    notified = sum(1 for c in report.customers if c.messages)
    verb = "Wrote" if report.dry_run else "Sent"
    click.echo(
        f"{verb} {report.messages} message(s) to {notified} customer(s)"
        + _staff_summary(report)
        + (" (dry run: nothing recorded)." if report.dry_run else ".")
    )


def _staff_summary(report: NotifyReport) -> str:
    if not report.staff_sent:
        return ""
    if report.staff_emails in (0, report.staff_sent):  # a dry run counts no emails
        return f" and {report.staff_sent} staff notice(s)"
    return f" and {report.staff_sent} staff notice(s) in {report.staff_emails} email(s)"


def run_notify(
    settings: Settings,
    export: Export,
    *,
    only: Iterable[str] = (),
    dry_run: bool = False,
    mailer: Mailer | None = None,
    pulled: bool = False,
) -> NotifyReport:
    """The digests and the staff notices still owed (after pulling the gate's events,
    unless the caller — `publish --notify` — has just `pulled` them)."""
    from datetime import UTC, datetime

    from portalgen.audit.anchored import open_audit_log
    from portalgen.audit.pull import pull_events
    from portalgen.audit.recent import recent_actions
    from portalgen.mail.links import service_link_maker
    from portalgen.mail.nightly import send_nightly
    from portalgen.mail.staff import BACKLOG
    from portalgen.storage import LocalStorage, open_storage

    storage = open_storage(settings)
    log = open_audit_log(settings, storage)
    if not (dry_run or pulled or isinstance(storage, LocalStorage)):  # a local gate writes it
        pull_events(storage, log)
    # The notices still owed are of recent decisions and comments only: the log's
    # summary and open file have them, however long the log is.
    owed = recent_actions(log, datetime.now(UTC) - BACKLOG)
    mailer = mailer or open_mailer_for(settings, dry_run=dry_run)
    with mailer:
        return send_nightly(
            settings,
            export,
            storage=storage,
            mailer=mailer,
            make_link=service_link_maker(open_service(settings, storage)),
            events=owed,
            only=tuple(only),
        )


@cli.command()
@click.argument("exports", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--only", multiple=True, metavar="CODE", help="Only this customer (repeatable).")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Write the messages to mail.outbox as .eml files instead of sending; record nothing.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a summary as JSON (for cron).")
@format_option()
@pass_state
def notify(
    state: CliState,
    exports: tuple[Path, ...],
    only: tuple[str, ...],
    dry_run: bool,
    as_json: bool,
    input_format: str | None,
) -> None:
    """Email every granted customer what is new in their portal, with payment reminders.

    What `publish --notify` does after publishing: one message per contact with the
    documents new since their last one and a fresh link, never the same document twice;
    then the staff notices of decisions and comments the gate could not send. EXPORT
    defaults to export.path. Exit status 1 if any message could not be sent (the next
    run tries it again).
    """
    settings = state.settings()
    mailer = open_mailer_for(settings, dry_run=dry_run)
    result = state.load(exports, input_format)
    for problem in result.warnings:
        state.info(str(problem))
    report = run_notify(settings, result.export, only=only, dry_run=dry_run, mailer=mailer)
    echo_notify_report(report, as_json)
    if not report.ok:
        raise click.exceptions.Exit(1)
