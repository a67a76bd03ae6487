"""The gate's settings and secrets from the environment, for AWS Lambda.

- ``PORTALGEN_CONFIG``: a config.yaml shipped with the function (optional).
- ``PORTALGEN_STORAGE_URL``, ``PORTALGEN_BASE_URL``: override ``storage.url`` and
  ``gate.base_url`` (the SAM template sets them from its parameters).
- The signing secrets, space separated, newest last, from the first of:
  ``PORTALGEN_SECRET`` (the value itself: for tests, not for production),
  ``PORTALGEN_SECRET_PARAMETER`` (an SSM Parameter Store SecureString name),
  ``PORTALGEN_SECRET_ARN`` (a Secrets Manager secret). They are fetched at the first
  request and again when a link fails to verify (at most once a minute), so
  `portalgen secret rotate` followed by an update of the parameter reaches warm functions.
- The online payment providers' secrets (``PORTALGEN_REDSYS_KEY``,
  ``PORTALGEN_STRIPE_KEY``, ``PORTALGEN_STRIPE_WEBHOOK_SECRET``: whichever variables
  ``payments.online`` names) and, with ``audit.webhook_url``, the staff webhook's
  signing secret (``PORTALGEN_WEBHOOK_SECRET``, ``audit.webhook_secret_env``): each one
  not set is read at start from the SSM SecureString named by the same variable with
  ``_PARAMETER`` added (``PORTALGEN_REDSYS_KEY_PARAMETER``), as the SAM template sets
  them.
- ``AWS_LAMBDA_FUNCTION_NAME`` (Lambda sets it): with mail set up, "email me a new
  link" is handed to an asynchronous invocation of this function (selfinvoke.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from portalgen.errors import ConfigError

PARAMETER_SUFFIX = "_PARAMETER"  # NAME_PARAMETER: the SSM parameter holding NAME's value

if TYPE_CHECKING:
    from portalgen.config import Settings
    from portalgen.gate.app import Gate


def settings_from_environment(environ: Mapping[str, str]) -> Settings:
    from portalgen.config import load_settings

    overrides: dict[str, Any] = {}
    if environ.get("PORTALGEN_STORAGE_URL"):
        overrides["storage"] = {"url": environ["PORTALGEN_STORAGE_URL"]}
        if environ.get("PORTALGEN_S3_ENDPOINT_URL"):
            overrides["storage"]["endpoint_url"] = environ["PORTALGEN_S3_ENDPOINT_URL"]
    if environ.get("PORTALGEN_BASE_URL"):
        overrides["gate"] = {"base_url": environ["PORTALGEN_BASE_URL"]}
    config = environ.get("PORTALGEN_CONFIG")
    return load_settings(Path(config) if config else None, overrides, environ={})


def split_secrets(text: str, where: str) -> tuple[str, ...]:
    from portalgen.access.secret import MIN_LENGTH

    values = tuple(v for v in re.split(r"[\s,]+", text) if v and not v.startswith("#"))
    if not values or any(len(v) < MIN_LENGTH for v in values):
        raise ConfigError(f"{where}: expected secrets of at least {MIN_LENGTH} characters")
    return values


def read_secrets(environ: Mapping[str, str]) -> tuple[str, ...]:
    if environ.get("PORTALGEN_SECRET", "").strip():
        return split_secrets(environ["PORTALGEN_SECRET"], "$PORTALGEN_SECRET")
    if environ.get("PORTALGEN_SECRET_PARAMETER"):
        import boto3

        name = environ["PORTALGEN_SECRET_PARAMETER"]
        return split_secrets(ssm_parameter(name), f"SSM parameter {name}")
    if environ.get("PORTALGEN_SECRET_ARN"):
        import boto3

        arn = environ["PORTALGEN_SECRET_ARN"]
        value = boto3.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
        return split_secrets(value, f"secret {arn}")
    raise ConfigError(
        "no signing secret: set PORTALGEN_SECRET_PARAMETER (SSM) or PORTALGEN_SECRET_ARN"
    )


def ssm_parameter(name: str) -> str:
    """An SSM Parameter Store parameter's value, decrypted (a SecureString)."""
    import boto3

    response = boto3.client("ssm").get_parameter(Name=name, WithDecryption=True)
    return str(response["Parameter"]["Value"])


def secret_variables(settings: Settings) -> list[str]:
    """The variables the gate reads a secret from besides the signing secrets: the
    payment providers' (with online payments) and the webhook's (with a webhook)."""
    from portalgen.payments.providers import secret_variables as payment_variables

    names: list[str] = []
    if settings.payments.online.methods:
        names.extend(payment_variables(settings.payments.online).values())
    if settings.audit.webhook_url:
        names.append(settings.audit.webhook_secret_env)
    return names


def parameter_secrets(settings: Settings, environ: Mapping[str, str]) -> dict[str, str]:
    """The secret variables (`secret_variables`) that are not set but whose
    ``_PARAMETER`` variable is: each read from that SSM parameter. A parameter that
    cannot be read is a ConfigError naming the variable and the parameter."""
    from botocore.exceptions import BotoCoreError, ClientError

    found: dict[str, str] = {}
    for name in secret_variables(settings):
        parameter = environ.get(name + PARAMETER_SUFFIX, "").strip()
        if environ.get(name, "").strip() or not parameter:
            continue
        try:
            found[name] = ssm_parameter(parameter)
        except (BotoCoreError, ClientError) as exc:
            where = f"{name}{PARAMETER_SUFFIX}: SSM parameter {parameter}"
            raise ConfigError(f"{where} could not be read: {exc}") from None
    return found


def app_from_environment(environ: Mapping[str, str]) -> Gate:
    from portalgen.gate.factory import (
        configured_link_sender,
        configured_staff_notifier,
        create_app,
    )

    settings = settings_from_environment(environ)
    env = dict(environ)
    read_secrets(env)  # fail at once (and clearly) if there is none
    env.update(parameter_secrets(settings, env))
    gate = create_app(
        settings,
        secrets=lambda: read_secrets(env),
        send_link=configured_link_sender(settings),
        notify_staff=configured_staff_notifier(settings),
        background=False,  # a frozen Lambda function would stop threads after the answer
        environ=env,
    )
    function = env.get("AWS_LAMBDA_FUNCTION_NAME")  # set by Lambda: this function's name
    if function and gate.send_link is not None:
        from portalgen.gate.selfinvoke import SelfInvoke

        gate.hand_off = SelfInvoke(function)  # "email me a link" to an async invocation
    return gate
