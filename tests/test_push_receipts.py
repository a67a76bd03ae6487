"""A receipt paid online in the portal is marked paid in FacturaScripts by its own id.

The portal names a FacturaScripts receipt ``<invoice>-<numero>`` (F2026A2-2), as the
reader does; FacturaScripts' API finds it only by its primary key, ``idrecibo`` (3 here):
``GET /api/3/reciboclientes/<idrecibo>`` (Core/Lib/API/APIModel.php::doGET, the model's
primaryColumn(); tests/fs_api.py). So the id travels from the export to the published
invoice index, the payment attempt, the ``payment.received`` event and `push`. The
payment goes through the gate and the Stripe stand-in (tests/payment_fixtures.py).
An event recorded before it carried the id is matched with the list filter
``filter[codigofactura]=…&filter[numero]=…`` (APIModel::listAll; both are columns of
Core/Model/ReciboCliente.php).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from portalgen.access.secret import load_secrets
from portalgen.audit.events import new_event
from portalgen.audit.log import AuditLog
from portalgen.gate import create_app
from portalgen.load import LoadOptions, load_export
from portalgen.payments.providers import open_providers
from portalgen.publish import publish_export
from tests.conftest import TODAY
from tests.gate_fixtures import GateClient, csrf_of
from tests.interact_fixtures import JuneClock
from tests.payment_fixtures import (
    ENVIRON,
    MERCHANT,
    stand_ins,
    stripe_event,
    stripe_signature,
)
from tests.push_fixtures import CUSTOMER, FsWorld, write_config
from tests.test_push_more import PAID

INVOICE, RECEIPT, IDRECIBO = "F2026A2", "F2026A2-2", 3  # its second receipt, 270.45 EUR
REDSYS = {"merchant_code": MERCHANT, "terminal": "1", "methods": ["card"]}  # Redsys' test one


def by_transfer(world: FsWorld) -> None:
    """F2026A2 and its receipts paid by transfer, not direct debit (so the portal offers
    to pay it), in the export and in FacturaScripts alike."""
    for name, rows in (
        ("facturaclientes.json", world.api.data["facturaclientes"]),
        ("reciboclientes.json", world.api.data["reciboclientes"]),
    ):
        path = world.folder / "export" / name
        exported = json.loads(path.read_text(encoding="utf-8"))
        for row in (*exported, *rows):
            if row.get("idfactura") == 2:
                row["codpago"] = "TRANS"
        path.write_text(json.dumps(exported), encoding="utf-8")


@pytest.fixture
def paying(fs_world: FsWorld) -> Iterator[tuple[FsWorld, GateClient, Any]]:
    """Customer 1's portal published with Stripe set up, and signed in on a gate."""
    by_transfer(fs_world)
    config = write_config(fs_world.folder, fs_world.url, method="TARJETA")
    online = {"payments": {"online": {"stripe": {"methods": ["card"]}, "redsys": REDSYS}}}
    config.write_text(config.read_text() + yaml.safe_dump(online), encoding="utf-8")
    settings = fs_world.settings()
    export = load_export(fs_world.folder / "export", LoadOptions(today=TODAY)).export
    assert publish_export(settings, export, only=(CUSTOMER,), today=TODAY).ok
    clock = JuneClock()
    with stand_ins(clock) as stand:
        providers = open_providers(
            settings.payments.online,
            ENVIRON,
            stripe_api=stand.url,
            stripe_checkout_origin=stand.url,
            redsys_url=f"{stand.url}/sis/realizarPago",
        )
        secrets = load_secrets(fs_world.folder / "secret.key", environ={})
        gate = create_app(
            settings, fs_world.storage, secrets=secrets, clock=clock, payments=providers
        )
        client = GateClient(gate)
        client.sign_in(fs_world.link())
        yield fs_world, client, (gate, stand, clock)


