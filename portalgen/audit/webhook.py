"""The staff webhook: each quote decision and comment POSTed as signed JSON.

The body is the audit event's JSON (``id, ts, type, customer, contact, document, data,
ip_hash, user_agent``). The ``Portalgen-Signature`` header is
``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>`` with the secret from the
environment variable named by ``audit.webhook_secret_env`` (as Stripe signs its webhooks):
the receiver recomputes it, compares in constant time and refuses old timestamps
(`verify_signature`; docs/webhook.md).

Delivery never holds the event hostage: the event is in the audit log before any attempt.
Each delivery is claimed and settled in ``_webhooks/<event id>.json`` (sending →
delivered, or failed), so the gate sends each event once from a thread of its own, with
retries and backoff, and `portalgen audit pull` later sends what is still undelivered
(receiver down, gate restarted). Receivers may see an event twice in rare cases (a crash
between sending and settling): deduplicate on ``id``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from portalgen import __version__
from portalgen.audit.events import ACTION_TYPES, AuditEvent
from portalgen.errors import ConfigError, PortalgenError

if TYPE_CHECKING:
    from portalgen.audit.sinks import AuditSink
    from portalgen.config import Settings
    from portalgen.storage import Storage

log = logging.getLogger("portalgen.webhook")

SIGNATURE_HEADER = "Portalgen-Signature"
TOLERANCE = 300  # seconds a receiver should accept between the signature's time and now
MIN_SECRET = 16
DELIVERIES_PREFIX = "_webhooks/"
STUCK = timedelta(minutes=10)  # a delivery "sending" for this long was interrupted
BACKLOG = timedelta(days=7)  # audit pull retries undelivered events this recent


class WebhookError(PortalgenError):
    """The receiver did not take the event (it stays in the log and is retried)."""


# -- signing ------------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: ``t=<timestamp>,v1=<hex HMAC-SHA256>``."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(
    secret: str, header: str, body: bytes, *, tolerance: int = TOLERANCE, now: float | None = None
) -> bool:
    """What a receiver does: the header's time is recent and one v1 signature matches."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).rsplit("v1=", 1)[1]
    return any(hmac.compare_digest(expected, given) for given in parts.get("v1", []))


def payload(event: AuditEvent) -> bytes:
    return json.dumps(event.to_dict(), ensure_ascii=False, sort_keys=True).encode()


# -- sending ------------------------------------------------------------------------------------


