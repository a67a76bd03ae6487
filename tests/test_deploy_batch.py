"""deploy/batch/: the AWS Batch template passes cfn-lint, its role reaches only the
bucket's portal prefix (and the working directory on EFS), child i of the array job
publishes shard i+1/N, and the settle job removes the uploads never taken, settles,
notifies and (only when configured) pushes into FacturaScripts once, after the shards,
with the secrets it needs (and no shard with any).
(tests/test_publish_shards.py runs `publish --shard` and the settle job's command for real.)"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from portalgen.config import Settings, load_settings
from portalgen.publish.inputs import Shard
from tests.fs_api import TOKEN
from tests.push_fixtures import FsWorld, write_config
from tests.smtpserver import SmtpServer
from tests.test_deploy import cfn_lint, load_template
from tests.test_push_more import receipt, record_payment

ROOT = Path(__file__).resolve().parent.parent
BATCH = ROOT / "deploy" / "batch"
TEMPLATE = BATCH / "template.yaml"
ENTRYPOINT = BATCH / "entrypoint.sh"
PORTAL_OBJECTS = "arn:${AWS::Partition}:s3:::${BucketName}/${Prefix}/*"
BUCKET = "arn:${AWS::Partition}:s3:::${BucketName}"
FILE_SYSTEM = (
    "arn:${AWS::Partition}:elasticfilesystem:${AWS::Region}:${AWS::AccountId}"
    ":file-system/${FileSystemId}"
)
PARAMETER = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"
NO_VALUE = {"Ref": "AWS::NoValue"}


def resources() -> dict[str, Any]:
    resources: dict[str, Any] = load_template(TEMPLATE)["Resources"]
    return resources


def command(job: str) -> list[str]:
    container = resources()[job]["Properties"]["ContainerProperties"]
    config = {"Name": "PORTALGEN_CONFIG", "Value": "/data/config.yaml"}
    assert container["Environment"][-1] == config
    result: list[str] = container["Command"]
    return result


def run_settle_job(config: Path, cwd: Path, **environ: str) -> subprocess.CompletedProcess[str]:
    """The settle job's own command, through the image's entrypoint, with the
    `portalgen` installed beside this Python first on PATH."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PORTALGEN_CONFIG": str(config), **environ}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *command("SettleJobDefinition")],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def run_in_image(
    tmp_path: Path, args: list[str], env: dict[str, str], failing: str = ""
) -> tuple[int, list[str]]:
    """The image's entrypoint with the job's command, a stand-in `portalgen` on PATH that
    records its arguments (and fails for the subcommand `failing`). Returns the exit status
    and one line per portalgen call."""
    calls = tmp_path / "calls"
    calls.unlink(missing_ok=True)
    stub = tmp_path / "bin" / "portalgen"
    stub.parent.mkdir(exist_ok=True)
    stub.write_text(
        f'#!/bin/sh\necho "$*" >> {shlex.quote(str(calls))}\n'
        f'[ "$1" != {shlex.quote(failing or "-")} ]\n'
    )
    stub.chmod(0o755)
    path = f"{stub.parent}{os.pathsep}{os.environ['PATH']}"
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), *args], env={"PATH": path, **env}, capture_output=True, text=True
    )
    lines = calls.read_text().splitlines() if calls.exists() else []
    return result.returncode, lines


