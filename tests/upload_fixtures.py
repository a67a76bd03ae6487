"""Proofs of payment in the tests: files of each kind, the form as a person sends it, a
real ClamAV daemon (`clamd` fixture) and the presigned POST as a browser sends it."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import urllib3
from werkzeug.test import TestResponse

from portalgen.uploads.clamd import ping
from tests.gate_fixtures import GateClient
from tests.interact_fixtures import BROWSER, form_fields

UNPAID = "F2026A-00035"  # C00007's invoice paid by transfer, unpaid on TODAY
PAID = "F2025A-00002"  # C00007's paid invoice: no upload offered
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)
HTML_AS_PDF = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
SVG_AS_PDF = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'
# The EICAR anti-virus test file (eicar.org), built from parts so this file is not one.
EICAR = ("X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-" + "TEST-FILE!$H+H*").encode()
EICAR_PDF = b"%PDF-1.4\n" + EICAR + b"\n%%EOF\n"


def send_proof(
    client: GateClient,
    data: bytes,
    *,
    name: str = "transferencia.pdf",
    content_type: str = "application/pdf",
    note: str = "",
    slug: str = UNPAID,
    csrf: str | None = None,
) -> TestResponse:
    """Fill the invoice page's proof form and post it to the gate, as a browser does."""
    page = client.get(f"/portal/invoices/{slug}.html").get_data(as_text=True)
    fields: dict[str, Any] = form_fields(page, "form-proof") if csrf is None else {}
    if csrf is not None:
        fields["csrf_token"] = csrf
    fields["note"] = note
    fields["file"] = (io.BytesIO(data), name, content_type)
    return client.client.post(
        f"/portal/invoices/{slug}/proof", data=fields, headers=BROWSER, buffered=True
    )


def post_to_bucket(url: str, fields: dict[str, str], data: bytes, content_type: str) -> int:
    """The presigned POST as a browser's form sends it (multipart, the file last), with
    `content_type` as the object's Content-Type field (S3 takes the object's type from
    that field, never from the file part's own header)."""
    body: dict[str, Any] = dict(fields, **{"Content-Type": content_type})
    body["file"] = ("proof", data, content_type)
    return urllib3.PoolManager().request("POST", url, fields=body, retries=False).status


# -- ClamAV -------------------------------------------------------------------------------------

CLAMD = shutil.which("clamd") or ("/usr/sbin/clamd" if os.path.exists("/usr/sbin/clamd") else "")


@pytest.fixture(scope="session")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Debian's clamav-daemon on a socket of its own, with a one-line signature database
    that finds the EICAR test file anywhere in a file (no signature downloads)."""
    if not CLAMD:
        pytest.skip("clamd is not installed (Debian: clamav-daemon; scripts/setup-system)")
    folder = tmp_path_factory.mktemp("clamd")
    (folder / "db").mkdir()
    (folder / "db" / "eicar.ndb").write_text(f"Eicar-Test-Signature:0:*:{EICAR.hex()}\n")
    socket = folder / "clamd.sock"
    config = folder / "clamd.conf"
    lines = [
        f"LocalSocket {socket}",
        f"DatabaseDirectory {folder / 'db'}",
        f"TemporaryDirectory {folder}",
        "Foreground yes",
        "StreamMaxLength 20M",
        *(["User root"] if os.geteuid() == 0 else []),
    ]
    config.write_text("\n".join(lines) + "\n")
    log = (folder / "clamd.log").open("wb")
    process = subprocess.Popen(
        [CLAMD, "-c", str(config)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while not ping(str(socket), timeout=1.0):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"clamd did not start: {(folder / 'clamd.log').read_text()[-2000:]}")
            time.sleep(0.1)
        yield str(socket)
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        if process.poll() is None:
            process.kill()
        log.close()


def path_of(storage_location: str) -> Path:
    return Path(storage_location.removeprefix("file://"))
