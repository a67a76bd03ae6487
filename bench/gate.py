#!/usr/bin/env python3
"""What the gate costs, next to a baseline measured in the same run.

    .venv/bin/python bench/gate.py [--requests 1500] [--connections 4] [--rounds 6] [--threads 1 4]
                                   [--page home|invoice|PATH] [--record-every-view]

Serves one real portal page (a customer's home page, rendered from demo data; or, with
`--page invoice`, an invoice's page, whose views the gate records) with
waitress in a child process (with 1 worker thread — one request at a time, like a Lambda
instance — and with 4), three ways: through the gate (session cookie checked, registry
re-read, manifest resolved, slots filled, headers set) and, as the baseline, the same
file by werkzeug's static file server on the same server (and, for information, by a
bare 5-line WSGI app). Keep-alive clients in this process, pinned to another CPU than the
servers; rounds alternate so a noisy neighbour slows all alike; the best round counts.
Target: the gate keeps at least 70 % of the baseline's requests/s.

A document page's view is recorded in the audit log at most once per contact and page
every few minutes (a reload records nothing new), off the request's thread;
`--record-every-view` makes the gate record every request, to measure the worst case.

Then the Lambda handler's import time (`python -X importtime`, bytecode compiled as an
installed package has it; median of 5 fresh processes) and its cold start (import,
settings, gate, first request) on a local folder. The machine is shared and noisy: read
the ratios, not the absolute times.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

from portalgen.access.grants import AccessService
from portalgen.access.secret import create_secret_file, load_secrets
from portalgen.access.tokens import TokenSigner
from portalgen.config import load_settings
from portalgen.demo import demo_config_text, generate_demo
from portalgen.gate import create_app
from portalgen.load import LoadOptions, load_export
from portalgen.publish.manifest import write_portal
from portalgen.storage import LocalStorage

TODAY = date(2026, 6, 15)
PAGES = {"home": "index.html", "invoice": "invoices/"}  # invoice: the first invoice page
ROOT = Path(__file__).resolve().parent.parent


def page_path(folder: Path, wanted: str) -> str:
    """The portal path `--page` names ("home", "invoice" or a path)."""
    wanted = PAGES.get(wanted, wanted)
    if wanted.endswith("/"):
        pages = sorted(p for p in (folder / wanted).glob("*.html") if p.name != "index.html")
        return pages[0].relative_to(folder).as_posix()
    return wanted


def build(workdir: Path) -> tuple[Any, Path, str]:
    """A demo customer rendered, published and granted: (settings, its folder, link)."""
    from portalgen.render import build_context
    from portalgen.render.build import build_site

    generate_demo(workdir, customers=2, seed=3, today=TODAY)
    (workdir / "config.yaml").write_text(demo_config_text(), encoding="utf-8")
    create_secret_file(workdir / "secret.key")
    settings = load_settings(workdir / "config.yaml", environ={})
    export = load_export(workdir, LoadOptions.from_settings(settings, today=TODAY)).export
    code = export.customers[0].code
    out = workdir / "built"
    list(build_site(export, build_context(settings, today=TODAY), out, (code,)))
    storage = LocalStorage(workdir / "site")
    signer = TokenSigner(load_secrets(settings.secret_file, environ={}))
    service = AccessService(
        storage, signer, base_url=settings.gate.base_url, link_max_age=settings.gate.link_max_age
    )
    result = service.grant(code, export.customers[0].emails[:1])
    folder = out / code
    files = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            kind = (
                "text/html; charset=utf-8" if path.suffix == ".html" else "application/octet-stream"
            )
            files.append((path.relative_to(folder).as_posix(), path.read_bytes(), kind))
    write_portal(storage, result.entry.customer_key, files)
    return settings, folder, result.links[0].url


def bare_app(page: bytes) -> Any:
    """The file's bytes from disk by the smallest WSGI app: a floor, for information."""
    path = Path(tempfile.mkdtemp()) / "page.html"
    path.write_bytes(page)

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = path.read_bytes()
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))]
        start_response("200 OK", headers)
        return [body]

    return app


def static_app(folder: Path) -> Any:
    """The baseline: the portal's files served by werkzeug's static file server."""
    from werkzeug.exceptions import NotFound
    from werkzeug.middleware.shared_data import SharedDataMiddleware

    return SharedDataMiddleware(NotFound(), {"/": str(folder)}, cache=False)


def serve(
    kind: str, workdir: str, threads: int, page: str, record_every: bool, port_queue: Any
) -> None:
    import logging

    pin(0)
    from waitress.server import create_server

    logging.getLogger("waitress").setLevel(logging.ERROR)  # no "task queue depth" notes
    settings = load_settings(Path(workdir) / "config.yaml", environ={})
    folder = next((Path(workdir) / "built").iterdir())
    if kind == "gate":
        app = create_app(settings, background=True)  # views recorded off the request's thread
        views = getattr(app, "views", None)  # the view recorder, if any
        if record_every and views is not None:
            views.repeat_after = 0.0
    elif kind == "static":
        app = static_app(folder)
    else:
        app = bare_app((folder / page).read_bytes())
    server = create_server(app, host="127.0.0.1", port=0, threads=threads, ident="bench")
    port_queue.put(server.effective_port)  # type: ignore[union-attr]
    server.run()


