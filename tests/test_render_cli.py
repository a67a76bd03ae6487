"""`portalgen build`: what office staff run to look at the portals before publishing."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from portalgen.cli import cli


def run(*args: str) -> object:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_build_writes_one_folder_per_customer(fresh_demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    (fresh_demo / "config.yaml").write_text(
        (fresh_demo / "config.yaml").read_text()
        + "portal:\n  sections:\n    delivery_notes: false\n"
        "theme:\n  accent_color: '#a3e635'\n"
    )
    result = run(
        "--config",
        str(fresh_demo / "config.yaml"),
        "build",
        str(fresh_demo),
        "--out",
        str(out),
        "--only",
        "C00003",
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "Wrote 1 portal to" in result.stdout  # type: ignore[attr-defined]
    assert "theme.accent_color #a3e635" in result.stderr  # type: ignore[attr-defined]
    assert [p.name for p in out.iterdir()] == ["C00003"]
    assert (out / "C00003/index.html").is_file()
    assert not (out / "C00003/delivery-notes").exists()


def test_a_broken_export_builds_nothing(fresh_demo: Path, tmp_path: Path) -> None:
    invoices = fresh_demo / "invoices.csv"
    rows = invoices.read_text().splitlines()
    rows[1] = rows[1].replace(",EUR,", ",EURO,", 1)
    invoices.write_text("\n".join(rows) + "\n")
    out = tmp_path / "site"
    result = run(
        "--config", str(fresh_demo / "config.yaml"), "build", str(fresh_demo), "--out", str(out)
    )
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "invoices.csv" in result.stderr and "row 2" in result.stderr  # type: ignore[attr-defined]
    assert not out.exists()


def test_unknown_customer_is_a_clear_error(demo_dir: Path, tmp_path: Path) -> None:
    result = run(
        "--config",
        str(demo_dir / "config.yaml"),
        "build",
        str(demo_dir),
        "--out",
        str(tmp_path / "site"),
        "--only",
        "NOPE",
    )
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "no customer with code 'NOPE'" in result.stderr  # type: ignore[attr-defined]
