"""What a gate process keeps in memory between requests (never who may see what)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portalgen.gate.live import PublishedPage


class BlobCache:
    """Small immutable files (pages, theme assets) by storage key, up to a memory budget.
    Pages are kept decoded and examined (`get_page`), so that is done once per page."""

    MAX_ITEM = 512 * 1024
    BUDGET = 32 * 1024 * 1024

    def __init__(self) -> None:
        self._items: dict[str, bytes | PublishedPage] = {}
        self._size = 0

    def get(self, key: str) -> bytes | None:
        data = self._items.get(key)
        return data if isinstance(data, bytes) else None

    def put(self, key: str, data: bytes) -> None:
        self._put(key, data, len(data))

    def get_page(self, key: str) -> PublishedPage | None:
        page = self._items.get(key)
        return None if page is None or isinstance(page, bytes) else page

    def put_page(self, key: str, page: PublishedPage, size: int) -> None:
        """A page; `size`: its length in bytes as stored."""
        self._put(key, page, size)

    def _put(self, key: str, data: bytes | PublishedPage, size: int) -> None:
        if size > self.MAX_ITEM:
            return
        if self._size + size > self.BUDGET:
            self._items.clear()
            self._size = 0
        if key not in self._items:
            self._items[key] = data
            self._size += size
