"""Signed tokens: each kind of bad token is refused, rotation keeps old links working."""

from __future__ import annotations

import pytest

from portalgen.access.tokens import (
    FLOW,
    LINK,
    SESSION,
    LinkClaims,
    TokenError,
    TokenExpired,
    TokenSigner,
    legacy_contact_id,
    link_url,
)
from tests.gate_fixtures import ManualClock

OLD = "old-secret-" + "o" * 40
NEW = "new-secret-" + "n" * 40
CLAIMS = LinkClaims("0" * 32, TokenSigner([NEW]).contact_id("Compras@Taller.example"), 3)


def test_a_link_round_trips_and_hides_the_email() -> None:
    signer = TokenSigner([NEW])
    token = signer.link_token(CLAIMS)
    claims, _ = signer.read_link(token)
    assert claims == CLAIMS
    assert "taller" not in token.lower()  # the address never appears in a URL
    assert signer.is_contact("compras@taller.example", CLAIMS.contact)
    assert link_url("https://portal.example/", token) == f"https://portal.example/l/{token}"


@pytest.mark.parametrize(
    "damage",
    [
        lambda t: t[:-1],  # truncated signature
        lambda t: t[: len(t) // 2],  # cut in the middle
        lambda t: ("X" if t[0] != "X" else "Y") + t[1:],  # payload changed
        lambda t: t.replace(".", "", 1),  # separator removed
        lambda t: t + "A",  # extended
        lambda t: "",
        lambda t: "not-a-token",
        lambda t: t * 40,  # absurdly long
    ],
)
def test_a_damaged_link_is_refused(damage) -> None:
    signer = TokenSigner([NEW])
    with pytest.raises(TokenError):
        signer.read_link(damage(signer.link_token(CLAIMS)))


def test_a_link_signed_with_another_secret_is_refused() -> None:
    token = TokenSigner(["someone-else-" + "x" * 40]).link_token(CLAIMS)
    with pytest.raises(TokenError) as caught:
        TokenSigner([NEW]).read_link(token)
    assert not isinstance(caught.value, TokenExpired)


@pytest.mark.parametrize("purpose", [SESSION, FLOW])
def test_a_token_made_for_another_purpose_is_not_a_link(purpose: str) -> None:
    signer = TokenSigner([NEW])
    token = signer.sign(purpose, CLAIMS.to_payload())  # same payload, other salt
    with pytest.raises(TokenError):
        signer.read_link(token)
    assert signer.verify(purpose, token)[0] == CLAIMS.to_payload()


def test_a_link_expires_after_its_max_age() -> None:
    clock = ManualClock(1_800_000_000)
    signer = TokenSigner([NEW], clock=clock)
    token = signer.link_token(CLAIMS)
    clock.advance(3600)
    assert signer.read_link(token, max_age=3601)[0] == CLAIMS
    clock.advance(2)
    with pytest.raises(TokenExpired):
        signer.read_link(token, max_age=3601)


def test_rotation_the_newest_secret_signs_and_old_links_still_verify() -> None:
    before = TokenSigner([OLD]).link_token(CLAIMS)
    rotated = TokenSigner([OLD, NEW])
    assert rotated.read_link(before)[0] == CLAIMS
    after = rotated.link_token(CLAIMS)
    assert TokenSigner([NEW]).read_link(after)[0] == CLAIMS  # signed by the newest
    with pytest.raises(TokenError):
        TokenSigner([OLD]).read_link(after)
    with pytest.raises(TokenError):  # the old secret dropped: old links are dead
        TokenSigner([NEW]).read_link(before)


def test_payloads_of_the_wrong_shape_are_refused() -> None:
    signer = TokenSigner([NEW])
    for payload in ({"k": "a"}, {"k": "a", "c": "b", "g": "1"}, {"k": 1, "c": "b", "g": 1}):
        with pytest.raises(TokenError):
            signer.read_link(signer.sign(LINK, payload))


def test_macs_verify_under_every_active_secret() -> None:
    old, rotated = TokenSigner([OLD]), TokenSigner([OLD, NEW])
    mac = old.mac("csrf.session", "sid")
    assert rotated.check_mac("csrf.session", "sid", mac)
    assert not rotated.check_mac("csrf.flow", "sid", mac)  # another purpose
    assert not rotated.check_mac("csrf.session", "other", mac)


def test_contact_ids_are_keyed_so_a_guessed_address_cannot_be_checked_offline() -> None:
    """Issue 13: tokens carried sha256(email)[:16], so anyone holding a link or cookie
    could confirm a guessed address. The id is now an HMAC under a key derived from the
    secret: without the secret, the id says nothing about the address."""
    import hashlib

    email = "compras@taller.example"
    old, new = TokenSigner([OLD]), TokenSigner([OLD, NEW])
    cid = new.contact_id(email)
    assert hashlib.sha256(email.encode()).hexdigest()[:16] not in cid
    assert cid != old.contact_id(email) != TokenSigner(["x" * 40]).contact_id(email)
    assert new.is_contact(email, cid) and new.is_contact(email, old.contact_id(email))
    assert not new.is_contact("otra@taller.example", cid)
    assert not TokenSigner([NEW + "x"]).is_contact(email, cid)  # the secret dropped: no match
    # Links emailed before keyed ids keep working until their max age...
    assert new.is_contact(email, legacy_contact_id(email))
    # ...and no new token carries the unkeyed id.
    assert legacy_contact_id(email) not in new.link_token(LinkClaims("0" * 32, cid, 1))
