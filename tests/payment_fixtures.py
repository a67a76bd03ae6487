"""Local stand-ins for Redsys and Stripe that speak each protocol as documented, and a
portal published with online payment set up (C00007, whose invoice F2026A-00035 is
unpaid). The real gateways are never contacted.

Redsys (redirection guide, "Conexión por redirección"; test terminal 999008881 with
Redsys' published test key): the browser posts ``Ds_SignatureVersion``,
``Ds_MerchantParameters`` and ``Ds_Signature``; Redsys posts the same three fields,
signed, to ``Ds_Merchant_MerchantURL`` and sends the customer to ``Ds_Merchant_UrlOK``.
The signatures are computed here independently of python-redsys: HMAC_SHA512_V2 (AES-
128-CBC of the order with the first 16 characters of the key, zero IV, PKCS#7; HMAC-
SHA512 keyed with the Base64 of that; Base64URL without padding) on requests, and
HMAC_SHA256_V1 (3DES-CBC of the zero-padded order with the Base64-decoded key; HMAC-
SHA256; Base64URL) on notifications.

Stripe (https://docs.stripe.com/api/checkout/sessions/create and
https://docs.stripe.com/webhooks#verify-manually): ``POST /v1/checkout/sessions``
form-encoded with the secret key as Bearer; the webhook's ``Stripe-Signature`` is
``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the endpoint secret>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from html import escape
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from portalgen.access.grants import AccessService
from portalgen.access.secret import load_secrets
from portalgen.access.tokens import TokenSigner
from portalgen.config import Settings
from portalgen.gate import Gate, create_app
from portalgen.payments.providers import open_providers
from portalgen.render import build_context
from portalgen.render.build import build_site
from portalgen.storage import Storage, open_storage
from tests.conftest import TODAY, demo_settings, load_demo
from tests.gate_fixtures import BASE_URL, GateClient, ManualClock, publish_folder

REDSYS_KEY = "sq7HjrUOBfKmC576ILgskD5srU870gJ7"  # Redsys' published test key
MERCHANT = "999008881"  # and test merchant code
STRIPE_KEY = "sk_test_portalgen"
STRIPE_WEBHOOK_SECRET = "whsec_portalgen_test"
ENVIRON = {
    "PORTALGEN_REDSYS_KEY": REDSYS_KEY,
    "PORTALGEN_STRIPE_KEY": STRIPE_KEY,
    "PORTALGEN_STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
}
ONLINE = {
    "redsys": {"merchant_code": MERCHANT, "terminal": "1", "methods": ["card", "bizum"]},
    "stripe": {"methods": ["card", "sepa_debit"]},
}
UNPAID = "F2026A-00035"  # C00007's unpaid invoice in the demo (27.21 EUR)


# -- Redsys' signatures, written from the guide -------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def from_b64(text: str) -> bytes:
    text = text.replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4))


def sha512_v2(key: str, order: str, params: str) -> str:
    padder = padding.PKCS7(128).padder()
    data = padder.update(order.encode()) + padder.finalize()
    enc = Cipher(algorithms.AES(key[:16].encode()), modes.CBC(b"\0" * 16)).encryptor()
    derived = base64.b64encode(enc.update(data) + enc.finalize())
    return b64url(hmac.new(derived, params.encode(), hashlib.sha512).digest())


def sha256_v1(key: str, order: str, params: str) -> str:
    data = order.encode() + b"\0" * (-len(order) % 8)
    enc = Cipher(TripleDES(base64.b64decode(key)), modes.CBC(b"\0" * 8)).encryptor()
    derived = enc.update(data) + enc.finalize()
    # Redsys sends the notification's signature in the URL-safe alphabet, padding kept
    return base64.urlsafe_b64encode(
        hmac.new(derived, params.encode(), hashlib.sha256).digest()
    ).decode()


def check_redsys_request(form: dict[str, str], key: str = REDSYS_KEY) -> dict[str, Any]:
    """The merchant parameters of a payment request, its signature checked."""
    assert form["Ds_SignatureVersion"] == "HMAC_SHA512_V2"
    params = json.loads(from_b64(form["Ds_MerchantParameters"]))
    expected = sha512_v2(key, params["Ds_Merchant_Order"], form["Ds_MerchantParameters"])
    assert hmac.compare_digest(expected, form["Ds_Signature"].rstrip("=")), "bad signature"
    return dict(params)


def redsys_notification(
    request: dict[str, Any],
    *,
    response: str = "0000",
    amount: str | None = None,
    order: str | None = None,
    key: str = REDSYS_KEY,
    version: str = "HMAC_SHA256_V1",
) -> dict[str, str]:
    """What Redsys posts to Ds_Merchant_MerchantURL for `request`'s payment."""
    order = order or request["Ds_Merchant_Order"]
    params = {
        "Ds_Date": "15%2F06%2F2026",
        "Ds_Hour": "10%3A15",
        "Ds_Amount": amount or str(request["Ds_Merchant_Amount"]),
        "Ds_Currency": str(request["Ds_Merchant_Currency"]),
        "Ds_Order": order,
        "Ds_MerchantCode": request["Ds_Merchant_MerchantCode"],
        "Ds_Terminal": str(request["Ds_Merchant_Terminal"]),
        "Ds_Response": response,
        "Ds_TransactionType": "0",
        "Ds_SecurePayment": "1",
        "Ds_AuthorisationCode": "082150" if int(response) < 100 else "",
    }
    if request.get("Ds_Merchant_PayMethods") == "z":
        params["Ds_ProcessedPayMethod"] = "68"
    encoded = base64.b64encode(json.dumps(params).encode()).decode()
    if version == "HMAC_SHA512_V2":
        signature = sha512_v2(key, order, encoded)
    else:
        signature = sha256_v1(key, order, encoded)
    return {
        "Ds_SignatureVersion": version,
        "Ds_MerchantParameters": encoded,
        "Ds_Signature": signature,
    }


