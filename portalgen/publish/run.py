"""`publish_export`: every granted customer's portal, up to date in storage.

For each customer, in parallel (threads for storage, processes for rendering):
1. Fingerprint what the portal is made from (publish.inputs). If the customer's marker
   (publish.markers) or else their manifest says the portal was made from exactly that,
   the customer is done: nothing planned, rendered or sent.
2. Otherwise list the customer's blobs, plan the portal and render only the files whose
   render key storage and the cache do not know (publish.worker).
3. Commit: upload the missing blobs, swap the manifest, collect garbage (publish.commit).
One customer's failure is reported with the reason and does not stop the others; when
storage cannot be reached at all, the customers not started yet are not attempted.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import BrokenExecutor, Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from portalgen.access.registry import AccessRegistry
from portalgen.config import Settings
from portalgen.domain.model import CustomerData, Export
from portalgen.errors import PortalgenError
from portalgen.load.result import LoadResult
from portalgen.publish.cache import RenderCache
from portalgen.publish.commit import (
    AccessLost,
    PortalWriter,
    StoredPortal,
    list_blobs,
    read_manifest,
)
from portalgen.publish.decisions import (
    DecisionListing,
    acceptances_of,
    decision_listing,
    read_decision_records,
    statuses,
)
from portalgen.publish.inputs import DataPrint, Shard, customer_inputs
from portalgen.publish.manifest import FileEntry, Manifest
from portalgen.publish.markers import Marker
from portalgen.publish.report import CustomerOutcome, PublishReport
from portalgen.publish.select import (
    AccessView,
    Removal,
    Selection,
    Target,
    load_entries,
    read_access,
    scope,
    select_customers,
)
from portalgen.publish.source import ExportSource
from portalgen.publish.worker import CustomerJob, CustomerPlan, RenderPool
from portalgen.render import build_context
from portalgen.storage import S3Storage, Storage, open_storage
from portalgen.verification import Issuer

if TYPE_CHECKING:
    from portalgen.audit.pull import PullResult

Progress = Callable[[str, int, int], None]  # (customer code, done, total)


def default_jobs(settings: Settings) -> int:
    if settings.publish.jobs:
        return settings.publish.jobs
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def pull_audit_events(settings: Settings, storage: Storage) -> PullResult | None:
    """On S3 the gate writes one object per event: merge them into audit.jsonl first.
    (A local gate appends to audit.jsonl itself: nothing to pull.)"""
    if not isinstance(storage, S3Storage):
        return None
    from portalgen.audit.anchored import open_audit_log
    from portalgen.audit.pull import pull_events

    return pull_events(storage, open_audit_log(settings, storage))


def settle_audit(settings: Settings, storage: Storage, report: PublishReport) -> None:
    """What `audit pull` does after its pull, once the portals are out: decisions whose
    event a crash lost get it back, and the webhook gets what it missed. A problem here is
    a warning: the portals are published."""
    from portalgen.audit.followup import settle

    try:
        report.events_recovered, webhook = settle(settings, storage)
    except PortalgenError as error:
        report.warnings.append(f"the audit log could not be brought up to date: {error}")
        return
    if webhook is not None and webhook.failures:
        report.warnings.append(
            f"the webhook did not take {len(webhook.failures)} event(s); "
            "the next publish or `portalgen audit pull` tries again"
        )


def sweep_uploads(settings: Settings, storage: Storage, report: PublishReport, now: float) -> None:
    """Proofs posted to S3 and never taken, at most once a day (uploads/sweep.py). A
    problem here is a warning: the portals are published."""
    from portalgen.uploads.sweep import mark_swept, sweep_due, sweep_incoming

    folder = settings.publish.cache_dir
    if not sweep_due(folder, now):
        return
    try:
        swept = sweep_incoming(storage, now)
    except (PortalgenError, OSError) as error:
        report.warnings.append(f"uploads never taken could not be removed: {error}")
        return
    mark_swept(folder, now)
    report.uploads_removed = len(swept.removed)


def publish_export(
    settings: Settings,
    export: Export | LoadResult,
    *,
    only: Sequence[str] = (),
    shard: Shard | None = None,
    jobs: int | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    today: date | None = None,
) -> PublishReport:
    """Publish every granted customer of a loaded export (or only the codes given).

    Given a load's result, the customers' fingerprints may come from the cache
    (publish.source) and the export is read only if a customer is to be planned. A dry
    run reads storage and plans, but renders, uploads, deletes and pulls nothing.
    A shard publishes only: it neither pulls nor settles the audit log, which N shards
    at once would append to together (`audit pull` does it once, after the last shard).
    """
    started = time.monotonic()
    day = today or settings.today()
    storage = open_storage(settings)
    report = PublishReport(dry_run=dry_run, shard=str(shard) if shard else "")
    settles = not dry_run and shard is None
    context = build_context(settings, today=day)
    report.warnings.extend(context.warnings)
    registry = AccessRegistry(storage, workers=settings.publish.upload_threads)
    source = ExportSource(export, settings.publish.cache_dir)
    state = read_state(settings, storage, registry, source, scope(only, shard), settles)
    report.events = state.events
    for key in state.events.refused if state.events is not None else ():
        report.warnings.append(f"audit pull refused {key}: its MAC does not verify")
    loader = load_entries(registry, 2 * settings.publish.upload_threads)
    selection = select_customers(source.codes(), state.view, loader, only, shard, state.customers)
    report.without_access = len(selection.without_access)
    run = PublishRun(settings, storage, registry, context.base_key, day, dry_run, state)
    run.execute(selection, report, jobs or default_jobs(settings), progress)
    if not dry_run:
        RenderCache(settings.publish.cache_dir).prune()
    now = _now()
    if settles:
        sweep_uploads(settings, storage, report, now.timestamp())
    if settles and (settings.audit.webhook_url or state.listing.may_need_events(now)):
        settle_audit(settings, storage, report)  # (else it would find nothing to do)
    report.outcomes.sort(key=lambda o: (o.code, o.status))
    report.seconds = time.monotonic() - started
    return report


@dataclass(frozen=True)
class RunState:
    view: AccessView
    listing: DecisionListing  # the decision objects
    prints: dict[str, DataPrint]  # customer code -> fingerprint of their records
    events: PullResult | None
    customers: Mapping[str, CustomerData]  # export.by_customer(), split when first used


def read_state(
    settings: Settings,
    storage: Storage,
    registry: AccessRegistry,
    source: ExportSource,
    mine: Callable[[str, str], bool],
    pull: bool,
) -> RunState:
    """Storage's listings (and the audit pull, first thing on S3, if `pull`) while this
    thread fingerprints the customers' records: the requests' waiting overlaps the work."""
    with ThreadPoolExecutor(3, thread_name_prefix="read") as reads:
        events = reads.submit(pull_audit_events, settings, storage) if pull else None
        view = reads.submit(read_access, storage, registry)
        decisions = reads.submit(decision_listing, storage)
        prints = source.prints(lambda code: mine(code, code))
        return RunState(
            view.result(),
            decisions.result(),
            prints,
            events.result() if events else None,
            source.customers,
        )


@dataclass
class PublishRun:
    settings: Settings
    storage: Storage
    registry: AccessRegistry
    base_key: str
    today: date
    dry_run: bool
    state: RunState

    def __post_init__(self) -> None:
        self.cache = RenderCache(self.settings.publish.cache_dir)
        self.decisions = self.state.listing.keys  # customer_key -> decision object keys
        self.markers = self.state.view.markers
        self.stop = threading.Event()  # storage unreachable: start no more customers
        self.stop_reason = ""

    def execute(
        self, selection: Selection, report: PublishReport, jobs: int, progress: Progress | None
    ) -> None:
        threads = self.settings.publish.upload_threads
        company = self.settings.company
        total = len(selection.targets) + len(selection.removals)
        pool = RenderPool(self.settings, self.today, jobs)
        uploads = ThreadPoolExecutor(threads, thread_name_prefix="upload")
        customers = ThreadPoolExecutor(max(2 * jobs, threads), thread_name_prefix="customer")
        writer = PortalWriter(
            self.storage,
            self.cache,
            self.registry,
            uploads,
            self.settings.publish.gc_grace,
            self.dry_run,
            issuer=Issuer(company.display_legal_name, company.tax_id),
        )
        futures: list[Future[CustomerOutcome]] = []
        tally = Tally(report, total, progress)
        try:
            for target in selection.targets:
                outcome, inputs = self._vouched_outcome(target, writer)
                if outcome is not None:  # nothing to read, plan or send: decided here
                    tally.add(outcome)
                else:
                    futures.append(customers.submit(self.publish, target, inputs, pool, writer))
            futures += [customers.submit(self.remove, r, writer) for r in selection.removals]
            for future in as_completed(futures):
                tally.add(future.result())
        except BaseException:
            self.stop.set()
            self.stop_reason = "publishing was interrupted"
            for future in futures:
                future.cancel()
            raise
        finally:
            customers.shutdown(wait=True, cancel_futures=True)
            pool.close(cancel=True)
            uploads.shutdown(wait=True, cancel_futures=True)

    # -- one customer -------------------------------------------------------------------------

    def _vouched_outcome(
        self, target: Target, writer: PortalWriter
    ) -> tuple[CustomerOutcome | None, str]:
        """The customer's inputs; and their outcome if their marker settles it already."""
        try:
            keys = self.decisions.get(target.customer_key, [])
            data = self.state.prints.get(target.code) or target.data
            inputs = customer_inputs(data, self.base_key, self.today, keys)
        except Exception as exc:
            return self._failed(target.code, exc), ""
        marker = target.marker
        if marker is not None and self._vouched(marker, inputs, writer.clock()):
            return CustomerOutcome(target.code, "unchanged", cached=marker.files), inputs
        return None, inputs

    def publish(
        self, target: Target, inputs: str, pool: RenderPool, writer: PortalWriter
    ) -> CustomerOutcome:
        try:
            if self.stop.is_set():
                return CustomerOutcome(target.code, "failed", reason=self.stop_reason)
            return self._publish(target, inputs, pool, writer)
        except AccessLost as exc:
            return CustomerOutcome(target.code, "removed", reason=str(exc))
        except Exception as exc:  # one customer's failure must not stop the others
            return self._failed(target.code, exc)

    def _publish(
        self, target: Target, inputs: str, pool: RenderPool, writer: PortalWriter
    ) -> CustomerOutcome:
        key = target.customer_key
        manifest, version = read_manifest(self.storage, key)
        stored = StoredPortal(manifest, version, list_blobs(self.storage, key))
        current = (
            manifest is not None
            and manifest.inputs == inputs
            and manifest.blobs() <= stored.blobs.keys()  # nothing deleted behind our back
        )
        if current and manifest is not None and not self._expiring(manifest, writer):
            writer.mark(key, manifest, target.stamp, self.markers.get(key, []))
            return CustomerOutcome(target.code, "unchanged", cached=len(manifest.files))
        plan: CustomerPlan | None = None
        warnings: list[str] = []
        if current and manifest is not None:  # only garbage to collect
            new = manifest
        else:
            plan, warnings = self._render(target, stored, pool)
            new = _manifest(plan, inputs)
        issued = {e.path: e.issued for e in plan.entries if e.issued} if plan else {}
        markers = self.markers.get(key, [])
        result = writer.commit(key, stored, new, target.stamp, markers, issued)
        rendered = plan.rendered if plan else []
        return CustomerOutcome(
            target.code,
            "changed" if result.written else "unchanged",
            rendered=rendered,
            cached=len(new.files) - len(rendered),
            uploaded=result.uploaded,
            bytes_uploaded=result.bytes,
            deleted=result.deleted,
            warnings=warnings,
        )

    def _render(
        self, target: Target, stored: StoredPortal, pool: RenderPool
    ) -> tuple[CustomerPlan, list[str]]:
        """Plan the portal in a render process and render what storage and cache lack."""
        keys = self.decisions.get(target.customer_key, [])
        records, warnings = read_decision_records(self.storage, keys)
        accepted, missing = acceptances_of(self.storage, target.customer_key, records)
        job = CustomerJob(
            target.code,
            target.customer_key,
            target.data,
            statuses(records),
            stored.known(),
            self.dry_run,
            accepted,
        )
        warnings += missing
        plan = pool.submit(job).result()
        return plan, [*warnings, *plan.warnings]

    def remove(self, removal: Removal, writer: PortalWriter) -> CustomerOutcome:
        name = removal.code or f"(portal {removal.customer_key})"
        try:
            if self.stop.is_set():
                return CustomerOutcome(name, "failed", reason=self.stop_reason)
            return CustomerOutcome(name, "removed", deleted=writer.remove(removal.customer_key))
        except Exception as exc:
            return self._failed(name, exc)

    def _vouched(self, marker: Marker, inputs: str, now: datetime) -> bool:
        """Whether the marker says the portal is already this one, with no blob due for
        deletion: then nothing needs reading."""
        return (
            marker.inputs == inputs
            and marker.fresh(now)
            and not (marker.gc_after and now.timestamp() >= marker.gc_after)
        )

    def _expiring(self, manifest: Manifest, writer: PortalWriter) -> bool:
        """Whether a retired blob's grace period is over (so the manifest must change)."""
        limit = writer.clock() - writer.grace
        return any(_time(since) <= limit for since in manifest.retired.values())

    def _failed(self, code: str, exc: BaseException) -> CustomerOutcome:
        reason = describe(exc)
        if unreachable(exc) and not self.stop.is_set():
            self.stop_reason = f"not attempted: {reason}"
            self.stop.set()
        return CustomerOutcome(code, "failed", reason=reason)


