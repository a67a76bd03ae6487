"""Commands about the data: init, demo, check."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import click

from portalgen.access.secret import create_secret_file
from portalgen.cli.group import CliState, cli
from portalgen.cli.readout import export_readout, failed_readout
from portalgen.cli.summary import ExportSummary, summarize
from portalgen.cli.types import DATE, format_option
from portalgen.config import Settings, load_settings
from portalgen.demo import demo_config_text, generate_demo
from portalgen.domain.formatting import format_money
from portalgen.domain.model import ORDER_STATUSES, QUOTE_STATUSES, Export, Money
from portalgen.errors import InputError, PortalgenError
from portalgen.load import LoadOptions, load_export
from portalgen.presentation.resources import example_config

pass_state = click.make_pass_decorator(CliState)


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@pass_state
def init(state: CliState, directory: Path) -> None:
    """Write a starter config.yaml and a new secret into DIRECTORY."""
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "config.yaml"
    if config.exists():
        state.info(f"Kept the existing {config}.")
    else:
        shutil.copyfile(example_config(), config)
        click.echo(f"Wrote {config}: fill in your company's details.")
    settings = load_settings(config)
    _ensure_secret(state, settings)
    _ignore_secret(state, settings)


# What a git checkout must never hold: the signing secret, and the audit log (customers'
# addresses and what they did: audit.jsonl and its closed segments). Written beside the
# secret by `init`.
GITIGNORE_HEADER = "# portalgen: the signing secret and the audit log stay out of version control"


def _ignore_secret(state: CliState, settings: Settings) -> None:
    """A .gitignore beside the secret that names it (and the audit log, when it lives
    there too); an existing .gitignore gets the lines it lacks."""
    folder = settings.secret_file.parent
    names = [settings.secret_file.name]
    if settings.audit.path.parent == folder:
        names += [settings.audit.path.name, settings.audit.segments.name]
    path = folder / ".gitignore"
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    present = {line.strip().lstrip("/") for line in existing.splitlines()}
    missing = [name for name in names if name not in present]
    if not missing:
        state.info(f"{path} already keeps {', '.join(names)} out of git.")
        return
    lines = ([] if GITIGNORE_HEADER in existing else [GITIGNORE_HEADER]) + [
        f"/{n}" for n in missing
    ]
    text = existing + ("\n" if existing and not existing.endswith("\n") else "")
    path.write_text(text + "\n".join(lines) + "\n", encoding="utf-8")
    click.echo(f"Wrote {path}: git will not track {', '.join(missing)}.")


def _ensure_secret(state: CliState, settings: Settings) -> None:
    if create_secret_file(settings.secret_file):
        click.echo(
            f"Wrote a new secret to {settings.secret_file} (readable only by you). "
            "Keep it safe and out of version control."
        )
    else:
        state.info(f"Kept the existing secret in {settings.secret_file}.")


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default="demo")
@click.option(
    "--customers",
    type=click.IntRange(1, 100_000),
    default=25,
    show_default=True,
    help="How many customers to invent.",
)
@click.option(
    "--seed",
    type=int,
    default=1,
    show_default=True,
    help="The same seed (and --today) gives the same data, byte for byte.",
)
@click.option(
    "--today", type=DATE, default=None, help="Date the data is built around (default: today)."
)
@click.option(
    "--originals",
    is_flag=True,
    help="Also write stand-ins for the invoicing program's own PDFs under pdf/.",
)
@pass_state
def demo(
    state: CliState, directory: Path, customers: int, seed: int, today: date | None, originals: bool
) -> None:
    """Write a realistic demo export, config.yaml and secret into DIRECTORY."""
    summary = generate_demo(
        directory, customers=customers, seed=seed, today=today, originals=originals
    )
    config = directory / "config.yaml"
    if config.exists():
        state.info(f"Kept the existing {config}.")
    else:
        config.write_text(demo_config_text(), encoding="utf-8")
    _ensure_secret(state, load_settings(config))
    docs = summary.documents
    click.echo(
        f"Wrote demo data for {summary.customers} customers to {directory}: "
        f"{docs['invoice']} invoices, {docs['quote']} quotes, {docs['order']} orders, "
        f"{docs['delivery_note']} delivery notes, {docs['payment']} receipts."
    )
    click.echo(f"Next: portalgen --config {config} check {directory}")


@cli.command()
@click.argument("exports", nargs=-1, type=click.Path(exists=True, path_type=Path))
@format_option()
@click.option(
    "--strict", is_flag=True, help="Treat warnings (such as totals that do not add up) as errors."
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the export as portalgen read it, as JSON (docs/export-format.md).",
)
@pass_state
def check(
    state: CliState,
    exports: tuple[Path, ...],
    input_format: str | None,
    strict: bool,
    as_json: bool,
) -> None:
    """Read and validate an export, and summarise it.

    EXPORT defaults to export.path of the configuration. Every problem is listed with its
    file, row and field. Exit status 1 if there are errors. Also warns of quotes that
    customers accepted or rejected in the portal while the export still says pending,
    so they can be updated in the invoicing program, and of actions the gate holds for a
    staff notice (a burst) longer than mail.staff_batch. With --json, standard output is the
    export as read (every customer and document, with the lines, tax breakdown and totals
    the portal shows), or the problems if it cannot be used; messages go to standard error.
    """
    settings = state.settings()
    options = LoadOptions.from_settings(settings, strict=strict)
    paths, input_format = state.exports(exports, input_format)
    try:
        result = load_export(paths, options, format=input_format)
    except InputError as exc:
        if as_json:
            _echo_json(failed_readout(exc.problems))
        raise
    for problem in result.warnings:
        click.secho(str(problem), err=True, fg="yellow")
    unsynced = _portal_decisions(settings, result.export)
    unsynced += _portal_payments(settings, result.export, options.today)
    unsynced += _held_staff_notices(settings)
    for message in unsynced:
        click.secho(f"warning: {message}", err=True, fg="yellow")
    if as_json:
        readout = export_readout(result.export, options.today, result.formats, result.warnings)
        readout["portal_decisions"] = unsynced
        _echo_json(readout)
        return
    how = "detected" if result.detected else "as given"
    click.echo(f"Format: {', '.join(result.formats)} ({how}).")
    click.echo(f"Read {result.export.source}.")
    click.echo(_summary_text(summarize(result.export, settings.currency, options.today), settings))
    warnings = len(result.warnings) + len(unsynced)
    if warnings:
        click.echo(f"{warnings} warning(s) above; no errors.")
    else:
        click.echo("No problems found.")


def _echo_json(data: dict[str, Any]) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _portal_decisions(settings: Settings, export: Export) -> list[str]:
    """Warnings for quotes decided in the portal that the export does not show."""
    from portalgen.interact.pending import unsynced_decisions
    from portalgen.storage import open_storage

    try:
        found = unsynced_decisions(export, open_storage(settings))
    except PortalgenError as exc:
        return [f"could not read the quote decisions made in the portal: {exc}"]
    return [d.message(settings.timezone) for d in found]


def _portal_payments(settings: Settings, export: Export, today: date) -> list[str]:
    """Warnings for payments made in the portal that the export still shows unpaid."""
    from portalgen.payments.overdue import unconfirmed_payments
    from portalgen.storage import open_storage

    try:
        found = unconfirmed_payments(export, open_storage(settings), today)
    except PortalgenError as exc:
        return [f"could not read the payments made in the portal: {exc}"]
    return [p.message(settings.timezone) for p in found]


def _held_staff_notices(settings: Settings) -> list[str]:
    """Warnings for customers' actions the gate holds for a staff notice (a burst)."""
    if settings.mail.backend == "none":
        return []
    from datetime import UTC, datetime

    from portalgen.mail.staff import held_warnings
    from portalgen.storage import open_storage

    try:
        storage = open_storage(settings)
        now = datetime.now(UTC)
        return held_warnings(storage, settings.timezone, settings.mail.staff_batch, now)
    except PortalgenError as exc:
        return [f"could not read the staff notices the gate holds: {exc}"]


def _summary_text(s: ExportSummary, settings: Settings) -> str:
    def counted(counts: Counter[str], order: tuple[str, ...]) -> str:
        parts = [f"{name.replace('_', ' ')} {counts[name]}" for name in order if counts.get(name)]
        return f"{sum(counts.values())}  ({', '.join(parts)})" if parts else "0"

    def money(value: Money) -> str:
        return format_money(value, settings.locale)

    rows = [
        ("Customers", f"{s.customers}"),
        ("Quotes", counted(s.quotes, QUOTE_STATUSES)),
        ("Orders", counted(s.orders, ORDER_STATUSES)),
        ("Delivery notes", f"{s.delivery_notes}"),
        ("Invoices", counted(s.invoices, ("paid", "partially_paid", "unpaid", "overdue"))),
        (
            "Receipts",
            counted(Counter(paid=s.payments_paid, pending=s.payments_pending), ("paid", "pending")),
        ),
        ("Shared documents", f"{s.shared_documents}"),
        ("Invoiced", " · ".join(money(m) for m in s.invoiced.values())),
        (
            "Outstanding",
            " · ".join(
                f"{money(b.outstanding)}  (overdue {money(b.overdue)})" for b in s.balances.values()
            ),
        ),
    ]
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)
