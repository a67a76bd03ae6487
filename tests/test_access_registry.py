"""The access registry's data layer, on a folder and on SeaweedFS S3."""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest

from portalgen.access.entry import (
    AccessCode,
    entry_from_json,
    entry_to_json,
    is_customer_key,
    new_entry,
)
from portalgen.access.registry import INDEX_KEY, AccessRegistry, claim_key, entry_key
from portalgen.errors import AccessError, StorageError
from portalgen.storage import Storage

NOW = datetime(2026, 6, 15, 9, 30, tzinfo=UTC)
LATER = NOW + timedelta(hours=2)


def granted(registry: AccessRegistry, code: str, *emails: str):
    entry, _ = registry.get_or_create(code, NOW)

    def grant(e):
        for email in emails:
            e = e.with_contact(email, NOW)
        return e.granted(NOW)

    return registry.update(entry.customer_key, grant)


def test_get_or_create_makes_one_disabled_entry_under_a_random_key(storage: Storage) -> None:
    registry = AccessRegistry(storage)
    entry, created = registry.get_or_create("C001", NOW)
    assert created
    assert is_customer_key(entry.customer_key)
    assert (entry.customer, entry.enabled, entry.contacts) == ("C001", False, ())
    again, created_again = registry.get_or_create("C001", LATER)
    assert (again, created_again) == (entry, False)
    other, _ = registry.get_or_create("C002", NOW)
    assert other.customer_key != entry.customer_key
    # The key says nothing about the code; the file is named by the key only.
    assert "C001" not in entry.customer_key
    assert storage.exists(entry_key(entry.customer_key))


def test_load_and_find_return_what_was_saved(storage: Storage) -> None:
    registry = AccessRegistry(storage)
    entry = granted(registry, "C001", "Ana@Example.com", "luis@example.com")
    assert registry.load(entry.customer_key) == entry
    assert registry.find("C001") == entry
    assert registry.find("C999") is None
    assert registry.load("0" * 32) is None
    assert registry.load("../../etc/passwd") is None  # not a key: nothing is read
    assert [c.email for c in entry.contacts] == ["ana@example.com", "luis@example.com"]


def test_every_field_survives_a_round_trip(storage: Storage) -> None:
    registry = AccessRegistry(storage)
    entry = granted(registry, "Cliente Ñ 7", "ana@example.com")
    code = AccessCode(
        hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        set_at=NOW,
        must_change=False,
        failed_attempts=3,
        locked_until=LATER,
    )
    full = dataclasses.replace(
        entry.without_contact("ana@example.com", LATER).with_contact("bea@example.com", LATER),
        access_code=code,
        link_max_age=timedelta(days=7),
    )
    saved = registry.update(entry.customer_key, lambda _: full)
    assert registry.load(entry.customer_key) == saved == full
    raw = json.loads(storage.get(entry_key(entry.customer_key)) or b"")
    assert raw["version"] == 1
    assert raw["contacts"]["ana@example.com"]["enabled"] is False
    assert raw["access_code"]["failed_attempts"] == 3
    assert raw["link_max_age"] == 7 * 86400


def test_generations_only_grow(storage: Storage) -> None:
    registry = AccessRegistry(storage)
    entry = granted(registry, "C001", "ana@example.com", "luis@example.com")
    assert entry.allows("ana@example.com", 1) and entry.allows("LUIS@example.com", 1)

    cut = registry.update(entry.customer_key, lambda e: e.without_contact("ana@example.com", NOW))
    assert not cut.allows("ana@example.com", 1) and not cut.allows("ana@example.com", 2)
    assert cut.allows("luis@example.com", 1)  # the others keep working

    back = registry.update(entry.customer_key, lambda e: e.with_contact("ana@example.com", NOW))
    assert not back.allows("ana@example.com", 1)  # the old link stays dead
    assert back.allows("ana@example.com", 3)

    revoked = registry.update(entry.customer_key, lambda e: e.revoked(LATER))
    assert not revoked.enabled and revoked.revoked_at == LATER
    assert not any(revoked.allows(c.email, c.generation) for c in revoked.contacts)
    regranted = registry.update(entry.customer_key, lambda e: e.granted(LATER))
    assert not regranted.allows("luis@example.com", 1)
    assert regranted.allows("luis@example.com", 2)

    reset = registry.update(entry.customer_key, lambda e: e.reset(LATER, "luis@example.com"))
    assert reset.allows("luis@example.com", 3) and reset.allows("ana@example.com", 4)
    with pytest.raises(AccessError, match="no contact"):
        reset.without_contact("nobody@example.com", LATER)


