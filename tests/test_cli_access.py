"""The staff's access commands through the real CLI: grant, revoke, reset, link,
access list, secret rotate / drop-old, serve."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from portalgen.access.codes import verify_code
from portalgen.access.registry import AccessRegistry
from portalgen.access.secret import load_secrets
from portalgen.access.tokens import TokenError, TokenSigner
from portalgen.audit.log import AuditLog
from portalgen.cli import cli
from portalgen.storage import LocalStorage

LINK = re.compile(r"http://127\.0\.0\.1:8000/l/(\S+)")


def run(directory: Path, *args: str, input: str | None = None) -> Result:
    runner = CliRunner()
    return runner.invoke(
        cli,
        ["--config", str(directory / "config.yaml"), *args],
        input=input,
        env={"PORTALGEN_SECRET": ""},
    )


def registry(directory: Path) -> AccessRegistry:
    return AccessRegistry(LocalStorage(directory / "site"))


def tokens(output: str) -> list[str]:
    return LINK.findall(output)


def test_grant_prints_a_link_per_contact_and_records_it(fresh_demo: Path) -> None:
    result = run(
        fresh_demo, "grant", "C00001", "C00002", "--no-publish", "--export", str(fresh_demo)
    )
    assert result.exit_code == 0, result.output
    assert "C00001: access granted (new)" in result.output
    assert len(tokens(result.output)) >= 2
    assert "next `portalgen publish`" in result.output
    signer = TokenSigner(load_secrets(fresh_demo / "secret.key", environ={}))
    claims, _ = signer.read_link(tokens(result.output)[0])
    entry = registry(fresh_demo).find("C00001")
    assert entry is not None and entry.enabled and claims.customer_key == entry.customer_key
    events = [
        e for e in AuditLog(fresh_demo / "audit.jsonl").events() if e.type == "access.granted"
    ]
    assert {e.customer for e in events} == {"C00001", "C00002"}
    assert all(e.contact == "staff" for e in events)


def test_grant_reads_export_path_from_the_configuration(fresh_demo: Path) -> None:
    config = fresh_demo / "config.yaml"
    config.write_text(config.read_text() + "export:\n  path: .\n", encoding="utf-8")
    result = run(fresh_demo, "grant", "C00003", "--no-publish")
    assert result.exit_code == 0, result.output
    assert tokens(result.output)


def test_grant_with_a_generated_code_prints_it_once_with_advice(fresh_demo: Path) -> None:
    result = run(
        fresh_demo, "grant", "C00001", "--code", "--no-publish", "--export", str(fresh_demo)
    )
    assert result.exit_code == 0, result.output
    code = re.search(r"Access code: (\S+)", result.output).group(1)  # type: ignore[union-attr]
    assert "by phone or by message, never in the same email as the link" in result.output
    entry = registry(fresh_demo).find("C00001")
    assert entry is not None and entry.access_code is not None and entry.access_code.must_change
    assert verify_code(entry.access_code.hash, code)
    stored = (fresh_demo / "site" / "_access" / f"{entry.customer_key}.json").read_text()
    assert code not in stored and code.replace("-", "") not in stored
    again = run(fresh_demo, "link", "C00001")
    assert "Access code:" not in again.output and "access code" in again.output  # a reminder only


def test_grant_with_a_typed_code_at_a_hidden_prompt(fresh_demo: Path) -> None:
    typed = "codigo-de-prueba-42"
    result = run(
        fresh_demo,
        "grant",
        "C00002",
        "--ask-code",
        "--no-publish",
        "--export",
        str(fresh_demo),
        input=f"{typed}\n{typed}\n",
    )
    assert result.exit_code == 0, result.output
    assert typed not in result.output  # hidden
    entry = registry(fresh_demo).find("C00002")
    assert entry is not None and entry.access_code is not None
    assert verify_code(entry.access_code.hash, typed)
    short = run(
        fresh_demo,
        "grant",
        "C00003",
        "--ask-code",
        "--no-publish",
        "--export",
        str(fresh_demo),
        input="abc\nabc\n",
    )
    assert short.exit_code == 1 and "at least 8 characters" in short.output


def test_grant_all_and_usage_errors(fresh_demo: Path) -> None:
    result = run(fresh_demo, "grant", "--all", "--no-publish", "--export", str(fresh_demo))
    assert result.exit_code == 0, result.output
    assert len([e for e in registry(fresh_demo).entries() if e.enabled]) == 8
    assert run(fresh_demo, "grant", "--no-publish", "--export", str(fresh_demo)).exit_code == 2
    both = run(
        fresh_demo, "grant", "C00001", "C00002", "--email", "a@b.es", "--export", str(fresh_demo)
    )
    assert both.exit_code == 2 and "--email goes with exactly one" in both.output
    unknown = run(fresh_demo, "grant", "C99999", "--no-publish", "--export", str(fresh_demo))
    assert unknown.exit_code == 1 and "not in the export: C99999" in unknown.output
    bad_age = run(fresh_demo, "grant", "C00001", "--max-age", "soon", "--export", str(fresh_demo))
    assert bad_age.exit_code == 2


def test_grant_one_contact_by_email(fresh_demo: Path) -> None:
    result = run(
        fresh_demo,
        "grant",
        "C00004",
        "--email",
        "Otra@Cliente.example",
        "--max-age",
        "7d",
        "--no-publish",
        "--export",
        str(fresh_demo),
    )
    assert result.exit_code == 0, result.output
    entry = registry(fresh_demo).find("C00004")
    assert entry is not None
    assert [c.email for c in entry.contacts] == ["otra@cliente.example"]
    assert entry.link_max_age is not None and entry.link_max_age.days == 7


def test_revoke_reset_link_and_the_list(fresh_demo: Path) -> None:
    granted = run(
        fresh_demo, "grant", "C00001", "C00002", "--no-publish", "--export", str(fresh_demo)
    )
    first = tokens(granted.output)[0]
    signer = TokenSigner(load_secrets(fresh_demo / "secret.key", environ={}))

    reset = run(fresh_demo, "reset", "C00001")
    assert reset.exit_code == 0 and "the old ones no longer work" in reset.output
    new_token = tokens(reset.output)[0]
    old_claims, new_claims = signer.read_link(first)[0], signer.read_link(new_token)[0]
    assert new_claims.generation == old_claims.generation + 1

    fresh = run(fresh_demo, "link", "C00001")
    assert signer.read_link(tokens(fresh.output)[0])[0].generation == new_claims.generation

    revoked = run(fresh_demo, "revoke", "C00002")
    assert revoked.exit_code == 0 and "access revoked" in revoked.output
    assert run(fresh_demo, "link", "C00002").exit_code == 1
    assert "grant it again" in run(fresh_demo, "link", "C00002").output
    missing = run(fresh_demo, "revoke", "C00077")
    assert missing.exit_code == 1 and "never had portal access" in missing.output

    listing = run(fresh_demo, "access", "list")
    assert listing.exit_code == 0
    lines = {line.split()[0]: line for line in listing.output.splitlines()[1:]}
    assert " yes " in lines["C00001"] and " revoked " in lines["C00002"]
    data = json.loads(run(fresh_demo, "access", "list", "--json").output)
    assert [row["customer"] for row in data] == ["C00001", "C00002"]
    assert data[1]["enabled"] is False and data[1]["revoked_at"]
    types = [e.type for e in AuditLog(fresh_demo / "audit.jsonl").events()]
    assert types.count("access.reset") == 1 and types.count("access.revoked") == 1


def test_revoke_one_contact(fresh_demo: Path) -> None:
    run(fresh_demo, "grant", "C00005", "--no-publish", "--export", str(fresh_demo))
    run(
        fresh_demo,
        "grant",
        "C00005",
        "--email",
        "segunda@cliente.example",
        "--no-publish",
        "--export",
        str(fresh_demo),
    )
    result = run(fresh_demo, "revoke", "C00005", "--contact", "segunda@cliente.example")
    assert result.exit_code == 0 and "other contacts keep access" in result.output
    entry = registry(fresh_demo).find("C00005")
    assert entry is not None and entry.enabled
    assert not entry.contact("segunda@cliente.example").enabled  # type: ignore[union-attr]
    listing = run(fresh_demo, "access", "list").output
    assert "segunda@cliente.example (cut off)" in listing


def test_secret_rotate_keeps_old_links_and_drop_old_ends_them(fresh_demo: Path) -> None:
    granted = run(fresh_demo, "grant", "C00001", "--no-publish", "--export", str(fresh_demo))
    old_token = tokens(granted.output)[0]
    rotated = run(fresh_demo, "secret", "rotate")
    assert rotated.exit_code == 0 and "2 active" in rotated.output
    secrets = load_secrets(fresh_demo / "secret.key", environ={})
    assert len(secrets) == 2
    assert (fresh_demo / "secret.key").stat().st_mode & 0o077 == 0
    TokenSigner(secrets).read_link(old_token)  # still good
    new_token = tokens(run(fresh_demo, "link", "C00001").output)[0]
    TokenSigner(secrets[-1:]).read_link(new_token)  # signed by the newest
    assert run(fresh_demo, "secret", "drop-old", input="n\n").exit_code == 1  # asked, refused
    dropped = run(fresh_demo, "secret", "drop-old", "--yes")
    assert dropped.exit_code == 0
    remaining = load_secrets(fresh_demo / "secret.key", environ={})
    assert remaining == secrets[-1:]
    with pytest.raises(TokenError):
        TokenSigner(remaining).read_link(old_token)


def test_secret_rotate_refuses_secrets_from_the_environment(fresh_demo: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["--config", str(fresh_demo / "config.yaml"), "secret", "rotate"],
        env={"PORTALGEN_SECRET": "e" * 40},
    )
    assert result.exit_code == 1 and "$PORTALGEN_SECRET" in result.output


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_runs_the_gate(fresh_demo: Path) -> None:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "portalgen",
        "--config",
        str(fresh_demo / "config.yaml"),
        "serve",
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    body = response.read().decode()
                    headers = response.headers
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        assert "Suministros Levante" in body
        assert "default-src 'none'" in headers["Content-Security-Policy"]
    finally:
        process.kill()
        output = process.communicate(timeout=10)[0].decode()
    assert f"http://127.0.0.1:{port}/" in output


def test_access_list_shows_the_last_visit_from_the_audit_log(fresh_demo: Path) -> None:
    from datetime import UTC, datetime

    from portalgen.audit.events import new_event

    run(fresh_demo, "grant", "C00001", "--no-publish", "--export", str(fresh_demo))
    log = AuditLog(fresh_demo / "audit.jsonl")
    log.append(
        new_event(
            "session.started",
            "C00001",
            contact="a@b.es",
            now=datetime(2026, 6, 1, 8, 0, tzinfo=UTC),
        )
    )
    log.append(
        new_event(
            "document.viewed",
            "C00001",
            contact="a@b.es",
            now=datetime(2026, 6, 3, 9, 30, tzinfo=UTC),
        )
    )
    listing = run(fresh_demo, "access", "list").output
    assert "03/06/2026 11:30" in listing  # Europe/Madrid
    data = json.loads(run(fresh_demo, "access", "list", "--json").output)
    assert data[0]["last_visit"].startswith("2026-06-03T09:30")


@pytest.mark.slow
def test_grant_publishes_the_portal_at_once(fresh_demo: Path) -> None:
    from portalgen.publish.manifest import load_manifest
    from portalgen.publish.markers import markers_prefix

    result = run(fresh_demo, "grant", "C00003", "--export", str(fresh_demo))
    assert result.exit_code == 0, result.output
    assert "Published 1 portal" in result.output
    entry = registry(fresh_demo).find("C00003")
    assert entry is not None
    storage = LocalStorage(fresh_demo / "site")
    manifest = load_manifest(storage, entry.customer_key)
    assert manifest is not None and manifest.get("index.html") is not None
    assert storage.exists(
        f"portals/{entry.customer_key}/files/{manifest.files['index.html'].sha256}"
    )
    assert list(storage.list_folders("portals/")) == [entry.customer_key]  # only C00003
    assert list(storage.list(markers_prefix(entry.customer_key)))  # publish vouches for it

    revoked = run(fresh_demo, "revoke", "C00003")
    assert revoked.exit_code == 0, revoked.output
    assert list(storage.list("portals/")) == [] and list(storage.list("_publish/")) == []

    again = run(fresh_demo, "grant", "C00003", "--export", str(fresh_demo))
    assert again.exit_code == 0, again.output
    assert "Published 1 portal" in again.output
    again_manifest = load_manifest(storage, entry.customer_key)
    assert again_manifest is not None and again_manifest.files == manifest.files  # whole again

    not_now = run(fresh_demo, "grant", "C00001", "--export", str(fresh_demo), "--no-publish")
    assert not_now.exit_code == 0 and "Not published now" in not_now.output
    assert list(storage.list_folders("portals/")) == [entry.customer_key]


def test_access_list_shows_one_line_per_customer_whatever_the_codes_hold(
    fresh_demo: Path,
) -> None:
    run(fresh_demo, "grant", "C00001", "--no-publish", "--export", str(fresh_demo))
    registry(fresh_demo).get_or_create("C00009\nC00002  yes")  # a code written by a script
    listing = run(fresh_demo, "access", "list")
    assert listing.exit_code == 0
    lines = listing.output.splitlines()
    assert len(lines) == 3  # the header and one line per customer
    assert lines[2].startswith("C00009\\nC00002  yes ")


def test_drop_old_keeps_the_audit_checkpoint_verifiable(fresh_demo: Path) -> None:
    """grant anchors the audit log with the only secret; after a rotation nothing was
    appended, so the checkpoint is still signed with the secret drop-old removes."""
    run(fresh_demo, "grant", "C00001", "--no-publish", "--export", str(fresh_demo))
    assert run(fresh_demo, "secret", "rotate").exit_code == 0
    assert run(fresh_demo, "secret", "drop-old", "--yes").exit_code == 0
    verified = run(fresh_demo, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert "the chain is intact and anchored" in verified.output
