"""The gate on AWS Lambda emails through SES with only what deploy/requirements.txt lists.

Run in a fresh interpreter, as on Lambda: the handler's app, built from the environment
with `mail.backend: ses`, sends an "email me a new link" message and a staff notice. SES
is the local stand-in of test_mail_senders (the real service cannot run here); what is
checked for real is the request boto3 makes and which packages the gate loaded for it.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
import yaml

from tests.test_deploy import ROOT, with_dependencies
from tests.test_mail_senders import SesStandIn, ses_endpoint  # noqa: F401 - a fixture

SCRIPT = """
import importlib.metadata, json, os, sys
from datetime import UTC, datetime
from portalgen.gate.lambda_handler import lambda_handler  # noqa: F401 - as Lambda loads it
from portalgen.gate.environment import app_from_environment
from portalgen.access.entry import new_entry
from portalgen.audit.events import new_event

gate = app_from_environment(os.environ)
now = datetime.now(UTC)
entry = new_entry("C00008", now).with_contact("ana@example.com", now).granted(now)
sent = gate.send_link(entry, "ana@example.com", "https://portal.example.es/l/TOKEN")
gate.audit.record(new_event("comment.added", "C00008", contact="ana@example.com",
                            document="invoices/F1.html", data={"text": "Hola"}))
owners = importlib.metadata.packages_distributions()
found = set()
for name in list(sys.modules):
    top = name.split(".")[0]
    if top in sys.stdlib_module_names or top.startswith("_") or top == "portalgen":
        continue
    found.update(owners.get(top, [top]))
print(json.dumps({"sent": sent, "used": sorted(found)}))
"""


@pytest.fixture
def lambda_env(tmp_path: Path, ses_endpoint: str) -> Iterator[dict[str, str]]:  # noqa: F811
    config = yaml.safe_load((ROOT / "deploy" / "config.yaml").read_text())
    config["mail"] = {
        "backend": "ses",
        "ses_region": "eu-west-1",
        "from_address": "Mi Empresa <portal@example.es>",
        "staff_address": "oficina@example.es",
    }
    config["audit"] = {"path": str(tmp_path / "audit.jsonl")}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    yield {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PORTALGEN_"))},
        "PORTALGEN_CONFIG": str(path),
        "PORTALGEN_STORAGE_URL": str(tmp_path / "site"),
        "PORTALGEN_BASE_URL": "https://portal.example.es",
        "PORTALGEN_SECRET": "s" * 40,
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_ENDPOINT_URL_SESV2": ses_endpoint,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


def test_the_lambda_gate_emails_through_ses_with_its_listed_packages(
    lambda_env: dict[str, str],
) -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=lambda_env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["sent"] is True
    link, notice = (
        BytesParser(policy=policy.default).parsebytes(
            base64.b64decode(r["json"]["Content"]["Raw"]["Data"])
        )
        for r in SesStandIn.requests
    )
    assert link["To"].addresses[0].addr_spec == "ana@example.com"
    body = link.get_body(("plain",))
    assert body is not None and "https://portal.example.es/l/TOKEN" in body.get_content()
    assert notice["To"].addresses[0].addr_spec == "oficina@example.es"
    used = {name.lower().replace("_", "-") for name in result["used"]}
    listed = {
        line.split(">")[0].strip().lower().replace("_", "-")
        for line in (ROOT / "deploy" / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    # Loaded only because this machine has them: urllib3 tries brotli, botocore certifi.
    optional = {"cython-runtime", "brotli", "certifi"}
    assert used - with_dependencies(listed) - optional == set()
    assert not {"weasyprint", "lxml", "segno"} & used


START = """
import os, sys
from portalgen.gate.environment import app_from_environment

app_from_environment(os.environ)
heavy = ["portalgen.mail.mailer", "portalgen.mail.links", "smtplib", "portalgen.audit",
         "jinja2", "weasyprint", "boto3"]
print([m for m in heavy if m in sys.modules])
"""


def test_a_gate_with_mail_set_up_starts_without_loading_the_mailer(
    lambda_env: dict[str, str],
) -> None:
    """The hooks load the mailer, the templates and the audit events when first used
    (the test above uses them): a cold start pays for none of it."""
    out = subprocess.run(
        [sys.executable, "-c", START], env=lambda_env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