class Tally:
    """Outcomes into the report as they come, and the progress callback told."""

    def __init__(self, report: PublishReport, total: int, progress: Progress | None) -> None:
        self.report, self.total, self.progress, self.done = report, total, progress, 0
        if progress:
            progress("", 0, total)

    def add(self, outcome: CustomerOutcome) -> None:
        self.done += 1
        if outcome.status != "removed" or outcome.deleted or outcome.reason:
            self.report.add(outcome)  # (not an empty folder an S3 server kept)
        warnings = self.report.warnings
        warnings.extend(w for w in outcome.warnings if w not in warnings)
        if self.progress:
            self.progress(outcome.code, self.done, self.total)


def _manifest(plan: CustomerPlan, inputs: str) -> Manifest:
    files = {}
    for e in plan.entries:
        sha = e.sha256 or f"?{e.key}"  # dry run: not rendered, so not known
        files[e.path] = FileEntry(sha, e.size, e.content_type, e.key)
    return Manifest(files, plan.language, inputs=inputs)


def _now() -> datetime:
    return datetime.now(UTC)


def _time(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return datetime.now(UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def describe(exc: BaseException) -> str:
    """A failure in words staff can act on."""
    if isinstance(exc, PortalgenError):
        return str(exc)
    if isinstance(exc, BrokenExecutor):
        return "a render process stopped unexpectedly (out of memory?); publish again"
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    return f"unexpected error ({type(exc).__name__}: {exc}); run with --debug and report it"


def unreachable(exc: BaseException) -> bool:
    """Whether storage (or the render processes) cannot be reached at all."""
    botocore = sys.modules.get("botocore.exceptions")
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (ConnectionError, TimeoutError, BrokenExecutor)):
            return True
        if botocore is not None and isinstance(
            seen, (botocore.ConnectionError, botocore.HTTPClientError)
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
