"""Where the built-in templates, themes and example config are.

The repository keeps them at the top level (``templates/``, ``themes/``); the wheel
carries them inside the package (see pyproject.toml). Look in the package first.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # the portalgen package


def resource_path(name: str) -> Path:
    """The built-in resource `name` (``templates``, ``themes``, ``config.example.yaml``)."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"portalgen is installed without its {name}; reinstall it")


def templates_dir() -> Path:
    return resource_path("templates")


def themes_dir() -> Path:
    return resource_path("themes")


def example_config() -> Path:
    return resource_path("config.example.yaml")
