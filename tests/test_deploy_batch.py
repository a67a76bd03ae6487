"""deploy/batch/: the AWS Batch template passes cfn-lint, its role reaches only the
bucket's portal prefix (and the working directory on EFS), child i of the array job
publishes shard i+1/N, and the settle job settles and notifies once, after the shards.
(tests/test_publish_shards.py runs `publish --shard` and the settle job's command for real.)"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from portalgen.publish.inputs import Shard
from tests.test_deploy import cfn_lint, load_template

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


def resources() -> dict[str, Any]:
    resources: dict[str, Any] = load_template(TEMPLATE)["Resources"]
    return resources


def command(job: str) -> list[str]:
    container = resources()[job]["Properties"]["ContainerProperties"]
    config = {"Name": "PORTALGEN_CONFIG", "Value": "/data/config.yaml"}
    assert container["Environment"][-1] == config
    result: list[str] = container["Command"]
    return result


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
    # The execution role only pulls the image and writes logs.
    execution = resources()["ExecutionRole"]["Properties"]
    assert "Policies" not in execution
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


def test_the_settle_job_settles_then_notifies_once(tmp_path: Path) -> None:
    args = command("SettleJobDefinition")
    status, calls = run_in_image(tmp_path, args, {})
    assert (status, calls) == (0, ["audit pull", "notify"])
    # A failed settle sends no digest (the job fails, Batch retries it).
    status, calls = run_in_image(tmp_path, args, {}, failing="audit")
    assert status != 0
    assert calls == ["audit pull"]


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
