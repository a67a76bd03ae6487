"""Publishing portals into storage: incremental, atomic, parallel (docs/publish.md).

`publish_export(settings, export, ...)` is the entry point (`portalgen publish`, and
`grant` for one customer). manifest.py holds the layout and the commit point; the
gate imports only that module, so this package imports the heavy parts lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from portalgen.publish.inputs import Shard
    from portalgen.publish.report import CustomerOutcome, PublishReport
    from portalgen.publish.run import publish_export

__all__ = ["CustomerOutcome", "PublishReport", "Shard", "publish_export"]


def __getattr__(name: str) -> Any:
    if name == "publish_export":
        from portalgen.publish.run import publish_export

        return publish_export
    if name == "Shard":
        from portalgen.publish.inputs import Shard

        return Shard
    if name in ("PublishReport", "CustomerOutcome"):
        from portalgen.publish import report

        return getattr(report, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
