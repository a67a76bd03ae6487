"""The access registry in storage: one file per customer, a claim per customer code, an index.

Layout (same in a folder and in a bucket)::

    _access/<customer_key>.json         the entry: the truth about one customer
    _access/codes/<sha256(code)>.json   the claim: which customer_key a code has (create-if-absent)
    _access/index.json                  code → customer_key for all customers: a cache

Why each is safe when writers race:
- Two `grant`s of a new customer at once: the claim is created with put-if-absent, so
  exactly one customer_key wins and both writers use it; the entry is created the same way.
- Read-modify-write of an entry (`update`) is a compare-and-swap: a gate counting failed
  access codes cannot undo a `revoke` that happened in between.
- The index is derived data. A lost index update (two writers, last one wins) loses no
  customer: `find` goes through the claim, and `index()` notices an index that does not
  match the entries listed and rebuilds it from them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from datetime import datetime

from portalgen.access.entry import (
    SCHEMA_VERSION,
    RegistryEntry,
    entry_from_json,
    entry_to_json,
    is_customer_key,
    new_entry,
    utc_now,
)
from portalgen.errors import AccessError, StorageError
from portalgen.storage import Storage

PREFIX = "_access/"
INDEX_KEY = "_access/index.json"
CLAIMS = "_access/codes/"
JSON = "application/json"
CAS_ATTEMPTS = 20
_ENTRY_KEY = re.compile(r"_access/([0-9a-f]{32})\.json")


def entry_key(customer_key: str) -> str:
    return f"{PREFIX}{customer_key}.json"


def claim_key(customer: str) -> str:
    return f"{CLAIMS}{hashlib.sha256(customer.encode('utf-8')).hexdigest()}.json"


class AccessRegistry:
    def __init__(self, storage: Storage, *, workers: int = 8) -> None:
        self.storage = storage
        self.workers = workers  # parallel reads when loading every entry

    # -- one entry ----------------------------------------------------------------------------

    def load(self, customer_key: str) -> RegistryEntry | None:
        """The entry of a customer_key; None if there is none (or the key is malformed)."""
        found = self._load_versioned(customer_key)
        return None if found is None else found[0]

    def find(self, customer: str) -> RegistryEntry | None:
        """The entry of a customer code, or None if the customer was never granted."""
        claimed = self._claimed_key(customer)
        return None if claimed is None else self.load(claimed)

    def get_or_create(
        self, customer: str, now: datetime | None = None
    ) -> tuple[RegistryEntry, bool]:
        """The customer's entry, creating a disabled one without contacts if there is none.

        Returns (entry, created). Safe when several processes do it at once: they all
        end up with the same customer_key and exactly one of them creates the entry.
        """
        now = now or utc_now()
        existing = self.find(customer)
        if existing is not None:
            return existing, False
        key = self._claim(customer, new_entry(customer, now).customer_key)
        entry = new_entry(customer, now, key)
        created = self.storage.put_if_absent(entry_key(key), entry_to_json(entry), JSON)
        if not created:
            entry = self._require(key)
        self._index_add(customer, key)
        return entry, created

    def save(self, entry: RegistryEntry) -> None:
        """Write an entry as it is (atomic replace). For read-modify-write use `update`.

        Refused if the customer code already belongs to another customer_key.
        """
        claimed = self._claim(entry.customer, entry.customer_key)
        if claimed != entry.customer_key:
            raise AccessError(
                f"customer {entry.customer} already has registry entry {claimed}, "
                f"not {entry.customer_key}"
            )
        self.storage.put(entry_key(entry.customer_key), entry_to_json(entry), JSON)
        self._index_add(entry.customer, entry.customer_key)

    def update(
        self, customer_key: str, change: Callable[[RegistryEntry], RegistryEntry]
    ) -> RegistryEntry:
        """Apply `change` to the stored entry as a compare-and-swap; returns the new entry.

        If another writer changed the entry in between, `change` runs again on the
        fresh entry, so no write is lost. `change` must be pure (it may run twice).
        """
        for _ in range(CAS_ATTEMPTS):
            current, version = self._require_versioned(customer_key)
            changed = change(current)
            if (changed.customer, changed.customer_key) != (current.customer, customer_key):
                raise ValueError("an update cannot change the customer code or key")
            if changed == current:
                return current
            data = entry_to_json(changed)
            if self.storage.put_if_version(entry_key(customer_key), data, JSON, version):
                return changed
        raise StorageError(
            f"{entry_key(customer_key)}: changed by others {CAS_ATTEMPTS} times in a row; try again"
        )

    # -- every entry --------------------------------------------------------------------------

    def entries(self) -> list[RegistryEntry]:
        """Every entry, sorted by customer code."""
        from concurrent.futures import ThreadPoolExecutor  # not on the gate's import path

        keys = self._listed_keys()
        with ThreadPoolExecutor(max_workers=max(1, self.workers)) as pool:
            loaded = list(pool.map(self.load, keys))
        return sorted((e for e in loaded if e is not None), key=lambda e: e.customer)

    def index(self, listed: Iterable[str] | None = None) -> dict[str, str]:
        """Customer code → customer_key for every customer, rebuilt if missing or stale.

        `listed`: the customer_keys of the entries, if the caller has just listed
        ``_access/`` anyway (publishing does), to save listing it again."""
        stored = self._read_index()
        keys = set(self._listed_keys() if listed is None else listed)
        if stored is not None and set(stored.values()) == keys:
            return stored
        return self.rebuild_index()

    def rebuild_index(self) -> dict[str, str]:
        """Write the index again from the entries (the truth) and return it."""
        index = {e.customer: e.customer_key for e in self.entries()}
        self.storage.put(INDEX_KEY, _index_json(index), JSON)
        return index

    # -- internals ------------------------------------------------------------------------------

    def _load_versioned(self, customer_key: str) -> tuple[RegistryEntry, str] | None:
        if not is_customer_key(customer_key):
            return None
        found = self.storage.get_with_version(entry_key(customer_key))
        if found is None:
            return None
        entry = entry_from_json(found[0], f"{self.storage.location}/{entry_key(customer_key)}")
        if entry.customer_key != customer_key:
            raise StorageError(f"{entry_key(customer_key)}: holds the entry of another key")
        return entry, found[1]

    def _require_versioned(self, customer_key: str) -> tuple[RegistryEntry, str]:
        found = self._load_versioned(customer_key)
        if found is None:
            raise AccessError(f"no access-registry entry {customer_key}")
        return found

    def _require(self, customer_key: str) -> RegistryEntry:
        return self._require_versioned(customer_key)[0]

    def _claimed_key(self, customer: str) -> str | None:
        data = self.storage.get(claim_key(customer))
        if data is None:
            return None
        try:
            raw = json.loads(data)
            key = raw["customer_key"]
            if raw["customer"] != customer or not is_customer_key(key):
                raise ValueError(key)
        except (ValueError, KeyError, TypeError):
            where = f"{self.storage.location}/{claim_key(customer)}"
            raise StorageError(f"{where}: not a valid customer-code claim") from None
        return str(key)

    def _claim(self, customer: str, customer_key: str) -> str:
        """Claim the code for `customer_key` unless it is taken; the key that holds it."""
        claim = {"version": SCHEMA_VERSION, "customer": customer, "customer_key": customer_key}
        data = json.dumps(claim, ensure_ascii=False).encode("utf-8")
        if self.storage.put_if_absent(claim_key(customer), data, JSON):
            return customer_key
        claimed = self._claimed_key(customer)
        if claimed is None:  # claims are never deleted; someone removed it by hand
            raise StorageError(f"{claim_key(customer)}: vanished while being read; try again")
        return claimed

    def _listed_keys(self) -> list[str]:
        keys = []
        for info in self.storage.list(PREFIX):
            match = _ENTRY_KEY.fullmatch(info.key)
            if match:
                keys.append(match.group(1))
        return keys

    def _read_index(self) -> dict[str, str] | None:
        found = self.storage.get_with_version(INDEX_KEY)
        return None if found is None else _parse_index(found[0])

    def _index_add(self, customer: str, customer_key: str) -> None:
        """Record one mapping in the index (compare-and-swap); on trouble, leave it stale."""
        for _ in range(5):
            found = self.storage.get_with_version(INDEX_KEY)
            index = None if found is None else _parse_index(found[0])
            if found is None or index is None:
                self.rebuild_index()
                return
            if index.get(customer) == customer_key:
                return
            index[customer] = customer_key
            if self.storage.put_if_version(INDEX_KEY, _index_json(index), JSON, found[1]):
                return


def _index_json(index: dict[str, str]) -> bytes:
    data = {"version": SCHEMA_VERSION, "customers": dict(sorted(index.items()))}
    return json.dumps(data, indent=1, ensure_ascii=False).encode("utf-8") + b"\n"


def _parse_index(data: bytes) -> dict[str, str] | None:
    """The index's mapping, or None if it is damaged (then it is rebuilt)."""
    try:
        raw = json.loads(data)
        customers = raw["customers"]
        if raw.get("version") != SCHEMA_VERSION or not isinstance(customers, dict):
            return None
        if not all(isinstance(k, str) and is_customer_key(v) for k, v in customers.items()):
            return None
        return dict(customers)
    except (ValueError, KeyError, TypeError):
        return None