def test_concurrent_updates_lose_nothing(storage: Storage) -> None:
    """A gate counting wrong codes while staff revoke: the revoke must stick."""
    registry = AccessRegistry(storage)
    entry = granted(registry, "C001", "ana@example.com")
    code = AccessCode(hash="h", set_at=NOW)
    registry.update(entry.customer_key, lambda e: dataclasses.replace(e, access_code=code))

    def fail_once(e):
        assert e.access_code is not None
        counted = dataclasses.replace(
            e.access_code, failed_attempts=e.access_code.failed_attempts + 1
        )
        return dataclasses.replace(e, access_code=counted, updated_at=LATER)

    barrier = threading.Barrier(4)

    def gate() -> None:
        barrier.wait()
        for _ in range(3):
            registry.update(entry.customer_key, fail_once)

    def staff() -> None:
        barrier.wait()
        registry.update(entry.customer_key, lambda e: e.revoked(LATER))

    threads = [threading.Thread(target=gate) for _ in range(3)] + [threading.Thread(target=staff)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = registry.load(entry.customer_key)
    assert final is not None and final.access_code is not None
    assert final.access_code.failed_attempts == 9
    assert not final.enabled
    contact = final.contact("ana@example.com")
    assert contact is not None and contact.generation == 2


def test_racing_creators_share_one_key(storage: Storage) -> None:
    registries = [AccessRegistry(storage) for _ in range(4)]
    results: list[tuple[str, bool]] = []
    barrier = threading.Barrier(4)

    def create(registry: AccessRegistry) -> None:
        barrier.wait()
        entry, created = registry.get_or_create("C001", NOW)
        results.append((entry.customer_key, created))

    threads = [threading.Thread(target=create, args=(r,)) for r in registries]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({key for key, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert [e.customer for e in registries[0].entries()] == ["C001"]


def test_a_crash_between_claim_and_entry_is_finished_later(storage: Storage) -> None:
    registry = AccessRegistry(storage)
    orphan = new_entry("C001", NOW)
    claim = {"version": 1, "customer": "C001", "customer_key": orphan.customer_key}
    storage.put(claim_key("C001"), json.dumps(claim).encode(), "application/json")
    assert registry.find("C001") is None
    entry, created = registry.get_or_create("C001", NOW)
    assert created and entry.customer_key == orphan.customer_key


def test_save_refuses_a_second_key_for_a_code(storage: Storage) -> None:
    registry = AccessRegistry(storage)
    first, _ = registry.get_or_create("C001", NOW)
    registry.save(first.granted(LATER))
    assert registry.load(first.customer_key) == first.granted(LATER)
    with pytest.raises(AccessError, match="already has registry entry"):
        registry.save(new_entry("C001", NOW))
    assert [e.customer_key for e in registry.entries()] == [first.customer_key]


def test_entries_and_index_list_every_customer(storage: Storage) -> None:
    registry = AccessRegistry(storage)
    made = {code: registry.get_or_create(code, NOW)[0].customer_key for code in ("C3", "C1", "C2")}
    assert [e.customer for e in registry.entries()] == ["C1", "C2", "C3"]
    assert registry.index() == made
    stored = json.loads(storage.get(INDEX_KEY) or b"")
    assert stored == {"version": 1, "customers": dict(sorted(made.items()))}


def test_a_lost_index_update_loses_no_customer(storage: Storage) -> None:
    registry = AccessRegistry(storage)
    one, _ = registry.get_or_create("C1", NOW)
    stale = storage.get(INDEX_KEY)
    two, _ = registry.get_or_create("C2", NOW)
    assert stale is not None
    storage.put(INDEX_KEY, stale, "application/json")  # another writer's older index won
    assert registry.find("C2") == two  # found through its claim, not the index
    assert registry.index() == {"C1": one.customer_key, "C2": two.customer_key}
    assert json.loads(storage.get(INDEX_KEY) or b"")["customers"] == registry.index()


@pytest.mark.parametrize("damage", [None, b"{not json", b'{"version": 1}'])
def test_a_missing_or_damaged_index_is_rebuilt(storage: Storage, damage: bytes | None) -> None:
    registry = AccessRegistry(storage)
    one, _ = registry.get_or_create("C1", NOW)
    if damage is None:
        storage.delete(INDEX_KEY)
    else:
        storage.put(INDEX_KEY, damage, "application/json")
    assert registry.index() == {"C1": one.customer_key}
    two, _ = registry.get_or_create("C2", NOW)
    assert registry.index() == {"C1": one.customer_key, "C2": two.customer_key}


def test_a_damaged_entry_is_a_clear_error(storage: Storage) -> None:
    registry = AccessRegistry(storage)
    entry, _ = registry.get_or_create("C1", NOW)
    storage.put(entry_key(entry.customer_key), b'{"version": 1, "customer": "C1"}', "text/plain")
    with pytest.raises(StorageError, match=r"not a valid access-registry entry \(missing field"):
        registry.load(entry.customer_key)
    storage.put(entry_key(entry.customer_key), b'{"version": 2}', "text/plain")
    with pytest.raises(StorageError, match="newer portalgen"):
        registry.find("C1")


def test_json_refuses_naive_times_and_wrong_types() -> None:
    entry = new_entry("C1", NOW)
    with pytest.raises(ValueError, match="timezone"):
        entry_to_json(dataclasses.replace(entry, granted_at=datetime(2026, 1, 1)))
    raw = json.loads(entry_to_json(entry))
    raw["enabled"] = "yes"
    with pytest.raises(StorageError, match="expected true or false"):
        entry_from_json(json.dumps(raw).encode(), "x.json")
    assert entry_from_json(entry_to_json(entry), "x.json") == entry


def test_bad_emails_and_codes_are_refused() -> None:
    with pytest.raises(AccessError, match="not an email"):
        new_entry("C1", NOW).with_contact("not-an-email", NOW)
    with pytest.raises(AccessError, match="empty"):
        new_entry("  ", NOW)
