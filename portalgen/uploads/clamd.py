"""A small client of ClamAV's daemon (clamd): scan bytes with the INSTREAM command.

The protocol, as ``man clamd`` (COMMANDS: INSTREAM, PING) documents it: connect to
clamd's socket (a UNIX socket path, or ``host:port`` for TCP), send ``zINSTREAM\\0``,
then the data in chunks, each ``<length><data>`` with the length a 4-byte unsigned
integer in network byte order, and a zero-length chunk to end. clamd answers one
NUL-terminated line: ``stream: OK``, ``stream: <signature> FOUND``, or ``... ERROR``
(``INSTREAM size limit exceeded`` past its StreamMaxLength). The ``z`` prefix asks for
NUL-terminated commands and replies.

The PyPI clients (``clamd``, ``pyclamd``) have had no release for years; this is the
part of the protocol portalgen needs.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

from portalgen.errors import PortalgenError

CHUNK = 64 * 1024
TIMEOUT = 60.0


class ScanError(PortalgenError):
    """clamd could not be reached or could not scan (its own words in the message)."""


@dataclass(frozen=True)
class ScanResult:
    clean: bool
    signature: str = ""  # what clamd found, when not clean


def _connect(address: str, timeout: float) -> socket.socket:
    if address.startswith("/"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target: str | tuple[str, int] = address
    else:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ScanError(f"uploads.clamd: expected a socket path or host:port: {address!r}")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        target = (host, int(port))
    sock.settimeout(timeout)
    try:
        sock.connect(target)
    except OSError as exc:
        sock.close()
        raise ScanError(f"cannot reach clamd at {address}: {exc}") from None
    return sock


def _reply(sock: socket.socket) -> str:
    out = b""
    while not out.endswith(b"\0"):
        data = sock.recv(4096)
        if not data:
            break
        out += data
    return out.rstrip(b"\0").decode("utf-8", "replace").strip()


def ping(address: str, timeout: float = 5.0) -> bool:
    """Whether clamd answers PING with PONG."""
    try:
        with _connect(address, timeout) as sock:
            sock.sendall(b"zPING\0")
            return _reply(sock) == "PONG"
    except (ScanError, OSError):
        return False


def scan_bytes(address: str, data: bytes, timeout: float = TIMEOUT) -> ScanResult:
    """Scan `data` with the clamd at `address`; ScanError if it cannot say."""
    try:
        with _connect(address, timeout) as sock:
            sock.sendall(b"zINSTREAM\0")
            for start in range(0, len(data), CHUNK):
                chunk = data[start : start + CHUNK]
                sock.sendall(struct.pack("!L", len(chunk)) + chunk)
            sock.sendall(struct.pack("!L", 0))
            reply = _reply(sock)
    except OSError as exc:
        raise ScanError(f"clamd at {address} failed while scanning: {exc}") from None
    return parse_reply(reply, address)


def parse_reply(reply: str, address: str = "clamd") -> ScanResult:
    """``stream: OK`` → clean; ``stream: Eicar-Signature FOUND`` → its name; else ScanError."""
    _, _, verdict = reply.partition(": ")
    if verdict == "OK":
        return ScanResult(True)
    if verdict.endswith(" FOUND"):
        return ScanResult(False, verdict.removesuffix(" FOUND").strip())
    raise ScanError(f"clamd at {address} could not scan: {reply or 'no answer'}")
