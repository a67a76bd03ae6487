"""The settings: one frozen dataclass per section of config.yaml, each field a key with
its type, default and check (values.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from portalgen.config.values import (
    check,
    check_clamd,
    check_color,
    check_currency,
    check_iban,
    check_locale,
    check_not_negative,
    check_optional_url,
    check_positive,
    check_storage_url,
    check_tax_id,
    check_timezone,
    check_url,
)
from portalgen.errors import ConfigError


@dataclass(frozen=True)
class ExportSettings:
    path: Path | None = None
    format: str = ""


@dataclass(frozen=True)
class CompanySettings:
    name: str = "Mi Empresa"
    legal_name: str = ""
    tax_id: str = field(default="", metadata=check(check_tax_id))
    address: str = ""
    email: str = ""
    phone: str = ""
    website: str = ""
    logo: Path | None = None
    legal_footer: str = ""

    @property
    def display_legal_name(self) -> str:
        return self.legal_name or self.name


@dataclass(frozen=True)
class ThemeSettings:
    path: Path | None = None
    primary_color: str = field(default="#1e40af", metadata=check(check_color))
    accent_color: str = field(default="#0f766e", metadata=check(check_color))
    font_family: str = (
        "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
    )


@dataclass(frozen=True)
class SectionSettings:
    quotes: bool = True
    orders: bool = True
    delivery_notes: bool = True
    invoices: bool = True
    payments: bool = True
    documents: bool = True


@dataclass(frozen=True)
class AcceptanceSettings:
    # typed: the customer types their full name; drawn: they also draw a signature
    signature: Literal["typed", "drawn"] = "typed"


@dataclass(frozen=True)
class PortalSettings:
    sections: SectionSettings = SectionSettings()
    pdf: Literal["original", "render"] = "original"
    quote_terms: str = ""
    acceptance: AcceptanceSettings = AcceptanceSettings()
    latest_documents: int = field(default=8, metadata=check(check_positive))


def _check_merchant_code(value: str) -> None:
    if not re.fullmatch(r"\d{1,9}", value):
        raise ValueError(f"expected Redsys' merchant code (FUC), up to 9 digits, found {value!r}")


def _check_terminal(value: str) -> None:
    if not re.fullmatch(r"\d{1,3}", value) or int(value) < 1:
        raise ValueError(f"expected a terminal number from 1 to 999, found {value!r}")


def _check_env_name(value: str) -> None:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        raise ValueError(f"expected the name of an environment variable, found {value!r}")


def _methods_check(allowed: tuple[str, ...]) -> Any:
    def check_methods(value: tuple[str, ...]) -> None:
        wrong = [m for m in value if m not in allowed]
        if wrong or not value or len(set(value)) != len(value):
            listed = ", ".join(allowed)
            raise ValueError(f"expected one or more of {listed} (each once), found {list(value)}")

    return check(check_methods)


@dataclass(frozen=True)
class RedsysSettings:
    """payments.online.redsys: a Redsys virtual terminal (TPV virtual), docs/payments.md."""

    merchant_code: str = field(default="", metadata=check(_check_merchant_code))
    terminal: str = field(default="1", metadata=check(_check_terminal))
    secret_key_env: str = field(default="PORTALGEN_REDSYS_KEY", metadata=check(_check_env_name))
    environment: Literal["test", "production"] = "test"
    methods: tuple[str, ...] = field(default=("card",), metadata=_methods_check(("card", "bizum")))

    def __post_init__(self) -> None:
        if not self.merchant_code:
            raise ConfigError(
                "payments.online.redsys.merchant_code: required (the merchant code, FUC, "
                "Redsys gave the business)"
            )


@dataclass(frozen=True)
class StripeSettings:
    """payments.online.stripe: Stripe Checkout, docs/payments.md."""

    secret_key_env: str = field(default="PORTALGEN_STRIPE_KEY", metadata=check(_check_env_name))
    webhook_secret_env: str = field(
        default="PORTALGEN_STRIPE_WEBHOOK_SECRET", metadata=check(_check_env_name)
    )
    methods: tuple[str, ...] = field(
        default=("card",), metadata=_methods_check(("card", "sepa_debit"))
    )


@dataclass(frozen=True)
class OnlinePaymentSettings:
    """payments.online: either provider, both or none (a provider left out is not offered)."""

    redsys: RedsysSettings | None = None
    stripe: StripeSettings | None = None

    @property
    def methods(self) -> tuple[tuple[str, str], ...]:
        """(provider, method) pairs the portal offers, in the configuration's order."""
        pairs: list[tuple[str, str]] = []
        if self.redsys is not None:
            pairs += [("redsys", m) for m in self.redsys.methods]
        if self.stripe is not None:
            pairs += [("stripe", m) for m in self.stripe.methods]
        return tuple(pairs)


