"""The staff webhook on AWS Lambda from deploy/template.yaml alone: the gate's webhook
signing secret is wired in the template as the payment secrets are (an SSM SecureString
named by a parameter, the role allowed to read it), and a gate built from the template's
own environment signs what it sends with the secret it read from Parameter Store.

Parameter Store is the stand-in of tests/ssm_api.py (AWS cannot be reached from here);
the receiver (tests/interact_fixtures.py) checks each signature as docs/webhook.md tells
receivers to. The variable comes from the code (audit.webhook_secret_env's default).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from portalgen.audit.events import new_event
from portalgen.audit.webhook import WebhookSink
from portalgen.config import load_settings
from portalgen.gate.environment import PARAMETER_SUFFIX, app_from_environment
from tests.interact_fixtures import WEBHOOK_SECRET, WebhookReceiver
from tests.ssm_api import SsmApi
from tests.test_deploy import ROOT
from tests.test_deploy_payments import (
    assert_wired_from_a_parameter,
    start_without,
    template_environment,
)

PARAMETERS = {  # what `sam deploy --parameter-overrides` would give
    "SecretParameterName": "/portalgen/secret",
    "WebhookSecretParameterName": "/portalgen/webhook-secret",
    "ConfigFile": "config.yaml",
    "BaseUrl": "https://portal.example.es",
}


def webhook_variable() -> str:
    return load_settings(environ={}).audit.webhook_secret_env


def test_the_webhook_secret_the_gate_reads_is_wired_in_the_template() -> None:
    variable = webhook_variable()
    assert assert_wired_from_a_parameter(variable) == "WebhookSecretParameterName"
    # Without the parameter, the function's environment does not name it.
    plain = template_environment({"SecretParameterName": "/portalgen/secret"})
    assert variable + PARAMETER_SUFFIX not in plain
    assert template_environment(PARAMETERS)[variable + PARAMETER_SUFFIX] == (
        "/portalgen/webhook-secret"
    )


def gate_environment(tmp_path: Path, ssm_api: SsmApi, url: str) -> dict[str, str]:
    """The template's environment with its parameters, over a local folder, deploy's
    config.yaml with the webhook, the secrets in Parameter Store."""
    ssm_api.parameters.update(
        {"/portalgen/secret": "s" * 40, "/portalgen/webhook-secret": WEBHOOK_SECRET}
    )
    config = yaml.safe_load((ROOT / "deploy" / "config.yaml").read_text())
    config["audit"] = {"path": str(tmp_path / "audit.jsonl"), "webhook_url": url}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    env = template_environment(PARAMETERS)
    env.update(PORTALGEN_CONFIG=str(path), PORTALGEN_STORAGE_URL=str(tmp_path / "site"))
    env.update(ssm_api.environ())
    return env


@pytest.mark.realclock  # the receiver checks the signature's time against its clock
def test_a_gate_built_from_the_templates_environment_signs_webhooks(
    tmp_path: Path, ssm_api: SsmApi, monkeypatch: pytest.MonkeyPatch, receiver: WebhookReceiver
) -> None:
    env = gate_environment(tmp_path, ssm_api, receiver.url)
    for name, value in ssm_api.environ().items():
        monkeypatch.setenv(name, value)  # boto3 reads its endpoint from os.environ
    gate = app_from_environment(env)
    assert {r["Name"] for r in ssm_api.reads} == set(ssm_api.parameters)  # each from SSM
    sink = gate.audit
    assert isinstance(sink, WebhookSink)
    event = new_event("comment.added", "C00007", document="invoices/F2026A-00048.html")
    sink.record(event)  # what the gate does with a customer's comment
    sink.wait()
    receiver.wait_for(1)
    (received,) = receiver.received
    assert received.signature_ok  # signed with the secret from Parameter Store
    assert received.headers["Portalgen-Event-Id"] == event.id


def test_a_webhook_secret_that_cannot_be_read_stops_the_gate_clearly(
    tmp_path: Path, ssm_api: SsmApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = gate_environment(tmp_path, ssm_api, "https://hooks.example.es/portalgen")
    message = start_without(env, ssm_api, "/portalgen/webhook-secret", monkeypatch)
    assert f"{webhook_variable()}{PARAMETER_SUFFIX}: SSM parameter /portalgen/webhook-secret" in (
        message
    )
    assert "ParameterNotFound" in message
    # A variable set in the function's environment is taken as it is (no SSM read).
    env[webhook_variable()] = WEBHOOK_SECRET
    assert isinstance(app_from_environment(env).audit, WebhookSink)
