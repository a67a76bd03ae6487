"""`portalgen uploads list|get`: the proofs of payment customers uploaded, for staff."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from portalgen.cli.group import CliState, cli
from portalgen.errors import PortalgenError
from portalgen.storage import open_storage
from portalgen.textsafe import escape_controls
from portalgen.uploads.records import QUARANTINED, UploadRecord, all_records

pass_state = click.make_pass_decorator(CliState)


@cli.group()
def uploads() -> None:
    """Proofs of payment customers uploaded on their invoices (docs/payments.md)."""


@uploads.command("list")
@click.option("--customer", "customers", multiple=True, help="Only this customer code.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per upload, for scripts.")
@pass_state
def uploads_list(state: CliState, customers: tuple[str, ...], as_json: bool) -> None:
    """Every proof received, oldest first: when, customer, contact, invoice, file, id."""
    settings = state.settings()
    found = [
        r for r in all_records(open_storage(settings)) if not customers or r.customer in customers
    ]
    if as_json:
        rows = [json.loads(r.to_json()) for r in found]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    zone = ZoneInfo(settings.timezone)
    for r in found:
        when = r.when.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        status = f"QUARANTINED ({r.signature})" if r.status == QUARANTINED else r.content_type
        line = (
            f"{when}  {r.customer} {r.contact} invoice {r.invoice}: {r.filename} "
            f"({r.size} bytes, {status})  {r.id}"
        )
        if r.note:
            line += f'  note: "{r.note}"'
        click.echo(escape_controls(line))
    if not found:
        state.info("No proofs of payment uploaded.")


@uploads.command("get")
@click.argument("upload_id")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the file (default: <id>.<ext> in the current folder).",
)
@click.option("--quarantined", is_flag=True, help="Also write a file ClamAV flagged (careful).")
@pass_state
def uploads_get(state: CliState, upload_id: str, output: Path | None, quarantined: bool) -> None:
    """Write the proof UPLOAD_ID (from `uploads list`) to a file, checked against the
    SHA-256 recorded when the gate accepted it."""
    storage = open_storage(state.settings())
    record = _find(storage, upload_id)
    if record.status == QUARANTINED and not quarantined:
        raise click.ClickException(
            f"upload {upload_id} is quarantined (ClamAV found {record.signature}); "
            "add --quarantined to write it anyway"
        )
    data = storage.get(record.key)
    if data is None or hashlib.sha256(data).hexdigest() != record.sha256:
        raise click.ClickException(f"upload {upload_id}: {record.key} is missing or changed")
    target = output or Path(f"{record.id}.{record.key.rsplit('.', 1)[-1]}")
    target.write_bytes(data)
    click.echo(f"Wrote {target} ({len(data)} bytes; uploaded as {record.filename!r}).")


@uploads.command("clean")
@pass_state
def uploads_clean(state: CliState) -> None:
    """Delete what browsers posted straight to S3 over a day ago and the gate never took
    (`_uploads/*/incoming/`). `publish` does this by itself once a day."""
    from portalgen.uploads.sweep import MAX_AGE, sweep_incoming

    swept = sweep_incoming(open_storage(state.settings()), time.time())
    for key in swept.removed:
        click.echo(f"removed {key}")
    click.echo(
        f"Removed {len(swept.removed)} upload(s) never taken; kept {swept.kept} "
        f"younger than {MAX_AGE // 3600} hours."
    )


def _find(storage: object, upload_id: str) -> UploadRecord:
    from portalgen.storage import Storage

    if not isinstance(storage, Storage):
        raise PortalgenError("no storage")
    for record in all_records(storage):
        if record.id == upload_id.strip().upper():
            return record
    raise click.ClickException(f"no upload {upload_id!r}; see `portalgen uploads list`")
