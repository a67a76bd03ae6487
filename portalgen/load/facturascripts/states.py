"""FacturaScripts document states (estados_documentos) and payment methods → the model's.

A state is read by its own flags, as FacturaScripts acts on them, whatever its name or
language: an ``editable`` state is open; one that ``generadoc`` (generates a document)
means the quote was accepted, or the order shipped (``AlbaranCliente``) or delivered
(another document). Only states that are neither — closed without a document — need
their name, to tell a rejected quote from an expired one; names are matched in every
language FacturaScripts ships states in (``Core/Data/Lang/ES`` and ``eu_ES``) and a few
common ones, accents and case ignored. ``idestado`` 23 is FacturaScripts' own expired
state (``ListPresupuestoCliente::setExpiredItems`` prefers it). Any other closed state
reads as rejected (quote) or cancelled (order), with a warning.

| document | flags                    | names (closed states; open orders)        | status         |
|----------|--------------------------|-------------------------------------------|----------------|
| quote    | editable                 |                                           | pending        |
| quote    | generadoc set            |                                           | accepted       |
| quote    | neither                  | Caducado, Denbora muga, Expired; id 23    | expired        |
| quote    | neither                  | Rechazado, Cancelado, Baztertua, Rejected | rejected       |
| order    | editable                 | En preparación, Preparing                 | in_preparation |
| order    | editable                 |                                           | received       |
| order    | generadoc AlbaranCliente |                                           | shipped        |
| order    | other generadoc          |                                           | delivered      |
| order    | neither                  | Cancelado, Bertan behera, Cancelled       | cancelled      |
"""

from __future__ import annotations

import unicodedata
from typing import Any

from portalgen.domain.model import OrderStatus, PaymentMethod, QuoteStatus

EXPIRED_STATE = 23  # Core/Data/Lang/ES/estados_documentos.csv: PresupuestoCliente "Caducado"

QUOTE_NAMES: dict[str, QuoteStatus] = {
    # Spanish (Core/Data/Lang/ES) and Basque (Core/Data/Lang/eu_ES), then common names.
    "abierto": "pending",
    "berria": "pending",
    "pendiente": "pending",
    "open": "pending",
    "pending": "pending",
    "pedido": "accepted",
    "facturar": "accepted",
    "onartua": "accepted",
    "sartu": "accepted",
    "aceptado": "accepted",
    "aprobado": "accepted",
    "accepted": "accepted",
    "rechazado": "rejected",
    "cancelado": "rejected",
    "baztertua": "rejected",
    "bertan behera": "rejected",
    "rejected": "rejected",
    "declined": "rejected",
    "cancelled": "rejected",
    "canceled": "rejected",
    "caducado": "expired",
    "vencido": "expired",
    "denbora muga": "expired",
    "iraungia": "expired",
    "expired": "expired",
}

ORDER_NAMES: dict[str, OrderStatus] = {
    "abierto": "received",
    "berria": "received",
    "pendiente": "received",
    "open": "received",
    "received": "received",
    "en preparacion": "in_preparation",
    "preparando": "in_preparation",
    "preparing": "in_preparation",
    "in preparation": "in_preparation",
    "albaran": "shipped",
    "onartua": "shipped",
    "enviado": "shipped",
    "shipped": "shipped",
    "facturar": "delivered",
    "sartu": "delivered",
    "entregado": "delivered",
    "servido": "delivered",
    "delivered": "delivered",
    "cancelado": "cancelled",
    "rechazado": "cancelled",
    "bertan behera": "cancelled",
    "baztertua": "cancelled",
    "cancelled": "cancelled",
    "canceled": "cancelled",
}


def plain_name(name: str) -> str:
    """``Albarán`` → ``albaran``: names compare without accents or case."""
    decomposed = unicodedata.normalize("NFKD", name.strip().lower())
    text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return text.split("(")[0].strip()


def quote_status(state: dict[str, Any]) -> tuple[QuoteStatus, bool]:
    """The status for a state row, and whether the mapping was a guess (to warn about)."""
    if state.get("editable"):
        return "pending", False
    if state.get("generadoc"):
        return "accepted", False
    known = QUOTE_NAMES.get(plain_name(str(state.get("nombre") or "")))
    if known:
        return known, False
    if state.get("idestado") == EXPIRED_STATE:
        return "expired", False
    return "rejected", True


def order_status(state: dict[str, Any]) -> tuple[OrderStatus, bool]:
    generates = str(state.get("generadoc") or "")
    if generates == "AlbaranCliente":
        return "shipped", False
    if generates:
        return "delivered", False
    known = ORDER_NAMES.get(plain_name(str(state.get("nombre") or "")))
    if state.get("editable"):
        return ("in_preparation" if known == "in_preparation" else "received"), False
    if known:
        return known, False
    return "cancelled", True


def payment_method(codpago: str, forma: dict[str, Any] | None) -> PaymentMethod:
    """From the payment method's row in formaspago (or, without it, its code)."""
    if not codpago:
        return ""
    if forma is not None and forma.get("domiciliado"):
        return "direct_debit"
    text = plain_name(f"{codpago} {(forma or {}).get('descripcion') or ''}")
    for words, method in (
        (("domicil", "recibo", "sepa", "debit"), "direct_debit"),
        (("transf", "trans"), "transfer"),
        (("tarjeta", "card", "tpv", "visa"), "card"),
        (("contado", "efectivo", "cash", "cont"), "cash"),
        (("cheque", "pagare"), "cheque"),
    ):
        if any(word in text for word in words):
            return method  # type: ignore[return-value]
    return "other"
