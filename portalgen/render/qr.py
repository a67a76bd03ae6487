"""QR codes with segno: the VERI*FACTU "QR tributario" and the SEPA (EPC) scan-to-pay code.

portalgen never invents a VERI*FACTU QR: it reproduces the URL the invoicing program
registered (checked by portalgen.domain.verifactu). Symbols are inline SVG (vector in PDFs, no
extra file or data: URL in pages), sized in millimetres.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal

import segno
import segno.helpers
from markupsafe import Markup, escape

from portalgen.config import Settings
from portalgen.domain.identifiers import compact
from portalgen.domain.model import Money
from portalgen.domain.verifactu import parse_qr_url

VERIFACTU_SYMBOL_MM = 32  # the symbol itself, quiet zone excluded (AEAT: 30-40 mm)
EPC_SYMBOL_MM = 34
QUIET_ZONE = 4  # modules: about 2.5 mm here, above the AEAT's 2 mm minimum
EPC_MAX = Decimal("999999999.99")


# Encoding costs tens of milliseconds (mask selection): a page and its PDF share the result.
@functools.lru_cache(maxsize=4096)
def _verifactu_code(url: str) -> segno.QRCode:
    return segno.make_qr(url, error="m", boost_error=False)


@functools.lru_cache(maxsize=4096)
def _verifactu_svg(url: str, label: str) -> Markup:
    return qr_svg(_verifactu_code(url), VERIFACTU_SYMBOL_MM, label)


def qr_svg(code: segno.QRCode, symbol_mm: float, label: str) -> Markup:
    """`code` as inline SVG whose symbol (without quiet zone) is `symbol_mm` wide."""
    modules = code.symbol_size(scale=1, border=0)[0]
    side = f"{symbol_mm * (modules + 2 * QUIET_ZONE) / modules:.2f}mm"
    svg = code.svg_inline(scale=1, border=QUIET_ZONE, omitsize=True, svgclass="qr")
    attributes = f'<svg width="{side}" height="{side}" role="img" aria-label="{escape(label)}" '
    # segno's SVG has no text from the data (the payload is drawn, not written) and the
    # label is escaped above.
    return Markup(svg.replace("<svg ", attributes, 1))  # noqa: S704


def qr_img(code: segno.QRCode, symbol_mm: float, label: str) -> Markup:
    """`code` as a PNG image (one pixel per module, drawn without smoothing) for PDFs.

    WeasyPrint draws an image about 10 ms faster than the same code as an SVG path, and
    printed it is just as sharp (the PDF tells viewers not to interpolate it).
    """
    modules = code.symbol_size(scale=1, border=0)[0]
    side = f"{symbol_mm * (modules + 2 * QUIET_ZONE) / modules:.2f}mm"
    uri = code.png_data_uri(scale=1, border=QUIET_ZONE)
    return Markup(  # noqa: S704 - a data: URI of segno's PNG and an escaped label
        f'<img class="qr" src="{uri}" alt="{escape(label)}" '
        f'style="width: {side}; height: {side}; image-rendering: pixelated">'
    )


@dataclass(frozen=True)
class VerifactuQr:
    url: str
    legend: str  # "VERI*FACTU" for systems in VERI*FACTU mode, else ""

    def svg(self, label: str) -> Markup:
        return _verifactu_svg(self.url, label)

    def img(self, label: str) -> Markup:
        return qr_img(_verifactu_code(self.url), VERIFACTU_SYMBOL_MM, label)


@functools.lru_cache(maxsize=4096)
def verifactu_qr(url: str) -> VerifactuQr | None:
    """The invoice's registered QR, or None when the export carries none."""
    if not url:
        return None
    parsed = parse_qr_url(url)  # validated at load time; the legend follows the endpoint
    return VerifactuQr(parsed.url, parsed.legend)


@dataclass(frozen=True)
class EpcQr:
    name: str
    iban: str
    bic: str
    amount: Decimal
    text: str

    def code(self) -> segno.QRCode:
        return _epc_code(self)

    def svg(self, label: str) -> Markup:
        return _epc_svg(self, label)

    def img(self, label: str) -> Markup:
        return qr_img(_epc_code(self), EPC_SYMBOL_MM, label)


@functools.lru_cache(maxsize=4096)
def _epc_code(epc: EpcQr) -> segno.QRCode:
    return segno.helpers.make_epc_qr(
        name=epc.name, iban=epc.iban, amount=epc.amount, text=epc.text, bic=epc.bic or None
    )


@functools.lru_cache(maxsize=4096)
def _epc_svg(epc: EpcQr, label: str) -> Markup:
    return qr_svg(_epc_code(epc), EPC_SYMBOL_MM, label)


def epc_qr(settings: Settings, amount: Money, invoice_number: str) -> EpcQr | None:
    """The SEPA credit-transfer QR for paying `amount`, when the business takes transfers.

    None without an IBAN, with ``payments.epc_qr: false``, for another currency than EUR
    (the EPC code is euro-only) or for an amount outside what the code can carry.
    """
    pay = settings.payments
    if not pay.iban or not pay.epc_qr or amount.currency != "EUR":
        return None
    if not Decimal("0.01") <= amount.amount <= EPC_MAX:
        return None
    bic = compact(pay.bic)
    name = (pay.beneficiary or settings.company.display_legal_name)[:70]
    return EpcQr(
        name=name,
        iban=compact(pay.iban),
        bic=bic if len(bic) in (8, 11) else "",
        amount=amount.amount,
        text=invoice_number[:140],
    )
