"""Rendering: model + settings + theme in, portal files out (HTML, PDFs, CSV, ZIP).

Pure: no storage, no network. `build_context` once per process, then `plan_portal`
per customer (publishing renders only what its cache lacks) or `render_portal`.
"""

from portalgen.render.context import RenderContext, build_context
from portalgen.render.portal import plan_portal, render_portal

__all__ = ["RenderContext", "build_context", "plan_portal", "render_portal"]
