"""deploy/: the SAM template passes cfn-lint and grants no more than the gate needs, and
deploy/requirements.txt covers every package the gate imports on AWS Lambda."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "template.yaml"


def cfn_lint() -> str:
    beside = Path(sys.executable).parent / "cfn-lint"
    return str(beside) if beside.exists() else "cfn-lint"


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    class Loader(yaml.SafeLoader):
        pass

    def tagged(loader: yaml.SafeLoader, tag: str, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return {tag: loader.construct_scalar(node)}
        if isinstance(node, yaml.SequenceNode):
            return {tag: loader.construct_sequence(node, deep=True)}
        return {tag: loader.construct_mapping(node, deep=True)}  # type: ignore[arg-type]

    Loader.add_multi_constructor("!", tagged)
    return yaml.load(path.read_text(), Loader=Loader)  # noqa: S506 - SafeLoader subclass


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def with_dependencies(names: set[str]) -> set[str]:
    """The distributions and everything they require (pip installs those too)."""
    import importlib.metadata

    found, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for requirement in requires:
            if "extra ==" not in requirement:
                todo.append(normalized(re.split(r"[<>=!~;\[ (]", requirement)[0]))
    return found


def sam_transformed(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The template as CloudFormation gets it: SAM's transform (aws-sam-translator, the
    library `sam deploy` and CloudFormation's AWS::Serverless transform run), with the
    package at an S3 address as `sam deploy` uploads it."""
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    class NoManagedPolicies:  # the template names no managed policy to look up
        def load(self) -> dict[str, str]:
            return {}

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")  # the pseudo parameters' region
    template = yaml_parse(TEMPLATE.read_text())
    template["Resources"]["GateFunction"]["Properties"]["CodeUri"] = "s3://bucket/gate.zip"
    parameters = {"BucketName": "facturas", "BaseUrl": "https://portal.example.es"}
    transformed: dict[str, Any] = transform(template, parameters, NoManagedPolicies())
    return transformed


