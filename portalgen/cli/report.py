"""How `portalgen publish` shows its work: a progress bar on a terminal, then the outcome."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from portalgen.publish.report import PublishReport

ProgressCallback = Callable[[str, int, int], None]


@contextlib.contextmanager
def progress_bar(enabled: bool = True, lines: bool = True) -> Iterator[ProgressCallback | None]:
    """A progress bar on stderr when it is a terminal; otherwise (cron's logs) one line
    per customer done on stderr, unless `lines` is false (--json)."""
    if not enabled:
        yield None
        return
    if not sys.stderr.isatty():
        yield _progress_line if lines else None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("Publishing", total=None)

        def update(code: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=code or "Publishing")

        yield update


def _progress_line(code: str, done: int, total: int) -> None:
    if code:  # (the first call, before any customer, has none)
        click.echo(f"[{done}/{total}] {code} done", err=True)


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def outcome_lines(report: PublishReport, verbose: bool) -> list[str]:
    """One line per customer whose portal changed or went (all of them with -v)."""
    if not verbose:
        return []
    would = "would " if report.dry_run else ""
    lines = []
    for o in report.outcomes:
        if o.status == "changed":
            lines.append(
                f"{o.code}: {would}render {_plural(len(o.rendered), 'file')}, "
                f"{would}upload {o.uploaded}, {would}delete {o.deleted}"
            )
        elif o.status == "removed":
            reason = f" ({o.reason})" if o.reason else ""
            lines.append(f"{o.code}: portal {would}removed, {_plural(o.deleted, 'file')}{reason}")
    return lines


def summary_lines(report: PublishReport) -> list[str]:
    verb = "Would publish" if report.dry_run else "Published"
    changed, unchanged = report.count("changed"), report.count("unchanged")
    line = f"{verb} {_plural(report.published, 'customer')} "
    line += f"({changed} changed, {unchanged} unchanged)"
    removed = report.count("removed")
    if removed:
        line += f", {'would remove' if report.dry_run else 'removed'} {_plural(removed, 'portal')}"
    files = (
        f"files: {report.files_rendered} rendered, {report.files_cached} unchanged, "
        f"{report.files_uploaded} uploaded ({human_size(report.bytes_uploaded)}), "
        f"{report.files_deleted} deleted"
    )
    lines = [f"{line}; {files}; {report.seconds:.1f} s."]
    if report.dry_run:
        lines.append("Dry run: nothing was rendered, uploaded or deleted.")
    if report.shard:
        lines.append(
            f"Shard {report.shard}: the audit log was neither pulled nor settled, nothing was "
            "emailed or pushed; after the last shard, run `portalgen audit pull` and "
            "`portalgen notify` once."
        )
    if report.events is not None:
        lines.append(f"Pulled {_plural(report.events.added, 'new audit event')} from storage.")
    if report.events_recovered:
        lines.append(
            f"Recovered {_plural(report.events_recovered, 'quote decision event')} "
            "a gate had not written."
        )
    if report.uploads_removed:
        lines.append(
            f"Removed {_plural(report.uploads_removed, 'upload')} posted to storage over a day "
            "ago and never taken (`_uploads/*/incoming/`)."
        )
    if report.without_access:
        lines.append(
            f"{_plural(report.without_access, 'customer')} of the export "
            f"{'has' if report.without_access == 1 else 'have'} no portal access "
            "(`portalgen grant` gives it)."
        )
    if report.failed:
        lines.append(f"{_plural(len(report.failed), 'customer')} failed (see above).")
    return lines
