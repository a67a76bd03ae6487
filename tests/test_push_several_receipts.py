"""One online payment of everything an invoice owed in three receipts: `push` marks each
receipt paid in FacturaScripts, once, or none of them.

F2026A2 (470.45 EUR) is split here into three unpaid receipts, in the export and in the
FacturaScripts stand-in alike (tests/fs_api.py). The customer presses "Pagar ahora" for
everything outstanding through the real gate and the Stripe stand-in
(tests/payment_fixtures.py); the published invoice index gave the gate each receipt's
``idrecibo`` and amount, which the attempt and the ``payment.received`` event carry.

What "paid" is for a FacturaScripts receipt (NeoRazorX/facturascripts at defd68f4):
``pagado`` on ``reciboclientes/<idrecibo>`` (Core/Model/ReciboCliente.php); saving it
creates the receipt's payment (ReciboCliente::onChange, ::newPayment: ``pagoclientes``)
and sets the invoice ``pagada`` once its paid receipts reach its total
(Core/Lib/ReceiptGenerator.php::update). FacturaScripts' own "pay this invoice" endpoint
(Core/Controller/ApiPagarFacturaCliente.php::payReceipts) saves each receipt in turn too,
without notes: push PUTs each receipt (Core/Lib/API/APIModel.php::doPUT) with its note.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from html import unescape
from typing import Any
from urllib.parse import urlencode

import pytest

from portalgen.audit.events import new_event
from portalgen.audit.log import AuditLog
from portalgen.push.records import read_record
from tests.fs_api import FakeApi
from tests.gate_fixtures import GateClient, csrf_of
from tests.payment_fixtures import (
    check_redsys_request,
    redsys_notification,
)
from tests.push_fixtures import CUSTOMER, FsWorld, kill_when, write_config
from tests.test_push_more import PAID
from tests.test_push_receipts import INVOICE, pay_on_stripe, paying

__all__ = ["paying"]  # the fixture, over this module's fs_world

# F2026A2's receipts here: idrecibo → (numero, importe)
RECEIPTS = {2: (1, 200.0), 3: (2, 150.0), 6: (3, 120.45)}
SHARES = [
    {"receipt": "F2026A2-1", "receipt_id": "2", "amount": "200.00"},
    {"receipt": "F2026A2-2", "receipt_id": "3", "amount": "150.00"},
    {"receipt": "F2026A2-3", "receipt_id": "6", "amount": "120.45"},
]


def three_receipts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """F2026A2's two receipts (200.00 paid, 270.45 due) made three unpaid ones."""
    template = next(r for r in rows if r["idrecibo"] == 3)
    kept = [r for r in rows if r["idfactura"] != 2]
    for idrecibo, (numero, importe) in RECEIPTS.items():
        due = f"10-0{5 + numero}-2026"  # 10 June (overdue), July, August (the API: d-m-Y)
        kept.append(
            {
                **template,
                "idrecibo": idrecibo,
                "numero": numero,
                "importe": importe,
                "vencimiento": due,
                "vencido": numero == 1,
                "pagado": False,
                "fechapago": None,
            }
        )
    return kept


@pytest.fixture
def fs_world(fs_world: FsWorld) -> Iterator[FsWorld]:
    """The push world with F2026A2 in three receipts, none paid (its one payment, of the
    receipt paid before, gone with it)."""
    export = fs_world.folder / "export"
    for name, resource in (("reciboclientes.json", "reciboclientes"), ("pagoclientes.json", "")):
        path = export / name
        exported = json.loads(path.read_text(encoding="utf-8"))
        if resource:
            exported = three_receipts(exported)
            fs_world.api.data[resource] = three_receipts(fs_world.api.data[resource])
        else:
            exported = [p for p in exported if p["idrecibo"] != 2]
            fs_world.api.data["pagoclientes"] = [
                p for p in fs_world.api.data["pagoclientes"] if p["idrecibo"] != 2
            ]
        path.write_text(json.dumps(exported), encoding="utf-8")
    yield fs_world


def pay_everything(
    client: GateClient, gate: Any, stand: Any, clock: Any, provider: str = "stripe"
) -> None:
    """ "Pagar ahora" for everything outstanding, paid by card on the provider's stand-in."""
    if provider == "stripe":
        pay_on_stripe(client, gate, stand, clock, part="all")
        return
    page = client.get(f"/portal/invoices/{INVOICE}.html").get_data(as_text=True)
    form = {"csrf_token": csrf_of(page), "method": "redsys:card", "part": "all"}
    answer = client.post(f"/portal/invoices/{INVOICE}/pay", form)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]  # posts to Redsys
    html = answer.get_data(as_text=True)
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html)
    params = check_redsys_request({k: unescape(v) for k, v in fields})
    assert params["Ds_Merchant_Amount"] == 47045  # cents: everything outstanding
    answer = client.client.post(
        "/pay/redsys/notify",
        data=urlencode(redsys_notification(params)),
        content_type="application/x-www-form-urlencoded",
    )
    assert answer.status_code == 200
    gate.flush()