# -- Stripe's webhook signature -----------------------------------------------------------------


def stripe_signature(body: bytes, timestamp: int, secret: str = STRIPE_WEBHOOK_SECRET) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def stripe_event(session: dict[str, Any], kind: str = "checkout.session.completed") -> bytes:
    event = {
        "id": f"evt_{session['id']}_{kind.rsplit('.', 1)[-1]}",
        "object": "event",
        "type": kind,
        "api_version": "2025-01-27.acacia",
        "data": {"object": session},
    }
    return json.dumps(event).encode()


# -- the stand-ins over HTTP --------------------------------------------------------------------


def _nested(form: dict[str, str]) -> dict[str, Any]:
    """Stripe's form encoding (``line_items[0][price_data][currency]``) as nested dicts."""
    out: dict[str, Any] = {}
    for name, value in form.items():
        parts = name.replace("]", "").split("[")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


class StandIns:
    """Redsys' payment page and Stripe's API and Checkout page, on one local server.
    `gate` is where notifications go (the gate's URL as the test serves it)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.gate = ""
        self.url = ""
        self.redsys_requests: list[dict[str, Any]] = []
        self.sessions: dict[str, dict[str, Any]] = {}
        self.stripe_requests: list[dict[str, Any]] = []
        self.notified: list[tuple[str, int]] = []  # (what, the gate's status)
        self.response = "0000"  # what Redsys answers the next payment

    # Redsys
    def redsys_page(self, form: dict[str, str]) -> str:
        params = check_redsys_request(form)
        self.redsys_requests.append(params)
        index = len(self.redsys_requests) - 1
        bizum = params.get("Ds_Merchant_PayMethods") == "z"
        return (
            f"<!doctype html><title>Redsys</title><h1>{'Bizum' if bizum else 'Tarjeta'}</h1>"
            f"<p>Importe: {int(params['Ds_Merchant_Amount']) / 100:.2f} EUR</p>"
            f'<form method="post" action="/redsys/confirm"><input type="hidden" name="i" '
            f'value="{index}"><button>Pagar</button></form>'
        )

    def redsys_confirm(self, index: int) -> str:
        params = self.redsys_requests[index]
        fields = redsys_notification(params, response=self.response)
        self.post_to_gate(
            params["Ds_Merchant_MerchantURL"], urllib.parse.urlencode(fields).encode(), {}
        )
        return str(params["Ds_Merchant_UrlOK" if int(self.response) < 100 else "Ds_Merchant_UrlKO"])

    # Stripe
    def create_session(self, form: dict[str, str], auth: str) -> dict[str, Any]:
        assert auth == f"Bearer {STRIPE_KEY}", "not the secret key"
        params = _nested(form)
        self.stripe_requests.append(params)
        item = params["line_items"]["0"]
        sid = f"cs_test_{len(self.sessions) + 1:04d}"
        session = {
            "id": sid,
            "object": "checkout.session",
            "amount_total": int(item["price_data"]["unit_amount"]) * int(item["quantity"]),
            "currency": item["price_data"]["currency"],
            "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata", {}),
            "mode": params["mode"],
            "payment_method_types": list(params["payment_method_types"].values()),
            "payment_status": "unpaid",
            "payment_intent": None,
            "status": "open",
            "success_url": params["success_url"],
            "cancel_url": params["cancel_url"],
            "url": f"{self.url}/stripe/pay/{sid}",
        }
        self.sessions[sid] = session
        return session

    def stripe_pay(self, sid: str) -> str:
        session = dict(self.sessions[sid], status="complete", payment_status="paid")
        session["payment_intent"] = f"pi_{sid}"
        body = stripe_event(session)
        header = {"Stripe-Signature": stripe_signature(body, int(self.clock()))}
        self.post_to_gate("/pay/stripe/webhook", body, header)
        return str(session["success_url"])

    def post_to_gate(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        path = "/" + url.split("://", 1)[-1].split("/", 1)[-1] if "://" in url else url
        request = urllib.request.Request(self.gate + path, data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                self.notified.append((path, answer.status))
        except urllib.error.HTTPError as exc:
            self.notified.append((path, exc.code))


def _handler(stand: StandIns) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _form(self) -> dict[str, str]:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            return dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))

        def _send(self, status: int, body: str, kind: str = "text/html", **headers: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.startswith("/stripe/pay/"):
                sid = escape(self.path.rsplit("/", 1)[1])
                page = f'<h1>Stripe</h1><form method="post"><button>Pay {sid}</button></form>'
                return self._send(200, page)
            return self._send(404, "no")

        def do_POST(self) -> None:
            form = self._form()
            if self.path == "/sis/realizarPago":
                return self._send(200, stand.redsys_page(form))
            if self.path == "/redsys/confirm":
                return self._send(303, "", Location=stand.redsys_confirm(int(form["i"])))
            if self.path == "/v1/checkout/sessions":
                session = stand.create_session(form, self.headers.get("Authorization", ""))
                return self._send(200, json.dumps(session), "application/json", Request_Id="req_1")
            if self.path.startswith("/stripe/pay/"):
                return self._send(303, "", Location=stand.stripe_pay(self.path.rsplit("/", 1)[1]))
            return self._send(404, "no")

    return Handler


@contextmanager
def stand_ins(clock: Callable[[], float]) -> Iterator[StandIns]:
    stand = StandIns(clock)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(stand))
    stand.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand
    finally:
        server.shutdown()
        server.server_close()


# -- a published portal that takes payments -----------------------------------------------------


@dataclass
class PayWorld:
    settings: Settings
    storage: Storage
    gate: Gate
    client: GateClient
    stand: StandIns
    clock: ManualClock
    audit: Path
    key: str
    link: str

    def events(self, kind: str = "payment.") -> list[dict[str, Any]]:
        self.gate.flush()
        if self.audit.exists():  # a folder: the staff's audit.jsonl
            rows = [json.loads(line) for line in self.audit.read_text().splitlines() if line]
        else:  # S3: one object per event under _events/
            keys = sorted(info.key for info in self.storage.list("_events/"))
            rows = [json.loads(self.storage.get(key) or b"{}") for key in keys]
        return [r for r in rows if r["type"].startswith(kind)]


def payment_settings(
    directory: Path, tmp_path: Path, storage: dict[str, Any] | None, base_url: str = BASE_URL
) -> Settings:
    return demo_settings(
        directory,
        storage=storage or {"url": str(tmp_path / "site")},
        audit={"path": str(tmp_path / "audit.jsonl")},
        gate={"base_url": base_url},
        payments={"online": ONLINE},
    )


@pytest.fixture(scope="session")
def paying_portal(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """C00007's portal rendered with online payment set up (once per session)."""
    target = tmp_path_factory.mktemp("paying-portal")
    settings = payment_settings(demo_dir, target, None)
    context = build_context(settings, today=TODAY)
    list(build_site(load_demo(demo_dir, settings).export, context, target, ["C00007"]))
    return target / "C00007"


