"""The VERI*FACTU "QR tributario" URL, checked against the AEAT specification.

portalgen never mints these: the invoicing program that registered the invoice with the
AEAT exports the URL and portalgen reproduces it. This module only parses and checks it
(AEAT, "Detalle de las especificaciones técnicas del código QR", v0.4.7, §5-§6).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

Mode = Literal["verifactu", "no_verifactu"]
Environment = Literal["production", "test"]

ENDPOINTS: dict[tuple[str, str], tuple[Mode, Environment]] = {
    ("www2.agenciatributaria.gob.es", "/wlpl/TIKE-CONT/ValidarQR"): ("verifactu", "production"),
    ("prewww2.aeat.es", "/wlpl/TIKE-CONT/ValidarQR"): ("verifactu", "test"),
    ("www2.agenciatributaria.gob.es", "/wlpl/TIKE-CONT/ValidarQRNoVerifactu"): (
        "no_verifactu",
        "production",
    ),
    ("prewww2.aeat.es", "/wlpl/TIKE-CONT/ValidarQRNoVerifactu"): ("no_verifactu", "test"),
}
PARAMETERS = ("nif", "numserie", "fecha", "importe")
_AMOUNT = re.compile(r"^-?\d{1,12}(\.\d{1,2})?$")
_DATE = re.compile(r"^(\d{2})-(\d{2})-(\d{4})$")


@dataclass(frozen=True)
class QrUrl:
    url: str
    mode: Mode
    environment: Environment
    nif: str
    numserie: str
    fecha: date
    importe: Decimal

    @property
    def legend(self) -> str:
        """The text printed below the QR: only systems in VERI*FACTU mode carry it."""
        return "VERI*FACTU" if self.mode == "verifactu" else ""


class QrUrlError(ValueError):
    pass


def parse_qr_url(url: str) -> QrUrl:
    """Parse and check a QR URL; raises QrUrlError naming what breaks the specification."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https":
        raise QrUrlError("the QR URL must start with https://")
    endpoint = ENDPOINTS.get((parts.hostname or "", parts.path))
    if endpoint is None:
        raise QrUrlError(
            "the QR URL must point at an AEAT ValidarQR or ValidarQRNoVerifactu endpoint, "
            f"found {parts.netloc}{parts.path}"
        )
    _check_encoding(parts.query)
    try:
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise QrUrlError("the QR URL query string is malformed") from None
    names = [name for name, _ in pairs]
    if "formato" in names:
        raise QrUrlError("the printed QR URL must not carry formato=json")
    if sorted(names) != sorted(PARAMETERS) or len(names) != len(set(names)):
        raise QrUrlError(
            "the QR URL must have exactly the parameters nif, numserie, fecha and importe, "
            f"found {', '.join(names) or 'none'}"
        )
    values = dict(pairs)
    nif = values["nif"]
    if len(nif) != 9:
        raise QrUrlError(f"nif must have 9 characters, found {nif!r}")
    numserie = values["numserie"]
    if not numserie or len(numserie) > 60 or any(not 32 <= ord(c) <= 126 for c in numserie):
        raise QrUrlError("numserie must be 1-60 printable ASCII characters")
    match = _DATE.match(values["fecha"])
    if not match:
        raise QrUrlError(f"fecha must be DD-MM-YYYY, found {values['fecha']!r}")
    day, month, year = (int(g) for g in match.groups())
    try:
        fecha = date(year, month, day)
    except ValueError:
        raise QrUrlError(f"fecha is not a real date: {values['fecha']!r}") from None
    if not _AMOUNT.match(values["importe"]):
        raise QrUrlError(
            "importe must be a number with a dot and at most 2 decimals, "
            f"found {values['importe']!r}"
        )
    mode, environment = endpoint
    return QrUrl(url.strip(), mode, environment, nif, numserie, fecha, Decimal(values["importe"]))


def _check_encoding(query: str) -> None:
    """Reserved characters inside values must be percent-encoded (AEAT's own example)."""
    for chunk in query.split("&"):
        name, _, value = chunk.partition("=")
        if name == "formato":
            raise QrUrlError("the printed QR URL must not carry formato=json")
        if not _:
            raise QrUrlError(
                f"a value in the QR URL is not URL-encoded (an & inside numserie?): {chunk!r}"
            )
        if name not in PARAMETERS:
            raise QrUrlError(f"the QR URL has an unexpected parameter {name!r}")
        if "=" in value or " " in value:
            raise QrUrlError(f"the value of {name} in the QR URL is not URL-encoded")
