"""Render keys: they change exactly when a file's bytes would change (publishing relies on it)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from portalgen.domain.model import CustomerData, Money, Totals
from portalgen.plan import PlannedFile
from portalgen.render import build_context, plan_portal
from tests.conftest import TODAY, load_demo
from tests.render_fixtures import render_settings


def keys(files: list[PlannedFile]) -> dict[str, str]:
    return {f.path: f.key for f in files}


def changed(a: list[PlannedFile], b: list[PlannedFile]) -> set[str]:
    ka, kb = keys(a), keys(b)
    assert ka.keys() == kb.keys()
    return {path for path in ka if ka[path] != kb[path]}


def customer(demo_dir: Path, code: str = "C00002") -> CustomerData:
    return load_demo(demo_dir).export.customer_data(code)


def test_keys_are_stable_across_runs(demo_dir: Path) -> None:
    data = customer(demo_dir)
    first = plan_portal(data, build_context(render_settings(demo_dir), today=TODAY))
    second = plan_portal(data, build_context(render_settings(demo_dir), today=TODAY))
    assert keys(first) == keys(second)
    assert len({f.path for f in first}) == len(first)


def test_changing_one_invoice_re_renders_only_what_shows_it(demo_dir: Path) -> None:
    context = build_context(render_settings(demo_dir), today=TODAY)
    data = customer(demo_dir)
    invoice = data.invoices[0]
    line = replace(invoice.lines[0], description="Corrected description")
    edited = replace(invoice, lines=(line, *invoice.lines[1:]))
    after = replace(data, invoices=(edited, *data.invoices[1:]))
    diff = changed(plan_portal(data, context), plan_portal(after, context))
    assert diff == {
        f"invoices/{invoice.slug}.html",
        f"invoices/{invoice.slug}.pdf",
        "download/all-documents.zip",
    }

    total = replace(invoice.totals, total=invoice.totals.total + Money(Decimal("1.00"), "EUR"))
    dearer = replace(data, invoices=(replace(invoice, totals=total), *data.invoices[1:]))
    diff = changed(plan_portal(data, context), plan_portal(dearer, context))
    assert {
        f"invoices/{invoice.slug}.html",
        f"invoices/{invoice.slug}.pdf",
        "invoices/index.html",
        "payments/index.html",
        "payments/statement.pdf",
        "payments/statement.csv",
        "download/all-documents.zip",
        "index.html",
    } == diff


def test_pdfs_do_not_depend_on_the_day(demo_dir: Path) -> None:
    data = customer(demo_dir)
    settings = render_settings(demo_dir)
    today = plan_portal(data, build_context(settings, today=TODAY))
    later = plan_portal(data, build_context(settings, today=TODAY + timedelta(days=200)))
    diff = changed(today, later)
    assert not [p for p in diff if p.endswith(".pdf") and "statement" not in p]
    assert "index.html" in diff  # invoices became overdue, quotes expired
    tomorrow = plan_portal(data, build_context(settings, today=TODAY + timedelta(days=1)))
    assert len(changed(today, tomorrow)) < len(diff)  # a quiet day re-renders little


def test_settings_that_do_not_show_change_nothing(demo_dir: Path) -> None:
    data = customer(demo_dir)
    base = plan_portal(data, build_context(render_settings(demo_dir), today=TODAY))
    mail = render_settings(demo_dir, mail={"host": "smtp.example"}, storage={"url": "other"})
    assert changed(base, plan_portal(data, build_context(mail, today=TODAY))) == set()
    colour = render_settings(demo_dir, theme={"primary_color": "#7c2d12"})
    diff = changed(base, plan_portal(data, build_context(colour, today=TODAY)))
    assert "static/theme.css" in diff and "invoices/index.html" in diff
    assert "static/portal.css" not in diff


def test_a_custom_theme_overrides_templates_and_assets(demo_dir: Path, tmp_path: Path) -> None:
    theme = tmp_path / "theme"
    (theme / "templates/pages").mkdir(parents=True)
    (theme / "static").mkdir()
    (theme / "templates/pages/base.html").write_text(
        '{% extends "default/pages/base.html" %}'
        '{% block footer %}<p class="custom-footer">Hecho a medida</p>{{ super() }}{% endblock %}'
    )
    (theme / "static/portal.css").write_text("body { color: red; }")
    data = customer(demo_dir)
    context = build_context(render_settings(demo_dir, theme={"path": str(theme)}), today=TODAY)
    files = {f.path: f for f in plan_portal(data, context)}
    home = files["index.html"].render().decode()
    assert '<p class="custom-footer">Hecho a medida</p>' in home
    assert "Suministros y Servicios Levante" in home  # the default footer is still there
    assert files["static/portal.css"].render() == b"body { color: red; }"
    assert "static/portal.js" in files  # assets the theme does not replace stay


def test_keys_do_not_depend_on_where_portalgen_or_the_theme_lives(
    demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new virtualenv, a moved checkout or shard machines with other paths must not
    re-render every portal; a changed template must."""
    import portalgen.presentation.theme as theme_module
    from portalgen.presentation.resources import templates_dir

    data = customer(demo_dir)
    plans = []
    for place in ("one", "two"):
        theme = tmp_path / place / "theme"
        (theme / "templates").mkdir(parents=True)
        (theme / "templates/extra.html").write_text("<p>extra</p>")
        builtin = shutil.copytree(templates_dir(), tmp_path / place / "templates")
        monkeypatch.setattr(theme_module, "templates_dir", lambda b=builtin: b)
        settings = render_settings(demo_dir, theme={"path": str(theme)})
        plans.append(plan_portal(data, build_context(settings, today=TODAY)))
    assert keys(plans[0]) == keys(plans[1])
    (tmp_path / "two/templates/pages/base.html").write_text(
        (tmp_path / "two/templates/pages/base.html").read_text() + "\n"
    )
    settings = render_settings(demo_dir, theme={"path": str(tmp_path / "two/theme")})
    edited = plan_portal(data, build_context(settings, today=TODAY))
    assert changed(plans[1], edited) >= {"index.html", "invoices/index.html"}


