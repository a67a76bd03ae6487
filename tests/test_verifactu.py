"""The VERI*FACTU QR URL against the AEAT specification's own examples."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portalgen.domain.verifactu import QrUrlError, parse_qr_url

AEAT_TEST = "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR?nif=89890001K&numserie=12345678%26G33&fecha=01-01-2024&importe=241.4"
AEAT_PROD = "https://www2.agenciatributaria.gob.es/wlpl/TIKE-CONT/ValidarQR?nif=89890001K&numserie=12345678-G33&fecha=01-09-2024&importe=241.4"


def test_the_aeat_examples_are_valid() -> None:
    qr = parse_qr_url(AEAT_TEST)
    assert (qr.mode, qr.environment, qr.numserie, qr.fecha, qr.importe) == (
        "verifactu",
        "test",
        "12345678&G33",
        date(2024, 1, 1),
        Decimal("241.4"),
    )
    assert qr.legend == "VERI*FACTU"
    prod = parse_qr_url(AEAT_PROD)
    assert prod.environment == "production"
    no_vf = parse_qr_url(AEAT_PROD.replace("ValidarQR?", "ValidarQRNoVerifactu?"))
    assert (no_vf.mode, no_vf.legend) == ("no_verifactu", "")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (AEAT_PROD.replace("https", "http"), "https"),
        (AEAT_PROD.replace("www2.agenciatributaria.gob.es", "evil.example"), "AEAT"),
        (AEAT_TEST.replace("%26", "&"), "not URL-encoded"),
        (AEAT_PROD + "&formato=json", "formato"),
        (AEAT_PROD.replace("&importe=241.4", ""), "exactly the parameters"),
        (AEAT_PROD.replace("importe=241.4", "importe=241,40"), "importe"),
        (AEAT_PROD.replace("01-09-2024", "2024-09-01"), "DD-MM-YYYY"),
        (AEAT_PROD.replace("01-09-2024", "31-02-2024"), "not a real date"),
        (AEAT_PROD.replace("89890001K", "8989"), "9 characters"),
    ],
)
def test_urls_that_break_the_specification(url: str, message: str) -> None:
    with pytest.raises(QrUrlError, match=message):
        parse_qr_url(url)
