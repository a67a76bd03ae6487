"""How long the nightly email run takes, next to bare smtplib in the same run.

    .venv/bin/python bench/notify.py [--customers 200] [--rounds 3]
        [--no-pipelining] [--latency MS] [--same-process]

A demo export of N customers, all granted (each contact's access dated 1 January, so
the first night has news for everyone) with a published manifest of its own portal's
pages, and a local aiosmtpd server (the test suite's, tests/smtpserver.py) running in a
process of its own, as a mail server does; `--same-process` runs it in a thread of the
bench's process instead, where its Python work takes turns with the night's for the
interpreter lock (the figures before the evening of 6 December 2026 were measured so).
The server offers PIPELINING (RFC 2920), as Postfix, Exim and the big providers' servers
do; `--no-pipelining` makes it a server that does not. `--latency MS` puts a relay
between both clients and the server that adds that round trip, as a mail server across
a network has (both clients then wait on it: use fewer customers).
Figures and the floor: docs/email.md, "How fast". It prints:

(a) the first night: `notify_customers` planning, composing (text + HTML, in the
    customer's language), recording and sending one digest per contact, in messages
    per second, next to smtplib alone sending the same messages over one connection
    (the very bytes the server received: the same sizes and recipients; it records
    nothing, where notify writes each customer's record before the server accepts),
    timed BARE_PASSES times and its median taken;
(b) the next night with nothing new: seconds for the whole pass (reads only);
(c) one message's size;
(d) the floor a message's record sets on a local folder: the median time of one write of
    a customer's record replaced whole (temp file, fsync, rename, fsync of the folder:
    S3-like storage and the record's whole writes) and of one message's marks appended
    to it (one fdatasync: what each message waits for now), in the same run.

The machine is shared and noisy: read the ratio, not the absolute figures. Each round
runs in a fresh Python process of its own (a real night starts cold: nothing compiled,
no formats cached), with its own demo and server; (a) is printed per round, then the
median ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import pickle
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portalgen.access.registry import AccessRegistry  # noqa: E402
from portalgen.config import load_settings  # noqa: E402
from portalgen.demo import demo_config_text, generate_demo  # noqa: E402
from portalgen.load import LoadOptions, load_export  # noqa: E402
from portalgen.mail.links import PortalLink  # noqa: E402
from portalgen.mail.mailer import open_mailer  # noqa: E402
from portalgen.mail.notify import notify_customers  # noqa: E402
from portalgen.mail.state import StateStore  # noqa: E402
from portalgen.publish.manifest import write_portal  # noqa: E402
from portalgen.render.views import HAS_PDF, page_path, pdf_path  # noqa: E402
from portalgen.storage import LocalStorage  # noqa: E402
from tests.smtpserver import Received, SmtpServer, mail_settings  # noqa: E402

TODAY = date(2026, 6, 15)
# The baseline is timed this many times a round (its median taken): alone it varied from
# one pass to the next more than the night did (500 to 1,000 messages/s on this machine).
BARE_PASSES = 3
GRANTED = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Arrangement:
    """Where the SMTP server runs and what it offers."""

    same_process: bool = False  # in a thread of the bench's process
    pipelining: bool = True  # PIPELINING offered, as Postfix, Exim and the providers do
    latency: float = 0.0  # seconds a round trip takes through the relay (0: no relay)

    def flags(self) -> list[str]:
        flags = ["--same-process"] if self.same_process else []
        flags += [] if self.pipelining else ["--no-pipelining"]
        return flags + (["--latency", str(self.latency * 1000)] if self.latency else [])

    def describe(self) -> str:
        where = "a thread of this process" if self.same_process else "a process of its own"
        offers = "offering PIPELINING" if self.pipelining else "without PIPELINING"
        link = f", through a {self.latency * 1000:g} ms round trip" if self.latency else ""
        return f"the SMTP server in {where}, {offers}{link}"


class ServerProcess:
    """The test suite's SMTP server in a child process (`--serve`): its port, the messages
    it accepted (asked for over its stdin, pickled back over its stdout), and its end."""

    def __init__(self, arrangement: Arrangement) -> None:
        command = [sys.executable, __file__, "--serve", *arrangement.flags()]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.process.stdin is not None and self.process.stdout is not None
        self.requests, self.answers = self.process.stdin, self.process.stdout
        self.port = int(self.answers.readline())

    def mail_settings(self) -> dict[str, object]:
        return mail_settings(self.port)

    @property
    def messages(self) -> list[Received]:
        self.requests.write(b"messages\n")
        self.requests.flush()
        size = int(self.answers.readline())
        received: list[Received] = pickle.loads(self.answers.read(size))  # noqa: S301 (our child)
        return received

    def stop(self) -> None:
        self.requests.close()  # the child stops its server and ends
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def serve(arrangement: Arrangement) -> None:
    """`--serve`: run the server until stdin closes; "messages" asks for what it accepted.
    With a latency, the port given is a relay's that holds each way's data for half of it."""
    server = SmtpServer(pipelining=arrangement.pipelining)
    server.start()
    port = server.port
    if arrangement.latency:
        port = DelayingRelay(server.port, arrangement.latency / 2).start()
    out = sys.stdout.buffer
    out.write(f"{port}\n".encode())
    out.flush()
    try:
        for request in sys.stdin.buffer:
            if request.strip() == b"messages":
                data = pickle.dumps(list(server.messages))
                out.write(f"{len(data)}\n".encode() + data)
                out.flush()
    finally:
        server.stop()


class DelayingRelay:
    """A TCP relay to 127.0.0.1:`target` that delivers what each side sends `delay`
    seconds later, in order: a mail server across a network, with its round trip."""

    def __init__(self, target: int, delay: float) -> None:
        self.target, self.delay = target, delay
        self.loop = asyncio.new_event_loop()

    def start(self) -> int:
        listening = self.loop.run_until_complete(
            asyncio.start_server(self._connect, "127.0.0.1", 0)
        )
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        return int(listening.sockets[0].getsockname()[1])

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        for side in (writer, up_writer):  # each chunk on its way at once, as it was sent
            side.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await asyncio.gather(self._pass(reader, up_writer), self._pass(up_reader, writer))

    async def _pass(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, chunk = await queue.get()
                await asyncio.sleep(due - self.loop.time())
                if not chunk:
                    writer.close()
                    return
                writer.write(chunk)
                await writer.drain()

        delivering = asyncio.create_task(deliver())
        while True:
            chunk = await reader.read(65536)
            queue.put_nowait((self.loop.time() + self.delay, chunk))
            if not chunk:
                break
        await delivering


def setup(directory: Path, customers: int, server: SmtpServer | ServerProcess):  # type: ignore[no-untyped-def]
    generate_demo(directory, customers=customers, seed=3, today=TODAY)
    (directory / "config.yaml").write_text(demo_config_text(), encoding="utf-8")
    settings = load_settings(
        directory / "config.yaml", overrides={"mail": server.mail_settings()}, environ={}
    )
    export = load_export(directory, LoadOptions.from_settings(settings, today=TODAY)).export
    storage = LocalStorage(directory / "site")
    registry = AccessRegistry(storage)
    by_code = export.by_customer()
    for customer in export.customers:
        entry, _ = registry.get_or_create(customer.code, GRANTED)

        def grant(e, emails=customer.emails):  # type: ignore[no-untyped-def]
            for email in emails:
                e = e.with_contact(email, GRANTED)
            return e.granted(GRANTED)

        registry.update(entry.customer_key, grant)
        write_portal(storage, entry.customer_key, portal_files(by_code[customer.code]))
    # The email templates compiled into the cache folder, as an earlier night left them
    # (every night but a new machine's or a new portalgen's first finds them there), by
    # another process: the night's own imports stay cold.
    command = [sys.executable, __file__, "--keep-templates", str(directory / "config.yaml")]
    subprocess.run(command, check=True)
    return settings, export, storage


def keep_templates(config: Path) -> None:
    """`--keep-templates`: compile the email templates into the cache folder."""
    from portalgen.mail.render import EmailRenderer

    settings = load_settings(config, environ={})
    environment = EmailRenderer(settings).env(settings.language)
    for name in environment.list_templates(filter_func=lambda name: name.startswith("email/")):
        environment.get_template(name)


def portal_files(data):  # type: ignore[no-untyped-def]
    """The paths a published portal of the customer has: each document's page and PDF,
    the lists, the payments page and statement (placeholder bytes: notify reads only the
    manifest's paths)."""
    paths = ["index.html", "invoices/index.html", "quotes/index.html", "orders/index.html"]
    paths += ["payments/index.html", "payments/statement.pdf", "payments/statement.csv"]
    for doc in data.all_documents():
        paths += [page_path(doc)] + ([pdf_path(doc)] if doc.kind in HAS_PDF else [])
    return [(p, b"x", "text/html") for p in paths]


def link(entry, contact):  # type: ignore[no-untyped-def]
    return PortalLink(f"https://portal.example.es/l/{entry.customer_key}", GRANTED)


def night(settings, export, storage):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    with open_mailer(settings) as mailer:
        report = notify_customers(
            settings, export, storage=storage, mailer=mailer, make_link=link, today=TODAY
        )
    return time.perf_counter() - started, report


def record_writes(
    storage: LocalStorage, customer_key: str, rounds: int = 30
) -> tuple[float, float]:
    """Median seconds of one whole write of the customer's record, and of one append."""
    store = StateStore(storage)
    state, version = store.load(customer_key, "")
    contact = next(iter(state.contacts))
    items = list(state.known(contact))[:16]  # a message's marks (16 items a digest)
    whole, appended = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        version = store.save(customer_key, state, version)
        whole.append(time.perf_counter() - started)
        started = time.perf_counter()
        version = store.append(customer_key, state, version, contact, items)
        appended.append(time.perf_counter() - started)
    return statistics.median(whole), statistics.median(appended)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="one round's figures, as JSON")
    parser.add_argument(
        "--same-process",
        action="store_true",
        help="the SMTP server in a thread of the bench's process, not in one of its own",
    )
    parser.add_argument(
        "--no-pipelining",
        action="store_true",
        help="the server does not offer PIPELINING (RFC 2920): each command waits its reply",
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        metavar="MS",
        help="a relay between the clients and the server adds this round trip (milliseconds)",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--keep-templates", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.latency and args.same_process:
        parser.error("--latency needs the server in a process of its own")
    arrangement = Arrangement(args.same_process, not args.no_pipelining, args.latency / 1000)
    if args.serve:
        serve(arrangement)
        return
    if args.keep_templates:
        keep_templates(args.keep_templates)
        return
    if args.json:
        print(json.dumps(one_round(args.customers, arrangement)))
        return
    rounds = [in_a_process(args.customers, arrangement) for _ in range(args.rounds)]
    last = rounds[-1]
    print(
        f"customers: {args.customers}, digests: {last['count']}, items: {last['items']}; "
        f"{arrangement.describe()}"
    )
    for number, r in enumerate(rounds, 1):
        print(
            f"(a) round {number}, first night: {r['count'] / r['seconds']:8.1f} messages/s  "
            f"(bare smtplib, same messages: {r['count'] / r['bare']:8.1f}/s; "
            f"ratio {r['bare'] / r['seconds']:.2f})"
        )
    ratios = [r["bare"] / r["seconds"] for r in rounds]
    print(f"    median ratio of {len(rounds)} rounds: {statistics.median(ratios):.2f}")
    print(f"(b) nothing new: {last['quiet']:6.2f} s for {args.customers} customers")
    print(f"(c) one digest: {last['size'] / 1024:.1f} KB on average")
    print(
        f"(d) one record write: whole {last['whole'] * 1000:.2f} ms, a message's marks "
        f"appended {last['appended'] * 1000:.2f} ms; bare smtplib's whole send "
        f"{last['bare'] / last['count'] * 1000:.2f} ms"
    )


def in_a_process(customers: int, arrangement: Arrangement) -> dict[str, float]:
    command = [sys.executable, __file__, "--customers", str(customers), "--json"]
    command += arrangement.flags()
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    figures: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    return figures


def bare_send(server: SmtpServer | ServerProcess, received: list[Received]) -> float:
    """Seconds for smtplib alone to send `received` again, over one connection."""
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", server.port) as smtp:
        for m in received:
            smtp.sendmail(m.mail_from, list(m.rcpt_tos), m.data)
    return time.perf_counter() - started


def one_round(customers: int, arrangement: Arrangement) -> dict[str, float]:
    server: SmtpServer | ServerProcess
    if arrangement.same_process:
        server = SmtpServer(pipelining=arrangement.pipelining)
        server.start()
    else:
        server = ServerProcess(arrangement)
    try:
        with tempfile.TemporaryDirectory() as folder:
            settings, export, storage = setup(Path(folder), customers, server)
            seconds, report = night(settings, export, storage)
            received = list(server.messages)
            assert report.ok and report.messages == len(received)
            bare = statistics.median(bare_send(server, received) for _ in range(BARE_PASSES))
            quiet, again = night(settings, export, storage)
            assert again.messages == 0
            first = AccessRegistry(storage).find(export.customers[0].code)
            assert first is not None
            whole, appended = record_writes(storage, first.customer_key)
    finally:
        server.stop()
    return {
        "count": report.messages,
        "items": sum(c.items for c in report.customers),
        "seconds": seconds,
        "bare": bare,
        "quiet": quiet,
        "size": sum(len(m.data) for m in received) / report.messages,
        "whole": whole,
        "appended": appended,
    }


if __name__ == "__main__":
    main()
