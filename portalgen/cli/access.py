"""Commands about who may open a portal: grant, revoke, reset, link, access list, secret."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

import click

from portalgen.cli.group import CliState, cli
from portalgen.cli.mail import email_links, fail_if_not_emailed, send_option
from portalgen.cli.services import open_mailer_for, open_service
from portalgen.cli.types import DURATION, format_option
from portalgen.config import Settings, format_duration

if TYPE_CHECKING:
    from portalgen.access.grants import AccessResult, CodeRequest
    from portalgen.domain.model import Export

pass_state = click.make_pass_decorator(CliState)
F = TypeVar("F", bound=Callable[..., Any])

CODE_ADVICE = (
    "Give the access code to the customer by phone or by message, never in the same "
    "email as the link. They choose their own code when they first sign in."
)


def _when(value: datetime | None, settings: Settings, with_time: bool = False) -> str:
    if value is None:
        return "-"
    local = value.astimezone(ZoneInfo(settings.timezone))
    return local.strftime("%d/%m/%Y %H:%M" if with_time else "%d/%m/%Y")


def _echo_result(result: AccessResult, settings: Settings, action: str) -> None:
    entry = result.entry
    click.echo(f"{entry.customer}: {action}")
    for link in result.links:
        until = _when(link.expires, settings)
        click.echo(f"  {link.email}  {link.url}  (works until {until})")
    if result.code:
        click.echo(f"  Access code: {result.code}  (temporary; shown only this once)")
        click.echo(f"  {CODE_ADVICE}")
    elif entry.access_code is not None and result.links:
        click.echo("  The customer also needs their access code (given by phone or message).")


def _code_request(
    code: bool | None, ask_code: bool, customer: str, default: CodeRequest | None = None
) -> CodeRequest | None:
    from portalgen.access.grants import CodeRequest

    if ask_code:
        typed = click.prompt(
            f"Access code for {customer} (not shown)", hide_input=True, confirmation_prompt=True
        )
        return CodeRequest("new", typed)
    if code is True:
        return CodeRequest("new")
    if code is False:
        return CodeRequest("remove")
    return default


code_options = [
    click.option(
        "--code/--no-code",
        default=None,
        help="Require an access code: generate a temporary one (--no-code: stop requiring one).",
    ),
    click.option(
        "--ask-code",
        is_flag=True,
        help="Type the temporary access code at a hidden prompt instead of generating one.",
    ),
]


def with_code_options(fn: F) -> F:
    for option in reversed(code_options):
        fn = option(fn)
    return fn


# -- grant ------------------------------------------------------------------------------------


@cli.command()
@click.argument("codes", nargs=-1, metavar="CODE...")
@click.option(
    "--all", "grant_all", is_flag=True, help="Every customer of the export with an email."
)
@click.option("--email", metavar="ADDR", help="Only this contact (one customer only).")
@with_code_options
@click.option(
    "--max-age", type=DURATION, default=None, help="How long this customer's links work (e.g. 30d)."
)
@click.option(
    "--no-publish", is_flag=True, help="Do not publish now; the next `portalgen publish` does."
)
@click.option(
    "--export",
    "exports",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="The export to read the customers' emails from (default: export.path).",
)
@format_option()
@send_option(
    "Email each contact their invitation with the link (an access code never goes by email)."
)
@pass_state
def grant(
    state: CliState,
    codes: tuple[str, ...],
    grant_all: bool,
    email: str | None,
    code: bool | None,
    ask_code: bool,
    max_age: timedelta | None,
    no_publish: bool,
    exports: tuple[Path, ...],
    input_format: str | None,
    send: bool,
) -> None:
    """Open the portal of customers CODE... to their contacts and print one link per contact.

    The customers' emails come from the export. Their portals are published at once,
    unless --no-publish.
    """
    if grant_all == bool(codes):
        raise click.UsageError("name the customers to grant (CODE...) or use --all")
    if email and (grant_all or len(codes) != 1):
        raise click.UsageError("--email goes with exactly one customer code")
    settings = state.settings()
    export = _load_export(state, exports, input_format)
    customers = {c.code: c for c in export.customers}
    chosen = _chosen_customers(export, codes, grant_all)
    mailer = open_mailer_for(settings) if send else None
    service = open_service(settings)
    results = []
    for customer in chosen:
        emails = [email] if email else list(customers[customer].emails)
        if email and email.strip().lower() not in {e.lower() for e in customers[customer].emails}:
            state.info(f"note: {email} is not among {customer}'s emails in the export")
        request = _code_request(code, ask_code, customer)
        result = service.grant(customer, emails, code=request or _keep(), max_age=max_age)
        _echo_result(result, settings, "access granted" + (" (new)" if result.created else ""))
        results.append(result)
    if no_publish:
        click.echo("Not published now: the next `portalgen publish` publishes these portals.")
    else:
        _publish(state, settings, export, chosen)
    if mailer is not None:  # after publishing: the link opens a portal with everything in it
        with mailer:
            failed = sum(
                email_links(
                    mailer,
                    service.storage,
                    "invitation",
                    r.entry,
                    r.links,
                    customers[r.entry.customer],
                )
                for r in results
            )
        fail_if_not_emailed(failed, "portalgen link CODE --send")


def _chosen_customers(export: Export, codes: tuple[str, ...], grant_all: bool) -> list[str]:
    """The codes to grant: those given (each must be in the export), or with --all every
    customer that has an email (the others are named, not granted)."""
    if grant_all:
        for skipped in (c.code for c in export.customers if not c.emails):
            click.secho(
                f"warning: {skipped} has no email in the export; not granted", err=True, fg="yellow"
            )
        return [c.code for c in export.customers if c.emails]
    known = {c.code for c in export.customers}
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise click.ClickException(f"not in the export: {', '.join(unknown)}")
    return list(dict.fromkeys(codes))


def _keep() -> CodeRequest:
    from portalgen.access.grants import CodeRequest

    return CodeRequest()


def _load_export(state: CliState, exports: tuple[Path, ...], input_format: str | None) -> Export:
    result = state.load(exports, input_format)
    for problem in result.warnings:
        state.info(str(problem))
    return result.export


def _publish(state: CliState, settings: Settings, export: Export, codes: Sequence[str]) -> None:
    """Publish the granted customers now, and only them (docs/publish.md)."""
    from portalgen.publish import publish_export

    report = publish_export(settings, export, only=tuple(codes))
    for outcome in report.failed:
        click.secho(f"{outcome.code}: not published: {outcome.reason}", err=True, fg="red")
    count = report.published
    click.echo(f"Published {count} portal{'s' if count != 1 else ''} ({report.seconds:.1f} s).")
    if report.failed:
        raise click.ClickException(
            "some portals could not be published; their links work once `portalgen publish` "
            "has published them"
        )


# -- revoke, reset, link ----------------------------------------------------------------------


@cli.command()
@click.argument("customer", metavar="CODE")
@click.option(
    "--contact", metavar="EMAIL", help="Cut off only this contact; the others keep access."
)
@pass_state
def revoke(state: CliState, customer: str, contact: str | None) -> None:
    """Withdraw a customer's access at once (or one contact's).

    Every link and session stops working on the next click. Revoking the whole customer
    also deletes their published portal; `portalgen grant` opens it again.
    """
    settings = state.settings()
    result = open_service(settings).revoke(customer, email=contact)
    if contact:
        click.echo(
            f"{customer}: {contact} can no longer open the portal; other contacts keep access."
        )
    else:
        click.echo(
            f"{customer}: access revoked; every link and session stopped working "
            "and the portal was deleted."
        )
    del result


@cli.command("sign-out")
@click.argument("customer", metavar="CODE")
@click.option(
    "--contact", metavar="EMAIL", help="Only this contact (default: every contact of CODE)."
)
@pass_state
def sign_out(state: CliState, customer: str, contact: str | None) -> None:
    """Sign a contact out everywhere: every session they have now ends at its next click.

    For a lost phone or a shared computer left signed in. Their links keep working
    (to stop those too, use `portalgen reset` or `portalgen revoke`).
    """
    settings = state.settings()
    result = open_service(settings).sign_out(customer, email=contact)
    who = contact or ", ".join(c.email for c in result.entry.contacts) or "nobody"
    click.echo(f"{customer}: signed out everywhere: {who}; their links keep working.")


@cli.command()
@click.argument("customer", metavar="CODE")
@click.option(
    "--contact", metavar="EMAIL", help="Only this contact's links (default: every contact's)."
)
@with_code_options
@send_option("Email each contact their new link (a new access code is never emailed).")
@pass_state
def reset(
    state: CliState,
    customer: str,
    contact: str | None,
    code: bool | None,
    ask_code: bool,
    send: bool,
) -> None:
    """New links for a customer: the old links and sessions stop working.

    A customer who uses an access code also gets a new temporary one.
    """
    settings = state.settings()
    mailer = open_mailer_for(settings) if send else None
    request = _code_request(code, ask_code, customer, default=None)
    service = open_service(settings)
    result = service.reset(customer, email=contact, code=request)
    _echo_result(result, settings, "new links (the old ones no longer work)")
    if mailer is not None:
        with mailer:
            failed = email_links(mailer, service.storage, "reset", result.entry, result.links)
        fail_if_not_emailed(failed, f"portalgen link {customer} --send")


@cli.command()
@click.argument("customer", metavar="CODE")
@click.option("--email", metavar="ADDR", help="Only this contact's link.")
@send_option("Email each contact their fresh link.")
@pass_state
def link(state: CliState, customer: str, email: str | None, send: bool) -> None:
    """Print a fresh link for a granted customer (links sent before keep working)."""
    settings = state.settings()
    mailer = open_mailer_for(settings) if send else None
    service = open_service(settings)
    result = service.links(customer, email=email)
    _echo_result(result, settings, "links")
    if mailer is not None:
        with mailer:
            failed = email_links(mailer, service.storage, "link", result.entry, result.links)
        fail_if_not_emailed(failed, f"portalgen link {customer} --send")


@cli.command()
@click.argument("customer", metavar="CODE")
@click.argument("path", required=False, default="")
@pass_state
def preview(state: CliState, customer: str, path: str) -> None:
    """Print a staff preview link of CODE's portal (at PATH, e.g. invoices/F1.html).

    Read-only: nothing can be accepted, rejected or commented from it. It works for
    7 days, until the customer is revoked or the secret that signed it is dropped;
    what it opens is recorded as a staff view, never as the customer's."""
    settings = state.settings()
    url, expires = open_service(settings).preview(customer, path)
    until = _when(expires, settings, with_time=True)
    click.echo(url)
    click.echo(f"Staff preview of {customer}, read-only, works until {until}.", err=True)


