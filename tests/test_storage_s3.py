"""S3Storage against the real SeaweedFS server: what only S3 does, and its failures."""

from __future__ import annotations

import pytest

from portalgen.errors import StorageError
from portalgen.storage import S3Storage, make_s3_client, open_storage, parse_s3_url
from tests.s3server import READ_ONLY_ACCESS_KEY, READ_ONLY_SECRET_KEY, SeaweedServer, pick_ports
from tests.storage_backends import settings_for

pytestmark = pytest.mark.s3


def test_uploads_keep_their_content_type(s3_server: SeaweedServer, s3_storage_config) -> None:
    storage = open_storage(settings_for(s3_storage_config))
    storage.put("portals/k/files/a", b"<html>", "text/html; charset=utf-8")
    assert storage.put_if_absent("portals/k/files/b", b"%PDF", "application/pdf")
    client = s3_server.client()
    bucket, prefix = parse_s3_url(s3_storage_config["url"])
    head_a = client.head_object(Bucket=bucket, Key=f"{prefix}/portals/k/files/a")
    head_b = client.head_object(Bucket=bucket, Key=f"{prefix}/portals/k/files/b")
    assert head_a["ContentType"] == "text/html; charset=utf-8"
    assert head_b["ContentType"] == "application/pdf"


def test_server_side_encryption_is_requested(s3_server: SeaweedServer, s3_storage_config) -> None:
    storage = open_storage(settings_for({**s3_storage_config, "server_side_encryption": "AES256"}))
    storage.put("_access/k.json", b"{}", "application/json")
    assert storage.put_if_absent("_access/l.json", b"{}", "application/json")
    client = s3_server.client()
    bucket, prefix = parse_s3_url(s3_storage_config["url"])
    for key in ("_access/k.json", "_access/l.json"):
        head = client.head_object(Bucket=bucket, Key=f"{prefix}/{key}")
        assert head["ServerSideEncryption"] == "AES256"
    assert storage.get("_access/k.json") == b"{}"


def test_a_missing_bucket_is_named(s3_storage_config) -> None:
    config = {**s3_storage_config, "url": "s3://no-such-bucket-here/portal"}
    storage = open_storage(settings_for(config))
    with pytest.raises(StorageError, match="bucket 'no-such-bucket-here' does not exist"):
        storage.get("_access/index.json")
    with pytest.raises(StorageError, match="does not exist"):
        list(storage.list("portals/"))
    with pytest.raises(StorageError, match="does not exist"):
        storage.put("x", b"1", "text/plain")


def test_access_denied_says_what_to_do(s3_storage_config) -> None:
    import boto3

    session = boto3.session.Session(
        aws_access_key_id=READ_ONLY_ACCESS_KEY, aws_secret_access_key=READ_ONLY_SECRET_KEY
    )
    storage = S3Storage.from_settings(settings_for(s3_storage_config), session)
    assert storage.get("anything") is None  # this identity may read
    with pytest.raises(StorageError, match=r"access denied.*write.*docs/storage.md"):
        storage.put("portals/k/manifest.json", b"{}", "application/json")


def test_wrong_credentials_are_reported(s3_storage_config) -> None:
    import boto3

    session = boto3.session.Session(aws_access_key_id="portalgen-test", aws_secret_access_key="no")
    storage = S3Storage.from_settings(settings_for(s3_storage_config), session)
    with pytest.raises(StorageError, match="refused the AWS credentials"):
        storage.get("x")


def test_an_unreachable_endpoint_is_named(s3_storage_config) -> None:
    port = pick_ports()["s3"]  # nothing listens there
    config = {**s3_storage_config, "endpoint_url": f"http://127.0.0.1:{port}"}
    storage = open_storage(settings_for(config))
    with pytest.raises(StorageError, match=f"cannot connect to http://127.0.0.1:{port}"):
        storage.get("x")


def test_a_server_restart_keeps_the_data(s3_server: SeaweedServer, s3_storage_config) -> None:
    storage = open_storage(settings_for(s3_storage_config))
    storage.put("portals/k/manifest.json", b"v1", "application/json")
    s3_server.stop()
    with pytest.raises(StorageError, match="cannot connect"):
        storage.put("portals/k/manifest.json", b"v2", "application/json")
    s3_server.start()
    assert storage.get("portals/k/manifest.json") == b"v1"
    storage.put("portals/k/manifest.json", b"v2", "application/json")
    assert storage.get("portals/k/manifest.json") == b"v2"


def test_the_client_signs_with_sigv4_and_retries_in_standard_mode(s3_storage_config) -> None:
    client = make_s3_client(settings_for(s3_storage_config))
    config = client.meta.config
    assert config.signature_version == "s3v4"  # type: ignore[attr-defined]  # not in the stubs
    assert config.retries["mode"] == "standard"  # type: ignore[attr-defined]
    assert client.meta.endpoint_url == s3_storage_config["endpoint_url"]


def test_a_subprocess_finds_the_server_through_the_standard_aws_chain(
    s3_server: SeaweedServer, s3_storage_config, tmp_path
) -> None:
    """`s3_server.env` is what a `portalgen` subprocess needs (no credentials in YAML)."""
    import json
    import os
    import subprocess
    import sys

    script = (
        "import json, sys\n"
        "from portalgen.config import load_settings\n"
        "from portalgen.storage import open_storage\n"
        "config = json.loads(sys.argv[1])\n"
        "s = open_storage(load_settings(overrides={'storage': config}, environ={}))\n"
        "s.put('from-child', b'hello', 'text/plain')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(s3_server.env)
    command = [sys.executable, "-c", script, json.dumps(s3_storage_config)]
    subprocess.run(command, env=env, check=True, cwd=tmp_path, timeout=60)
    storage = open_storage(settings_for(s3_storage_config))
    assert storage.get("from-child") == b"hello"
