"""`portalgen publish` as staff and cron run it: output, --json, exit status, bad input,
--notify."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from portalgen.access.registry import AccessRegistry
from portalgen.access.secret import load_secrets
from portalgen.audit import StorageAuditSink, new_event
from portalgen.audit.anchor import CHECKPOINT_KEY
from portalgen.audit.anchored import open_audit_log
from portalgen.cli import cli
from portalgen.publish.manifest import manifest_key
from tests.publish_fixtures import Site, local_root
from tests.smtpserver import SmtpServer


def run(site: Site, *args: str) -> Result:
    config = site.write_config()
    return CliRunner().invoke(
        cli, ["--config", str(config), "publish", str(site.export_dir), *args]
    )


def test_json_summary_for_cron(local_site: Site) -> None:
    result = run(local_site, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["customers"] == {
        "published": 3,
        "changed": 3,
        "unchanged": 0,
        "removed": 0,
        "failed": 0,
        "without_access": 1,
    }
    assert summary["files"]["uploaded"] > 0 and summary["bytes"]["uploaded"] > 0
    assert summary["errors"] == [] and summary["dry_run"] is False
    assert summary["events_pulled"] is None  # a folder: the gate writes audit.jsonl itself
    again = json.loads(run(local_site, "--json").stdout)
    assert again["customers"]["unchanged"] == 3
    assert (again["files"]["rendered"], again["files"]["uploaded"]) == (0, 0)


@pytest.mark.realclock  # the render cache ages entries by their file times
def test_the_report_reads_as_one_line(local_site: Site) -> None:
    report = local_site.publish(only=["C00001"])
    assert str(report) == (
        f"1 customer (1 changed, 0 unchanged); 0 files rendered, "
        f"{report.files_uploaded} uploaded, 0 deleted"
    )


def test_human_summary_and_dry_run(local_site: Site) -> None:
    result = run(local_site, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Would publish 3 customers (3 changed, 0 unchanged)" in result.stdout
    assert "Dry run: nothing was rendered, uploaded or deleted." in result.stdout
    assert "C00001: would render" in result.stderr
    assert not (local_root(local_site) / "portals").exists()
    result = run(local_site)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Published 3 customers (3 changed, 0 unchanged)")
    assert "1 customer of the export has no portal access" in result.stdout


def test_cron_sees_a_line_per_customer_but_not_in_json(local_site: Site) -> None:
    progress = re.compile(r"^\[(\d)/3\] (C0000\d) done$", re.MULTILINE)
    result = run(local_site, "--dry-run")  # CliRunner's stderr is no terminal, as in cron
    assert result.exit_code == 0, result.output
    lines = progress.findall(result.stderr)
    assert [n for n, _ in lines] == ["1", "2", "3"]
    assert sorted(code for _, code in lines) == ["C00001", "C00002", "C00003"]
    as_json = run(local_site, "--dry-run", "--json")
    assert json.loads(as_json.stdout)["dry_run"] is True  # stdout: the JSON alone
    assert not progress.search(as_json.stderr)
    quiet = run(local_site, "--dry-run", "-q")
    assert quiet.exit_code == 0 and not progress.search(quiet.stderr)


def test_one_customer_failing_does_not_stop_the_others(local_site: Site) -> None:
    site = local_site
    blocked = local_root(site) / "portals" / site.keys["C00002"] / "files"
    blocked.parent.mkdir(parents=True)
    blocked.write_text("a file where a folder must be")
    result = run(site, "--json")
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["customers"]["failed"] == 1 and summary["customers"]["changed"] == 2
    [error] = summary["errors"]
    assert error["customer"] == "C00002" and str(blocked) in error["reason"]
    assert f"C00002: {error['reason']}" in result.stderr
    assert "1 customer could not be published" in result.stderr
    assert site.storage.exists(manifest_key(site.keys["C00001"]))
    assert not site.storage.exists(manifest_key(site.keys["C00002"]))


def test_a_broken_export_publishes_nothing(local_site: Site) -> None:
    invoices = local_site.export_dir / "invoices.csv"
    lines = invoices.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("issue_date")] = "yesterday"
    invoices.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n", "utf-8")
    result = run(local_site)
    assert result.exit_code == 1
    assert "invoices.csv" in result.stderr and "issue_date" in result.stderr
    assert "nothing was published" in result.stderr
    assert not (local_root(local_site) / "portals").exists()


def test_bad_options_are_refused_before_anything(local_site: Site, tmp_path: Path) -> None:
    for bad in ("3/2", "x", "0/3"):
        result = run(local_site, "--shard", bad)
        assert result.exit_code == 2
        assert "shard" in result.stderr
    result = run(local_site, "--jobs", "0")
    assert result.exit_code == 2
    result = run(local_site, "--only", "NOPE")
    assert result.exit_code == 1 and "no customer with code 'NOPE'" in result.stderr
    assert not (local_root(local_site) / "portals").exists()


def test_export_path_comes_from_the_configuration(local_site: Site) -> None:
    config = local_site.write_config(export={"path": str(local_site.export_dir)})
    result = CliRunner().invoke(cli, ["--config", str(config), "publish", "--only", "C00003"])
    assert result.exit_code == 0, result.output
    assert "Published 1 customer (1 changed, 0 unchanged)" in result.stdout


def test_render_processes_and_progress(local_site: Site) -> None:
    """--jobs 2 renders in worker processes; the progress callback sees every customer."""
    site = local_site
    site.publish()
    site.configure(company={"name": "Suministros Levante Dos"})
    calls: list[tuple[str, int, int]] = []
    report = site.publish(jobs=2, progress=lambda *call: calls.append(call))
    assert report.ok and report.count("changed") == 3 and report.files_rendered > 0
    assert calls[0] == ("", 0, 3)
    assert sorted(c[0] for c in calls[1:]) == ["C00001", "C00002", "C00003"]
    assert [c[1] for c in calls] == [0, 1, 2, 3]
    assert b"Dos" in site.file("C00002", "index.html")
    site.check_portals()


def test_notify_emails_the_customers_just_published(
    local_site: Site, smtp_server: SmtpServer
) -> None:
    """--notify: the digest goes to the customers this run published, once."""
    site = local_site
    config = site.write_config(mail=smtp_server.mail_settings())
    long_ago = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)  # granted before the demo's documents
    registry = AccessRegistry(site.storage)
    for key in site.keys.values():
        registry.update(
            key,
            lambda e: dataclasses.replace(
                e,
                granted_at=long_ago,
                contacts=tuple(dataclasses.replace(c, created_at=long_ago) for c in e.contacts),
            ),
        )
    args = ["--config", str(config), "publish", str(site.export_dir), "--notify", "--json"]

    result = CliRunner().invoke(cli, [*args, "--only", "C00002"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["customers"]["changed"] == 1
    assert summary["notify"]["messages"] == 1, json.dumps(summary["notify"])
    [received] = smtp_server.messages  # not C00001: granted, but not published by this run
    assert received.rcpt_tos == ("c00002@x.example",)
    text = received.message.get_body(("plain",))
    assert text is not None and "/l/" in str(text.get_content())  # with a fresh link

    again = CliRunner().invoke(cli, [*args, "--only", "C00002"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["notify"]["messages"] == 0  # nothing new: no message

    everyone = CliRunner().invoke(cli, args)
    assert everyone.exit_code == 0, everyone.output
    assert json.loads(everyone.stdout)["notify"]["messages"] == 1  # C00003 has notify: false
    assert [m.rcpt_tos for m in smtp_server.messages[1:]] == [("c00001@x.example",)]


def test_a_shard_is_refused_notify_before_anything(
    local_site: Site, smtp_server: SmtpServer
) -> None:
    """Every shard emailing its customers would mail before the others have published,
    and N shards would each send the staff notices: the digests go out once, after."""
    config = local_site.write_config(mail=smtp_server.mail_settings())
    args = ["--config", str(config), "publish", str(local_site.export_dir)]
    result = CliRunner().invoke(cli, [*args, "--shard", "1/2", "--notify"])
    assert result.exit_code == 2
    assert "--notify cannot be used with --shard" in result.stderr
    assert "`portalgen notify` once" in result.stderr
    assert not (local_root(local_site) / "portals").exists()
    assert smtp_server.messages == []


@pytest.mark.s3
def test_shards_leave_the_audit_log_to_the_settle_step(s3_site: Site) -> None:
    """N shards at once must not all append to the one audit.jsonl (and its checkpoint in
    storage): a shard neither pulls the gate's events nor settles; the next whole publish
    (or `audit pull`) does."""
    site = s3_site
    secrets = load_secrets(site.settings.secret_file)
    event = new_event("document.viewed", "C00001", now=datetime.now(UTC) - timedelta(hours=1))
    StorageAuditSink(site.storage, secrets).record(event)
    for shard in ("1/2", "2/2"):
        result = run(site, "--shard", shard, "--json")
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout)
        assert (summary["shard"], summary["events_pulled"]) == (shard, None)
        human = run(site, "--shard", shard)
        assert f"Shard {shard}: the audit log was neither pulled nor settled" in human.stdout
    log = open_audit_log(site.settings, site.storage)
    assert not log.path.exists() and site.storage.get(CHECKPOINT_KEY) is None
    whole = json.loads(run(site, "--json").stdout)
    assert whole["shard"] is None and whole["events_pulled"]["added"] == 1
    assert whole["customers"]["changed"] == 0
    assert log.ids() == {event.id}
