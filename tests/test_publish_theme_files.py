"""A theme's files are part of what a PDF or page shows: new bytes under the same name
re-render and republish what uses them (the render key holds their content, not their name)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests.publish_fixtures import GRANTED, Site


def _draw_logo(path: Path, colour: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (60, 20), colour).save(path)


@pytest.mark.parametrize("where", ["company.logo", "theme static"])
def test_a_new_logo_under_the_same_name_rerenders_the_pdfs(
    local_site: Site, tmp_path: Path, where: str
) -> None:
    site = local_site
    theme = tmp_path / "theme"
    if where == "company.logo":
        logo = tmp_path / "brand" / "logo.png"
        _draw_logo(logo, "navy")
        site.configure(company={"logo": str(logo)}, portal={"pdf": "render"})
    else:
        logo = theme / "static" / "logo.png"
        _draw_logo(logo, "navy")
        site.configure(theme={"path": str(theme)}, portal={"pdf": "render"})
    assert site.publish().ok
    before = {code: site.manifest(code) for code in GRANTED}
    _draw_logo(logo, "darkred")  # the designer sends a new logo; the file keeps its name
    report = site.publish()
    assert report.ok and report.count("changed") == len(GRANTED)
    for code in GRANTED:
        outcome = report.outcome(code)
        assert outcome is not None
        old = before[code].files
        rendered = {p for p in old if p.endswith(".pdf") and not p.startswith("documents/")}
        assert rendered and rendered <= set(outcome.rendered)
        new = site.manifest(code).files
        assert all(new[p].sha256 != old[p].sha256 for p in rendered)  # republished
        assert site.file(code, "static/logo.png") == logo.read_bytes()
