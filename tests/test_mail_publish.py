"""`portalgen grant --send` and `portalgen publish --notify` end to end: the real CLI, the
real publish (with a warm render cache), a real SMTP server, and the gate's WSGI app to
follow every emailed link into the portal."""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import yaml
from click.testing import CliRunner, Result

from portalgen.access.registry import AccessRegistry
from portalgen.access.secret import load_secrets
from portalgen.cli import cli
from portalgen.demo import demo_config_text
from portalgen.gate import create_app
from portalgen.storage import LocalStorage
from tests.gate_fixtures import GateClient
from tests.mail_fixtures import body_html, body_text
from tests.smtpserver import SmtpServer
from tests.test_mail_access import link_in

HOSTAL = ("administracion@hostal-gomez.example", "compras@hostal-gomez.example")  # C00002
ACADEMIA = "administracion@academia-garcia.example"  # C00001


def office(tmp_path: Path, publish_demo: Path, warm_cache: Path, smtp: SmtpServer) -> Path:
    directory = tmp_path / "office"
    shutil.copytree(publish_demo, directory)
    shutil.copytree(warm_cache, tmp_path / "cache")
    config = yaml.safe_load(demo_config_text())
    config["storage"] = {"url": "site"}
    config["publish"] = {"cache_dir": str(tmp_path / "cache"), "jobs": 1}
    config["export"] = {"path": str(directory)}
    config["mail"] = smtp.mail_settings()
    (directory / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
    return directory


def run(directory: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["--config", str(directory / "config.yaml"), *args], env={"PORTALGEN_SECRET": ""}
    )


def gate(directory: Path) -> GateClient:
    from tests.conftest import demo_settings

    settings = demo_settings(directory)
    secrets = load_secrets(directory / "secret.key", environ={})
    return GateClient(create_app(settings, LocalStorage(directory / "site"), secrets=secrets))


def granted_in_january(directory: Path, *codes: str) -> None:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    registry = AccessRegistry(LocalStorage(directory / "site"))
    for code in codes:
        entry = registry.find(code)
        assert entry is not None
        registry.update(
            entry.customer_key,
            lambda e: dataclasses.replace(
                e,
                granted_at=when,
                contacts=tuple(dataclasses.replace(c, created_at=when) for c in e.contacts),
            ),
        )


def test_grant_send_after_publishing_then_nightly_digests_once(
    tmp_path: Path, publish_demo: Path, warm_cache: Path, smtp_server: SmtpServer
) -> None:
    directory = office(tmp_path, publish_demo, warm_cache, smtp_server)
    granted = run(directory, "grant", "C00001", "C00002", "C00003", "--send")
    assert granted.exit_code == 0, granted.output
    invitations = {m.rcpt_tos[0]: m.message for m in smtp_server.messages}
    assert sorted(invitations) == sorted(
        [
            ACADEMIA,
            *HOSTAL,
            "administracion@hostal-romero.example",
            "gerencia@hostal-romero.example",
        ]
    )
    # Published before the invitation went: its link opens the whole portal at once.
    client = gate(directory)
    assert client.open_link(link_in(invitations[ACADEMIA])).headers["Location"] == "/portal/"
    assert client.get("/portal/invoices/index.html").status_code == 200

    granted_in_january(directory, "C00001", "C00002", "C00003")
    smtp_server.messages.clear()
    nightly = run(directory, "publish", "--notify", "--json")
    assert nightly.exit_code == 0, nightly.output
    summary = json.loads(nightly.output)
    assert summary["notify"]["messages"] == 3 and summary["notify"]["customers_failed"] == 0
    digests = {m.rcpt_tos[0]: m.message for m in smtp_server.messages}
    assert sorted(digests) == sorted([ACADEMIA, *HOSTAL])  # C00003 opted out
    for contact, msg in digests.items():
        assert msg["Subject"] == "Novedades en su portal de Suministros Levante"
        assert msg["Content-Language"] == "es"
        assert msg["From"].addresses[0].addr_spec == "facturas@levante.example"
        assert msg["Date"] and msg["Message-ID"]
        assert "FACTURAS NUEVAS" in body_text(msg) and "Facturas nuevas" in body_html(msg)
        visitor = gate(directory)
        assert visitor.open_link(link_in(msg)).headers["Location"] == "/portal/"
        assert visitor.get("/portal/").status_code == 200, contact

    smtp_server.messages.clear()
    again = run(directory, "publish", "--notify")
    assert again.exit_code == 0, again.output
    assert "Sent 0 message(s) to 0 customer(s)." in again.output
    assert smtp_server.messages == []


def test_publish_notify_reports_a_failure_and_the_next_run_retries(
    tmp_path: Path, publish_demo: Path, warm_cache: Path, smtp_server: SmtpServer
) -> None:
    directory = office(tmp_path, publish_demo, warm_cache, smtp_server)
    assert run(directory, "grant", "C00002", "--no-publish").exit_code == 0
    granted_in_january(directory, "C00002")
    smtp_server.refuse.add(HOSTAL[1])
    first = run(directory, "publish", "--notify")
    assert first.exit_code == 1
    assert f"C00002: NOT sent: {HOSTAL[1]}: the server refused the address" in first.output
    assert "the next `portalgen notify` (or publish --notify) sends them" in first.output
    assert [m.rcpt_tos for m in smtp_server.messages] == [(HOSTAL[0],)]  # the publish went on
    smtp_server.refuse.clear()
    second = run(directory, "publish", "--notify")
    assert second.exit_code == 0, second.output
    assert [m.rcpt_tos for m in smtp_server.messages] == [(HOSTAL[0],), (HOSTAL[1],)]
