"""`portalgen serve`: the gate on this machine."""

from __future__ import annotations

import click

from portalgen.cli.group import CliState, cli

pass_state = click.make_pass_decorator(CliState)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on.",
)
@click.option(
    "--threads",
    type=click.IntRange(1, 256),
    default=8,
    show_default=True,
    help="Requests served at once.",
)
@pass_state
def serve(state: CliState, host: str, port: int, threads: int) -> None:
    """Run the gate: customers open their links here (waitress, a production WSGI server)."""
    from waitress import serve as waitress_serve

    from portalgen.gate.factory import (
        configured_link_sender,
        configured_staff_notifier,
        create_app,
    )

    settings = state.settings()
    app = create_app(
        settings,
        send_link=configured_link_sender(settings),
        notify_staff=configured_staff_notifier(settings),
        background=True,  # views, webhook deliveries and staff notices off the request's thread
    )
    click.echo(
        f"The gate serves {settings.storage_location()} on http://{host}:{port}/ (Ctrl-C stops it)."
    )
    click.echo(f"Links point at gate.base_url: {settings.gate.base_url}")
    try:
        waitress_serve(app, host=host, port=port, threads=threads, ident="portalgen")
    finally:
        app.flush()  # the views, deliveries and notices still under way
