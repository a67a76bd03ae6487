"""How long the audit log's quick reads take at 200,000 and 2,000,000 events.

    .venv/bin/python bench/audit.py [--sizes 1000,200000,2000000] [--rounds 7] [--full]

Each log is written by the library itself (`AuditLog.append_many`, one day a batch, so
months close into segments and segments close at ROLL_BYTES as in production), at the
same traffic, 2,000 events a day from 1,000 customers, ending on 15 December 2026: a
longer log is a longer history. Logs are built once and kept under
/tmp/portalgen-bench-audit/ (a few minutes for 2,000,000 events; ~1 GB).

For each size it prints the median of `--rounds` runs (the sizes taking turns) of:

- access list: `recent.last_visits` (every customer's last visit);
- notify: `recent.recent_actions` (the decisions and comments of the last 3 days);
- pull id check: `recent.known_ids`, then 2,000 look-ups (1,000 ids of the last day,
  1,000 not in the log);
- audit tail: `recent.newest_events` (the last 20).

twice: "warm", as after earlier commands (what they read of the open file is kept in
audit/open.summary.json, so only lines added since are read), and "cold", that file
removed before each round (the whole open file is read, up to a month or 8 MiB).

Next to them, in the same run: the same reads on a 1,000-event log, and a bare Python
read of a small file (a 1,000-line file read and split in lines). What shows that the
time does not grow with the log is the ratio 2,000,000 / 200,000 (≈ 1). `--full` also
times the full read every command did before (all events through `AuditLog.events`).
The first read after building writes the closed segments' summaries once: printed
apart. The machine is shared and noisy: read the ratios, not the absolute figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portalgen.access.grants import last_visits as every_visit  # noqa: E402
from portalgen.audit import AuditEvent, AuditLog, new_event  # noqa: E402
from portalgen.audit.recent import (  # noqa: E402
    known_ids,
    last_visits,
    newest_events,
    recent_actions,
)
from portalgen.audit.summary import VERSION  # noqa: E402

CACHE = Path("/tmp/portalgen-bench-audit")
END = datetime(2026, 12, 15, 12, 0, tzinfo=UTC)
PER_DAY = 2000
CUSTOMERS = 1000
AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
KINDS = (  # (type, one in how many events)
    ("comment.added", 50),
    ("quote.accepted", 100),
    ("session.started", 20),
    ("document.downloaded", 30),
)


def kind_of(i: int) -> str:
    for kind, every in KINDS:
        if i % every == 0:
            return kind
    return "document.viewed"


def an_event(i: int, when: datetime) -> AuditEvent:
    kind = kind_of(i)
    customer = f"C{i * 7919 % CUSTOMERS:05d}"
    data = {"comment": f"¿Podrían enviar el albarán {i}?"} if kind == "comment.added" else {}
    return new_event(
        kind,
        customer,
        contact=f"compras@{customer.lower()}.example",
        document=f"invoices/F2026A-{i % 90000:05d}.html",
        data=data,
        ip_hash=f"{i * 2654435761 % (1 << 64):016x}",
        user_agent=AGENT,
        now=when,
    )


def build(size: int) -> Path:
    """The log of `size` events (built once: kept under CACHE)."""
    folder = CACHE / f"v{VERSION}-{size}"
    path = folder / "audit.jsonl"
    if (folder / "done").exists():
        return path
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    log = AuditLog(path)
    start = END - timedelta(days=size / PER_DAY)
    step = timedelta(days=1) / PER_DAY
    began = time.perf_counter()
    for first in range(0, size, PER_DAY):
        batch = range(first, min(size, first + PER_DAY))
        log.append_many(an_event(i, start + step * i) for i in batch)
    (folder / "done").write_text("")
    print(f"  built {size:,} events in {time.perf_counter() - began:.0f} s", flush=True)
    return path


def timed(action: Callable[[], object], rounds: int, before: Callable[[], None]) -> float:
    times = []
    for _ in range(rounds):
        before()
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def operations(path: Path) -> dict[str, Callable[[], object]]:
    log = AuditLog(path)
    since = END - timedelta(days=3)
    recent = [e.id for e in newest_events(log, 1000, lambda e: True)]
    absent = [an_event(i, END - timedelta(hours=1)).id for i in range(1000)]

    def id_check() -> int:
        known = known_ids(log)
        return sum(1 for i in recent if i in known) + sum(1 for i in absent if i in known)

    return {
        "access list (last visits)": lambda: last_visits(log),
        "notify (recent actions)": lambda: recent_actions(log, since),
        "pull id check": id_check,
        "audit tail -n 20": lambda: newest_events(log, 20, lambda e: True),
    }


def interleaved(
    paths: dict[int, Path], rounds: int, before: Callable[[Path], None]
) -> dict[int, dict[str, float]]:
    """Median times per size and operation, the sizes taking turns in every round (so a
    busy moment of the machine does not fall on one size only)."""
    ops = {size: operations(path) for size, path in paths.items()}
    times: dict[int, dict[str, list[float]]] = {s: {n: [] for n in ops[s]} for s in ops}
    for _ in range(rounds):
        for name in next(iter(ops.values())):
            for size, path in paths.items():
                before(path)
                began = time.perf_counter()
                ops[size][name]()
                times[size][name].append(time.perf_counter() - began)
    return {s: {n: statistics.median(t) for n, t in by.items()} for s, by in times.items()}


DESCRIBED = {
    "warm": "what earlier commands read of the open file is kept (audit/open.summary.json)",
    "cold": "that kept part removed before each round: the whole open file is read",
}


def forget(path: Path) -> None:
    (path.with_name("audit") / "open.summary.json").unlink(missing_ok=True)


def bare_read(rounds: int) -> float:
    small = CACHE / "small.txt"
    small.write_text("".join(f"line {i} " + "x" * 400 + "\n" for i in range(1000)))
    return timed(lambda: small.read_bytes().split(b"\n"), rounds, lambda: None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,200000,2000000")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--full", action="store_true", help="also time the full read")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    CACHE.mkdir(exist_ok=True)
    print(f"load average {os.getloadavg()[0]:.1f}; building or reusing the logs", flush=True)
    paths = {size: build(size) for size in sizes}
    for size, path in paths.items():
        began = time.perf_counter()
        last_visits(AuditLog(path))  # writes any summary missing
        segments = len(list(path.with_name("audit").glob("*.jsonl")))
        print(
            f"  {size:>9,} events: {segments} closed segment(s), open file "
            f"{path.stat().st_size / 1e6:.1f} MB; first read {time.perf_counter() - began:.2f} s"
        )
    bare = bare_read(args.rounds)
    for label, before in (("warm", lambda p: None), ("cold", forget)):
        report(label, interleaved(paths, args.rounds, before), bare, sizes)
    if args.full:
        for size, path in paths.items():
            whole = timed(lambda p=path: every_visit(AuditLog(p).events()), 1, lambda: None)
            print(f"full read (as before), {size:,} events: {whole:.2f} s")
    print(f"load average {os.getloadavg()[0]:.1f}")


def report(label: str, results: dict[int, dict[str, float]], bare: float, sizes: list[int]) -> None:
    print(
        f"\n{label}: {DESCRIBED[label]}; bare Python read of a 1,000-line file {bare * 1000:.2f} ms"
    )
    header = "".join(f"{size:>12,}" for size in sizes)
    print(f"{'operation (median, ms)':<28}{header}   ×bare@largest   largest/200k")
    for name in results[sizes[0]]:
        cells = "".join(f"{results[size][name] * 1000:>12.1f}" for size in sizes)
        largest = results[sizes[-1]][name]
        ratio = largest / results[200_000][name] if 200_000 in results else float("nan")
        print(f"{name:<28}{cells}   {largest / bare:>13.0f}   {ratio:>12.2f}")


if __name__ == "__main__":
    main()
