"""Redsys (TPV virtual): the redirection form and the signed notification.

The `python-redsys` library builds and signs the request and verifies notifications:
``Ds_SignatureVersion`` HMAC_SHA512_V2 on what portalgen sends (the version Redsys'
redirection guide 4.1 and later documents, and its own libraries use), and on
notifications whichever version Redsys signed with, HMAC_SHA256_V1 included (a key
derived per order, then an HMAC of ``Ds_MerchantParameters``). Card data and Bizum
phone numbers are typed on Redsys' pages, never on portalgen's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from portalgen.payments.notice import BadNotification, Notice

if TYPE_CHECKING:
    from portalgen.payments.records import PaymentAttempt

ENDPOINTS = {
    "test": "https://sis-t.redsys.es:25443/sis/realizarPago",
    "production": "https://sis.redsys.es/sis/realizarPago",
}
PAY_METHODS = {"card": "C", "bizum": "z"}  # Ds_Merchant_PayMethods
BIZUM_PROCESSED = "68"  # Ds_ProcessedPayMethod of a Bizum payment
CURRENCIES = {"EUR": 978, "USD": 840, "GBP": 826}  # ISO 4217 numeric codes Redsys takes
LANGUAGES = {"es": 1, "en": 2, "ca": 3, "fr": 4, "de": 5, "it": 7, "pt": 9, "gl": 12, "eu": 13}
NOTIFICATION_FIELDS = ("Ds_SignatureVersion", "Ds_MerchantParameters", "Ds_Signature")


@dataclass(frozen=True)
class RedsysForm:
    action: str  # where the browser posts it
    fields: Mapping[str, str]  # Ds_SignatureVersion, Ds_MerchantParameters, Ds_Signature


class RedsysGateway:
    provider = "redsys"

    def __init__(self, secret_key: str, merchant_code: str, terminal: str, endpoint: str) -> None:
        from redsys.clients import RedirectClient

        self.merchant_code = merchant_code
        self.terminal = int(terminal)
        self.endpoint = endpoint
        self._client = RedirectClient(
            secret_key, merchant_code=merchant_code, terminal=self.terminal
        )

    def form(
        self,
        attempt: PaymentAttempt,
        *,
        notify_url: str,
        return_url: str,
        language: str,
        description: str,
        merchant_name: str,
    ) -> RedsysForm:
        """The signed form that sends the customer to Redsys for `attempt`."""
        currency = CURRENCIES.get(attempt.currency)
        if currency is None:
            raise ValueError(f"Redsys takes no payments in {attempt.currency}")
        request = self._client.payment(
            amount=attempt.value,
            currency=currency,
            order=attempt.order,
            merchant_url=notify_url,
            url_ok=return_url,
            url_ko=return_url,
            consumer_language=LANGUAGES.get(language, 0),
            product_description=description[:125],
            merchant_name=merchant_name[:25] or None,
            pay_methods=PAY_METHODS[attempt.method],
        )
        return RedsysForm(self.endpoint, request.to_dict())

    def verify(self, form: Mapping[str, str]) -> Notice:
        """The notification Redsys posted, its signature checked with the merchant key;
        BadNotification if it is not Redsys' (or not for this merchant)."""
        payload = {name: form.get(name, "") for name in NOTIFICATION_FIELDS}
        if not payload["Ds_MerchantParameters"] or not payload["Ds_Signature"]:
            raise BadNotification("not a Redsys notification")
        if not payload["Ds_SignatureVersion"]:
            payload.pop("Ds_SignatureVersion")
        try:
            response = self._client.parse_response(payload)
        except Exception as exc:  # the library raises ValueError, pydantic's errors...
            raise BadNotification(f"Redsys notification refused: {exc}") from None
        if str(response.merchant_code or "") != self.merchant_code:
            raise BadNotification(f"for merchant {response.merchant_code}, not ours")
        return _notice(response)


def _notice(response: object) -> Notice:
    code = getattr(response, "response_code", None)
    if code is None:
        outcome = "ignored"
    elif 0 <= code <= 99:
        outcome = "paid"
    elif code in (400, 900):  # a cancellation or refund: not a payment
        outcome = "ignored"
    else:
        outcome = "denied"
    numeric = getattr(response, "currency", None)
    currency = next((iso for iso, n in CURRENCIES.items() if n == numeric), str(numeric or ""))
    amount = getattr(response, "amount", None)
    order = str(getattr(response, "order", "") or "")
    processed = str(getattr(response, "processed_pay_method", "") or "")
    return Notice(
        provider="redsys",
        order=order,
        transaction=order,  # Redsys: one order, one operation
        outcome=outcome,
        amount=Decimal(amount) if amount is not None else None,
        currency=currency,
        code=f"{code:04d}" if code is not None else "",
        method="bizum" if processed == BIZUM_PROCESSED else "",
    )
