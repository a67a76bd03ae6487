"""Online payments on AWS Lambda from deploy/template.yaml alone: every secret the gate
reads from its environment for payments is wired in the template (an SSM SecureString
named by a parameter, the role allowed to read it), and a gate built from the
template's own environment verifies Redsys' and Stripe's notifications with the secrets
it read from Parameter Store.

Parameter Store is the stand-in of tests/ssm_api.py (AWS cannot be reached from here);
Redsys' and Stripe's signatures are made as their documentation says
(tests/payment_fixtures.py). The list of variables comes from the code
(payments/providers.py), not from a copy here.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from portalgen.config import load_settings
from portalgen.errors import ConfigError
from portalgen.gate.environment import PARAMETER_SUFFIX, app_from_environment
from portalgen.gate.lambda_handler import make_handler
from portalgen.payments.providers import secret_variables
from tests.payment_fixtures import (
    ENVIRON,
    MERCHANT,
    ONLINE,
    REDSYS_KEY,
    STRIPE_WEBHOOK_SECRET,
    redsys_notification,
    stripe_event,
    stripe_signature,
)
from tests.ssm_api import SsmApi
from tests.test_deploy import ROOT, load_template
from tests.test_gate_lambda import event_for

FUNCTION = load_template()["Resources"]["GateFunction"]["Properties"]
PARAMETERS = {  # what `sam deploy --parameter-overrides` would give
    "SecretParameterName": "/portalgen/secret",
    "RedsysKeyParameterName": "/portalgen/redsys-key",
    "StripeKeyParameterName": "/portalgen/stripe-key",
    "StripeWebhookSecretParameterName": "/portalgen/stripe-webhook-secret",
    "ConfigFile": "config.yaml",
    "BaseUrl": "https://portal.example.es",
}
NOW = datetime(2026, 6, 15, 10, 15, tzinfo=UTC)


def payment_variables() -> list[str]:
    """Every variable the gate reads a payment secret from, both providers configured
    with the default names."""
    everything = {"redsys": {"merchant_code": MERCHANT}, "stripe": {}}
    settings = load_settings(overrides={"payments": {"online": everything}}, environ={})
    return sorted(secret_variables(settings.payments.online).values())


def holds(condition: str, parameters: dict[str, str]) -> bool:
    """A condition of the template's kind: a parameter that is not empty."""
    ((negation,),) = [load_template()["Conditions"][condition]["Not"]]
    reference, empty = negation["Equals"]
    return parameters.get(reference["Ref"], "") != empty


def resolved(value: Any, parameters: dict[str, str]) -> Any:
    """A value of the template with its !Ref and !If worked out (None: AWS::NoValue)."""
    if isinstance(value, dict) and "Ref" in value:
        return None if value["Ref"] == "AWS::NoValue" else parameters.get(value["Ref"], "")
    if isinstance(value, dict) and "If" in value:
        condition, yes, no = value["If"]
        return resolved(yes if holds(condition, parameters) else no, parameters)
    return value


def template_environment(parameters: dict[str, str]) -> dict[str, str]:
    """The function's environment as CloudFormation would set it (!Sub left out)."""
    found = {}
    for name, value in FUNCTION["Environment"]["Variables"].items():
        value = resolved(value, parameters)
        if isinstance(value, str):
            found[name] = value
    return found


def readable_parameters() -> list[Any]:
    statements = FUNCTION["Policies"][0]["Statement"]
    (reads,) = [s for s in statements if s.get("Action") == "ssm:GetParameter"]
    resources: list[Any] = reads["Resource"]
    return resources


def assert_wired_from_a_parameter(variable: str) -> str:
    """The function's environment names the SSM parameter holding `variable`'s secret
    (never the secret), a template parameter given at deploy time, which the role may
    read only when it is given; returns that template parameter's name."""
    assert variable not in FUNCTION["Environment"]["Variables"]  # never the secret itself
    wired = FUNCTION["Environment"]["Variables"].get(variable + PARAMETER_SUFFIX)
    assert wired is not None, f"{variable}{PARAMETER_SUFFIX} is not in the template"
    condition, yes, no = wired["If"]
    parameter = str(yes["Ref"])
    assert no == {"Ref": "AWS::NoValue"}
    declared = load_template()["Parameters"][parameter]
    assert declared["Default"] == "" and "SecureString" in declared["Description"]
    arn = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"
    grant = {"If": [condition, {"Sub": f"{arn}${{{parameter}}}"}, {"Ref": "AWS::NoValue"}]}
    assert grant in readable_parameters()
    return parameter


def test_every_payment_secret_the_gate_reads_is_wired_in_the_template() -> None:
    variables = payment_variables()
    assert len(variables) == 3  # Redsys' key; Stripe's key and webhook secret
    for variable in variables:
        assert_wired_from_a_parameter(variable)
    # Without payment parameters the function's environment names none of them.
    plain = template_environment({"SecretParameterName": "/portalgen/secret"})
    assert not [v for v in plain if v.removesuffix(PARAMETER_SUFFIX) in variables]


