"""The gate's access log: one JSON line per request on stderr, which is what journald
(`portalgen serve` under systemd) and CloudWatch (AWS Lambda) collect.

Each line: the time (UTC), method, path (a link's or preview's token cut off, no query
string), status, bytes sent, duration in milliseconds, the customer key when signed in,
and a keyed hash of the client's address (the audit log's: equal clients match, the
address stays private). Never a token, cookie, code, form field or raw address.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from portalgen.gate.wsgi import safe_path

if TYPE_CHECKING:
    from collections.abc import Callable

    from werkzeug.wrappers import Response

    from portalgen.gate.request import GateRequest


class AccessLog:
    def __init__(self, stream: TextIO, clock: Callable[[], float]) -> None:
        self.stream = stream
        self.clock = clock

    def write(self, request: GateRequest, response: Response, seconds: float, ip_hash: str) -> None:
        visit = request.visit
        line = {
            "time": datetime.fromtimestamp(self.clock(), UTC).isoformat(timespec="milliseconds"),
            "method": request.method,
            "path": safe_path(request),
            "status": response.status_code,
            "bytes": response.content_length,
            "ms": round(seconds * 1000, 2),
            "customer": visit.customer_key if visit is not None else None,
            "client": ip_hash,
        }
        with contextlib.suppress(OSError, ValueError):  # a broken stderr fails no request
            self.stream.write(json.dumps(line, separators=(",", ":")) + "\n")
