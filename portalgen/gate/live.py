"""Filling the slots of a portal page as it is served (see portalgen/slots.py).

`FILLERS` run in order on every HTML page: live quote decisions first (their fragments
replace the decision forms), the comment threads (threads.py), then the session's CSRF
token in every form that is left. A filler is ``(gate, visit, html) -> html``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING

from portalgen import slots
from portalgen.gate.threads import fill_comments

if TYPE_CHECKING:
    from portalgen.gate.app import Gate, Visit

DECISIONS = "_decisions/"
LIVE_START = re.compile(r"<!--pg:live:quote:([A-Za-z0-9._-]+)-->")
Filler = Callable[["Gate", "Visit", str], str]


def decisions_prefix(customer_key: str) -> str:
    return f"{DECISIONS}{customer_key}/"


def decision_key(customer_key: str, slug: str) -> str:
    return f"{DECISIONS}{customer_key}/{slug}.json"


@dataclass(frozen=True)
class Decision:
    slug: str
    decision: str  # "accepted" | "rejected"
    ts: datetime
    contact: str
    name: str
    comment: str = ""


def parse_decision(slug: str, raw: bytes) -> Decision | None:
    try:
        data = json.loads(raw)
        decision = str(data["decision"])
        if decision not in slots.LIVE_FRAGMENTS:
            return None
        when = datetime.fromisoformat(str(data["ts"]).replace("Z", "+00:00"))
        return Decision(
            slug,
            decision,
            when,
            str(data.get("contact", "")),
            str(data.get("name", "")),
            str(data.get("comment", "")),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def load_decisions(gate: Gate, customer_key: str, slugs: set[str]) -> dict[str, Decision]:
    """The decisions of these quotes: one listing, then a read per decided quote shown."""
    found: dict[str, Decision] = {}
    for info in gate.storage.list(decisions_prefix(customer_key)):
        slug = info.key.rsplit("/", 1)[-1].removesuffix(".json")
        if slug in slugs:
            raw = gate.storage.get(info.key)
            decision = None if raw is None else parse_decision(slug, raw)
            if decision is not None:
                found[slug] = decision
    return found


def fragment(gate: Gate, visit: Visit, path: str) -> str | None:
    """A `_live/...` fragment of the customer's published portal (cached by content)."""
    from portalgen.publish.manifest import blob_key

    manifest = gate.manifest(visit)
    entry = manifest.get(path) if manifest else None
    if entry is None:
        return None
    cached = gate.fragment_cache.get(entry.sha256)
    if cached is None:
        raw = gate.storage.get(blob_key(visit.customer_key, entry.sha256))
        if raw is None:
            return None
        cached = raw.decode("utf-8")
        if len(gate.fragment_cache) > 256:
            gate.fragment_cache.clear()
        gate.fragment_cache[entry.sha256] = cached
    return cached


def fill_quotes(gate: Gate, visit: Visit, html: str) -> str:
    slugs = set(LIVE_START.findall(html))
    if not slugs:
        return html
    decided = load_decisions(gate, visit.customer_key, slugs)
    visit.manifest_cache["decisions"] = decided  # the quote page's thread shows its comment
    filled: dict[str, str] = {}
    for slug, decision in decided.items():
        template = fragment(gate, visit, slots.LIVE_FRAGMENTS[decision.decision])
        if template is None:
            continue
        day = gate.local_time(decision.ts).strftime("%d/%m/%Y")
        name = decision.name or decision.contact
        filled[slug] = template.replace(slots.DATE_PLACEHOLDER, day).replace(
            slots.NAME_PLACEHOLDER, escape(name)
        )
    return slots.fill_live(html, filled) if filled else html


def fill_csrf(gate: Gate, visit: Visit, html: str) -> str:
    field = f'<input type="hidden" name="{slots.CSRF_FIELD}" value="{escape(visit.csrf)}">'
    return html.replace(slots.CSRF, field)


FILLERS: list[Filler] = [fill_quotes, fill_comments, fill_csrf]


def fill_page(gate: Gate, visit: Visit, html: str) -> str:
    for filler in FILLERS:
        html = filler(gate, visit, html)
    return html