def test_publishing_can_supply_known_pdf_digests(demo_dir: Path) -> None:
    """A page showing a PDF's fingerprint renders without the PDF when the digest is known."""
    data = customer(demo_dir)
    digests: dict[str, str] = {}
    context = build_context(render_settings(demo_dir), today=TODAY, digests=digests)
    files = {f.path: f for f in plan_portal(data, context)}
    quote = data.quotes[0]
    digests[files[f"quotes/{quote.slug}.pdf"].key] = "ab" * 32
    page = files[f"quotes/{quote.slug}.html"].render().decode()
    assert "ab" * 32 in page
    assert context._pdf is None  # WeasyPrint never started


def test_sections_switched_off_disappear(demo_dir: Path) -> None:
    settings = render_settings(
        demo_dir, portal={"sections": {"delivery_notes": False, "documents": False}}
    )
    data = customer(demo_dir, "C00007")
    files = {f.path: f for f in plan_portal(data, build_context(settings, today=TODAY))}
    assert not [p for p in files if p.startswith(("delivery-notes/", "documents/"))]
    home = files["index.html"].render().decode()
    assert "delivery-notes/" not in home and "Albaranes" not in home
    invoice = next(i for i in data.invoices if i.delivery_notes)
    page = files[f"invoices/{invoice.slug}.html"].render().decode()
    assert invoice.delivery_notes[0] in page and "delivery-notes/" not in page


def test_totals_object_is_what_the_key_sees(demo_dir: Path) -> None:
    """Guards the fingerprint: a change of withholding alone is a change of the invoice."""
    data = customer(demo_dir)
    context = build_context(render_settings(demo_dir), today=TODAY)
    invoice = data.invoices[0]
    totals = Totals(
        invoice.totals.base,
        invoice.totals.tax,
        invoice.totals.surcharge,
        Money(Decimal("5.00"), "EUR"),
        invoice.totals.total,
    )
    after = replace(data, invoices=(replace(invoice, totals=totals), *data.invoices[1:]))
    assert f"invoices/{invoice.slug}.pdf" in changed(
        plan_portal(data, context), plan_portal(after, context)
    )