# -- access list ------------------------------------------------------------------------------


@cli.group()
def access() -> None:
    """Who has access to the portal."""


@access.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per customer, for scripts.")
@pass_state
def access_list(state: CliState, as_json: bool) -> None:
    """Every customer with portal access (or who had it), their contacts and last visit."""
    from portalgen.audit.log import AuditLog
    from portalgen.audit.recent import last_visits
    from portalgen.cli.audit import warn_unpulled
    from portalgen.textsafe import escape_controls

    settings = state.settings()
    warn_unpulled(settings)
    visits = last_visits(AuditLog(settings.audit.path))
    rows = open_service(settings).rows(visits)
    if as_json:
        click.echo(json.dumps([r.to_json() for r in rows], indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("No customer has portal access yet: `portalgen grant CODE`.")
        return
    header = ("CUSTOMER", "ACCESS", "CODE", "LINKS", "GRANTED", "REVOKED", "LAST VISIT", "EMAILS")
    table: list[tuple[str, ...]] = [header]
    for r in rows:
        emails = ", ".join([*r.emails, *(f"{e} (cut off)" for e in r.disabled_emails)])
        table.append(
            (
                r.customer,
                "yes" if r.enabled else "revoked",
                "yes" if r.uses_code else "no",
                format_duration(r.link_max_age),
                _when(r.granted_at, settings),
                _when(r.revoked_at, settings),
                _when(r.last_visit, settings, with_time=True),
                emails,
            )
        )
    table = [tuple(map(escape_controls, row)) for row in table]  # one line each
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    for row in table:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]).rstrip())