def receipt_writes(api: FakeApi) -> list[str]:
    return [i for r, i, f in api.writes if r == "reciboclientes" and f.get("pagado") == "1"]


def payment_record(world: FsWorld) -> Any:
    (event,) = payment_events(world)
    return read_record(world.storage, f"_push/payments/{event.id}.json")


def payment_events(world: FsWorld) -> list[Any]:
    events = AuditLog(world.settings().audit.path).events()
    return [e for e in events if e.type == "payment.received"]


@pytest.mark.parametrize("provider", ["stripe", "redsys"])
def test_a_payment_of_three_receipts_marks_each_paid_once(
    paying: tuple[FsWorld, GateClient, Any], provider: str
) -> None:
    world, client, (gate, stand, clock) = paying
    pay_everything(client, gate, stand, clock, provider)
    (event,) = payment_events(world)
    assert event.data["provider"] == provider
    assert (event.data["amount"], event.data["receipt"]) == ("470.45", "")
    assert event.data["receipts"] == SHARES  # each receipt's id and amount, as published
    assert sum(Decimal(s["amount"]) for s in SHARES) == Decimal("470.45")

    result = world.push()

    assert result.exit_code == 0, result.output
    assert "reciboclientes/2 paid (TARJETA), notes appended; reciboclientes/3 paid" in result.output
    assert receipt_writes(world.api) == ["2", "3", "6"]
    for idrecibo in RECEIPTS:
        receipt = world.api.record("reciboclientes", str(idrecibo))
        assert receipt is not None and receipt["pagado"] is True
        assert receipt["fechapago"] == "15-06-2026" and receipt["codpago"] == "TARJETA"
        assert receipt["observaciones"].count(f"[portalgen {event.id}]") == 1
    # FacturaScripts' own consequences: one payment per receipt, the invoice paid
    payments = world.api.data["pagoclientes"]
    assert sorted(p["idrecibo"] for p in payments if p["idrecibo"] in RECEIPTS) == [2, 3, 6]
    assert (world.api.record("facturaclientes", "2") or {}).get("pagada") is True
    sent = [e for e in AuditLog(world.settings().audit.path).events() if e.type == "push.sent"]
    assert [e.data["record"] for e in sent] == [f"reciboclientes/{i}" for i in (2, 3, 6)]
    assert payment_record(world).state == "done"

    again = world.push()
    assert "Pushed 0, skipped 0, failed 0." in again.output
    assert receipt_writes(world.api) == ["2", "3", "6"]


def test_one_receipt_paid_in_the_office_skips_the_whole_payment(
    paying: tuple[FsWorld, GateClient, Any],
) -> None:
    world, client, (gate, stand, clock) = paying
    pay_everything(client, gate, stand, clock)
    office = world.api.record("reciboclientes", "3")
    assert office is not None
    office.update(pagado=True, fechapago="14-06-2026", codpago="TRANS")  # staff, meanwhile

    result = world.push()

    assert result.exit_code == 0, result.output
    reason = (
        "receipt F2026A2-2 (reciboclientes/3): the receipt is already paid in FacturaScripts; "
        "none of the payment's receipts was marked paid"
    )
    assert reason in " ".join(result.output.split())
    assert world.api.writes == []
    assert (world.api.record("reciboclientes", "2") or {}).get("pagado") is False
    (skipped,) = [
        e for e in AuditLog(world.settings().audit.path).events() if e.type == "push.skipped"
    ]
    assert reason in skipped.data["reason"]
    assert payment_record(world).state == "skipped"
    assert "Pushed 0, skipped 0, failed 0." in world.push().output  # not tried again