def test_the_sam_template_passes_cfn_lint() -> None:
    result = subprocess.run([cfn_lint(), str(TEMPLATE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_transformed_template_passes_cfn_lint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After SAM's transform, so cfn-lint sees the role SAM makes for the function and
    would refuse a circular dependency (E3004): a grant in the function's own Policies
    that names the function's ARN (the role would need the function, the function the
    role). The function's right to invoke itself is a policy of its own instead."""
    transformed = tmp_path / "transformed.json"
    transformed.write_text(json.dumps(sam_transformed(monkeypatch)))
    result = subprocess.run([cfn_lint(), str(transformed)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_role_may_invoke_only_its_own_function(monkeypatch: pytest.MonkeyPatch) -> None:
    """ "Email me a new link" hands the lookup and the email to an asynchronous invocation
    of the same function (portalgen/gate/selfinvoke.py): the role may invoke that one
    function, nothing else of Lambda, and nothing else is attached to it."""
    resources = sam_transformed(monkeypatch)["Resources"]
    iam = {name: r for name, r in resources.items() if r["Type"].startswith("AWS::IAM::")}
    assert set(iam) == {"GateFunctionRole", "GateInvokesItselfPolicy"}
    policy = iam["GateInvokesItselfPolicy"]["Properties"]
    assert policy["Roles"] == [{"Ref": "GateFunctionRole"}]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement == {
        "Sid": "InvokeThisFunctionOnly",
        "Effect": "Allow",
        "Action": "lambda:InvokeFunction",
        "Resource": {"Fn::GetAtt": ["GateFunction", "Arn"]},
    }
    role = iam["GateFunctionRole"]["Properties"]
    assert "lambda:" not in json.dumps(role["Policies"])
    assert role["ManagedPolicyArns"] == [
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"  # its logs
    ]


def test_the_function_may_do_only_what_the_gate_does() -> None:
    template = load_template()
    function = template["Resources"]["GateFunction"]["Properties"]
    assert function["Handler"] == "portalgen.gate.lambda_handler.lambda_handler"
    statements = function["Policies"][0]["Statement"]
    conditional = [s for s in statements if "If" in s]
    statements = [s for s in statements if "If" not in s]
    # Email through SES only when MailIdentityArn is given, from that one identity; then the
    # gate may also claim and release staff notices, and delete nothing else.
    ((condition, mail, otherwise), (condition2, claims, otherwise2)) = (
        s["If"] for s in conditional
    )
    assert condition == condition2 == "SendsMail"
    assert otherwise == otherwise2 == {"Ref": "AWS::NoValue"}
    assert mail["Action"] == ["ses:SendEmail", "ses:SendRawEmail"]
    assert mail["Resource"] == {"Ref": "MailIdentityArn"}
    assert claims["Action"] == ["s3:PutObject", "s3:DeleteObject"]
    assert claims["Resource"] == {
        "Sub": "arn:${AWS::Partition}:s3:::${BucketName}/${Prefix}/_notify/staff/*"
    }
    actions = {s["Action"] for s in statements}
    assert actions == {
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:ListBucket",
        "ssm:GetParameter",
        "kms:Decrypt",
    }
    # the one deletion: a proof of payment the browser posted to the bucket, once checked
    (deletes,) = [s for s in statements if s["Action"] == "s3:DeleteObject"]
    assert deletes["Resource"] == {
        "Sub": "arn:${AWS::Partition}:s3:::${BucketName}/${Prefix}/_uploads/*/incoming/*"
    }
    statements = [s for s in statements if s is not deletes]
    text = json.dumps(statements)
    assert '"*"' not in text and "s3:*" not in text and "DeleteObject" not in text
    writes = next(s for s in statements if s["Action"] == "s3:PutObject")["Resource"]
    prefixes = sorted(re.search(r"\$\{Prefix\}/(\w+)/\*", r["Sub"]).group(1) for r in writes)  # type: ignore[union-attr]
    # never portals/: the gate cannot change what a customer is shown; _payments/: the
    # attempts and notifications of online payments (docs/payments.md)
    assert prefixes == [
        "_access",
        "_comments",
        "_decisions",
        "_events",
        "_payments",
        "_uploads",
        "_webhooks",
    ]
    env = function["Environment"]["Variables"]
    assert set(env) == {
        "PORTALGEN_STORAGE_URL",
        "PORTALGEN_BASE_URL",
        "PORTALGEN_SECRET_PARAMETER",
        "PORTALGEN_CONFIG",
        # online payments' secrets, by SSM parameter (tests/test_deploy_payments.py)
        "PORTALGEN_REDSYS_KEY_PARAMETER",
        "PORTALGEN_STRIPE_KEY_PARAMETER",
        "PORTALGEN_STRIPE_WEBHOOK_SECRET_PARAMETER",
        # the staff webhook's secret, likewise (tests/test_deploy_webhook.py)
        "PORTALGEN_WEBHOOK_SECRET_PARAMETER",
    }
    assert "PORTALGEN_SECRET" not in env  # the secret itself never sits in the function's settings


@pytest.mark.parametrize("payments", [False, True], ids=["plain", "payments"])
def test_requirements_cover_what_the_gate_imports(tmp_path: Path, payments: bool) -> None:
    """Import the handler, build the gate from deploy/config.yaml (and with both online
    payment providers) and serve a request; every third-party distribution then loaded
    must be listed in deploy/requirements.txt."""
    config = ROOT / "deploy" / "config.yaml"
    secrets = {}
    if payments:
        settings = yaml.safe_load(config.read_text())
        settings["payments"] = {
            "online": {"redsys": {"merchant_code": "999008881"}, "stripe": {}},
        }
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump(settings))
        secrets = {
            "PORTALGEN_REDSYS_KEY": "sq7HjrUOBfKmC576ILgskD5srU870gJ7",
            "PORTALGEN_STRIPE_KEY": "sk_test_x",
            "PORTALGEN_STRIPE_WEBHOOK_SECRET": "whsec_x",
        }
    # Not in the package: stripe (aiohttp) and urllib3 (brotli) import them only if present.
    absent = ["aiohttp", "brotli"] if payments else []
    script = f"""
import json, os, sys, importlib.metadata
sys.modules.update(dict.fromkeys({absent!r}))  # None: importing them fails, as on Lambda
os.environ.update({secrets!r})
os.environ.update(PORTALGEN_CONFIG={str(config)!r},
                  PORTALGEN_STORAGE_URL={str(tmp_path / "site")!r},
                  PORTALGEN_BASE_URL='https://portal.example.es',
                  PORTALGEN_SECRET='s' * 40)
from portalgen.gate.lambda_handler import lambda_handler
event = json.load(open({str(ROOT / "tests" / "events" / "function-url.json")!r}))
assert lambda_handler(event, None)["statusCode"] == 404
owners = importlib.metadata.packages_distributions()
found = set()
for name in [n for n, m in list(sys.modules.items()) if m is not None]:
    top = name.split(".")[0]
    if top in sys.stdlib_module_names or top.startswith("_") or top == "portalgen":
        continue
    found.update(owners.get(top, [top]))
print(json.dumps(sorted(found)))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    used = {re.sub(r"[-_.]+", "-", d).lower() for d in json.loads(out.stdout)}
    listed = set()
    for line in (ROOT / "deploy" / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            listed.add(re.sub(r"[-_.]+", "-", re.split(r"[<>=\[ ]", line.strip())[0]).lower())
    assert used - with_dependencies(listed) - {"cython-runtime"} == set()
    assert not {"weasyprint", "jinja2", "lxml", "segno"} & used
    if payments:
        assert {"python-redsys", "stripe"} <= used