@dataclass(frozen=True)
class UploadSettings:
    """Proofs of payment customers upload on an unpaid invoice (docs/payments.md)."""

    enabled: bool = True
    clamd: str = field(default="", metadata=check(check_clamd))  # "": not scanned


@dataclass(frozen=True)
class PaymentSettings:
    iban: str = field(default="", metadata=check(check_iban))
    bic: str = ""
    beneficiary: str = ""
    epc_qr: bool = True
    pay_online_url: str = ""
    terms: str = ""
    online: OnlinePaymentSettings = OnlinePaymentSettings()


@dataclass(frozen=True)
class VerifactuSettings:
    allow_test_endpoint: bool = False


@dataclass(frozen=True)
class SigningSettings:
    """The company's seal: every PDF portalgen renders is sealed (PAdES) when set."""

    certificate: Path | None = None  # PKCS#12 (.p12/.pfx): the seal or representative certificate
    password_env: str = "PORTALGEN_SEAL_PASSWORD"  # noqa: S105 - a variable name
    timestamp_url: str = field(default="", metadata=check(check_optional_url))
    originals: bool = False  # also seal the invoicing program's own PDFs


@dataclass(frozen=True)
class VerifySettings:
    """How long `/verify` recognises a document once it is no longer published."""

    retention: timedelta = timedelta(days=2190)  # six years (Código de Comercio, art. 30)


@dataclass(frozen=True)
class StorageSettings:
    url: str = field(default="site", metadata=check(check_storage_url))
    endpoint_url: str = field(default="", metadata=check(check_optional_url))
    # where customers' browsers reach the same service, when the gate uses an internal
    # endpoint_url: presigned download URLs are signed for this host
    public_endpoint_url: str = field(default="", metadata=check(check_optional_url))
    region: str = ""
    server_side_encryption: Literal["", "AES256", "aws:kms"] = ""
    kms_key_id: str = ""


@dataclass(frozen=True)
class GateSettings:
    base_url: str = field(default="http://127.0.0.1:8000", metadata=check(check_url))
    link_max_age: timedelta = timedelta(days=30)
    session_idle: timedelta = timedelta(hours=12)
    code_attempts: int = field(default=5, metadata=check(check_positive))
    code_lockout: timedelta = timedelta(minutes=15)
    session_max_age: timedelta = timedelta(days=7)
    link_resend_interval: timedelta = timedelta(minutes=10)
    presigned_url_expiry: timedelta = timedelta(seconds=60)
    # Proxies in front of the gate whose X-Forwarded-For is trusted (0: none, the header
    # is ignored). The client's address keys the rate limits and the audit's ip_hash.
    trusted_proxies: int = field(default=0, metadata=check(check_not_negative))
    access_log: bool = True  # one JSON line per request on stderr (gate/access_log.py)


@dataclass(frozen=True)
class PublishSettings:
    jobs: int = 0  # 0: one per CPU
    upload_threads: int = field(default=8, metadata=check(check_positive))
    cache_dir: Path = Path(".portalgen-cache")
    gc_grace: timedelta = timedelta(hours=1)


def _check_port(value: int) -> None:
    if not 1 <= value <= 65535:
        raise ValueError(f"expected a port number from 1 to 65535, found {value}")


def _check_address(value: str) -> None:
    """An email address, optionally with a display name: ``Mi Empresa <f@example.es>``."""
    if value and not re.fullmatch(r"(?:[^<>@]*<[^<>@\s]+@[^<>@\s]+>|[^<>@\s]+@[^<>@\s]+)", value):
        raise ValueError(f"expected an email address like facturas@example.es, found {value!r}")


def _check_addresses(value: str) -> None:
    for part in value.split(","):
        if part.strip():
            _check_address(part.strip())


