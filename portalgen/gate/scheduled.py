"""AWS Lambda: the function's schedule sends the staff notices held after a burst.

Under `portalgen serve` a timer tells a customer's held actions when their window
(``mail.staff_batch``) ends (mail/staff.py). On Lambda nothing runs after an answer, so
deploy/template.yaml adds an EventBridge rule that invokes the function on a schedule
(every minute by default) with EventBridge's scheduled event::

    {"version": "0", "id": "...", "detail-type": "Scheduled Event",
     "source": "aws.events", "account": "...", "time": "...", "region": "...",
     "resources": ["arn:aws:events:...:rule/..."], "detail": {}}

and the handler answers it by telling every customer's held actions whose window is
over. Each customer's window is reopened by compare-and-swap and each event claimed once
(mail/staff_held.py, staff.py): two runs at once, a customer's action during one, or
EventBridge delivering an event twice tell nothing twice. A client cannot shape such an
event (a Function URL or API Gateway event always carries its own ``requestContext``),
and one sent by someone allowed to invoke the function only sends what is due anyway.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portalgen.gate.app import Gate

SOURCE = "aws.events"
DETAIL_TYPE = "Scheduled Event"


def is_scheduled(event: object) -> bool:
    """Whether a Lambda event is an EventBridge schedule's (the gate's rule)."""
    return (
        isinstance(event, dict)
        and event.get("source") == SOURCE
        and event.get("detail-type") == DETAIL_TYPE
        and "requestContext" not in event
    )


def send_held_notices(gate: Gate) -> int:
    """Tell staff every customer's held actions whose window is over by the gate's clock;
    how many actions were told (0 without mail: nothing is ever held then)."""
    from portalgen.mail.staff import GateStaffNotices, StaffNoticeSink

    sink = gate.audit
    if not isinstance(sink, StaffNoticeSink) or not isinstance(sink.notify, GateStaffNotices):
        return 0
    return sink.notify.flush_due(datetime.fromtimestamp(gate.clock(), UTC))
