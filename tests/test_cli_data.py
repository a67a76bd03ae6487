"""`portalgen init`, `demo` and `check` as staff use them."""

from __future__ import annotations

import copy
import re
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from time_machine import TimeMachineFixture

from portalgen import __version__
from portalgen.cli import cli
from tests.bundles import TABLES, set_cell, write_small_bundle


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_version() -> None:
    assert run("--version")[1].strip() == f"portalgen, version {__version__}"


def test_init_writes_config_and_private_secret(tmp_path: Path) -> None:
    code, _out, _ = run("init", str(tmp_path))
    assert code == 0
    assert (tmp_path / "config.yaml").read_text().startswith("# portalgen configuration")
    assert stat.S_IMODE((tmp_path / "secret.key").stat().st_mode) == 0o600
    secret = (tmp_path / "secret.key").read_text()
    code, _, err = run("init", str(tmp_path))
    assert code == 0 and "Kept the existing" in err
    assert (tmp_path / "secret.key").read_text() == secret


def test_demo_then_check_passes(tmp_path: Path) -> None:
    code, out, _ = run("demo", str(tmp_path), "--customers", "12", "--today", "2026-06-15")
    assert code == 0
    assert "Wrote demo data for 12 customers" in out
    code, out, err = run("--config", str(tmp_path / "config.yaml"), "check", str(tmp_path))
    assert code == 0, err
    assert "Customers         12" in out
    assert "No problems found." in out
    assert re.search(r"Invoiced +[\d.]+,\d\d\xa0€", out)  # amounts formatted for es_ES


@pytest.mark.parametrize(
    ("file", "row", "column", "value", "expected"),
    [
        (
            "invoices.csv",
            2,
            "total",
            "12x.5",
            "invoices.csv, row 2, field 'total': expected a number",
        ),
        (
            "invoices.csv",
            4,
            "customer",
            "C99999",
            "invoices.csv, row 4, field 'customer': no customer",
        ),
        (
            "customers.csv",
            3,
            "tax_id",
            "B12345678",
            "customers.csv, row 3, field 'tax_id': 'B12345678' is not a valid Spanish NIF",
        ),
    ],
)
def test_check_names_a_damaged_cell_and_exits_1(
    tmp_path: Path, file: str, row: int, column: str, value: str, expected: str
) -> None:
    run("demo", str(tmp_path), "--customers", "5", "--today", "2026-06-15")
    set_cell(tmp_path / file, row, column, value)
    code, _out, err = run("--config", str(tmp_path / "config.yaml"), "check", str(tmp_path))
    assert code == 1
    assert expected in err
    # check never publishes: it says how many errors, not that nothing was published.
    assert err.endswith("Error: the export has 1 error\n") and "published" not in err
    assert "Traceback" not in err


def test_strict_turns_warnings_into_errors(tmp_path: Path) -> None:
    run("demo", str(tmp_path), "--customers", "3", "--today", "2026-06-15")
    set_cell(tmp_path / "invoices.csv", 2, "total", "1.00")
    config = str(tmp_path / "config.yaml")
    code, _out, err = run("--config", config, "check", str(tmp_path))
    assert code == 0 and "warning: invoices.csv, row 2, field 'total'" in err
    code, _, err = run("--config", config, "check", "--strict", str(tmp_path))
    assert code == 1 and "invoices.csv, row 2, field 'total'" in err


def test_config_errors_are_one_line_and_debug_shows_the_traceback(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("gate: {link_max_age: forever}\n")
    code, _, err = run("--config", str(config), "check", str(tmp_path))
    assert code == 1
    assert (
        err.strip()
        == "Error: gate.link_max_age: expected a duration like 30d, 12h or 15m, found 'forever'"
    )
    result = CliRunner().invoke(cli, ["--debug", "--config", str(config), "check", str(tmp_path)])
    assert result.exit_code == 1
    assert type(result.exception).__name__ == "ConfigError"


def test_bad_flag_is_a_usage_error() -> None:
    code, _, err = run("demo", "--customers", "none")
    assert code == 2 and "Invalid value for '--customers'" in err


def test_init_inside_a_git_checkout_keeps_the_secret_out_of_it(tmp_path: Path) -> None:
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=tmp_path, capture_output=True, text=True, check=True
        )
        return done.stdout

    git("init", "-q")
    code, out, _ = run("init", str(tmp_path / "office"))
    assert code == 0 and "office/.gitignore" in out
    status = git("status", "--porcelain", "--ignored", "--untracked-files=all")
    assert "!! office/secret.key" in status.splitlines()
    assert "office/secret.key" not in status.replace("!! office/secret.key", "")
    assert "?? office/config.yaml" in status.splitlines()  # the configuration may be kept
    # an office's own .gitignore keeps its lines and gets the missing ones, once
    (tmp_path / "office" / ".gitignore").write_text("*.log\n")
    run("init", str(tmp_path / "office"))
    run("init", str(tmp_path / "office"))
    lines = (tmp_path / "office" / ".gitignore").read_text().splitlines()
    assert lines[0] == "*.log" and lines.count("/secret.key") == 1


def test_check_totals_every_currency_and_drops_none(
    tmp_path: Path, time_machine: TimeMachineFixture
) -> None:
    """An invoice in US dollars is neither left out of the amounts nor added to euros."""
    time_machine.move_to(datetime(2026, 7, 15, 12, tzinfo=UTC), tick=False)
    tables = copy.deepcopy(TABLES)
    tables["invoices"][1]["currency"] = "USD"  # F2026-002, 1020.00, due 2026-07-01, unpaid
    write_small_bundle(tmp_path / "export", tables)
    run("init", str(tmp_path))
    code, out, err = run(
        "--config", str(tmp_path / "config.yaml"), "check", str(tmp_path / "export")
    )
    assert code == 0, err
    assert re.search(r"^Invoiced +121,00\xa0€ · 1\.020,00\xa0US\$$", out, re.M), out
    assert re.search(
        r"^Outstanding +0,00\xa0€  \(overdue 0,00\xa0€\) · "
        r"1\.020,00\xa0US\$  \(overdue 1\.020,00\xa0US\$\)$",
        out,
        re.M,
    ), out
