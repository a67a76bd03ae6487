"""Installed from a wheel (not a checkout), portalgen finds its templates, theme and catalogs."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.test_wheel import installed_wheel, run_installed

__all__ = ["installed_wheel"]  # the session fixture that builds and installs the wheel

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
    from portalgen.presentation.catalogs import LOCALE_DIR
    from portalgen.presentation.resources import templates_dir, themes_dir

    target = Path(sys.argv[1]).resolve()
    package = Path(portalgen.__file__).resolve().parent
    assert package.parent == target, package
    assert templates_dir() == package / "templates", templates_dir()
    assert themes_dir() == package / "themes", themes_dir()
    from portalgen.presentation.languages import offered
    from portalgen.presentation.catalogs import translations

    assert {"es", "en", "ca"} <= set(offered()), offered()
    for language in offered():  # every catalog compiled into the wheel
        assert (LOCALE_DIR / language / "LC_MESSAGES/portalgen.mo").is_file(), language
    assert translations("ca").gettext("Invoices") == "Factures"
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


def test_wheel_install_renders_a_portal(installed_wheel: Path, tmp_path: Path) -> None:
    """Templates, theme and compiled catalogs come from the installed wheel; a page and a
    PDF render (run from outside the checkout, with only the wheel on the path)."""
    (tmp_path / "check.py").write_text(SCRIPT)
    result = run_installed(installed_wheel, tmp_path, "check.py", str(installed_wheel))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
