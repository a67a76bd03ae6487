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

from portalgen.audit.anchored import open_audit_log
from portalgen.audit.pull import PullResult, pull_events
from portalgen.audit.recent import known_ids, recent_actions
from portalgen.audit.webhook import BACKLOG as WEBHOOK_BACKLOG
from portalgen.audit.webhook import (
    DeliveryReport,
    Webhook,
    deliver_pending,
    webhook_from_settings,
)

if TYPE_CHECKING:
    from portalgen.config import Settings
    from portalgen.storage import Storage

CATCH_UP_ATTEMPTS = 2  # per event, when catching up the webhook (the gate tries 4 times)


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
    # Built first: a bad webhook setting stops us before anything is pulled.
    webhook = webhook_from_settings(settings, storage, environ, attempts=CATCH_UP_ATTEMPTS)
    report = FollowUpReport(pull_events(storage, open_audit_log(settings, storage), now=now))
    report.recovered, report.webhook = _settle(settings, storage, webhook, now)
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
    webhook = webhook_from_settings(settings, storage, environ, attempts=CATCH_UP_ATTEMPTS)
    return _settle(settings, storage, webhook, now or datetime.now(UTC))


def _settle(
    settings: Settings, storage: Storage, webhook: Webhook | None, now: datetime
) -> tuple[int, DeliveryReport | None]:
    from portalgen.interact.recover import recover_decision_events

    log = open_audit_log(settings, storage)
    known = known_ids(log)  # what the log holds, read from its summary and open file
    recovered = recover_decision_events(storage, log, known, now=now)
    if webhook is None:
        return len(recovered), None
    actions = recent_actions(log, now - WEBHOOK_BACKLOG)
    return len(recovered), deliver_pending(webhook, actions, now=now)
