"""Compiled templates kept between runs (presentation/compiled.py): a second process takes
the code from the cache folder instead of compiling, an edited template is compiled again,
a damaged or unwritable cache costs only compiling, and emails and pages never share code.

"A second process" is a second renderer or render context with the same cache folder:
Jinja keeps nothing between environments, and each of them has its own memory cache, so
what it does not compile can only come from the folder."""

from __future__ import annotations

import shutil
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2
import pytest
from jinja2.bccache import bc_magic

from portalgen.config import Settings, load_settings
from portalgen.mail.links import PortalLink
from portalgen.mail.message import Content
from portalgen.mail.render import EmailRenderer
from portalgen.presentation import compiled
from portalgen.presentation.compiled import SUFFIX, templates_folder
from portalgen.presentation.resources import templates_dir
from portalgen.render import build_context, plan_portal
from tests.conftest import TODAY
from tests.render_fixtures import small_customer

NOW = datetime(2026, 6, 15, 7, 30, tzinfo=UTC)
LINK = PortalLink("https://portal.levante.example/l/TOKEN-abc.def", NOW + timedelta(days=30))


def settings(cache_dir: Path, theme: Path | None = None) -> Settings:
    overrides: dict[str, object] = {
        "company": {"name": "Suministros Levante", "email": "hola@levante.example"},
        "gate": {"base_url": "https://portal.levante.example"},
        "publish": {"cache_dir": str(cache_dir)},
    }
    if theme is not None:
        overrides["theme"] = {"path": str(theme)}
    return load_settings(overrides=overrides, environ={})


def invitation(renderer: EmailRenderer, language: str = "es") -> Content:
    values = {"reason": "invitation", "customer_name": "Ferretería Peña", "uses_code": True}
    return renderer.render("invitation", language, link=LINK, **values)


def pages(config: Settings) -> dict[str, bytes]:
    """A small customer's HTML pages, rendered by a fresh render context."""
    context = build_context(config, today=TODAY)
    planned = plan_portal(small_customer(), context)
    return {f.path: f.render() for f in planned if f.path.endswith(".html")}


def code_files(cache_dir: Path, flavour: str) -> list[Path]:
    return sorted(templates_folder(cache_dir, flavour).glob(f"*{SUFFIX}"))