def _check_reminders(value: tuple[int, ...]) -> None:
    if len(set(value)) != len(value):
        raise ValueError(f"each day may appear once, found {list(value)}")
    if any(not -90 <= day <= 365 for day in value):
        raise ValueError(
            f"expected days from -90 to 365 relative to the due date, found {list(value)}"
        )


@dataclass(frozen=True)
class MailSettings:
    backend: Literal["none", "smtp", "ses"] = "none"
    host: str = "localhost"
    port: int = field(default=587, metadata=check(_check_port))
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str = ""
    password_env: str = "PORTALGEN_SMTP_PASSWORD"  # noqa: S105 - a variable name
    ca_file: Path | None = None
    timeout: timedelta = timedelta(seconds=30)
    ses_region: str = ""
    ses_configuration_set: str = ""
    from_address: str = field(default="", metadata=check(_check_address))
    reply_to: str = field(default="", metadata=check(_check_address))
    staff_address: str = field(default="", metadata=check(_check_addresses))
    # a customer's actions this soon after a staff notice wait and go together (0: no wait)
    staff_batch: timedelta = timedelta(minutes=5)
    reminders: tuple[int, ...] = field(default=(-3, 0, 7, 30), metadata=check(_check_reminders))
    outbox: Path = Path("outbox")


@dataclass(frozen=True)
class AuditSettings:
    path: Path = Path("audit.jsonl")
    webhook_url: str = field(default="", metadata=check(check_optional_url))
    webhook_secret_env: str = "PORTALGEN_WEBHOOK_SECRET"  # noqa: S105 - a variable name

    @property
    def segments(self) -> Path:
        """The folder of the log's closed segments (portalgen.audit.segments.archive_dir)."""
        path = self.path
        return path.with_name(path.stem) if path.suffix else path.with_name(path.name + ".d")


def _check_state_id(value: int) -> None:
    if value < 0:
        raise ValueError(f"expected a state id (idestado) or 0 to find it, found {value}")


@dataclass(frozen=True)
class FacturaScriptsSettings:
    url: str = field(default="", metadata=check(check_optional_url))
    token_env: str = "FACTURASCRIPTS_API_TOKEN"  # noqa: S105 - a variable name
    push: bool = False
    push_comments: bool = True
    accepted_state: int = field(default=0, metadata=check(_check_state_id))
    rejected_state: int = field(default=0, metadata=check(_check_state_id))
    online_payment_method: str = ""


@dataclass(frozen=True)
class Settings:
    company: CompanySettings = CompanySettings()
    export: ExportSettings = ExportSettings()
    locale: str = field(default="es_ES", metadata=check(check_locale))
    currency: str = field(default="EUR", metadata=check(check_currency))
    timezone: str = field(default="Europe/Madrid", metadata=check(check_timezone))
    theme: ThemeSettings = ThemeSettings()
    portal: PortalSettings = PortalSettings()
    payments: PaymentSettings = PaymentSettings()
    uploads: UploadSettings = UploadSettings()
    verifactu: VerifactuSettings = VerifactuSettings()
    signing: SigningSettings = SigningSettings()
    verify: VerifySettings = VerifySettings()
    storage: StorageSettings = StorageSettings()
    gate: GateSettings = GateSettings()
    publish: PublishSettings = PublishSettings()
    mail: MailSettings = MailSettings()
    audit: AuditSettings = AuditSettings()
    facturascripts: FacturaScriptsSettings = FacturaScriptsSettings()
    secret_file: Path = Path("secret.key")
    # Not keys: where the settings came from.
    config_path: Path | None = field(default=None, metadata={"internal": True})
    base_dir: Path = field(default=Path("."), metadata={"internal": True})

    @property
    def language(self) -> str:
        return self.locale.split("_")[0]

    def today(self) -> date:
        """Today where the business is (decides what is overdue or expired)."""
        return datetime.now(ZoneInfo(self.timezone)).date()

    def storage_location(self) -> str:
        """The storage URL with a local folder made absolute: ``file:///...`` or ``s3://...``."""
        url = self.storage.url
        if url.startswith("s3://"):
            return url
        folder = Path(url.removeprefix("file://"))
        return (self.base_dir / folder).resolve().as_uri()
