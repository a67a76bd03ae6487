"""Settings: config.yaml merged over defaults, checked key by key, frozen.

Every key is a field of one of the dataclasses in settings.py, with its type and default; the
loader walks them, so an unknown key or a bad value is an error naming the key
(``gate.link_max_age: expected a duration like 30d or 12h, found 'soon'``).
config.example.yaml documents every key; a test keeps the two in step.

Secrets never live here: see portalgen.access.secret.
"""

from portalgen.config.loading import CONFIG_ENV, load_settings, setting_keys
from portalgen.config.settings import (
    AcceptanceSettings,
    AuditSettings,
    CompanySettings,
    ExportSettings,
    FacturaScriptsSettings,
    GateSettings,
    MailSettings,
    OnlinePaymentSettings,
    PaymentSettings,
    PortalSettings,
    PublishSettings,
    RedsysSettings,
    SectionSettings,
    Settings,
    SigningSettings,
    StorageSettings,
    StripeSettings,
    ThemeSettings,
    UploadSettings,
    VerifactuSettings,
    VerifySettings,
)
from portalgen.config.values import format_duration, parse_duration

__all__ = [
    "CONFIG_ENV",
    "AcceptanceSettings",
    "AuditSettings",
    "CompanySettings",
    "ExportSettings",
    "FacturaScriptsSettings",
    "GateSettings",
    "MailSettings",
    "OnlinePaymentSettings",
    "PaymentSettings",
    "PortalSettings",
    "PublishSettings",
    "RedsysSettings",
    "SectionSettings",
    "Settings",
    "SigningSettings",
    "StorageSettings",
    "StripeSettings",
    "ThemeSettings",
    "UploadSettings",
    "VerifactuSettings",
    "VerifySettings",
    "format_duration",
    "load_settings",
    "parse_duration",
    "setting_keys",
]
