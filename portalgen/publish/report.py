"""What a publish did, customer by customer and in total (for the CLI, cron and grant)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from portalgen.audit.pull import PullResult

Status = Literal["changed", "unchanged", "removed", "failed"]


@dataclass
class CustomerOutcome:
    code: str  # the customer code ("" for a portal whose customer is unknown)
    status: Status
    rendered: list[str] = field(default_factory=list)  # portal paths rendered (or to render)
    cached: int = 0  # files not rendered: already published, or in the render cache
    uploaded: int = 0  # blobs uploaded (or to upload, in a dry run)
    bytes_uploaded: int = 0
    deleted: int = 0  # objects deleted: unused blobs, or a whole portal
    reason: str = ""  # why it failed (or why the portal was removed)
    warnings: list[str] = field(default_factory=list)


@dataclass
class PublishReport:
    dry_run: bool = False
    shard: str = ""  # "2/8" for `--shard 2/8`: the audit log was neither pulled nor settled
    outcomes: list[CustomerOutcome] = field(default_factory=list)
    without_access: int = 0  # customers of the export nobody granted a portal
    events: PullResult | None = None  # audit events pulled from S3 first
    events_recovered: int = 0  # decisions whose lost audit event was written afterwards
    uploads_removed: int = 0  # proofs posted to S3 and never taken, deleted (uploads/sweep.py)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, outcome: CustomerOutcome) -> None:
        self.outcomes.append(outcome)

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def published(self) -> int:
        """Customers whose portal is now up to date (changed or already current)."""
        return self.count("changed") + self.count("unchanged")

    @property
    def failed(self) -> list[CustomerOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def files_rendered(self) -> int:
        return sum(len(o.rendered) for o in self.outcomes)

    @property
    def files_cached(self) -> int:
        return sum(o.cached for o in self.outcomes)

    @property
    def files_uploaded(self) -> int:
        return sum(o.uploaded for o in self.outcomes)

    @property
    def files_deleted(self) -> int:
        return sum(o.deleted for o in self.outcomes)

    @property
    def bytes_uploaded(self) -> int:
        return sum(o.bytes_uploaded for o in self.outcomes)

    def __str__(self) -> str:
        """One line for people: what was published, rendered and sent."""
        text = (
            f"{self.published} customer{'' if self.published == 1 else 's'} "
            f"({self.count('changed')} changed, {self.count('unchanged')} unchanged"
        )
        if self.count("removed"):
            text += f", {self.count('removed')} removed"
        if self.failed:
            text += f", {len(self.failed)} failed"
        return (
            f"{text}); {self.files_rendered} files rendered, {self.files_uploaded} uploaded, "
            f"{self.files_deleted} deleted"
        )

    def outcome(self, code: str) -> CustomerOutcome | None:
        return next((o for o in self.outcomes if o.code == code), None)

    def to_dict(self) -> dict[str, Any]:
        """The `--json` summary."""
        events = self.events
        return {
            "dry_run": self.dry_run,
            "shard": self.shard or None,
            "customers": {
                "published": self.published,
                "changed": self.count("changed"),
                "unchanged": self.count("unchanged"),
                "removed": self.count("removed"),
                "failed": len(self.failed),
                "without_access": self.without_access,
            },
            "files": {
                "rendered": self.files_rendered,
                "cached": self.files_cached,
                "uploaded": self.files_uploaded,
                "deleted": self.files_deleted,
            },
            "bytes": {"uploaded": self.bytes_uploaded},
            "seconds": round(self.seconds, 3),
            "events_pulled": None
            if events is None
            else {
                "added": events.added,
                "already_present": events.already_present,
                "waiting": events.waiting,
                "unreadable": len(events.unreadable),
                "refused": len(events.refused),
            },
            "events_recovered": self.events_recovered,
            "uploads_removed": self.uploads_removed,
            "errors": [{"customer": o.code, "reason": o.reason} for o in self.failed],
            "warnings": list(self.warnings),
        }