@dataclass
class WebhookSender:
    """POSTs one event, retrying connection errors, timeouts, 408, 429 and 5xx answers
    after `backoff`, 4 × `backoff`, 16 × `backoff`... seconds."""

    url: str
    secret: str
    timeout: float = 5.0
    attempts: int = 4
    backoff: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time

    def send(self, event: AuditEvent) -> int:
        """Deliver; returns the attempts it took. WebhookError when every attempt failed."""
        body = payload(event)
        problem = ""
        for attempt in range(1, self.attempts + 1):
            retry, problem = self._post(event, body)
            if not problem:
                return attempt
            if not retry or attempt == self.attempts:
                break
            self.sleep(self.backoff * 4 ** (attempt - 1))
        raise WebhookError(f"{self.url}: {problem}")

    def _post(self, event: AuditEvent, body: bytes) -> tuple[bool, str]:
        """One attempt: (worth retrying, the problem or "" when delivered)."""
        import urllib.error
        import urllib.request

        request = urllib.request.Request(  # noqa: S310 - an http(s) URL checked in config
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": f"portalgen-webhook/{__version__}",
                "Portalgen-Event-Id": event.id,
                "Portalgen-Event-Type": event.type,
                SIGNATURE_HEADER: sign(self.secret, int(self.clock()), body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                response.read(65536)
                return False, ""
        except urllib.error.HTTPError as exc:
            exc.close()
            return exc.code in (408, 429) or exc.code >= 500, f"answered HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return True, f"cannot reach it ({reason})"


# -- the delivered-state record -----------------------------------------------------------------


def delivery_key(event_id: str) -> str:
    return f"{DELIVERIES_PREFIX}{event_id}.json"


def _now_iso(now: datetime) -> str:
    return now.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class DeliveryLog:
    """``_webhooks/<event id>.json``: who is sending an event, and how it went."""

    def __init__(self, storage: Storage, clock: Callable[[], float] = time.time) -> None:
        self.storage = storage
        self.clock = clock

    def _record(self, event_id: str, status: str, **extra: object) -> bytes:
        now = datetime.fromtimestamp(self.clock(), UTC)
        body = {"event": event_id, "status": status, "at": _now_iso(now), **extra}
        return json.dumps(body, sort_keys=True).encode()

    def state(self, event_id: str) -> dict[str, object] | None:
        raw = self.storage.get(delivery_key(event_id))
        try:
            return None if raw is None else dict(json.loads(raw))
        except ValueError:
            return {"status": "damaged"}

    def claim(self, event_id: str) -> bool:
        """Take the delivery of an event: nobody has, or the last try failed or stalled."""
        key = delivery_key(event_id)
        sending = self._record(event_id, "sending")
        if self.storage.put_if_absent(key, sending, "application/json"):
            return True
        found = self.storage.get_with_version(key)
        if found is None:
            return self.storage.put_if_absent(key, sending, "application/json")
        raw, version = found
        try:
            state = json.loads(raw)
            status, at = str(state["status"]), str(state["at"])
            since = datetime.fromisoformat(at.replace("Z", "+00:00"))
        except (ValueError, KeyError, TypeError):
            status, since = "damaged", datetime.min.replace(tzinfo=UTC)
        now = datetime.fromtimestamp(self.clock(), UTC)
        if status == "delivered" or (status == "sending" and now - since < STUCK):
            return False
        return self.storage.put_if_version(key, sending, "application/json", version)

    def settle(self, event_id: str, attempts: int, error: str = "") -> None:
        status = "failed" if error else "delivered"
        extra: dict[str, object] = {"attempts": attempts}
        if error:
            extra["error"] = error[:300]
        self.storage.put(
            delivery_key(event_id), self._record(event_id, status, **extra), "application/json"
        )


@dataclass
class Webhook:
    sender: WebhookSender
    deliveries: DeliveryLog

    def deliver(self, event: AuditEvent) -> bool | None:
        """Send an event unless someone else is or did: True sent, False failed (settled
        as failed, retried by `audit pull`), None not ours to send."""
        if not self.deliveries.claim(event.id):
            return None
        try:
            attempts = self.sender.send(event)
        except WebhookError as exc:
            log.warning("webhook: event %s not delivered (retried later): %s", event.id, exc)
            self.deliveries.settle(event.id, self.sender.attempts, str(exc))
            return False
        self.deliveries.settle(event.id, attempts)
        return True


class WebhookSink:
    """An audit sink that records, then delivers decisions and comments to the webhook.

    With `background`, delivery runs in a thread of its own: the customer is answered
    at once whatever the receiver does. Without (AWS Lambda), one quick attempt before
    the response; retries are left to `audit pull`."""

    def __init__(self, inner: AuditSink, webhook: Webhook, *, background: bool = True) -> None:
        self.inner = inner
        self.webhook = webhook
        self.background = background
        self.threads: list[threading.Thread] = []

    def record(self, event: AuditEvent) -> None:
        self.inner.record(event)  # the record first: a delivery never stands in for it
        if event.type in ACTION_TYPES:
            self._deliver(event)

    def record_many(self, events: Sequence[AuditEvent]) -> None:
        from portalgen.audit.sinks import record_all

        record_all(self.inner, events)
        for event in events:
            if event.type in ACTION_TYPES:
                self._deliver(event)

    def _deliver(self, event: AuditEvent) -> None:
        if not self.background:
            self._safely(event)
            return
        self.threads = [t for t in self.threads if t.is_alive()]
        thread = threading.Thread(
            target=self._safely, args=(event,), name="portalgen-webhook", daemon=True
        )
        self.threads.append(thread)
        thread.start()

    def _safely(self, event: AuditEvent) -> None:
        try:
            self.webhook.deliver(event)
        except Exception:  # storage trouble settling it: audit pull retries
            log.exception("webhook: delivery of event %s interrupted", event.id)

    def wait(self, timeout: float = 60.0) -> None:
        """Wait for the deliveries under way (tests; a server shutting down)."""
        for thread in list(self.threads):
            thread.join(timeout)


# -- catching up --------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    delivered: int = 0
    failures: list[str] = field(default_factory=list)


def deliver_pending(
    webhook: Webhook,
    events: Iterable[AuditEvent],
    *,
    now: datetime | None = None,
    backlog: timedelta = BACKLOG,
) -> DeliveryReport:
    """Send the recent decisions and comments that have not reached the webhook."""
    since = (now or datetime.now(UTC)) - backlog
    report = DeliveryReport()
    for event in events:
        if event.type not in ACTION_TYPES or event.when < since:
            continue
        state = webhook.deliveries.state(event.id)
        if state is not None and state.get("status") == "delivered":
            continue
        outcome = webhook.deliver(event)
        if outcome:
            report.delivered += 1
        elif outcome is False:
            report.failures.append(event.id)
    return report


def webhook_from_settings(
    settings: Settings,
    storage: Storage,
    environ: Mapping[str, str] | None = None,
    *,
    attempts: int = 4,
    timeout: float = 5.0,
) -> Webhook | None:
    """The configured webhook, or None when `audit.webhook_url` is empty."""
    import os

    url = settings.audit.webhook_url
    if not url:
        return None
    name = settings.audit.webhook_secret_env
    secret = (os.environ if environ is None else environ).get(name, "").strip()
    if len(secret) < MIN_SECRET:
        raise ConfigError(
            f"audit.webhook_url is set, but the environment variable {name} "
            f"(audit.webhook_secret_env) does not hold a signing secret of at least "
            f"{MIN_SECRET} characters: set it to the secret the receiver checks"
        )
    sender = WebhookSender(url, secret, timeout=timeout, attempts=attempts)
    return Webhook(sender, DeliveryLog(storage))
