"""What staff machines do with the audit log after the gate: `portalgen audit pull`.

1. Pull the events the gate stored as objects (S3) into audit.jsonl (pull.py).
2. Give decisions whose event was lost to a crash their event (interact/recover.py).
3. Send the webhook the recent decisions and comments it has not received (webhook.py).

Each step is safe to repeat and to interrupt. A nightly publish does them too: the pull
first, the other two (`settle`) after publishing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from portalgen.audit.log import AuditLog
from portalgen.audit.pull import PullResult, pull_events
from portalgen.audit.webhook import DeliveryReport, deliver_pending, webhook_from_settings

if TYPE_CHECKING:
    from portalgen.config import Settings
    from portalgen.storage import Storage


@dataclass
class FollowUpReport:
    pulled: PullResult
    recovered: int = 0
    webhook: DeliveryReport | None = None  # None: no webhook configured


def follow_up(
    settings: Settings,
    storage: Storage,
    *,
    now: datetime | None = None,
    environ: Mapping[str, str] | None = None,
) -> FollowUpReport:
    now = now or datetime.now(UTC)
    webhook_from_settings(settings, storage, environ)  # a bad webhook setting stops us first
    report = FollowUpReport(pull_events(storage, AuditLog(settings.audit.path), now=now))
    report.recovered, report.webhook = settle(settings, storage, now=now, environ=environ)
    return report


def settle(
    settings: Settings,
    storage: Storage,
    *,
    now: datetime | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[int, DeliveryReport | None]:
    """Steps 2 and 3, on an audit log already pulled (publish pulls first, then settles
    after publishing, so a slow webhook never delays the portals): the number of events
    recovered, and the webhook's deliveries (None without a webhook)."""
    from portalgen.interact.recover import recover_decision_events

    now = now or datetime.now(UTC)
    webhook = webhook_from_settings(settings, storage, environ, attempts=2)
    log = AuditLog(settings.audit.path)
    recovered = len(recover_decision_events(storage, log, now=now))
    if webhook is None:
        return recovered, None
    return recovered, deliver_pending(webhook, log.events(), now=now)
