"""The configured payment providers, their secrets read from the environment.

Secrets never live in the configuration: `payments.online.redsys.secret_key_env`
and the Stripe `*_env` keys name environment variables. A variable that is not set is
a ConfigError naming the key, raised when the gate starts (not at the first payment).
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
    if online.redsys is not None:
        from portalgen.payments.redsys import ENDPOINTS, RedsysGateway

        conf = online.redsys
        key = _secret(environ, conf.secret_key_env, "payments.online.redsys.secret_key_env")
        endpoint = redsys_url or ENDPOINTS[conf.environment]
        redsys = RedsysGateway(key, conf.merchant_code, conf.terminal, endpoint)
        origins.append(_origin(endpoint))
    if online.stripe is not None:
        from portalgen.payments.stripe_checkout import StripeGateway

        conf_s = online.stripe
        api_key = _secret(environ, conf_s.secret_key_env, "payments.online.stripe.secret_key_env")
        hook = _secret(
            environ, conf_s.webhook_secret_env, "payments.online.stripe.webhook_secret_env"
        )
        stripe = StripeGateway(api_key, hook, stripe_api)
        origins.append(stripe_checkout_origin)
    return Providers(redsys, stripe, online.methods, tuple(dict.fromkeys(origins)))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
