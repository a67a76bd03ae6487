"""Rendering for publishing: one customer's portal planned, and only what is new rendered.

Runs in worker processes (`--jobs`), each with its own render context (fonts, parsed CSS,
Jinja environments) built once, or in one thread when jobs is 1. A job carries the
customer's data and what storage already holds (render key → SHA-256, from the current
manifest); the answer is every planned file with its SHA-256 and where its bytes are:
- already in storage under the same render key: nothing read, nothing rendered;
- in the local render cache (a previous run rendered it, maybe killed before uploading);
- rendered now, and written to the cache, where the uploader reads it.
Only metadata travels back to the publishing process: memory stays bounded.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Mapping, MutableMapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from portalgen.config import Settings
from portalgen.domain.model import CustomerData, QuoteStatus
from portalgen.interact.evidence import Acceptance
from portalgen.plan import PlannedFile
from portalgen.presentation.catalogs import language_of
from portalgen.publish.cache import RenderCache
from portalgen.publish.manifest import blob_key
from portalgen.storage import Storage, open_storage
from portalgen.verification import Issued

# The renderer (Jinja, WeasyPrint's callers, QR codes) is imported where it is used: a run
# where nothing changed imports this module but renders nothing. The fork server preloads it.
RENDERER = "portalgen.render.portal"

Source = Literal["storage", "cache", "rendered", "to-render"]


@dataclass(frozen=True)
class CustomerJob:
    code: str
    customer_key: str
    data: CustomerData
    decided: Mapping[str, QuoteStatus] = field(default_factory=dict)
    known: Mapping[str, tuple[str, int]] = field(default_factory=dict)  # key -> (sha, size)
    dry_run: bool = False
    acceptances: Mapping[str, Acceptance] = field(default_factory=dict)  # for certificates


@dataclass(frozen=True)
class PlannedEntry:
    path: str
    content_type: str
    key: str
    sha256: str  # "" only in a dry run, for a file that would be rendered
    size: int
    source: Source
    issued: Issued | None = None  # a document PDF: what it is (the verification index)


@dataclass(frozen=True)
class CustomerPlan:
    entries: tuple[PlannedEntry, ...]
    language: str
    warnings: tuple[str, ...] = ()

    @property
    def rendered(self) -> list[str]:
        return [e.path for e in self.entries if e.source in ("rendered", "to-render")]


class Digests(MutableMapping[str, str]):
    """PDF render key → SHA-256 for the pages that print a PDF's fingerprint: what this
    run rendered, else what storage holds, else the cache (checked) — never a re-render
    of an unchanged PDF just to learn its fingerprint."""

    def __init__(self, known: Mapping[str, tuple[str, int]], cache: RenderCache) -> None:
        self.known = known
        self.cache = cache
        self.local: dict[str, str] = {}

    def __getitem__(self, key: str) -> str:
        if key in self.local:
            return self.local[key]
        if key in self.known:
            return self.known[key][0]
        cached = self.cache.get(key)
        if cached is None:
            raise KeyError(key)
        self.local[key] = cached.sha256
        return cached.sha256

    def __setitem__(self, key: str, value: str) -> None:
        self.local[key] = value

    def __delitem__(self, key: str) -> None:
        del self.local[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.local)

    def __len__(self) -> int:
        return len(self.local)


class PortalRenderer:
    """One per process: plans customers' portals and renders what is missing."""

    def __init__(self, settings: Settings, today: date) -> None:
        from portalgen.render import build_context

        self.settings = settings
        self.context = build_context(settings, today=today)
        self.cache = RenderCache(settings.publish.cache_dir)
        self._storage: Storage | None = None

    def storage(self) -> Storage:
        if self._storage is None:
            self._storage = open_storage(self.settings)
        return self._storage

    def plan(self, job: CustomerJob) -> CustomerPlan:
        from portalgen.render import plan_portal

        ctx = self.context
        ctx.digests = Digests(job.known, self.cache)
        ctx.fetch = lambda key: self.fetch(job, key)
        before = len(ctx.render_warnings)
        try:
            planned = plan_portal(job.data, ctx, job.decided, job.acceptances)
            entries = tuple(self.entry(item, job) for item in planned)
        finally:
            ctx.fetch = None
            ctx.digests = {}
        warnings = tuple(ctx.render_warnings[before:])
        del ctx.render_warnings[before:]
        language = language_of(job.data.customer.language, self.settings)
        return CustomerPlan(entries, language, warnings)

    def entry(self, item: PlannedFile, job: CustomerJob) -> PlannedEntry:
        def made(sha: str, size: int, source: Source) -> PlannedEntry:
            return PlannedEntry(
                item.path, item.content_type, item.key, sha, size, source, item.issued
            )

        known = job.known.get(item.key)
        if known is not None:
            return made(known[0], known[1], "storage")
        cached = self.cache.get(item.key)
        if cached is not None:
            return made(cached.sha256, cached.size, "cache")
        if job.dry_run:
            return made("", 0, "to-render")
        fresh = self.cache.put(item.key, item.render())
        return made(fresh.sha256, fresh.size, "rendered")

    def fetch(self, job: CustomerJob, key: str) -> bytes | None:
        """The bytes of an unchanged file (for the ZIP): the cache, else storage."""
        cached = self.cache.get(key)
        if cached is not None:
            return cached.data
        known = job.known.get(key)
        if known is None:
            return None
        data = self.storage().get(blob_key(job.customer_key, known[0]))
        if data is None or hashlib.sha256(data).hexdigest() != known[0]:
            return None
        self.cache.put(key, data)
        return data


# -- the pool --------------------------------------------------------------------------------

_renderer: PortalRenderer | None = None


def _init_worker(settings: Settings, today: date) -> None:
    global _renderer
    _renderer = PortalRenderer(settings, today)


def _render_in_worker(job: CustomerJob) -> CustomerPlan:
    if _renderer is None:
        raise RuntimeError("the render worker was started without its initializer")
    return _renderer.plan(job)


class RenderPool:
    """Renders customers' portals in `jobs` processes, or in one thread when jobs is 1.

    Processes start only when the first customer needs rendering: a run where nothing
    changed starts none. They come from a fork server (a clean process that imported the
    renderer once), never by forking this process, which has threads.
    """

    def __init__(self, settings: Settings, today: date, jobs: int) -> None:
        self.settings = settings
        self.today = today
        self.jobs = max(1, jobs)
        self._executor: Executor | None = None
        self._inline: PortalRenderer | None = None
        self._lock = threading.Lock()

    def submit(self, job: CustomerJob) -> Future[CustomerPlan]:
        with self._lock:
            if self._executor is None:
                self._executor = self._start()
            executor = self._executor
        if self.jobs == 1:
            return executor.submit(self._render_inline, job)
        return executor.submit(_render_in_worker, job)

    def _start(self) -> Executor:
        if self.jobs == 1:
            return ThreadPoolExecutor(1, thread_name_prefix="render")
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if "forkserver" in methods:
            context.set_forkserver_preload(["portalgen.publish.worker", RENDERER])
        return ProcessPoolExecutor(
            self.jobs,
            mp_context=context,
            initializer=_init_worker,
            initargs=(self.settings, self.today),
        )

    def _render_inline(self, job: CustomerJob) -> CustomerPlan:
        if self._inline is None:  # only ever touched by the one render thread
            self._inline = PortalRenderer(self.settings, self.today)
        return self._inline.plan(job)

    def close(self, cancel: bool = False) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=cancel)
