"""Installed from a wheel (not a checkout), portalgen finds its templates, theme and catalogs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent(
    """
    import sys
    from datetime import date
    from pathlib import Path
    import portalgen
    from portalgen.config import load_settings
    from portalgen.demo import demo_config_text, generate_demo
    from portalgen.load import LoadOptions, load_export
    from portalgen.render import build_context, plan_portal
    from portalgen.render.i18n import LOCALE_DIR
    from portalgen.resources import templates_dir, themes_dir

    target = Path(sys.argv[1]).resolve()
    package = Path(portalgen.__file__).resolve().parent
    assert package.parent == target, package
    assert templates_dir() == package / "templates", templates_dir()
    assert themes_dir() == package / "themes", themes_dir()
    assert (LOCALE_DIR / "es/LC_MESSAGES/portalgen.mo").is_file()
    demo = Path("demo")
    generate_demo(demo, customers=2, seed=3, today=date(2026, 6, 15))
    (demo / "config.yaml").write_text(demo_config_text())
    settings = load_settings(demo / "config.yaml", environ={})
    export = load_export(demo, LoadOptions.from_settings(settings, today=date(2026, 6, 15))).export
    context = build_context(settings, today=date(2026, 6, 15))
    files = {f.path: f for f in plan_portal(export.by_customer()["C00001"], context)}
    home = files["index.html"].render().decode()
    assert "Presupuestos" in home and "Facturas" in home, home[:500]
    assert files["static/portal.css"].render().startswith(b"/*")
    pdf = next(f for p, f in files.items() if p.startswith("invoices/") and p.endswith(".pdf"))
    assert pdf.render().startswith(b"%PDF-")
    assert context.render_warnings == [], context.render_warnings
    print("ok")
    """
)


@pytest.mark.slow
def test_wheel_install_renders_a_portal(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
        check=True,
        capture_output=True,
    )
    [wheel] = list(wheels.glob("portalgen-*.whl"))
    target = tmp_path / "installed"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    run_dir = tmp_path / "elsewhere"
    run_dir.mkdir()
    (run_dir / "check.py").write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run(
        [sys.executable, "check.py", str(target)],
        cwd=run_dir,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