def pay_on_stripe(client: GateClient, gate: Any, stand: Any, clock: Any, part: str) -> None:
    """ "Pagar ahora" (the `part` of what is due: ``next`` or ``all``) paid by card on the
    Stripe stand-in, whose webhook tells the gate."""
    page = client.get(f"/portal/invoices/{INVOICE}.html").get_data(as_text=True)
    form = {"csrf_token": csrf_of(page), "method": "stripe:card", "part": part}
    answer = client.post(f"/portal/invoices/{INVOICE}/pay", form)
    assert answer.status_code == 303, answer.get_data(as_text=True)[:300]
    session = stand.sessions[answer.headers["Location"].rsplit("/", 1)[1]]
    paid = dict(session, status="complete", payment_status="paid", payment_intent="pi_1")
    body = stripe_event(paid)
    answer = client.client.post(
        "/pay/stripe/webhook",
        data=body,
        headers={"Stripe-Signature": stripe_signature(body, int(clock()))},
        content_type="application/json",
    )
    assert answer.status_code == 200
    gate.flush()


def test_a_receipt_paid_in_the_portal_is_marked_paid_in_facturascripts(
    paying: tuple[FsWorld, GateClient, Any],
) -> None:
    world, client, (gate, stand, clock) = paying
    pay_on_stripe(client, gate, stand, clock, part="next")
    (event,) = [
        e for e in AuditLog(world.settings().audit.path).events() if e.type.startswith("payment.")
    ]
    assert event.type == "payment.received"
    assert (event.data["receipt"], event.data["receipt_id"]) == (RECEIPT, str(IDRECIBO))
    assert event.data["amount"] == "270.45"

    result = world.push()

    assert result.exit_code == 0, result.output
    assert f"reciboclientes/{IDRECIBO} paid (TARJETA)" in result.output
    [(resource, record_id, fields)] = world.api.writes
    assert (resource, record_id, fields["pagado"]) == ("reciboclientes", str(IDRECIBO), "1")
    receipt = world.api.record("reciboclientes", str(IDRECIBO))
    assert receipt is not None and receipt["pagado"] is True
    # what the customer sees names the receipt as before, never FacturaScripts' id
    page = client.get(f"/portal/invoices/{INVOICE}.html").get_data(as_text=True)
    assert RECEIPT in page


def legacy_payment(world: FsWorld, receipt: str) -> None:
    """A payment.received as the gate recorded it before it carried ``receipt_id``."""
    event = new_event(
        "payment.received",
        CUSTOMER,
        contact="administracion@talleresperez.example",
        document=f"invoices/{INVOICE}.html",
        data={
            "invoice": INVOICE,
            "receipt": receipt,
            "amount": "270.45",
            "currency": "EUR",
            "provider": "stripe",
            "transaction": "cs_test_0001",
        },
        now=PAID,
    )
    AuditLog(world.settings().audit.path).append(event)


def test_an_event_without_the_id_finds_the_receipt_by_its_number(fs_world: FsWorld) -> None:
    write_config(fs_world.folder, fs_world.url, method="TARJETA")
    legacy_payment(fs_world, RECEIPT)
    result = fs_world.push()
    assert result.exit_code == 0, result.output
    assert [(r, i) for r, i, _ in fs_world.api.writes] == [("reciboclientes", str(IDRECIBO))]


@pytest.mark.parametrize(
    ("receipt", "reason"),
    [
        ("", "the payment names no single receipt"),
        (f"{INVOICE}-9", f"no receipt {INVOICE}-9 in FacturaScripts to mark paid"),
    ],
)
def test_a_payment_of_no_known_receipt_is_skipped_and_said(
    fs_world: FsWorld, receipt: str, reason: str
) -> None:
    write_config(fs_world.folder, fs_world.url, method="TARJETA")
    legacy_payment(fs_world, receipt)
    result = fs_world.push()
    assert result.exit_code == 0, result.output
    assert reason in result.output
    assert fs_world.api.writes == []
