"""The theme: where templates and static assets come from, and whether its colours read well.

The default theme is the package's ``templates/`` plus ``themes/default/static/``. A
custom theme folder (``theme.path``) may hold its own ``templates/`` and ``static/``;
any file there wins over the default one with the same name, and a template can extend
the default it replaces as ``default/<name>`` (docs/portal.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from portalgen.config import Settings
from portalgen.presentation.resources import templates_dir, themes_dir

if TYPE_CHECKING:
    from jinja2 import BaseLoader


@dataclass(frozen=True)
class Theme:
    template_dirs: tuple[Path, ...]  # custom first, then the built-in templates
    default_templates: Path
    static: dict[str, Path]  # portal path ("static/portal.css") -> file
    static_dirs: tuple[Path, ...]  # folders the PDF fetcher may read from
    fingerprint: str  # hash of every template and asset
    problems: tuple[str, ...] = ()  # warnings for the build (a logo that is not there)

    def template_loader(self) -> BaseLoader:
        """Where pages, PDFs and emails find a template: the theme's own folders first
        (a custom one overrides the built-in), and every built-in one also as
        ``default/<name>``, so a custom template can extend the one it replaces."""
        # Imported here: the gate and a run where nothing changed load themes, not Jinja.
        from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader

        builtin = FileSystemLoader(str(self.default_templates))
        return ChoiceLoader(
            [
                FileSystemLoader([str(d) for d in self.template_dirs]),
                PrefixLoader({"default": builtin}),
            ]
        )


def _files(folder: Path) -> Iterator[tuple[str, Path]]:
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                yield path.relative_to(folder).as_posix(), path


def load_theme(settings: Settings) -> Theme:
    builtin = templates_dir()
    default_static = themes_dir() / "default" / "static"
    custom = settings.theme.path
    template_dirs = [builtin]
    static_dirs = [default_static]
    if custom is not None:
        template_dirs.insert(0, custom / "templates")
        static_dirs.insert(0, custom / "static")
    static: dict[str, Path] = {}
    for folder in reversed(static_dirs):  # the custom theme last, so it wins
        for name, path in _files(folder):
            static[f"static/{name}"] = path
    logo = settings.company.logo
    problems = []
    if logo is not None and not logo.is_file():
        problems.append(f"company.logo: {logo} does not exist; the company name is shown instead")
        logo = None
    if logo is not None:
        for name in [n for n in static if n.startswith("static/logo.")]:
            del static[name]
        static[f"static/logo{logo.suffix.lower()}"] = logo
    digest = hashlib.sha256()
    # Which folder a template comes from by its role, not its absolute path: a new
    # virtualenv or a moved checkout must not re-render every portal.
    roles = ["custom", "default"] if custom is not None else ["default"]
    for role, folder in zip(roles, template_dirs, strict=True):
        for name, path in _files(folder):
            digest.update(f"{role}:{name}\0".encode() + hashlib.sha256(path.read_bytes()).digest())
    for name, path in sorted(static.items()):
        digest.update(name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return Theme(
        tuple(template_dirs),
        builtin,
        static,
        tuple([*static_dirs, *([logo.parent] if logo is not None else [])]),
        digest.hexdigest(),
        tuple(problems),
    )


# -- WCAG contrast ---------------------------------------------------------------------------

AA_TEXT = 4.5


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2.x contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def contrast_warnings(settings: Settings) -> list[str]:
    """Theme colours that fail WCAG AA for text (a warning: the build goes on)."""
    warnings = []
    checks = [
        ("theme.primary_color", settings.theme.primary_color, "white text on it and links"),
        ("theme.accent_color", settings.theme.accent_color, "white text on it and highlights"),
    ]
    for key, colour, use in checks:
        ratio = contrast_ratio(colour, "#ffffff")
        if ratio < AA_TEXT:
            warnings.append(
                f"{key} {colour} has a contrast of {ratio:.1f}:1 against white ({use}); "
                f"WCAG AA asks for at least {AA_TEXT}:1 — customers may find text hard to read"
            )
    return warnings
