"""Access codes: the second factor a customer types after opening the link.

Only an argon2 hash is stored (in the registry entry). Codes staff generate are
temporary: the customer must replace them at the first sign-in. Wrong codes are
counted in the registry per contact: every `attempts` wrong codes in a row through one
contact's link lock that contact out, for `lockout`, doubling with each lockout in a row
(capped at a day), so guessing is hopeless even from many machines at once; the other
contacts keep signing in. A customer-wide ceiling only slows: past it, each wrong code
makes every contact wait a minute. A right code resets the counts.

The functions that decide are pure (entry in, entry out); the gate applies them with
`AccessRegistry.update`, a compare-and-swap, so concurrent attempts are all counted.
argon2 is imported only when a code is hashed or checked.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from portalgen.access.entry import NO_ATTEMPTS, AccessCode, AttemptState, RegistryEntry
from portalgen.errors import AccessError

if TYPE_CHECKING:
    from argon2 import PasswordHasher

# No 0/O, 1/I/L, 5/S, 2/Z: easy to read out over the phone.
ALPHABET = "ABCDEFGHJKMNPQRTUVWXY346789"
GENERATED_LENGTH = 8  # 27^8 ≈ 2.8e11 codes
MIN_LENGTH = 8  # for codes customers or staff choose
MAX_LENGTH = 128
MAX_LOCKOUT = timedelta(days=1)
CEILING_FACTOR = 4  # the customer-wide ceiling: 4 contacts' worth of wrong codes in a row
CEILING_SLOWDOWN = timedelta(minutes=1)
_hasher: PasswordHasher | None = None


def generate_code() -> str:
    """A temporary code like ``K7MP-4XRA``: random, unambiguous when read aloud."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(GENERATED_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalize_code(code: str) -> str:
    """What is compared: generated codes are accepted in any case, with or without the
    dash or spaces; codes people chose are compared as typed (without outer spaces)."""
    text = code.strip()
    squeezed = text.replace("-", "").replace(" ", "").upper()
    if len(squeezed) == GENERATED_LENGTH and all(ch in ALPHABET for ch in squeezed):
        return squeezed
    return text


def code_problem(code: str) -> str | None:
    """Why a chosen code is not acceptable, or None."""
    text = code.strip()
    if len(text) < MIN_LENGTH:
        return f"at least {MIN_LENGTH} characters"
    if len(text) > MAX_LENGTH:
        return f"at most {MAX_LENGTH} characters"
    return None


def _password_hasher() -> PasswordHasher:
    global _hasher
    if _hasher is None:
        from argon2 import PasswordHasher

        _hasher = PasswordHasher()  # argon2id, the library's (RFC 9106) defaults
    return _hasher


def hash_code(code: str) -> str:
    return _password_hasher().hash(normalize_code(code))


def verify_code(stored_hash: str, code: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    if not code or len(code) > MAX_LENGTH:
        return False
    try:
        return bool(_password_hasher().verify(stored_hash, normalize_code(code)))
    except (VerificationError, InvalidHashError):
        return False


def new_access_code(code: str, now: datetime, *, temporary: bool) -> AccessCode:
    if not temporary and (problem := code_problem(code)):
        raise AccessError(f"the access code must have {problem}")
    return AccessCode(hash=hash_code(code), set_at=now, must_change=temporary)


# -- checking a typed code ------------------------------------------------------------------


def locked_until(entry: RegistryEntry, now: datetime, email: str) -> datetime | None:
    """Until when a code typed through `email`'s link is refused: the contact's own
    lockout, or the customer-wide slow-down, whichever ends later; None if neither."""
    code = entry.access_code
    if code is None:
        return None
    times = [code.attempts_of(email).locked_until, code.locked_until]
    later = max((t for t in times if t is not None and t > now), default=None)
    return later


def contact_locked(entry: RegistryEntry, now: datetime, email: str) -> bool:
    """Whether `email`'s own lockout is on (the customer-wide slow-down aside)."""
    code = entry.access_code
    until = None if code is None else code.attempts_of(email).locked_until
    return until is not None and until > now


def ceiling(attempts: int) -> int:
    """Wrong codes in a row, through any of a customer's contacts, after which every
    further wrong code slows the whole customer down by CEILING_SLOWDOWN."""
    return attempts * CEILING_FACTOR


def record_attempt(
    entry: RegistryEntry,
    email: str,
    correct: bool,
    now: datetime,
    *,
    attempts: int,
    lockout: timedelta,
) -> RegistryEntry:
    """The entry after one attempt through `email`'s link (pure: for `AccessRegistry.update`).

    A locked entry does not change (the attempt was not even checked). A right code
    clears the counts; a wrong one counts for the contact and for the customer. Every
    `attempts`-th wrong one in a row of a contact locks that contact out for `lockout`
    × 2^(lockouts so far), at most a day: one contact cannot lock the others out. Past
    `ceiling(attempts)` wrong codes in a row across contacts, each further one makes
    every contact wait CEILING_SLOWDOWN: many contacts' links do not multiply guesses.
    """
    code = entry.access_code
    if code is None or locked_until(entry, now, email) is not None:
        return entry
    mine = code.attempts_of(email)
    if correct:
        if code.failed_attempts == 0 and code.locked_until is None and mine == NO_ATTEMPTS:
            return entry
        others = {e: a for e, a in code.contacts.items() if e != email}
        changed = replace(code, failed_attempts=0, locked_until=None, contacts=others)
    else:
        failed = mine.failed_attempts + 1
        until = mine.locked_until
        if failed % attempts == 0:
            until = now + min(lockout * 2 ** (failed // attempts - 1), MAX_LOCKOUT)
        total = code.failed_attempts + 1
        slowed = now + CEILING_SLOWDOWN if total >= ceiling(attempts) else code.locked_until
        contacts = {**code.contacts, email: AttemptState(failed, until)}
        changed = replace(code, failed_attempts=total, locked_until=slowed, contacts=contacts)
    return replace(entry, access_code=changed, updated_at=now)


def with_code(entry: RegistryEntry, code: AccessCode | None, now: datetime) -> RegistryEntry:
    """The entry with a new access code (or none): the failure count starts again."""
    return replace(entry, access_code=code, updated_at=now)
