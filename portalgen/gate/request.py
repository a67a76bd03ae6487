"""What the gate's modules share about one request: the request class, the signed-in
visit, the route table's row, the business's branding, and the hooks the gate is given.
Views import these from here, never the gate itself (gate.app imports the views)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

from portalgen.access.entry import Contact, RegistryEntry
from portalgen.gate import security

MAX_BODY = 64 * 1024  # every form the gate takes is small (comments: 2000 characters)
SecretSource = Callable[[], Sequence[str]]
SECRETS_TTL = 300  # seconds a running gate trusts the secrets it read (secret drop-old)
# The mailer's hook: send `link` to `contact` of `entry`'s customer (what it
# returns, whether it sent, is ignored: the page answers the same either way).
SendLink = Callable[[RegistryEntry, str, str], object]
# AWS Lambda's hand-off of "email me a link": the signed request to another invocation
# (selfinvoke.py). It never raises: a failure is logged, the page is the same.
HandOff = Callable[[str], None]


class GateRequest(Request):
    max_content_length = MAX_BODY
    max_form_memory_size = MAX_BODY
    max_form_parts = 64
    visit: Visit | None = None
    set_session: security.SessionData | None = None  # (re)issue this session cookie
    clear_session: bool = False


@dataclass
class Visit:
    """A signed-in customer contact for the length of one request."""

    entry: RegistryEntry
    contact: Contact
    session: security.SessionData
    csrf: str
    manifest_cache: dict[str, Any] = field(default_factory=dict)
    staff: bool = False  # a staff preview (views_preview.py): read-only, recorded as staff

    @property
    def customer_key(self) -> str:
        return self.entry.customer_key

    @property
    def customer(self) -> str:
        return self.entry.customer


@dataclass(frozen=True)
class Branding:
    """What the gate's own pages show of the business."""

    company: str = "Portal"
    email: str = ""
    phone: str = ""
    language: str = "es"
    timezone: str = "Europe/Madrid"
    primary_color: str = "#1e40af"


@dataclass(frozen=True)
class Route:
    rule: str
    view: Callable[..., Response]
    methods: tuple[str, ...] = ("GET",)
    defaults: Mapping[str, Any] | None = None


class PlainResponse(Response):
    """A response whose body is bytes in memory and that runs nothing when closed: the
    gate hands a 200 of this kind to the server directly, without werkzeug's response
    machinery (Gate._serve). Anything that needs a callback on close, or streams, is a
    plain werkzeug Response."""

    def call_on_close(self, func: Callable[[], Any]) -> Callable[[], Any]:
        raise TypeError("a PlainResponse runs nothing on close: use a werkzeug Response")