def pin(cpu: int) -> None:
    """Servers on the first CPU, clients on the second: they do not take turns on one."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {cpu})


def sign_in(port: int, link: str) -> str:
    """Open the link as a browser does; returns the session cookie header."""
    path = "/l/" + link.rsplit("/l/", 1)[1]
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read().decode()
    flow = response.getheader("Set-Cookie", "").split(";", 1)[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)  # type: ignore[union-attr]
    conn.request(
        "POST",
        path,
        body=f"csrf_token={token}",
        headers={"Cookie": flow, "Content-Type": "application/x-www-form-urlencoded"},
    )
    response = conn.getresponse()
    response.read()
    assert response.status == 303, response.status
    cookies = [v for k, v in response.getheaders() if k.lower() == "set-cookie"]
    return next(c.split(";", 1)[0] for c in cookies if c.startswith("pg_session="))


def load(
    port: int, path: str, cookie: str, requests: int, connections: int
) -> tuple[float, list[float]]:
    """`requests` GETs over `connections` keep-alive connections: (seconds, latencies)."""
    latencies: list[float] = []
    lock = threading.Lock()
    share = requests // connections

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        mine = []
        jar = cookie
        for _ in range(share):
            start = time.perf_counter()
            conn.request("GET", path, headers={"Cookie": jar})
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - start)
            assert response.status == 200, response.status
            renewed = response.getheader("Set-Cookie")  # the sliding session, as a browser keeps it
            if renewed and renewed.startswith("pg_session="):
                jar = renewed.split(";", 1)[0]
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def import_time() -> tuple[float, float]:
    """(median ms importing the handler, median ms of a cold start incl. first request)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(
        [sys.executable, "-c", "import portalgen.gate.lambda_handler"], env=env, check=True
    )
    imports = []
    for _ in range(5):
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import portalgen.gate.lambda_handler"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stderr
        line = next(
            row
            for row in out.splitlines()
            if row.rstrip().endswith("| portalgen.gate.lambda_handler")
        )
        imports.append(int(line.split("|")[1]) / 1000)
    workdir = Path(tempfile.mkdtemp())
    cold_env = {
        **env,
        "PORTALGEN_CONFIG": str(ROOT / "deploy" / "config.yaml"),
        "PORTALGEN_STORAGE_URL": str(workdir / "site"),
        "PORTALGEN_BASE_URL": "https://portal.example.es",
        "PORTALGEN_SECRET": "s" * 40,
    }
    script = (
        "import time; t = time.perf_counter()\n"
        "import json\nfrom portalgen.gate.lambda_handler import lambda_handler\n"
        f"event = json.load(open({str(ROOT / 'tests/events/function-url.json')!r}))\n"
        "event['rawPath'] = event['requestContext']['http']['path'] = '/'\n"
        "event['requestContext']['http']['method'] = 'GET'\n"
        "assert lambda_handler(event, None)['statusCode'] == 200\n"
        "print((time.perf_counter() - t) * 1000)\n"
    )
    colds = [
        float(
            subprocess.run(
                [sys.executable, "-c", script],
                env=cold_env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for _ in range(5)
    ]
    return statistics.median(imports), statistics.median(colds)


LABELS = {
    "gate": "through the gate",
    "static": "baseline: werkzeug static files",
    "bare": "floor: a 5-line WSGI app",
}


def measure(
    workdir: Path, link: str, page: str, threads: int, args: argparse.Namespace
) -> dict[str, tuple[float, list[float]]]:
    """Best round of each server kind, with `threads` waitress worker threads."""
    context = multiprocessing.get_context("fork")
    servers, ports = {}, {}
    for kind in LABELS:
        queue = context.Queue()
        options = (threads, page, args.record_every_view)
        process = context.Process(target=serve, args=(kind, str(workdir), *options, queue))
        process.daemon = True
        process.start()
        servers[kind] = process
        ports[kind] = queue.get(timeout=60)
    try:
        cookie = sign_in(ports["gate"], link)
        targets = {
            "gate": (f"/portal/{page}", cookie),
            "static": ("/" + page, ""),
            "bare": ("/" + page, ""),
        }
        for kind, (url, c) in targets.items():  # warm up
            load(ports[kind], url, c, 200, args.connections)
        best: dict[str, tuple[float, list[float]]] = {}
        for _ in range(args.rounds):
            for kind, (url, c) in targets.items():
                seconds, latencies = load(ports[kind], url, c, args.requests, args.connections)
                if kind not in best or seconds < best[kind][0]:
                    best[kind] = (seconds, latencies)
        return best
    finally:
        for process in servers.values():
            process.kill()


def report(best: dict[str, tuple[float, list[float]]], threads: int) -> None:
    print(f"waitress with {threads} worker thread{'s' if threads > 1 else ''}:")
    rates = {}
    for kind, label in LABELS.items():
        seconds, latencies = best[kind]
        rates[kind] = rate = len(latencies) / seconds
        p50, p99 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000
        print(f"  {label:<32} {rate:7.0f} requests/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")
    cost = 1 - rates["gate"] / rates["static"]
    verdict = "within" if cost <= 0.30 else "OVER"
    print(
        f"  the gate costs {cost:.0%} of the baseline's throughput ({verdict} the 30 % target); "
        f"{1 - rates['gate'] / rates['bare']:.0%} of the floor's"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--page", default="home", help="home, invoice or a portal path")
    parser.add_argument("--record-every-view", action="store_true")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-gate-"))
    pin(1)
    _, folder, link = build(workdir)
    page = page_path(folder, args.page)
    size = (folder / page).stat().st_size
    every = ", every view recorded" if args.record_every_view else ""
    print(
        f"{page} ({size / 1024:.1f} KiB{every}), {args.requests} requests x "
        f"{args.rounds} rounds over {args.connections} keep-alive connections, server on one CPU."
    )
    for threads in args.threads:
        report(measure(workdir, link, page, threads, args), threads)
    imported, cold = import_time()
    print(
        f"Lambda handler: import {imported:.0f} ms (target < 150 ms); cold start to the first "
        f"answer {cold:.0f} ms (local folder)"
    )


if __name__ == "__main__":
    main()
