"""Rendering: model + settings + theme in, portal files out (HTML, PDFs, CSV, ZIP).

Pure: no storage, no network. `build_context` once per process, then `plan_portal`
per customer (publishing renders only what its cache lacks) or `render_portal`.

The names below load on first use, so a light submodule (`portalgen.presentation.catalogs`, the
catalogs; `portalgen.presentation.theme`) can be imported without the renderers, their QR
codes and PDF engine: the gate's emails on AWS Lambda use just those two.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from portalgen.render.context import RenderContext, build_context
    from portalgen.render.portal import plan_portal, render_portal

__all__ = ["RenderContext", "build_context", "plan_portal", "render_portal"]

_HOMES = {
    "RenderContext": "portalgen.render.context",
    "build_context": "portalgen.render.context",
    "plan_portal": "portalgen.render.portal",
    "render_portal": "portalgen.render.portal",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'portalgen.render' has no attribute {name!r}")
