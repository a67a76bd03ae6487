"""The demo's fictitious company: its identity and the configuration that goes with it."""

from __future__ import annotations

COMPANY_CIF = "B98765431"  # check digit valid; the company is fictitious
COMPANY_IBAN = "ES9121000418450200051332"
MAIL_DOMAIN = "suministros-levante.example"
QR_TEST_ENDPOINT = "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR"


DEMO_CONFIG = """\
# portalgen configuration for the demo data (see config.example.yaml for every key).
company:
  name: Suministros Levante
  legal_name: "Suministros y Servicios Levante, S.L."
  tax_id: {cif}
  address: |
    Polígono Industrial Fuente del Jarro, Calle Ciudad de Sevilla 14
    46988 Paterna (Valencia)
  email: administracion@{domain}
  phone: "+34 961 000 000"
  website: https://www.{domain}
  legal_footer: "Inscrita en el Registro Mercantil de Valencia, Tomo 1234, Folio 56, Hoja V-78901."
locale: es_ES
currency: EUR
timezone: Europe/Madrid
payments:
  iban: {iban}
  bic: CAIXESBBXXX
  terms: "Transferencia bancaria indicando el número de factura."
verifactu:
  # The demo's QR codes point at the AEAT test environment: they are not real registrations.
  allow_test_endpoint: true
storage:
  url: site
gate:
  base_url: http://127.0.0.1:8000
"""


def demo_config_text() -> str:
    return DEMO_CONFIG.format(cif=COMPANY_CIF, iban=COMPANY_IBAN, domain=MAIL_DOMAIN)