@pytest.fixture
def compiling(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The names of the templates Jinja compiles from now on."""
    names: list[str | None] = []
    compile_for_real = jinja2.Environment.compile

    def counted(self: jinja2.Environment, source: str, name: str | None = None, *a: Any) -> Any:
        names.append(name)
        return compile_for_real(self, source, name, *a)

    monkeypatch.setattr(jinja2.Environment, "compile", counted)
    return names


def test_the_code_is_kept_in_a_folder_of_the_staffs_own(
    tmp_path: Path, compiling: list[str | None]
) -> None:
    invitation(EmailRenderer(settings(tmp_path / "cache")))
    folder = templates_folder(tmp_path / "cache", "email")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = code_files(tmp_path / "cache", "email")
    assert len(files) == len(compiling) == 5  # invitation, base (.txt, .html), _macros.html
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    assert [p.name for p in folder.iterdir() if not p.name.endswith(SUFFIX)] == []  # no temp


def test_what_a_second_renderer_does_not_compile_comes_from_the_folder(
    tmp_path: Path, compiling: list[str | None]
) -> None:
    config = settings(tmp_path / "cache")
    first = invitation(EmailRenderer(config))
    assert len(compiling) == 5
    again = EmailRenderer(config)
    assert invitation(again) == first  # subject, text and HTML to the byte
    assert invitation(again, "en").subject == "Your customer portal at Suministros Levante"
    assert len(compiling) == 5  # nothing more compiled
    shutil.rmtree(templates_folder(tmp_path / "cache", "email"))
    assert invitation(EmailRenderer(config)) == first
    assert len(compiling) == 10  # without the folder, compiled again


def test_a_second_render_context_takes_the_pages_code_from_the_cache_folder(
    tmp_path: Path, compiling: list[str | None]
) -> None:
    config = settings(tmp_path / "cache")
    first = pages(config)
    assert "index.html" in first and "invoices/index.html" in first
    assert len(code_files(tmp_path / "cache", "portal")) == len(set(compiling)) > 5
    compiling.clear()
    assert pages(config) == first
    assert compiling == []


def test_an_edited_theme_template_is_compiled_again_never_run_stale(
    tmp_path: Path, compiling: list[str | None]
) -> None:
    theme = tmp_path / "theme"
    (theme / "templates/email").mkdir(parents=True)
    override = theme / "templates/email/invitation.txt"
    shutil.copy(templates_dir() / "email/invitation.txt", override)
    config = settings(tmp_path / "cache", theme)
    assert "Hasta pronto." not in invitation(EmailRenderer(config)).text
    kept = code_files(tmp_path / "cache", "email")
    compiling.clear()

    text = override.read_text(encoding="utf-8")
    assert "{{ link.url }}\n" in text
    override.write_text(text.replace("{{ link.url }}\n", "{{ link.url }}\nHasta pronto.\n"))
    assert "Hasta pronto." in invitation(EmailRenderer(config)).text
    assert compiling == ["email/invitation.txt"]  # the rest came from the folder
    assert code_files(tmp_path / "cache", "email") == kept  # replaced, not added


DAMAGES = {
    "garbage": lambda data: bytes(range(256)) * (len(data) // 256 + 1),
    "empty": lambda data: b"",
    "cut in the checksum": lambda data: data[: len(bc_magic) + 5],
    "cut in the code": lambda data: data[: len(data) // 2],
    "from another jinja": lambda data: b"j2" + bytes(len(bc_magic) - 2) + data[len(bc_magic) :],
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_cache_file_is_compiled_and_written_again(
    tmp_path: Path, damage: str, compiling: list[str | None]
) -> None:
    config = settings(tmp_path / "cache")
    first = invitation(EmailRenderer(config))
    whole = {f: f.read_bytes() for f in code_files(tmp_path / "cache", "email")}
    for f, data in whole.items():
        f.write_bytes(DAMAGES[damage](data))
    compiling.clear()
    assert invitation(EmailRenderer(config)) == first
    assert len(compiling) == 5
    assert {f: f.read_bytes() for f in whole} == whole  # written again, whole
    assert invitation(EmailRenderer(config)) == first
    assert len(compiling) == 5  # and read from there


@pytest.mark.parametrize("blocked", ["cache_dir", "templates"])
def test_a_cache_folder_that_cannot_be_made_leaves_the_renders_unchanged(
    tmp_path: Path, blocked: str, compiling: list[str | None]
) -> None:
    """mkdir fails even for root (the tests run as root in CI, where modes stop nobody):
    the cache folder's parent, or its ``templates`` folder, is a regular file."""
    expected = invitation(EmailRenderer(settings(tmp_path / "fresh")))
    expected_pages = pages(settings(tmp_path / "fresh"))
    if blocked == "cache_dir":
        (tmp_path / "file").write_text("not a folder")
        cache_dir = tmp_path / "file" / "cache"
    else:
        cache_dir = tmp_path / "cache"
        cache_dir.mkdir()
        (cache_dir / "templates").write_text("not a folder")
    compiling.clear()
    renderer = EmailRenderer(settings(cache_dir))
    assert invitation(renderer) == expected
    assert invitation(renderer, "en").subject == "Your customer portal at Suministros Levante"
    assert len(compiling) == 5  # the languages still share what was compiled, in memory
    assert pages(settings(cache_dir)) == expected_pages


def test_a_folder_other_users_can_write_to_is_never_read(
    tmp_path: Path, compiling: list[str | None]
) -> None:
    config = settings(tmp_path / "cache")
    first = invitation(EmailRenderer(config))
    templates_folder(tmp_path / "cache", "email").chmod(0o777)  # a mode check: holds for root
    compiling.clear()
    assert invitation(EmailRenderer(config)) == first
    assert len(compiling) == 5


@pytest.mark.parametrize("first", ["email", "portal"])
def test_emails_and_pages_never_share_compiled_code(tmp_path: Path, first: str) -> None:
    """The same template file compiles otherwise for each: the emails keep a template's
    last newline (keep_trailing_newline), the pages do not."""
    theme = tmp_path / "theme"
    (theme / "templates").mkdir(parents=True)
    (theme / "templates/probe.txt").write_text("one line\n", encoding="utf-8")
    config = settings(tmp_path / "cache", theme)

    render = {
        "email": lambda: EmailRenderer(config).env("es").get_template("probe.txt").render(),
        "portal": lambda: (
            build_context(config, today=TODAY).env("es").get_template("probe.txt").render()
        ),
    }
    second = "portal" if first == "email" else "email"
    for _ in range(2):  # the second time from the cache folder, by fresh environments
        found = {first: render[first](), second: render[second]()}
        assert found == {"email": "one line\n", "portal": "one line"}
    email_folder = templates_folder(tmp_path / "cache", "email")
    portal_folder = templates_folder(tmp_path / "cache", "portal")
    assert email_folder != portal_folder
    assert sorted(p.parent for p in (tmp_path / "cache/templates").glob(f"*/*{SUFFIX}")) == [
        email_folder,
        portal_folder,
    ]


def test_a_filter_of_a_constant_is_formatted_in_each_pages_language(tmp_path: Path) -> None:
    """Jinja would fold ``{{ 1234567|filesize }}`` into the code it compiles, in the
    language that compiled it first; the code is shared by the languages and kept."""
    theme = tmp_path / "theme"
    (theme / "templates").mkdir(parents=True)
    (theme / "templates/probe.html").write_text("{{ 1234567|filesize }}", encoding="utf-8")
    config = settings(tmp_path / "cache", theme)
    for _ in range(2):  # compiled, then taken from the cache folder
        context = build_context(config, today=TODAY)
        sizes = {
            lang: context.env(lang).get_template("probe.html").render() for lang in ("es", "en")
        }
        assert sizes == {"es": "1,2\u00a0MB", "en": "1.2\u00a0MB"}


def test_a_new_portalgen_starts_a_new_folder_and_removes_the_flavours_older_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_dir = tmp_path / "cache"
    (cache_dir / "templates/email-0123456789abcdef").mkdir(parents=True)
    (cache_dir / "templates/email-0123456789abcdef/stale.code").write_bytes(b"old")
    (cache_dir / "templates/portal-0123456789abcdef").mkdir()
    monkeypatch.setattr(compiled, "fingerprint", lambda: "fedcba9876543210")
    invitation(EmailRenderer(settings(cache_dir)))
    assert sorted(p.name for p in (cache_dir / "templates").iterdir()) == [
        "email-fedcba9876543210",
        "portal-0123456789abcdef",  # another flavour's: its own run replaces it
    ]


def test_the_fingerprint_follows_jinja_python_and_portalgen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = [compiled.fingerprint()]
    monkeypatch.setattr(compiled, "code_version", lambda: "9.9+another")
    found.append(compiled.fingerprint())
    monkeypatch.setattr(jinja2, "__version__", "9.9.9")
    found.append(compiled.fingerprint())
    monkeypatch.setattr(compiled, "sys", SimpleNamespace(version_info=(3, 99, 0)))
    found.append(compiled.fingerprint())
    assert len(set(found)) == 4
    assert templates_folder(tmp_path, "email").name == f"email-{found[-1]}"


def test_a_folder_removed_while_running_leaves_the_run_with_its_memory(tmp_path: Path) -> None:
    config = settings(tmp_path / "cache")
    renderer = EmailRenderer(config)
    first = invitation(renderer)
    shutil.rmtree(tmp_path / "cache")  # (say, a clean-up of the cache during the night)
    values = {"reason": "reset", "customer_name": "Ferretería Peña", "uses_code": False}
    assert "TOKEN-abc.def" in renderer.render("new_link", "es", link=LINK, **values).text
    assert invitation(renderer) == first
    assert not (tmp_path / "cache").exists()  # not made again behind the staff's back
