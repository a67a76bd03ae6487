"""`portalgen check` warns of a payment made in the portal that the export still shows
unpaid a few days later (payments/overdue.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import time_machine

from portalgen.payments.records import PaidRecord, store_paid
from portalgen.storage import LocalStorage
from tests.payment_fixtures import UNPAID
from tests.test_interact_staff import grant, run


def paid(directory: Path, code: str, slug: str, day: int, order: str) -> None:
    record = PaidRecord(
        order=order,
        slug=slug,
        invoice=slug,
        amount="27.21",
        currency="EUR",
        ts=f"2026-06-{day:02d}T09:00:00Z",
        provider="redsys",
        method="card",
    )
    store_paid(LocalStorage(directory / "site"), grant(directory, code), record)


def test_check_warns_of_an_online_payment_the_export_still_shows_unpaid(
    fresh_demo: Path, time_machine: time_machine.TimeMachineFixture
) -> None:
    time_machine.move_to(datetime(2026, 6, 15, 12, 0, tzinfo=UTC), tick=False)
    paid(fresh_demo, "C00007", UNPAID, 10, "1234abcdefgh")
    result = run(fresh_demo, "check", str(fresh_demo))
    assert result.exit_code == 0, result.output
    assert (
        f"warning: invoice {UNPAID} (C00007): 27.21 EUR paid online with redsys on 10/06/2026 "
        "(order 1234abcdefgh), but the export still shows it unpaid"
    ) in result.stderr


def test_check_waits_a_few_days_and_skips_invoices_the_export_has_paid(
    fresh_demo: Path, time_machine: time_machine.TimeMachineFixture
) -> None:
    time_machine.move_to(datetime(2026, 6, 15, 12, 0, tzinfo=UTC), tick=False)
    paid(fresh_demo, "C00007", UNPAID, 14, "1234abcdefgh")  # yesterday: give staff time
    paid(fresh_demo, "C00007", "F2026A-00001", 1, "5678abcdefgh")  # paid in the export
    result = run(fresh_demo, "check", str(fresh_demo))
    assert result.exit_code == 0 and "paid online" not in result.stderr, result.stderr
