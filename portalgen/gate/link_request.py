""" "Email me a new link": what the request hands on, and the sending done after answering.

The request itself only reads the form, hashes the client's address and hands a
`LinkRequest` on; nothing in the request looks the address up, so its answer takes the
same time whether the address belongs to a customer or not (issue 13, #6). Where the
work goes:

- `portalgen serve`: the gate's side-task thread (`gate.later`), after the answer.
- AWS Lambda, where nothing runs after the answer: `gate.hand_off`, an asynchronous
  invocation of the same function (selfinvoke.py) carrying the request signed with the
  gate's secret (purpose `LINK_REQUEST`), which `receive` checks and then delivers.

`deliver_link` looks the address up and sends one link per customer it may open (at
most one email per address per `gate.link_resend_interval`, claimed in storage first).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from portalgen.access import lookup
from portalgen.access.tokens import LINK_REQUEST, LinkClaims, TokenError, link_url

if TYPE_CHECKING:
    from portalgen.gate.app import Gate
    from portalgen.gate.request import GateRequest

log = logging.getLogger("portalgen.gate")
USER_AGENT_LENGTH = 300  # what an audit event keeps of the user agent
MIN_HAND_OFF_AGE = timedelta(minutes=1)


@dataclass(frozen=True)
class LinkRequest:
    """One "email me a link" request: the address typed (normalised) and what the
    audit event of a link sent for it tells of the client."""

    address: str
    ip_hash: str
    user_agent: str

    def payload(self) -> dict[str, str]:
        return {"a": self.address, "i": self.ip_hash, "u": self.user_agent}

    @classmethod
    def from_payload(cls, payload: Any) -> LinkRequest:
        if not isinstance(payload, dict):
            raise TokenError("a link request is an object")
        values = [payload.get(k) for k in ("a", "i", "u")]
        if not all(isinstance(v, str) for v in values) or not values[0]:
            raise TokenError("a link request needs an address")
        address, ip_hash, user_agent = (str(v) for v in values)
        return cls(address, ip_hash, user_agent)


def hand_off(gate: Gate, request: GateRequest, address: str) -> None:
    """Start the sending of a link to `address` without waiting for any of it: the
    same work for every address, known or not."""
    wanted = LinkRequest(
        address,
        gate.client_hash(request),
        request.headers.get("User-Agent", "")[:USER_AGENT_LENGTH],
    )
    if gate.hand_off is None:
        gate.later.submit(lambda: deliver_quietly(gate, wanted))
    else:  # AWS Lambda: another invocation of this function does it (never raises)
        gate.hand_off(gate.signer.sign(LINK_REQUEST, wanted.payload()))


def receive(gate: Gate, token: object) -> int:
    """Deliver a handed-off request if the gate signed it (and not too long ago): how
    many links were sent; -1 for a hand-off refused (logged). Never raises: Lambda
    would run a failed invocation twice more."""
    try:
        wanted = read_hand_off(gate, token)
    except TokenError as exc:
        log.warning("gate: a link request hand-off was refused (%s)", exc)
        return -1
    return deliver_quietly(gate, wanted)


def read_hand_off(gate: Gate, token: object) -> LinkRequest:
    """The request a hand-off carries; TokenError unless this gate's secret signed it
    within `gate.link_resend_interval` (at least a minute). A copy Lambda delivers
    twice within that time finds the address's claim taken and sends nothing."""
    if not isinstance(token, str):
        raise TokenError("no signed link request")
    max_age = max(gate.settings.link_resend_interval, MIN_HAND_OFF_AGE).total_seconds()
    try:
        payload, _ = gate.verify(LINK_REQUEST, token, max_age)
    except TokenError:
        if not gate.maybe_reload_secrets():  # signed with a secret added since we started?
            raise
        payload, _ = gate.verify(LINK_REQUEST, token, max_age)
    return LinkRequest.from_payload(payload)


def deliver_quietly(gate: Gate, wanted: LinkRequest) -> int:
    try:
        return deliver_link(gate, wanted)
    except Exception:  # nobody waits for it; staff find it in the log
        log.exception("gate: sending a new link failed")
        return 0


def deliver_link(gate: Gate, wanted: LinkRequest) -> int:
    """Send a fresh link for every customer this address may open; how many were sent."""
    send_link = gate.send_link
    if send_link is None:  # the page offers no "email me a link" without a mailer
        return 0
    address = wanted.address
    sent = 0
    claimed = False
    for key in lookup.customers_of(gate.storage, address):
        entry = gate.registry.load(key)
        contact = entry.contact(address) if entry else None
        if entry is None or contact is None or not entry.allows(contact.email, contact.generation):
            continue
        if not claimed:
            interval = gate.settings.link_resend_interval
            if not lookup.claim_send(gate.storage, address, gate.now(), interval):
                return 0
            claimed = True
        cid = gate.signer.contact_id(contact.email)
        claims = LinkClaims(entry.customer_key, cid, contact.generation)
        send_link(entry, contact.email, link_url(gate.base_url, gate.signer.link_token(claims)))
        _record(gate, wanted, entry.customer, contact.email)
        sent += 1
    return sent


def _record(gate: Gate, wanted: LinkRequest, customer: str, email: str) -> None:
    if gate.audit is None:
        return
    from portalgen.audit.events import new_event

    event = new_event(
        "link.requested",
        customer,
        contact=email,
        ip_hash=wanted.ip_hash,
        user_agent=wanted.user_agent,
        now=gate.now(),
    )
    gate.audit.record(event)
