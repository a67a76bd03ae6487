"""FacturaScripts document states (estados_documentos) and payment methods → the model's.

States are matched by name first (the Spanish and English names FacturaScripts ships,
accents and case ignored), then, for names a business made up, by the state's flags:

| document | name                                  | flags                       | status          |
|----------|---------------------------------------|-----------------------------|-----------------|
| quote    | Abierto, Pendiente, Open              | editable                    | pending         |
| quote    | Pedido, Facturar, Aceptado, Accepted  | generadoc set               | accepted        |
| quote    | Rechazado, Cancelado, Rejected        | neither (ambiguous: warned) | rejected        |
| quote    | Caducado, Expired                     |                             | expired         |
| order    | Abierto, Pendiente, Open              | editable                    | received        |
| order    | En preparación, Preparing             |                             | in_preparation  |
| order    | Albarán, Enviado, Shipped             | generadoc AlbaranCliente    | shipped         |
| order    | Facturar, Entregado, Servido          | generadoc FacturaCliente    | delivered       |
| order    | Cancelado, Rechazado, Cancelled       | neither (ambiguous: warned) | cancelled       |
"""

from __future__ import annotations

import unicodedata
from typing import Any

from portalgen.model import OrderStatus, PaymentMethod, QuoteStatus

QUOTE_NAMES: dict[str, QuoteStatus] = {
    "abierto": "pending",
    "pendiente": "pending",
    "open": "pending",
    "pending": "pending",
    "pedido": "accepted",
    "facturar": "accepted",
    "aceptado": "accepted",
    "aprobado": "accepted",
    "accepted": "accepted",
    "rechazado": "rejected",
    "cancelado": "rejected",
    "rejected": "rejected",
    "caducado": "expired",
    "expired": "expired",
}

ORDER_NAMES: dict[str, OrderStatus] = {
    "abierto": "received",
    "pendiente": "received",
    "open": "received",
    "received": "received",
    "en preparacion": "in_preparation",
    "preparando": "in_preparation",
    "preparing": "in_preparation",
    "albaran": "shipped",
    "enviado": "shipped",
    "shipped": "shipped",
    "facturar": "delivered",
    "entregado": "delivered",
    "servido": "delivered",
    "delivered": "delivered",
    "cancelado": "cancelled",
    "rechazado": "cancelled",
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
    known = QUOTE_NAMES.get(plain_name(str(state.get("nombre") or "")))
    if known:
        return known, False
    if state.get("editable"):
        return "pending", False
    if state.get("generadoc"):
        return "accepted", False
    return "rejected", True


def order_status(state: dict[str, Any]) -> tuple[OrderStatus, bool]:
    known = ORDER_NAMES.get(plain_name(str(state.get("nombre") or "")))
    if known:
        return known, False
    if state.get("editable"):
        return "received", False
    generates = str(state.get("generadoc") or "")
    if generates == "AlbaranCliente":
        return "shipped", False
    if generates:
        return "delivered", False
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