# -- secret -----------------------------------------------------------------------------------


@cli.group()
def secret() -> None:
    """The secret that signs links and sessions."""


@secret.command()
@pass_state
def rotate(state: CliState) -> None:
    """Add a new signing secret: new links use it, links already sent keep working."""
    from portalgen.access.secret import new_secret

    settings = state.settings()
    values = _file_secrets(settings)
    _write(settings, [*values, new_secret()])
    click.echo(
        f"Added a new signing secret to {settings.secret_file} ({len(values) + 1} active). "
        "New links are signed with it; links sent before keep working."
    )
    max_age = format_duration(settings.gate.link_max_age)
    click.echo(
        f"When the links sent before today have expired (after {max_age}), run "
        "`portalgen secret drop-old`. A gate on AWS Lambda needs the new secrets too (README)."
    )


@secret.command("drop-old")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_state
def drop_old(state: CliState, yes: bool) -> None:
    """Keep only the newest secret: links and sessions signed with older ones stop working."""
    settings = state.settings()
    values = _file_secrets(settings)
    if len(values) == 1:
        click.echo("Only one secret is active; nothing to drop.")
        return
    if not yes:
        click.confirm(
            f"Links signed with the {len(values) - 1} older secret(s) will stop working. Continue?",
            abort=True,
        )
    _resign_audit_checkpoint(settings, values)
    _write(settings, [values[-1]])
    click.echo(
        f"Dropped {len(values) - 1} older secret(s); {settings.secret_file} keeps the newest."
    )


def _resign_audit_checkpoint(settings: Settings, values: tuple[str, ...]) -> None:
    """The audit log's checkpoint, signed with the newest secret before the others go."""
    from portalgen.audit.anchor import Anchor
    from portalgen.audit.anchored import resign_checkpoint
    from portalgen.audit.log import AuditLog
    from portalgen.storage import open_storage

    log = AuditLog(settings.audit.path, Anchor(open_storage(settings), values))
    resign_checkpoint(log, values[-1])


def _file_secrets(settings: Settings) -> tuple[str, ...]:
    import os

    from portalgen.access.secret import SECRET_ENV, load_secrets

    if os.environ.get(SECRET_ENV, "").strip():
        raise click.ClickException(
            f"the secrets come from ${SECRET_ENV}; change them where that variable is set"
        )
    return load_secrets(settings.secret_file, environ={})


def _write(settings: Settings, values: list[str]) -> None:
    from portalgen.access.secret import write_secrets

    write_secrets(settings.secret_file, values)
