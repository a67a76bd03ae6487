"""Settings: config.yaml merged over defaults, checked key by key, frozen.

Every key is a field of one of the dataclasses below, with its type and default; the
loader walks them, so an unknown key or a bad value is an error naming the key
(``gate.link_max_age: expected a duration like 30d or 12h, found 'soon'``).
config.example.yaml documents every key; a test keeps the two in step.

Secrets never live here: see portalgen.access.secret.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from portalgen.errors import ConfigError

CONFIG_ENV = "PORTALGEN_CONFIG"

# -- value types with their own parsing ------------------------------------------------------

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: Any) -> timedelta:
    """``30d``, ``12h``, ``15m``, ``90s``, ``2w``; a bare number is seconds."""
    if isinstance(value, int) and not isinstance(value, bool):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"expected a duration like 30d, 12h or 15m, found {value!r}")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _check_color(value: str) -> None:
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
        raise ValueError(f"expected a colour like #1d4ed8, found {value!r}")


def _check_locale(value: str) -> None:
    # The checks import what they need (Babel, the readers, python-stdnum) only when the
    # key is set: the gate on AWS Lambda loads settings at every cold start.
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(value)
    except (UnknownLocaleError, ValueError):
        raise ValueError(f"expected a locale like es_ES or en_GB, found {value!r}") from None


def _check_currency(value: str) -> None:
    from portalgen.domain.formatting import is_currency_code

    if not is_currency_code(value.upper()):
        raise ValueError(f"expected an ISO 4217 currency code like EUR, found {value!r}")


def _check_timezone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"expected a time zone like Europe/Madrid, found {value!r}") from None


def _check_iban(value: str) -> None:
    from portalgen.domain.identifiers import iban_problem

    if value and (problem := iban_problem(value)):
        raise ValueError(problem)


def _check_tax_id(value: str) -> None:
    from portalgen.domain.identifiers import tax_id_problem

    if value and (problem := tax_id_problem(value)):
        raise ValueError(problem)


def _check_url(value: str) -> None:
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        raise ValueError(f"expected a URL starting with http:// or https://, found {value!r}")


def _check_optional_url(value: str) -> None:
    if value:
        _check_url(value)


def _check_positive(value: int) -> None:
    if value < 1:
        raise ValueError(f"expected a number of at least 1, found {value}")


def _check_not_negative(value: int) -> None:
    if value < 0:
        raise ValueError(f"expected a number of at least 0, found {value}")


def _check_storage_url(value: str) -> None:
    if value.startswith("s3://"):
        if not re.fullmatch(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\s]*)?", value):
            raise ValueError(
                f"expected s3://bucket/prefix with a valid bucket name, found {value!r}"
            )
    elif "://" in value and not value.startswith("file://"):
        raise ValueError(f"expected a folder, file://path or s3://bucket/prefix, found {value!r}")


def check(fn: Any) -> Any:
    return {"check": fn}


# -- the settings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportSettings:
    path: Path | None = None
    format: str = ""


@dataclass(frozen=True)
class CompanySettings:
    name: str = "Mi Empresa"
    legal_name: str = ""
    tax_id: str = field(default="", metadata=check(_check_tax_id))
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
    primary_color: str = field(default="#1e40af", metadata=check(_check_color))
    accent_color: str = field(default="#0f766e", metadata=check(_check_color))
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
    latest_documents: int = field(default=8, metadata=check(_check_positive))


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
class PaymentSettings:
    iban: str = field(default="", metadata=check(_check_iban))
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
    timestamp_url: str = field(default="", metadata=check(_check_optional_url))
    originals: bool = False  # also seal the invoicing program's own PDFs


@dataclass(frozen=True)
class VerifySettings:
    """How long `/verify` recognises a document once it is no longer published."""

    retention: timedelta = timedelta(days=2190)  # six years (Código de Comercio, art. 30)


@dataclass(frozen=True)
class StorageSettings:
    url: str = field(default="site", metadata=check(_check_storage_url))
    endpoint_url: str = field(default="", metadata=check(_check_optional_url))
    # where customers' browsers reach the same service, when the gate uses an internal
    # endpoint_url: presigned download URLs are signed for this host
    public_endpoint_url: str = field(default="", metadata=check(_check_optional_url))
    region: str = ""
    server_side_encryption: Literal["", "AES256", "aws:kms"] = ""
    kms_key_id: str = ""


@dataclass(frozen=True)
class GateSettings:
    base_url: str = field(default="http://127.0.0.1:8000", metadata=check(_check_url))
    link_max_age: timedelta = timedelta(days=30)
    session_idle: timedelta = timedelta(hours=12)
    code_attempts: int = field(default=5, metadata=check(_check_positive))
    code_lockout: timedelta = timedelta(minutes=15)
    session_max_age: timedelta = timedelta(days=7)
    link_resend_interval: timedelta = timedelta(minutes=10)
    presigned_url_expiry: timedelta = timedelta(seconds=60)
    # Proxies in front of the gate whose X-Forwarded-For is trusted (0: none, the header
    # is ignored). The client's address keys the rate limits and the audit's ip_hash.
    trusted_proxies: int = field(default=0, metadata=check(_check_not_negative))


@dataclass(frozen=True)
class PublishSettings:
    jobs: int = 0  # 0: one per CPU
    upload_threads: int = field(default=8, metadata=check(_check_positive))
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
    reminders: tuple[int, ...] = field(default=(-3, 0, 7, 30), metadata=check(_check_reminders))
    outbox: Path = Path("outbox")


@dataclass(frozen=True)
class AuditSettings:
    path: Path = Path("audit.jsonl")
    webhook_url: str = field(default="", metadata=check(_check_optional_url))
    webhook_secret_env: str = "PORTALGEN_WEBHOOK_SECRET"  # noqa: S105 - a variable name


def _check_state_id(value: int) -> None:
    if value < 0:
        raise ValueError(f"expected a state id (idestado) or 0 to find it, found {value}")


@dataclass(frozen=True)
class FacturaScriptsSettings:
    url: str = field(default="", metadata=check(_check_optional_url))
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
    locale: str = field(default="es_ES", metadata=check(_check_locale))
    currency: str = field(default="EUR", metadata=check(_check_currency))
    timezone: str = field(default="Europe/Madrid", metadata=check(_check_timezone))
    theme: ThemeSettings = ThemeSettings()
    portal: PortalSettings = PortalSettings()
    payments: PaymentSettings = PaymentSettings()
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


# -- loading --------------------------------------------------------------------------------


def load_settings(
    path: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Defaults, then the YAML file at `path` (or $PORTALGEN_CONFIG), then `overrides`.

    `overrides` is a nested mapping like the YAML (tests use it instead of files).
    Relative paths resolve against the config file's folder (or the current folder).
    """
    environ = os.environ if environ is None else environ
    if path is None and environ.get(CONFIG_ENV):
        path = Path(environ[CONFIG_ENV])
    data: dict[str, Any] = {}
    if path is not None:
        data = _read_yaml(path)
    if overrides:
        data = _merge(data, overrides)
    base_dir = path.resolve().parent if path is not None else Path.cwd()
    values: Settings = _build(Settings, data, "", base_dir)
    return dataclasses.replace(
        values, config_path=path.resolve() if path is not None else None, base_dir=base_dir
    )


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such configuration file (create one with `portalgen init`)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        raise ConfigError(
            f"{path}{where}: not valid YAML: {getattr(exc, 'problem', exc)}"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected keys like 'company:' and 'storage:' at the top level")
    return data


def _merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _build(cls: type[Any], data: Any, prefix: str, base_dir: Path) -> Any:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: expected a group of keys")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    for key in data:
        if key not in fields:
            close = difflib.get_close_matches(str(key), fields, n=1)
            hint = f" (did you mean {prefix}{close[0]}?)" if close else ""
            raise ConfigError(f"{prefix}{key}: unknown key{hint}")
    values: dict[str, Any] = {}
    for name, f in fields.items():
        key = f"{prefix}{name}"
        if name not in data:
            hint = hints[name]
            if dataclasses.is_dataclass(hint):  # an absent section: its defaults, paths resolved
                values[name] = _build(hint, {}, f"{key}.", base_dir)  # type: ignore[arg-type]
            elif isinstance(f.default, Path) and not f.default.is_absolute():
                values[name] = base_dir / f.default
            continue
        try:
            value = _coerce(hints[name], data[name], key, base_dir)
            if "check" in f.metadata:
                f.metadata["check"](value)
        except ValueError as exc:
            raise ConfigError(f"{key}: {exc}") from None
        values[name] = value
    return cls(**values)


def _coerce(hint: Any, value: Any, key: str, base_dir: Path) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, f"{key}.", base_dir)  # type: ignore[arg-type]
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None or value == "":
            return None
        return _coerce(options[0], value, key, base_dir)
    if origin is Literal:
        allowed = typing.get_args(hint)
        if value is None:
            value = ""
        if value not in allowed:
            listed = ", ".join(repr(a) for a in allowed)
            raise ValueError(f"expected one of {listed}, found {value!r}")
        return value
    if origin is tuple:
        item = typing.get_args(hint)[0]
        if not isinstance(value, list):
            raise ValueError(f"expected a list, found {value!r}")
        return tuple(_coerce(item, v, key, base_dir) for v in value)
    if hint is bool:
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, found {value!r}")
        return value
    if hint is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"expected a whole number, found {value!r}")
        return value
    if hint is str:
        if value is None:
            return ""
        if isinstance(value, (dict, list)):
            raise ValueError(f"expected text, found a {type(value).__name__}")
        return str(value)
    if hint is Path:
        if not isinstance(value, str) or not value:
            raise ValueError(f"expected a path, found {value!r}")
        path = Path(value).expanduser()
        return path if path.is_absolute() else base_dir / path
    if hint is timedelta:
        return parse_duration(value)
    raise TypeError(f"{key}: unsupported setting type {hint!r}")  # a bug, not user input


def setting_keys(cls: type[Any] = Settings, prefix: str = "") -> list[str]:
    """Every key, dotted (``gate.link_max_age``), for documentation checks."""
    keys = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.metadata.get("internal"):
            continue
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            keys.extend(setting_keys(hint, f"{prefix}{f.name}."))  # type: ignore[arg-type]
        else:
            keys.append(f"{prefix}{f.name}")
    return keys
