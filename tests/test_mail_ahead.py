"""`Ahead`: work done ahead in a pool, handed back in order, and a look at the next item
that never waits for it (notify sends the next customer's envelope only when composed)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from portalgen.mail.ahead import Ahead


def test_results_come_in_order_and_peek_shows_only_finished_work() -> None:
    release = threading.Event()

    def work(n: int) -> int:
        if n == 3:
            assert release.wait(10)  # the third item's work holds until released
        return n * 10

    with ThreadPoolExecutor(2) as pool:
        ahead = Ahead(pool, work, range(1, 4), depth=2)
        items = iter(ahead)
        assert next(items) == (1, 10)
        pending = ahead.pending[0][1]
        pending.result(10)  # the second item's work is done: peek shows it
        assert ahead.peek() == (2, 20)
        assert next(items) == (2, 20)
        assert ahead.peek() is None  # the third is still working: peek does not wait
        release.set()
        assert next(items) == (3, 30)
        assert ahead.peek() is None  # nothing after the last
        assert list(items) == []


def test_peek_skips_work_that_failed() -> None:
    def work(n: int) -> int:
        if n == 2:
            raise ValueError("not composed")
        return n

    with ThreadPoolExecutor(1) as pool:
        ahead = Ahead(pool, work, [1, 2], depth=1)
        items = iter(ahead)
        assert next(items) == (1, 1)
        ahead.pending[0][1].exception(10)  # finished, with an error
        assert ahead.peek() is None  # its failure is met where it is consumed
