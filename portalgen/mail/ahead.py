"""Work done ahead in a thread pool, handed back in order: the nightly digest's pipeline
(notify.py) reads and plans customers, and composes their messages, this way."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

_T = TypeVar("_T")
_R = TypeVar("_R")


class Ahead(Generic[_T, _R]):
    """`(item, work(item))` in order, `work` running in `pool` up to `depth` items ahead;
    `peek()` gives the next pair once its work is done, without waiting for it."""

    def __init__(
        self,
        pool: ThreadPoolExecutor,
        work: Callable[[_T], _R],
        items: Iterable[_T],
        depth: int,
    ) -> None:
        self.pool, self.work, self.items, self.depth = pool, work, items, depth
        self.pending: deque[tuple[_T, Future[_R]]] = deque()

    def __iter__(self) -> Iterator[tuple[_T, _R]]:
        for item in self.items:
            self.pending.append((item, self.pool.submit(self.work, item)))
            if len(self.pending) > self.depth:
                first, future = self.pending.popleft()
                yield first, future.result()
        while self.pending:
            first, future = self.pending.popleft()
            yield first, future.result()

    def peek(self) -> tuple[_T, _R] | None:
        if not self.pending:
            return None
        item, future = self.pending[0]
        if not future.done() or future.exception() is not None:
            return None
        return item, future.result()
