"""Signed, timestamped tokens: emailed links, session cookies and the sign-in flow.

One itsdangerous `URLSafeTimedSerializer` per purpose, each with its own salt, so a
token made for one purpose never passes as another (a session cookie is not a link).
Every active secret verifies; the newest (last) signs, so the secret can be rotated
while links already sent keep working until their own max age.

Payloads are small and use short keys: ``k`` the customer_key, ``c`` the contact's id
(a keyed hash of the email: addresses never appear in URLs or cookies, and without the
secret a guessed address cannot be checked against a token), ``g`` the contact's
generation. Whether a token is still good (customer enabled, generation current, not
older than the customer's link max age) is decided against the registry by the caller;
this module only proves who made the token and when.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from portalgen.errors import AccessError

LINK = "portalgen.link.v1"
SESSION = "portalgen.session.v1"
FLOW = "portalgen.flow.v1"  # the sign-in steps before a session: link opened, code checked
PREVIEW = "portalgen.preview.v1"  # staff's read-only look at a portal (access/preview.py)
# "email me a link" handed from the request to another invocation (gate/link_request.py)
LINK_REQUEST = "portalgen.link-request.v1"
PURPOSES = (LINK, SESSION, FLOW, PREVIEW, LINK_REQUEST)
MAX_TOKEN_LENGTH = 1024  # longer is not ours; refused before any work
# A hand-off never comes from a browser and carries an address and a user agent of
# any script (up to 4 bytes a character): its own, larger limit.
MAX_LENGTHS = {LINK_REQUEST: 4096}


class TokenError(AccessError):
    """A token that is not ours: tampered, truncated, another purpose or another secret."""


class TokenExpired(TokenError):
    """A genuine token that is older than it may be."""


CONTACT_ID = "contact-id"  # the derived key of contact ids
CONTACT_ID_LENGTH = 32  # hex digits (128 bits); the unkeyed ids before them had 16
LEGACY_ID_LENGTH = 16


@functools.lru_cache(maxsize=4096)
def legacy_contact_id(email: str) -> str:
    """The unkeyed id tokens carried before keyed ids (``sha256(email)[:16]``): still
    accepted in tokens made before, which all end at their max age (link max age,
    session max age); never put in a new token."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()[:LEGACY_ID_LENGTH]


@dataclass(frozen=True)
class LinkClaims:
    customer_key: str
    contact: str  # TokenSigner.contact_id(email)
    generation: int

    def to_payload(self) -> dict[str, Any]:
        return {"k": self.customer_key, "c": self.contact, "g": self.generation}

    @classmethod
    def from_payload(cls, payload: Any) -> LinkClaims:
        try:
            key, contact, generation = payload["k"], payload["c"], payload["g"]
        except (TypeError, KeyError):
            raise TokenError("the token's content is not a link") from None
        if not (isinstance(key, str) and isinstance(contact, str)):
            raise TokenError("the token's content is not a link")
        if not isinstance(generation, int) or isinstance(generation, bool):
            raise TokenError("the token's content is not a link")
        return cls(key, contact, generation)


class _ClockSigner(TimestampSigner):
    """itsdangerous' timestamp signer on an injected clock (tests move it; the gate uses
    time.time)."""

    def __init__(self, *args: Any, clock: Callable[[], float], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock())


class TokenSigner:
    """Signs and checks tokens with the active secrets (oldest first, the last signs)."""

    def __init__(self, secrets: Sequence[str], *, clock: Callable[[], float] = time.time) -> None:
        if not secrets:
            raise AccessError("no signing secret")
        self.secrets = tuple(secrets)
        self.clock = clock
        self._derived: dict[tuple[str, str], bytes] = {}  # (purpose, secret) → key
        self._ids: dict[tuple[str, str], str] = {}  # (email, secret) → contact id
        self._serializers = {
            purpose: URLSafeTimedSerializer(
                list(self.secrets),
                salt=purpose,
                signer=_ClockSigner,
                signer_kwargs={"clock": clock},
            )
            for purpose in PURPOSES
        }

    def sign(self, purpose: str, payload: Mapping[str, Any]) -> str:
        return str(self._serializers[purpose].dumps(dict(payload)))

    def verify(self, purpose: str, token: str, max_age: float | None = None) -> tuple[Any, float]:
        """The payload and its signing time (epoch seconds); TokenError or TokenExpired."""
        limit = MAX_LENGTHS.get(purpose, MAX_TOKEN_LENGTH)
        if not isinstance(token, str) or not token or len(token) > limit:
            raise TokenError("not a token")
        try:
            payload, signed_at = self._serializers[purpose].loads(token, return_timestamp=True)
        except SignatureExpired:  # not raised without max_age; kept before BadSignature
            raise TokenExpired("the token has expired") from None
        except BadSignature:
            raise TokenError("the token is not valid") from None
        when = signed_at.timestamp()
        if max_age is not None and self.clock() - when > max_age:
            raise TokenExpired("the token has expired")
        return payload, when

    # -- contact ids ----------------------------------------------------------------------------

    def contact_id(self, email: str, secret: str | None = None) -> str:
        """A contact's id in tokens: an HMAC of the address under a key derived from a
        secret (the newest by default). Only the gate can tell whose a token is."""
        base = secret if secret is not None else self.secrets[-1]
        found = self._ids.get((email, base))
        if found is None:
            key = self.derived_key(CONTACT_ID, base)
            address = email.strip().lower().encode("utf-8")
            found = hmac.new(key, address, hashlib.sha256).hexdigest()[:CONTACT_ID_LENGTH]
            if len(self._ids) >= 4096:
                self._ids.clear()
            self._ids[(email, base)] = found
        return found

    def is_contact(self, email: str, contact: str) -> bool:
        """Whether the id `contact` from a token is `email`'s: keyed under any active
        secret, or the unkeyed id of tokens made before keyed ids."""
        if len(contact) == LEGACY_ID_LENGTH:
            return hmac.compare_digest(legacy_contact_id(email), contact)
        return any(
            hmac.compare_digest(self.contact_id(email, secret), contact)
            for secret in reversed(self.secrets)
        )

    # -- links --------------------------------------------------------------------------------

    def link_token(self, claims: LinkClaims) -> str:
        return self.sign(LINK, claims.to_payload())

    def read_link(self, token: str, max_age: float | None = None) -> tuple[LinkClaims, float]:
        payload, when = self.verify(LINK, token, max_age)
        return LinkClaims.from_payload(payload), when

    # -- derived keys ---------------------------------------------------------------------------

    def derived_key(self, purpose: str, secret: str | None = None) -> bytes:
        """A key for one purpose (CSRF tokens, hashing client addresses) from a secret
        (the newest by default), so no raw secret is used for two jobs. Computed once
        per purpose and secret (a signer's secrets never change)."""
        base = secret if secret is not None else self.secrets[-1]
        key = self._derived.get((purpose, base))
        if key is None:
            key = hmac.new(base.encode("utf-8"), purpose.encode("utf-8"), hashlib.sha256).digest()
            if len(self._derived) < 256:  # bounded: callers pass only the signer's secrets
                self._derived[(purpose, base)] = key
        return key

    def mac(self, purpose: str, value: str) -> str:
        key = self.derived_key(purpose)
        return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()

    def check_mac(self, purpose: str, value: str, mac: str) -> bool:
        """Whether `mac` is `value`'s MAC under any active secret (constant time)."""
        good = False
        for secret in self.secrets:
            key = self.derived_key(purpose, secret)
            expected = hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
            good |= hmac.compare_digest(expected, mac)
        return good


def link_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/l/{token}"
