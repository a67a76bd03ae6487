"""Who gets a portal in this run, and whose portal must go.

Published: customers of the export with an enabled entry in the access registry (`grant`
makes them). Removed: every portal in storage that belongs to nobody published — a
customer revoked (revoke also deletes at once: this is the safety net), whose entry is
missing, or who is gone from the export. `--only` and `--shard` narrow both: a shard
touches only its own customers' portals, so N machines never step on each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from portalgen.access.entry import RegistryEntry, is_customer_key
from portalgen.errors import PublishError
from portalgen.model import CustomerData, Export
from portalgen.publish.inputs import Shard


@dataclass(frozen=True)
class Target:
    code: str
    customer_key: str
    data: CustomerData


@dataclass(frozen=True)
class Removal:
    code: str  # "" when no registry entry names the portal's customer
    customer_key: str


@dataclass
class Selection:
    targets: list[Target] = field(default_factory=list)
    removals: list[Removal] = field(default_factory=list)
    without_access: list[str] = field(default_factory=list)  # in the export, not granted


def select_customers(
    export: Export,
    entries: Iterable[RegistryEntry],
    portals: Iterable[str],
    only: Sequence[str] = (),
    shard: Shard | None = None,
) -> Selection:
    """`portals` are the customer_keys that have something under portals/ in storage."""
    codes = export.customer_codes()
    by_code = {e.customer: e for e in entries}
    by_key = {key: e.customer for key, e in ((e.customer_key, e) for e in by_code.values())}
    unknown = [c for c in only if c not in set(codes) and c not in by_code]
    if unknown:
        names = ", ".join(map(repr, unknown))
        raise PublishError(f"no customer with code {names} in the export or the access registry")

    def mine(name: str, code: str) -> bool:
        return (not only or code in only) and (shard is None or shard.owns(name))

    selection = Selection()
    live: set[str] = set()
    customers = export.by_customer()
    for code in codes:
        entry = by_code.get(code)
        granted = entry is not None and entry.enabled
        if granted:
            assert entry is not None
            live.add(entry.customer_key)
        if not mine(code, code):
            continue
        if entry is None or not granted:
            selection.without_access.append(code)
        else:
            selection.targets.append(Target(code, entry.customer_key, customers[code]))
    for key in sorted(set(portals)):
        code = by_key.get(key, "")
        if is_customer_key(key) and key not in live and mine(code or key, code):
            selection.removals.append(Removal(code, key))
    return selection