def open_world(
    settings: Settings, portal: Path, stand: StandIns, secrets: tuple[str, ...], clock: ManualClock
) -> PayWorld:
    storage = open_storage(settings)
    service = AccessService(
        storage,
        TokenSigner(secrets, clock=clock),
        base_url=settings.gate.base_url,
        link_max_age=timedelta(days=30),
    )
    grant = service.grant("C00007", ["c00007@example.com"])
    key = grant.entry.customer_key
    publish_folder(storage, key, portal, "es")
    providers = open_providers(
        settings.payments.online,
        ENVIRON,
        redsys_url=f"{stand.url}/sis/realizarPago",
        stripe_api=stand.url,
        stripe_checkout_origin=stand.url,
    )
    gate = create_app(settings, storage, secrets=secrets, clock=clock, payments=providers)
    return PayWorld(
        settings,
        storage,
        gate,
        GateClient(gate),
        stand,
        clock,
        settings.audit.path,
        key,
        grant.links[0].url,
    )


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def pay_world(
    request: pytest.FixtureRequest, demo_dir: Path, paying_portal: Path, tmp_path: Path
) -> Iterator[PayWorld]:
    """C00007 signed in on a gate that takes payments, on a folder and on SeaweedFS."""
    storage = None if request.param == "local" else request.getfixturevalue("s3_storage_config")
    settings = payment_settings(demo_dir, tmp_path, storage)
    secrets = load_secrets(demo_dir / "secret.key", environ={})
    clock = ManualClock(1781518500.0)  # 2026-06-15 10:15 UTC
    with stand_ins(clock) as stand:
        world = open_world(settings, paying_portal, stand, secrets, clock)
        world.client.sign_in(world.link)
        yield world
