"""payments.online: the settings as the issue names them, errors that name the key, the
secrets from the environment; and Redsys' signature against its published examples."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import pytest

from portalgen.config import load_settings
from portalgen.errors import ConfigError
from portalgen.payments.providers import open_providers
from portalgen.payments.records import PaymentAttempt, is_order_id, new_order_id
from portalgen.payments.redsys import RedsysGateway
from tests.payment_fixtures import (
    ENVIRON,
    MERCHANT,
    ONLINE,
    REDSYS_KEY,
    check_redsys_request,
    redsys_notification,
)

# Redsys' example notification of its PHP integration kit (merchant 999008881, order 0069,
# 1,45 €), signed HMAC_SHA256_V1 with the kit's key.
KIT_KEY = "Mk9m98IfEblmPfrpsawt7BmxObt98Jev"
KIT_PARAMS = (
    "eyJEc19EYXRlIjoiMDklMkYxMSUyRjIwMTUiLCJEc19Ib3VyIjoiMTglM0EwMyIsIkRzX1NlY3VyZVBheW1lbnQi"
    "OiIwIiwiRHNfQ2FyZF9Db3VudHJ5IjoiNzI0IiwiRHNfQW1vdW50IjoiMTQ1IiwiRHNfQ3VycmVuY3kiOiI5NzgiL"
    "CJEc19PcmRlciI6IjAwNjkiLCJEc19NZXJjaGFudENvZGUiOiI5OTkwMDg4ODEiLCJEc19UZXJtaW5hbCI6Ijg3MS"
    "IsIkRzX1Jlc3BvbnNlIjoiMDAwMCIsIkRzX01lcmNoYW50RGF0YSI6IiIsIkRzX1RyYW5zYWN0aW9uVHlwZSI6IjA"
    "iLCJEc19Db25zdW1lckxhbmd1YWdlIjoiMSIsIkRzX0F1dGhvcmlzYXRpb25Db2RlIjoiMDgyMTUwIn0="
)
KIT_SIGNATURE = "6DVpRPAPoChZh2cgaWnLqlfFsKeXdRfAO_tz-UrxJcU="


def settings(online: dict[str, Any]) -> Any:
    return load_settings(overrides={"payments": {"online": online}}, environ={})


def test_the_issue_s_configuration_loads() -> None:
    online = settings(ONLINE).payments.online
    assert online.redsys.merchant_code == MERCHANT
    assert online.redsys.environment == "test"
    assert online.methods == (
        ("redsys", "card"),
        ("redsys", "bizum"),
        ("stripe", "card"),
        ("stripe", "sepa_debit"),
    )
    assert settings({}).payments.online.methods == ()  # none: nothing offered


@pytest.mark.parametrize(
    ("online", "message"),
    [
        ({"redsys": {"merchant_code": MERCHANT, "secret": "x"}}, "payments.online.redsys.secret"),
        ({"paypal": {}}, "payments.online.paypal: unknown key"),
        ({"redsys": {"methods": ["card"]}}, "payments.online.redsys.merchant_code: required"),
        ({"redsys": {"merchant_code": MERCHANT, "methods": ["cash"]}}, "redsys.methods"),
        ({"stripe": {"methods": ["bizum"]}}, "payments.online.stripe.methods"),
        ({"redsys": {"merchant_code": MERCHANT, "environment": "live"}}, "redsys.environment"),
    ],
)
def test_bad_settings_name_the_key(online: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        settings(online)


@pytest.mark.parametrize(
    ("missing", "key"),
    [
        ("PORTALGEN_REDSYS_KEY", "payments.online.redsys.secret_key_env"),
        ("PORTALGEN_STRIPE_KEY", "payments.online.stripe.secret_key_env"),
        ("PORTALGEN_STRIPE_WEBHOOK_SECRET", "payments.online.stripe.webhook_secret_env"),
    ],
)
def test_a_secret_not_in_the_environment_names_its_key(missing: str, key: str) -> None:
    environ = {k: v for k, v in ENVIRON.items() if k != missing}
    with pytest.raises(ConfigError, match=f"{key}: the environment variable {missing}"):
        open_providers(settings(ONLINE).payments.online, environ)


def test_notifications_verify_against_redsys_published_example() -> None:
    gateway = RedsysGateway(KIT_KEY, MERCHANT, "871", "https://example.invalid/")
    fields = {
        "Ds_SignatureVersion": "HMAC_SHA256_V1",
        "Ds_MerchantParameters": KIT_PARAMS,
        "Ds_Signature": KIT_SIGNATURE,
    }
    notice = gateway.verify(fields)
    assert (notice.order, notice.amount, notice.currency) == ("0069", Decimal("1.45"), "EUR")
    assert notice.outcome == "paid"
    from portalgen.payments.notice import BadNotification

    with pytest.raises(BadNotification):  # the test key is not the kit's
        RedsysGateway(REDSYS_KEY, MERCHANT, "1", "https://example.invalid/").verify(fields)


def test_the_key_derived_per_order_is_redsys_3des() -> None:
    """The 3DES derivation behind HMAC_SHA256_V1, with the test key and order 012345678
    (the value published with Redsys' test key in the integration examples)."""
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    from tests.payment_fixtures import sha256_v1

    enc = Cipher(TripleDES(base64.b64decode(REDSYS_KEY)), modes.CBC(b"\0" * 8)).encryptor()
    derived = enc.update(b"012345678" + b"\0" * 7) + enc.finalize()
    assert base64.b64encode(derived) == b"ub0/L8+E9+9ITQJwk3SvHA=="
    assert sha256_v1(KIT_KEY, "0069", KIT_PARAMS) == KIT_SIGNATURE  # the stand-in's signer


def test_requests_are_signed_hmac_sha512_v2_for_the_test_merchant() -> None:
    gateway = RedsysGateway(REDSYS_KEY, MERCHANT, "1", "https://example.invalid/")
    order = new_order_id()
    assert is_order_id(order) and order[:4].isdigit() and len(order) == 12
    attempt = PaymentAttempt(
        order, "redsys", "bizum", "k", "C1", "a@b.es", "F1", "F1", "27.21", "EUR"
    )
    form = gateway.form(
        attempt,
        notify_url="https://portal.example/pay/redsys/notify",
        return_url="https://portal.example/portal/invoices/F1.html",
        language="es",
        description="Factura F1",
        merchant_name="Suministros Levante",
    )
    params = check_redsys_request(dict(form.fields))  # the stand-in's own HMAC_SHA512_V2
    assert params["Ds_Merchant_Amount"] == 2721 and params["Ds_Merchant_PayMethods"] == "z"
    # and what Redsys would answer, in either version, verifies
    for version in ("HMAC_SHA256_V1", "HMAC_SHA512_V2"):
        assert gateway.verify(redsys_notification(params, version=version)).order == order
