"""Staff preview links: a read-only look at a customer's portal, for staff only.

``<base_url>/s/<token>/<path>``: the token is signed with its own purpose (salt
``portalgen.preview.v1``), so it never passes for a customer's link or session, and a
customer's token never passes for it. Its payload is ``{k: customer_key, t: granted
at}``: the link is good for PREVIEW_MAX_AGE (7 days) while the customer is enabled and
has not been revoked since it was made (a revoke disables the customer; a later grant
gives a new ``granted_at``, so the old preview stays dead). Dropping the secret that
signed it kills it like any other token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from portalgen.access.entry import RegistryEntry
from portalgen.access.tokens import PREVIEW, TokenError, TokenSigner

PREVIEW_MAX_AGE = timedelta(days=7)
PREVIEW_ROUTE = "s"  # the gate's route: /s/<token>/<path>


@dataclass(frozen=True)
class PreviewClaims:
    customer_key: str
    granted: str  # the entry's granted_at when the link was made (ISO 8601), or ""

    def to_payload(self) -> dict[str, Any]:
        return {"k": self.customer_key, "t": self.granted}

    @classmethod
    def from_payload(cls, payload: Any) -> PreviewClaims:
        if not isinstance(payload, dict):
            raise TokenError("the token's content is not a preview")
        key, granted = payload.get("k"), payload.get("t")
        if not (isinstance(key, str) and isinstance(granted, str)):
            raise TokenError("the token's content is not a preview")
        return cls(key, granted)

    @classmethod
    def of(cls, entry: RegistryEntry) -> PreviewClaims:
        granted = entry.granted_at.isoformat() if entry.granted_at else ""
        return cls(entry.customer_key, granted)

    def allowed_by(self, entry: RegistryEntry) -> bool:
        """Whether the entry as stored now still lets this preview in."""
        return entry.enabled and PreviewClaims.of(entry) == self


def preview_token(signer: TokenSigner, entry: RegistryEntry) -> str:
    return signer.sign(PREVIEW, PreviewClaims.of(entry).to_payload())


def read_preview(signer: TokenSigner, token: str) -> PreviewClaims:
    """The claims of a genuine preview token younger than PREVIEW_MAX_AGE;
    TokenError or TokenExpired otherwise."""
    payload, _ = signer.verify(PREVIEW, token, PREVIEW_MAX_AGE.total_seconds())
    return PreviewClaims.from_payload(payload)


def preview_url(base_url: str, token: str, path: str = "") -> str:
    return f"{base_url.rstrip('/')}/{PREVIEW_ROUTE}/{token}/{path.lstrip('/')}"
