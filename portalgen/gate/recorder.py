"""Views and downloads of documents, recorded without slowing down serving them.

A customer opening an invoice or downloading a PDF becomes a ``document.viewed`` or
``document.downloaded`` event. Pages are served in about a millisecond while an append
to audit.jsonl takes a file lock and an fsync (a PUT on S3), so these events do not go
to the audit sink on the request's thread: `BatchWriter` queues them and a writer thread
appends them in batches (one lock and one fsync for many events). Decisions and comments
never go this way: they are written before the customer is answered.

The same contact opening the same document again within `ViewRecorder.repeat_after`
seconds (a reload, back and forth between pages) is not recorded again: the log says
that, and when, a document was opened, without a line per click.

On AWS Lambda a frozen function would stop the writer thread, so there (`background`
False) events are written before the response, one by one.

The sinks that wrap the audit sink (staff notices, the webhook) do their slow work in
threads of their own too; `settle_side_work` waits for it all (`Gate.flush`).
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from portalgen.slots import DOCUMENT_PAGE

if TYPE_CHECKING:
    from portalgen.audit.events import AuditEvent
    from portalgen.audit.sinks import AuditSink

log = logging.getLogger("portalgen.gate")

MAX_BATCH = 500
MAX_QUEUE = 100_000  # events waiting; past this the oldest views are dropped (logged)
RETRIES = 6  # a failing batch is retried with backoff 1, 2, 4, 8, 16 s, then dropped (logged)
REMEMBERED = 20_000  # (contact, document) pairs remembered for `repeat_after`
IDLE_EXIT = 10.0  # seconds without events after which the writer thread ends (restarted)
# Seconds the writer lets views gather before it writes a batch (group commit): one lock,
# one tail read and one fsync of audit.jsonl cost ~0.4 ms, an event ~20 µs, so a burst of
# views is written in a few batches instead of one batch per view.
LINGER = 0.02


class BatchWriter:
    """Events handed over by request threads, written by one thread in batches."""

    def __init__(
        self,
        sink: AuditSink,
        *,
        background: bool = True,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.sink = sink
        self.background = background
        self.sleep = sleep
        self._queue: deque[AuditEvent] = deque()
        self._busy = 0  # events taken from the queue and not yet written
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._exit_hook = False

    def put(self, event: AuditEvent) -> None:
        if not self.background:
            self._write([event])
            return
        with self._cond:
            if len(self._queue) >= MAX_QUEUE:
                dropped = self._queue.popleft()
                log.error("audit: view queue full, dropped event %s", dropped.id)
            self._queue.append(event)
            if self._thread is None:
                self._start()
            self._cond.notify_all()

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="portalgen-views", daemon=True)
        self._thread.start()
        if not self._exit_hook:  # events still queued when the server stops get written
            atexit.register(self.flush, 10.0)
            self._exit_hook = True

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._queue:
                    self._cond.wait(IDLE_EXIT)
                if not self._queue:  # idle: end; the next event starts a new thread
                    self._thread = None
                    return
                gather = len(self._queue) < MAX_BATCH
            if gather:
                time.sleep(LINGER)  # let the views of a burst join this batch
            with self._cond:
                batch = [self._queue.popleft() for _ in range(min(MAX_BATCH, len(self._queue)))]
                self._busy = len(batch)
            self._write(batch)
            with self._cond:
                self._busy = 0
                self._cond.notify_all()

    def _write(self, batch: list[AuditEvent]) -> None:
        from portalgen.audit.sinks import record_all  # the audit modules load at the first event

        for attempt in range(RETRIES):
            try:
                record_all(self.sink, batch)
                return
            except Exception as exc:  # the log, a disk or S3: retried, never raised
                if not self.background or attempt == RETRIES - 1:
                    log.error("audit: %d view event(s) not recorded: %s", len(batch), exc)
                    return
                log.warning("audit: recording views failed (%s); retrying", exc)
                self.sleep(2.0**attempt)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every event handed over is written; False on timeout."""
        return _drained(self._cond, lambda: bool(self._queue or self._busy), timeout)


def settle_side_work(sink: object, timeout: float = 10.0) -> bool:
    """Wait for the side work of a chain of wrapping sinks (each wraps the next as
    `inner`: staff notices, the webhook) that runs in threads of its own; False if
    some is still running after `timeout` (per sink)."""
    idle = True
    while sink is not None:
        wait = getattr(sink, "wait", None)
        if callable(wait):
            wait(timeout)
            threads: list[threading.Thread] = getattr(sink, "threads", [])
            idle = idle and not any(t.is_alive() for t in threads)
        sink = getattr(sink, "inner", None)
    return idle


class ViewRecorder:
    """Decides which requests are document views or downloads, and hands them over."""

    repeat_after = 300.0  # seconds; bench/gate.py sets 0 to record every request

    def __init__(self, writer: BatchWriter | None, clock: Callable[[], float]) -> None:
        self.writer = writer
        self.clock = clock
        self._seen: dict[tuple[str, str, str], float] = {}
        self._lock = threading.Lock()

    def is_new(self, customer_key: str, contact: str, path: str) -> bool:
        """Whether this contact's view of `path` is worth recording now."""
        now = self.clock()
        marker = (customer_key, contact, path)
        with self._lock:
            last = self._seen.get(marker)
            if last is not None and now - last < self.repeat_after:
                return False
            if len(self._seen) >= REMEMBERED:
                self._seen.clear()
            self._seen[marker] = now
        return True

    @staticmethod
    def kind_of(path: str, page: bool) -> str | None:
        """The event a request for `path` is: a document's page, or any download."""
        if page:
            return "document.viewed" if DOCUMENT_PAGE.match(path) else None
        return None if path.startswith("static/") else "document.downloaded"


class SideTasks:
    """Work a request starts and its answer must not wait for (or reveal by its time):
    sending a requested link. One thread runs the tasks in order, after the answer is
    on its way; with `background` False (AWS Lambda) they run at once, in the request.
    A task that fails is logged, never raised."""

    def __init__(self, *, background: bool = True) -> None:
        self.background = background
        self._queue: deque[Callable[[], object]] = deque()
        self._busy = False
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def submit(self, task: Callable[[], object]) -> None:
        if not self.background:
            _run_task(task)
            return
        with self._cond:
            if len(self._queue) >= MAX_TASKS:
                log.error("gate: side task queue full, a task was dropped")
                return
            self._queue.append(task)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="portalgen-side-tasks", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._queue:
                    self._cond.wait(IDLE_EXIT)
                if not self._queue:
                    self._thread = None
                    return
                task = self._queue.popleft()
                self._busy = True
            _run_task(task)
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every task handed over has run; False on timeout."""
        return _drained(self._cond, lambda: bool(self._queue or self._busy), timeout)


MAX_TASKS = 1000


def _drained(cond: threading.Condition, pending: Callable[[], bool], timeout: float) -> bool:
    """Wait on `cond` until nothing is `pending`; False when `timeout` runs out first."""
    deadline = time.monotonic() + timeout
    with cond:
        while pending():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            cond.wait(left)
    return True


def _run_task(task: Callable[[], object]) -> None:
    try:
        task()
    except Exception:
        log.exception("gate: a side task failed")