@pytest.mark.slow
def test_a_push_killed_after_two_receipts_writes_only_the_third(
    paying: tuple[FsWorld, GateClient, Any],
) -> None:
    """A real subprocess, SIGKILLed once the stand-in has saved its second PUT."""
    world, client, (gate, stand, clock) = paying
    pay_everything(client, gate, stand, clock)
    kill_when(world, "PUT", after_write=True, resource="reciboclientes", nth=2)
    assert receipt_writes(world.api) == ["2", "3"]
    assert payment_record(world).state == "sending"

    result = world.push()  # the claim's process is gone: taken over, read back

    assert result.exit_code == 0, result.output
    assert (
        "reciboclientes/2 (already there); reciboclientes/3 (already there); "
        "reciboclientes/6 paid (TARJETA)"
    ) in " ".join(result.output.split())
    assert receipt_writes(world.api) == ["2", "3", "6"]
    (event,) = payment_events(world)
    for idrecibo in RECEIPTS:
        receipt = world.api.record("reciboclientes", str(idrecibo))
        assert receipt is not None and receipt["pagado"] is True
        assert receipt["observaciones"].count(f"[portalgen {event.id}]") == 1
    assert payment_record(world).state == "done"


def several_receipts_event(world: FsWorld, shares: list[dict[str, str]], amount: str) -> None:
    event = new_event(
        "payment.received",
        CUSTOMER,
        contact="administracion@talleresperez.example",
        document=f"invoices/{INVOICE}.html",
        data={
            "invoice": INVOICE,
            "receipt": "",
            "receipts": shares,
            "amount": amount,
            "currency": "EUR",
            "provider": "stripe",
            "transaction": "cs_test_0002",
        },
        now=PAID,
    )
    AuditLog(world.settings().audit.path).append(event)


@pytest.mark.parametrize(
    ("shares", "amount", "reason"),
    [
        (
            SHARES,
            "470.46",
            "its receipts F2026A2-1, F2026A2-2, F2026A2-3 add up to 470.45 EUR; "
            "the payment was 470.46 EUR",
        ),
        (
            [*SHARES[:2], dict(SHARES[2], amount="120.46")],
            "470.46",
            "receipt F2026A2-3 (reciboclientes/6): the receipt is for 120.45 EUR; "
            "the customer paid 120.46 EUR",
        ),
        (
            [*SHARES[:2], dict(SHARES[2], receipt_id="3")],
            "470.45",
            "it names a receipt twice",
        ),
    ],
)
def test_receipts_that_do_not_make_the_payment_are_not_written(
    fs_world: FsWorld, shares: list[dict[str, str]], amount: str, reason: str
) -> None:
    """The amounts must add up to the payment's to the cent, and each must be its
    receipt's; else nothing is written and the reason says which."""
    write_config(fs_world.folder, fs_world.url, method="TARJETA")
    several_receipts_event(fs_world, shares, amount)
    result = fs_world.push()
    assert result.exit_code == 0, result.output
    assert reason in " ".join(result.output.split())
    assert fs_world.api.writes == []


def test_receipts_recorded_without_their_ids_are_found_by_number(fs_world: FsWorld) -> None:
    """An index published from an export without ids (a CSV bundle's receipts, say):
    each receipt is found by its numero, as for one receipt."""
    write_config(fs_world.folder, fs_world.url, method="TARJETA")
    several_receipts_event(fs_world, [dict(s, receipt_id="") for s in SHARES], "470.45")
    result = fs_world.push()
    assert result.exit_code == 0, result.output
    assert receipt_writes(fs_world.api) == ["2", "3", "6"]


def test_a_dry_run_shows_each_receipt_it_would_mark_paid(fs_world: FsWorld) -> None:
    write_config(fs_world.folder, fs_world.url, method="TARJETA")
    several_receipts_event(fs_world, SHARES, "470.45")
    result = fs_world.push("--dry-run")
    assert result.exit_code == 0, result.output
    sent = [line for line in result.output.splitlines() if line.startswith("  would send: PUT")]
    assert [line.split()[3].rsplit("/", 1)[1] for line in sent] == ["2", "3", "6"]
    assert fs_world.api.writes == []


def test_a_receipt_changed_after_an_interrupted_push_names_what_was_written(
    fs_world: FsWorld,
) -> None:
    """Receipts 1 and 2 written by a push that was then killed (their notes carry the
    payment's reference), receipt 3 paid in the office before the rerun."""
    write_config(fs_world.folder, fs_world.url, method="TARJETA")
    several_receipts_event(fs_world, SHARES, "470.45")
    (event,) = payment_events(fs_world)
    for idrecibo, note in (("2", f"[portalgen {event.id}]"), ("3", f"[portalgen {event.id}]")):
        (fs_world.api.record("reciboclientes", idrecibo) or {}).update(
            pagado=True, observaciones=note
        )
    (fs_world.api.record("reciboclientes", "6") or {}).update(pagado=True)
    result = fs_world.push()
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "receipt F2026A2-3 (reciboclientes/6): the receipt is already paid" in said
    assert "an interrupted push had marked F2026A2-1, F2026A2-2 paid already" in said
    assert fs_world.api.writes == []
