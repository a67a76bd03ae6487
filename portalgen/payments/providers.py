"""The configured payment providers, their secrets read from the environment.

Secrets never live in the configuration: `payments.online.redsys.secret_key_env`
and the Stripe `*_env` keys name environment variables. A variable that is not set is
a ConfigError naming the key, raised when the gate starts (not at the first payment).
`secret_variables` lists them (on AWS Lambda, gate/environment.py fills them in from SSM
Parameter Store first; deploy/template.yaml wires the default names).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from portalgen.errors import ConfigError

if TYPE_CHECKING:
    from portalgen.config import OnlinePaymentSettings
    from portalgen.payments.redsys import RedsysGateway
    from portalgen.payments.stripe_checkout import StripeGateway

CHECKOUT_ORIGIN = "https://checkout.stripe.com"


@dataclass(frozen=True)
class Providers:
    redsys: RedsysGateway | None = None
    stripe: StripeGateway | None = None
    methods: tuple[tuple[str, str], ...] = ()  # (provider, method) offered
    form_origins: tuple[str, ...] = ()  # where the customer's browser is sent to pay

    def offers(self, provider: str, method: str) -> bool:
        return (provider, method) in self.methods


REDSYS_KEY = "payments.online.redsys.secret_key_env"
STRIPE_KEY = "payments.online.stripe.secret_key_env"
STRIPE_WEBHOOK = "payments.online.stripe.webhook_secret_env"


def secret_variables(online: OnlinePaymentSettings) -> dict[str, str]:
    """The environment variable each configured provider's secret is read from, by the
    configuration key that names it: every variable `open_providers` reads."""
    found: dict[str, str] = {}
    if online.redsys is not None:
        found[REDSYS_KEY] = online.redsys.secret_key_env
    if online.stripe is not None:
        found[STRIPE_KEY] = online.stripe.secret_key_env
        found[STRIPE_WEBHOOK] = online.stripe.webhook_secret_env
    return found


def _secret(environ: Mapping[str, str], name: str, key: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"{key}: the environment variable {name} is not set")
    return value


def open_providers(
    online: OnlinePaymentSettings,
    environ: Mapping[str, str],
    *,
    redsys_url: str | None = None,
    stripe_api: str | None = None,
    stripe_checkout_origin: str = CHECKOUT_ORIGIN,
) -> Providers:
    """The providers of `online`. `redsys_url` and `stripe_api` point them elsewhere
    (the tests' stand-ins); by default Redsys' endpoint of `environment` and Stripe's API."""
    redsys = stripe = None
    origins: list[str] = []
    secrets = {key: _secret(environ, name, key) for key, name in secret_variables(online).items()}
    if online.redsys is not None:
        from portalgen.payments.redsys import ENDPOINTS, RedsysGateway

        conf = online.redsys
        key = secrets[REDSYS_KEY]
        endpoint = redsys_url or ENDPOINTS[conf.environment]
        redsys = RedsysGateway(key, conf.merchant_code, conf.terminal, endpoint)
        origins.append(_origin(endpoint))
    if online.stripe is not None:
        from portalgen.payments.stripe_checkout import StripeGateway

        stripe = StripeGateway(secrets[STRIPE_KEY], secrets[STRIPE_WEBHOOK], stripe_api)
        origins.append(stripe_checkout_origin)
    return Providers(redsys, stripe, online.methods, tuple(dict.fromkeys(origins)))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
