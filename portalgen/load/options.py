"""What loading needs to know besides the files: defaults from the configuration and today."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portalgen.config import Settings


@dataclass(frozen=True)
class LoadOptions:
    currency: str = "EUR"  # for documents that do not name theirs
    today: date = field(default_factory=date.today)
    strict: bool = False  # warnings count as errors
    company_tax_id: str = ""  # the NIF a VERI*FACTU QR must carry
    allow_test_verifactu: bool = False  # accept QR URLs of the AEAT test environment
    # Where PDFs embedded in e-invoices are written (content-addressed); None: a folder
    # under the system's temporary directory (see portalgen.load.einvoice).
    cache_dir: Path | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, *, strict: bool = False, today: date | None = None
    ) -> LoadOptions:
        return cls(
            currency=settings.currency,
            today=today or settings.today(),
            strict=strict,
            company_tax_id=settings.company.tax_id,
            allow_test_verifactu=settings.verifactu.allow_test_endpoint,
            cache_dir=settings.publish.cache_dir / "originals",
        )