def config_with_payments(tmp_path: Path) -> Path:
    """deploy/config.yaml with both providers, as a staff would extend it."""
    config = yaml.safe_load((ROOT / "deploy" / "config.yaml").read_text())
    config["payments"] = {"online": ONLINE}
    config["audit"] = {"path": str(tmp_path / "audit.jsonl")}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def gate_environment(tmp_path: Path, ssm_api: SsmApi) -> dict[str, str]:
    """The template's environment with its parameters, over a local folder, the secrets
    in Parameter Store."""
    ssm_api.parameters.update(
        {
            "/portalgen/secret": "s" * 40,
            "/portalgen/redsys-key": REDSYS_KEY,
            "/portalgen/stripe-key": ENVIRON["PORTALGEN_STRIPE_KEY"],
            "/portalgen/stripe-webhook-secret": STRIPE_WEBHOOK_SECRET,
        }
    )
    env = template_environment(PARAMETERS)
    env.update(PORTALGEN_CONFIG=str(config_with_payments(tmp_path)))
    env.update(PORTALGEN_STORAGE_URL=str(tmp_path / "site"), **ssm_api.environ())
    return env


def posted(path: str, body: bytes, content_type: str, **headers: str) -> dict[str, Any]:
    """A Function URL event POSTing `body` to `path`."""
    event = event_for("function-url.json", "POST", path, headers={"content-type": content_type})
    event["headers"].update(headers)
    event["body"] = base64.b64encode(body).decode()
    event["isBase64Encoded"] = True
    return event


def redsys_notice(key: str) -> bytes:
    from urllib.parse import urlencode

    request = {
        "Ds_Merchant_Order": "1234abcdefgh",  # no attempt of the gate's: refused, answered 200
        "Ds_Merchant_Amount": 2721,
        "Ds_Merchant_Currency": 978,
        "Ds_Merchant_MerchantCode": MERCHANT,
        "Ds_Merchant_Terminal": 1,
    }
    return urlencode(redsys_notification(request, key=key)).encode()


def test_a_gate_built_from_the_templates_environment_verifies_payments(
    tmp_path: Path,
    ssm_api: SsmApi,
    monkeypatch: pytest.MonkeyPatch,
    time_machine: Any,
) -> None:
    time_machine.move_to(NOW, tick=False)  # Stripe's signature is checked against the clock
    env = gate_environment(tmp_path, ssm_api)
    for name, value in ssm_api.environ().items():
        monkeypatch.setenv(name, value)  # boto3 reads its endpoint from os.environ
    gate = app_from_environment(env)
    handler = make_handler(gate)
    assert {r["Name"] for r in ssm_api.reads} == set(ssm_api.parameters)  # each from SSM
    assert all(r["WithDecryption"] for r in ssm_api.reads)

    form = "application/x-www-form-urlencoded"
    good = handler(posted("/pay/redsys/notify", redsys_notice(REDSYS_KEY), form), None)
    other = "Mk9m98IfEblmPfrpsawt7BmxObt98Jev"
    bad = handler(posted("/pay/redsys/notify", redsys_notice(other), form), None)
    assert (good["statusCode"], bad["statusCode"]) == (200, 400)

    body = stripe_event({"id": "cs_test_unknown", "client_reference_id": "1234abcdefgh"})
    stamp = int(NOW.timestamp())
    signed = stripe_signature(body, stamp)
    forged = stripe_signature(body, stamp, "whsec_other")
    answers = [
        handler(posted("/pay/stripe/webhook", body, "application/json", **h), None)["statusCode"]
        for h in ({"stripe-signature": signed}, {"stripe-signature": forged})
    ]
    assert answers == [200, 400]
    refused = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    reasons = [e["data"]["reason"] for e in refused if e["type"] == "payment.refused"]
    # Redsys': verified, then no attempt of the gate's; Stripe's: verified, nothing paid
    assert reasons == ["unknown order", "bad signature", "bad signature"]


def start_without(
    env: dict[str, str], ssm_api: SsmApi, parameter: str, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The error a Lambda gate with `env` stops with when SSM no longer has `parameter`."""
    for name, value in ssm_api.environ().items():
        monkeypatch.setenv(name, value)
    del ssm_api.parameters[parameter]
    with pytest.raises(ConfigError) as raised:
        app_from_environment(env)
    return str(raised.value)


def test_a_payment_secret_that_cannot_be_read_stops_the_gate_clearly(
    tmp_path: Path, ssm_api: SsmApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = gate_environment(tmp_path, ssm_api)
    message = start_without(env, ssm_api, "/portalgen/stripe-key", monkeypatch)
    assert "PORTALGEN_STRIPE_KEY_PARAMETER: SSM parameter /portalgen/stripe-key" in message
    assert "ParameterNotFound" in message
    # A variable set in the function's environment is taken as it is (no SSM read).
    env["PORTALGEN_STRIPE_KEY"] = ENVIRON["PORTALGEN_STRIPE_KEY"]
    assert app_from_environment(env).payments is not None
