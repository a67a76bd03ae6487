"""Who gets a portal in this run, and whose portal must go.

Published: customers of the export with an enabled entry in the access registry (`grant`
makes them). Removed: every portal in storage that belongs to nobody published — a
customer revoked (revoke also deletes at once: this is the safety net), whose entry is
missing, or who is gone from the export. `--only` and `--shard` narrow both: a shard
touches only its own customers' portals, so N machines never step on each other.

Reading the registry costs one listing: an entry is read only when no trusted marker
(publish.markers) vouches that it has not changed since the customer was published.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from portalgen.access.entry import RegistryEntry, is_customer_key
from portalgen.access.registry import PREFIX as ACCESS_PREFIX
from portalgen.access.registry import AccessRegistry
from portalgen.domain.model import CustomerData
from portalgen.errors import PublishError
from portalgen.publish.inputs import Shard
from portalgen.publish.markers import Marker, entry_stamps, list_markers, trusted
from portalgen.storage import Storage


@dataclass(frozen=True)
class Target:
    code: str
    customer_key: str
    customers: Mapping[str, CustomerData] = field(repr=False, compare=False)
    stamp: str  # the registry entry's stamp as listed at the start of the run
    marker: Marker | None = None  # a trusted marker: the portal as last published

    @property
    def data(self) -> CustomerData:
        """The customer's records (the export split only when someone is planned)."""
        return self.customers[self.code]


@dataclass(frozen=True)
class Removal:
    code: str  # "" when no registry entry names the portal's customer
    customer_key: str


@dataclass
class Selection:
    targets: list[Target] = field(default_factory=list)
    removals: list[Removal] = field(default_factory=list)
    without_access: list[str] = field(default_factory=list)  # in the export, not granted


@dataclass(frozen=True)
class AccessView:
    """The registry and the published portals, as a handful of listings show them."""

    index: dict[str, str]  # customer code -> customer_key
    stamps: dict[str, str]  # customer_key -> stamp of its registry entry
    markers: dict[str, list[Marker]]  # customer_key -> markers
    portals: set[str]  # customer_keys with something under portals/


def read_access(storage: Storage, registry: AccessRegistry) -> AccessView:
    """The listings (and the registry's index) at once: each is a request or a few, and
    waiting for them one after the other was most of a night with nothing to do."""
    with ThreadPoolExecutor(2, thread_name_prefix="access") as reads:
        markers = reads.submit(list_markers, storage)
        portals = reads.submit(_portals, storage)
        stamps = entry_stamps(storage.list(ACCESS_PREFIX))
        index = registry.index(listed=stamps.keys())
        return AccessView(index, stamps, markers.result(), portals.result())


def _portals(storage: Storage) -> set[str]:
    return {k for k in storage.list_folders("portals/") if is_customer_key(k)}


LoadEntries = Callable[[Sequence[str]], dict[str, RegistryEntry | None]]


def scope(only: Sequence[str], shard: Shard | None) -> Callable[[str, str], bool]:
    """Whether this run looks after a customer: `name` decides the shard (the customer
    code, or the customer_key of a portal whose code nobody knows), `code` --only."""

    def mine(name: str, code: str) -> bool:
        return (not only or code in only) and (shard is None or shard.owns(name))

    return mine


def select_customers(
    codes: Sequence[str],
    view: AccessView,
    load_entries: LoadEntries,
    only: Sequence[str],
    shard: Shard | None,
    customers: Mapping[str, CustomerData],
) -> Selection:
    """`codes`: the export's customers; `customers`: their records, by code (looked up
    only when a customer is planned); `load_entries` reads the registry entries no marker
    vouches for."""
    unknown = [c for c in only if c not in set(codes) and c not in view.index]
    if unknown:
        names = ", ".join(map(repr, unknown))
        raise PublishError(f"no customer with code {names} in the export or the access registry")

    mine = scope(only, shard)
    selection = Selection()
    unvouched: list[str] = []
    for code in (c for c in codes if mine(c, c)):
        key = view.index.get(code)
        if key is None:
            selection.without_access.append(code)
            continue
        marker = trusted(view.markers.get(key), view.stamps.get(key), key in view.portals)
        if marker is not None:  # published while enabled, and the entry has not changed
            selection.targets.append(_target(code, key, customers, view, marker))
        else:
            unvouched.append(code)
    entries = load_entries([view.index[code] for code in unvouched])
    for code in unvouched:
        entry = entries.get(view.index[code])
        if entry is not None and entry.enabled:
            selection.targets.append(_target(code, entry.customer_key, customers, view))
        else:
            selection.without_access.append(code)
    selection.removals = _removals(view, {t.customer_key for t in selection.targets}, mine)
    return selection


def _target(
    code: str,
    key: str,
    customers: Mapping[str, CustomerData],
    view: AccessView,
    marker: Marker | None = None,
) -> Target:
    return Target(code, key, customers, view.stamps.get(key, ""), marker)


def _removals(view: AccessView, kept: set[str], mine: Callable[[str, str], bool]) -> list[Removal]:
    """Portals (and stale markers) of this run's scope that belong to nobody published."""
    codes = {key: code for code, key in view.index.items()}
    removals = []
    for key in sorted((view.portals | view.markers.keys()) - kept):
        code = codes.get(key, "")
        if mine(code or key, code):
            removals.append(Removal(code, key))
    return removals


def load_entries(registry: AccessRegistry, threads: int) -> LoadEntries:
    """Read registry entries in parallel."""

    def load(keys: Iterable[str]) -> dict[str, RegistryEntry | None]:
        keys = list(keys)
        if not keys:
            return {}
        with ThreadPoolExecutor(max(1, min(threads, len(keys)))) as pool:
            return dict(zip(keys, pool.map(registry.load, keys), strict=True))

    return load
