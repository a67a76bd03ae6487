"""What a gate process keeps in memory between requests (never who may see what)."""

from __future__ import annotations


class BlobCache:
    """Small immutable files (pages, theme assets) by storage key, up to a memory budget."""

    MAX_ITEM = 512 * 1024
    BUDGET = 32 * 1024 * 1024

    def __init__(self) -> None:
        self._items: dict[str, bytes] = {}
        self._size = 0

    def get(self, key: str) -> bytes | None:
        return self._items.get(key)

    def put(self, key: str, data: bytes) -> None:
        if len(data) > self.MAX_ITEM:
            return
        if self._size + len(data) > self.BUDGET:
            self._items.clear()
            self._size = 0
        if key not in self._items:
            self._items[key] = data
            self._size += len(data)