def test_the_batch_template_passes_cfn_lint() -> None:
    result = subprocess.run([cfn_lint(), str(TEMPLATE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_job_role_reaches_only_the_portal_prefix() -> None:
    role = resources()["JobRole"]["Properties"]
    assert "ManagedPolicyArns" not in role
    (policy,) = role["Policies"]
    statements = policy["PolicyDocument"]["Statement"]
    conditional = [s["If"] for s in statements if "If" in s]
    plain = [s for s in statements if "If" not in s]
    grants = {s["Sid"]: (s["Action"], s["Resource"]["Sub"]) for s in plain}
    assert grants == {
        "PortalObjects": (["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], PORTAL_OBJECTS),
        "ListPortalObjects": ("s3:ListBucket", BUCKET),
        "WorkingDirectory": (
            ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
            FILE_SYSTEM,
        ),
    }
    listing = next(s for s in plain if s["Sid"] == "ListPortalObjects")
    assert listing["Condition"] == {"StringLike": {"s3:prefix": [{"Sub": "${Prefix}/*"}]}}
    assert all(s["Effect"] == "Allow" for s in plain)
    # SES only when MailIdentityArn is given, from that one identity.
    ((condition, ses, otherwise),) = conditional
    assert (condition, otherwise) == ("SendsMail", {"Ref": "AWS::NoValue"})
    assert ses["Action"] == ["ses:SendEmail", "ses:SendRawEmail"]
    assert ses["Resource"] == {"Ref": "MailIdentityArn"}
    # The execution role pulls the image and writes logs, and reads the settle job's
    # secrets' parameters only when given (test_the_settle_job_gets_its_secret_...).
    execution = resources()["ExecutionRole"]["Properties"]
    condition, _, otherwise = execution["Policies"]["If"]
    assert (condition, otherwise) == ("SettleHasSecrets", NO_VALUE)
    assert [a["Sub"] for a in execution["ManagedPolicyArns"]] == [
        "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
    ]


def test_child_i_of_the_array_job_publishes_shard_i_plus_1(tmp_path: Path) -> None:
    args = command("ShardJobDefinition")
    assert "--notify" not in " ".join(args)  # digests only in the settle job
    shards = []
    for index in range(4):
        env = {"AWS_BATCH_JOB_ARRAY_INDEX": str(index), "SHARD_COUNT": "4"}
        status, calls = run_in_image(tmp_path, args, env)
        assert status == 0
        (call,) = calls
        words = call.split()
        # Nothing else: a shard only publishes (no --notify, which publish refuses with
        # --shard; the audit log is the settle job's, tests/test_publish_shards.py).
        assert words[:3] == ["publish", "--quiet", "--shard"] and len(words) == 4
        shards.append(Shard.parse(words[3]))
    assert [(s.index, s.count) for s in shards] == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_a_shard_job_outside_an_array_publishes_nothing(tmp_path: Path) -> None:
    status, calls = run_in_image(tmp_path, command("ShardJobDefinition"), {"SHARD_COUNT": "4"})
    assert status != 0
    assert calls == []


def test_the_settle_job_cleans_settles_notifies_then_pushes_once(tmp_path: Path) -> None:
    args = command("SettleJobDefinition")
    status, calls = run_in_image(tmp_path, args, {})
    push = "push facturascripts --if-configured"  # only with facturascripts.push (below)
    clean = "uploads clean"  # proofs of payment never taken: shards do not sweep
    assert (status, calls) == (0, [clean, "audit pull", "notify", push])
    # Housekeeping that fails stops nothing and fails nothing (publish only warns too).
    status, calls = run_in_image(tmp_path, args, {}, failing="uploads")
    assert (status, calls) == (0, [clean, "audit pull", "notify", push])
    # A failed settle sends no digest (the job fails, Batch retries it).
    status, calls = run_in_image(tmp_path, args, {}, failing="audit")
    assert status != 0
    assert calls == [clean, "audit pull"]
    # Digests that could not all go: no push yet; the retried job does both.
    status, calls = run_in_image(tmp_path, args, {}, failing="notify")
    assert (status != 0, calls) == (True, [clean, "audit pull", "notify"])
    status, calls = run_in_image(tmp_path, args, {}, failing="push")
    assert (status != 0, calls) == (True, [clean, "audit pull", "notify", push])


def settle_secrets() -> dict[str, tuple[str, Any]]:
    """The settle job's secrets: each variable's condition and where ECS reads it from."""
    container = resources()["SettleJobDefinition"]["Properties"]["ContainerProperties"]
    condition, listed, otherwise = container["Secrets"]["If"]
    assert (condition, otherwise) == ("SettleHasSecrets", NO_VALUE)
    found = {}
    for item in listed:
        given, secret, no = item["If"]
        assert no == NO_VALUE  # each only when its parameter is given
        found[secret["Name"]] = (given, secret["ValueFrom"])
    return found


def token_variable(settings: Settings) -> str:
    return settings.facturascripts.token_env  # push's API key


def smtp_variable(settings: Settings) -> str:
    return settings.mail.password_env  # notify's SMTP password


def webhook_variable(settings: Settings) -> str:
    return settings.audit.webhook_secret_env  # audit pull sends what the webhook missed


@pytest.mark.parametrize(
    ("parameter", "variable_of"),
    [
        ("FacturaScriptsTokenParameterName", token_variable),
        ("SmtpPasswordParameterName", smtp_variable),
        ("WebhookSecretParameterName", webhook_variable),
    ],
    ids=["facturascripts-token", "smtp-password", "webhook-secret"],
)
def test_the_settle_job_gets_its_secret_from_its_parameter(
    parameter: str, variable_of: Any
) -> None:
    """The variable the settle job's commands read a secret from (the setting's default,
    from the code) comes from the SSM parameter the template is given, which the
    execution role (that ECS reads a job's secrets with) may read, that one only, and
    only when it is given. No shard gets any secret."""
    variable = variable_of(load_settings(environ={}))
    template = load_template(TEMPLATE)
    condition, value_from = settle_secrets()[variable]
    parameter_arn = {"Sub": f"{PARAMETER}${{{parameter}}}"}
    assert value_from == parameter_arn
    assert template["Conditions"][condition] == {"Not": [{"Equals": [{"Ref": parameter}, ""]}]}
    assert {"Condition": condition} in template["Conditions"]["SettleHasSecrets"]["Or"]
    declared = template["Parameters"][parameter]
    assert declared["Default"] == "" and "SecureString" in declared["Description"]
    container = resources()["SettleJobDefinition"]["Properties"]["ContainerProperties"]
    assert variable not in [e["Name"] for e in container["Environment"]]  # never the value
    shard = resources()["ShardJobDefinition"]["Properties"]["ContainerProperties"]
    assert "Secrets" not in shard  # shards push, mail and send nothing
    execution = resources()["ExecutionRole"]["Properties"]
    (policy,) = execution["Policies"]["If"][1]
    reads, decrypts = policy["PolicyDocument"]["Statement"]
    assert reads["Action"] == "ssm:GetParameters"
    assert {"If": [condition, parameter_arn, NO_VALUE]} in reads["Resource"]
    assert all(r["If"][2] == NO_VALUE for r in reads["Resource"])  # nothing unconditional
    assert decrypts["Action"] == "kms:Decrypt"
    assert decrypts["Condition"] == {
        "StringEquals": {"kms:ViaService": {"Sub": "ssm.${AWS::Region}.amazonaws.com"}}
    }


def test_the_image_is_portalgen_with_weasyprints_runtime_libraries(tmp_path: Path) -> None:
    dockerfile = (BATCH / "Dockerfile").read_text()
    setup = (ROOT / "scripts" / "setup-system").read_text()
    runtime = re.search(r"^packages=\((.*)\)$", setup, re.MULTILINE)
    assert runtime is not None
    for package in runtime.group(1).split():
        assert package in dockerfile
    assert 'ENTRYPOINT ["portalgen-entrypoint"]' in dockerfile
    assert "pip install --no-cache-dir ." in dockerfile
    # Without `shell`, the entrypoint is plain `portalgen`.
    status, calls = run_in_image(tmp_path, ["publish", "--dry-run"], {})
    assert (status, calls) == (0, ["publish --dry-run"])


@pytest.mark.parametrize("job", ["ShardJobDefinition", "SettleJobDefinition"])
def test_the_jobs_mount_the_working_directory(job: str) -> None:
    container = resources()[job]["Properties"]["ContainerProperties"]
    assert container["MountPoints"] == [
        {"SourceVolume": "data", "ContainerPath": "/data", "ReadOnly": False}
    ]
    (volume,) = container["Volumes"]
    assert volume["EfsVolumeConfiguration"]["FileSystemId"] == {"Ref": "FileSystemId"}
    assert container["JobRoleArn"] == {"GetAtt": "JobRole.Arn"}


@pytest.mark.realclock  # a subprocess
@pytest.mark.parametrize("push", [True, False], ids=["push", "no-push"])
def test_the_settle_command_pushes_a_payment_only_when_configured(
    fs_world: FsWorld, smtp_server: SmtpServer, push: bool
) -> None:
    """The settle job's own command, through the image's entrypoint, with the real
    `portalgen` against the FacturaScripts API stand-in (tests/fs_api.py): a payment
    received in the portal marks its receipt paid, once, when facturascripts.push is
    true; otherwise nothing is written and the job still succeeds."""
    config = write_config(fs_world.folder, fs_world.url, push=push, method="TARJETA")
    mail = smtp_server.mail_settings()
    with config.open("a", encoding="utf-8") as fh:
        fh.write("mail:\n" + "".join(f"  {k}: {v!r}\n" for k, v in mail.items()))
    record_payment(fs_world)

    def settle() -> subprocess.CompletedProcess[str]:
        return run_settle_job(config, fs_world.folder, FACTURASCRIPTS_API_TOKEN=TOKEN)

    first = settle()
    assert first.returncode == 0, first.stdout + first.stderr
    writes = [(resource, item) for resource, item, _ in fs_world.api.writes]
    if push:
        assert writes == [("reciboclientes", "3")]
        assert receipt(fs_world)["pagado"] is True
        assert "Pushed 1, skipped 0, failed 0." in first.stdout
    else:
        assert writes == []
        assert "facturascripts.push is off: nothing pushed" in first.stdout
    again = settle()  # Batch retries a settle job: nothing is written twice
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(fs_world.api.writes) == len(writes)
