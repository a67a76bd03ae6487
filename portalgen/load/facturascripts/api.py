"""Download a FacturaScripts export through its REST API (v3) into a folder.

``GET <url>/api/3/<resource>?limit=N&offset=K`` with the ``X-Auth-Token`` header, page
after page until a page comes back shorter than the limit (or, when the server sends
``X-Total-Count``, until that many rows have arrived). Each resource is saved as
``<resource>.json`` (a JSON array of rows, exactly as the API returns them), which is
the API form portalgen.load.facturascripts.reader reads.

Every resource is downloaded before any file is written, so a failure half-way leaves
the folder as it was (files are then replaced one by one, each atomically).
"""

from __future__ import annotations

import json
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portalgen.errors import FetchError
from portalgen.load.facturascripts.tables import RESOURCES

# Without these there is nothing to publish; the others may be missing on a server
# (an older version, a key without access to them) and are skipped with a note.
REQUIRED = frozenset({"clientes", "facturaclientes", "lineafacturaclientes"})
USER_AGENT = "portalgen-fetch"


@dataclass(frozen=True)
class FetchedResource:
    resource: str
    rows: int
    skipped: str = ""  # why it was not downloaded, if it was not


def api_root(url: str) -> str:
    """``https://erp.example.com`` or ``.../api/3`` → ``https://erp.example.com/api/3``."""
    parsed = urllib.parse.urlsplit(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise FetchError(f"expected the FacturaScripts address as http(s)://..., found {url!r}")
    path = parsed.path.rstrip("/")
    if not path.endswith("/api/3"):
        path += "/api/3"
    return urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, path, "", ""))


def fetch_facturascripts(
    url: str,
    out: Path,
    token: str,
    *,
    page_size: int = 200,
    timeout: float = 30.0,
    progress: Callable[[FetchedResource], None] | None = None,
) -> list[FetchedResource]:
    root = api_root(url)
    downloaded: dict[str, list[Any]] = {}
    report: list[FetchedResource] = []
    for resource in RESOURCES.values():
        try:
            rows = _fetch_all(root, resource, token, page_size, timeout)
        except _Missing as exc:
            if resource in REQUIRED:
                raise FetchError(f"{root}/{resource}: {exc}") from None
            item = FetchedResource(resource, 0, skipped=str(exc))
        else:
            downloaded[resource] = rows
            item = FetchedResource(resource, len(rows))
        report.append(item)
        if progress is not None:
            progress(item)
    out.mkdir(parents=True, exist_ok=True)
    for resource, rows in downloaded.items():
        _write_atomic(out / f"{resource}.json", json.dumps(rows, ensure_ascii=False, indent=1))
    return report


class _Missing(Exception):
    """A resource the server does not have or will not give this key."""


def _fetch_all(root: str, resource: str, token: str, page_size: int, timeout: float) -> list[Any]:
    rows: list[Any] = []
    offset = 0
    while True:
        query = urllib.parse.urlencode({"limit": page_size, "offset": offset})
        page, total = _get(f"{root}/{resource}?{query}", token, timeout)
        rows.extend(page)
        offset += len(page)
        if len(page) < page_size or (total is not None and offset >= total):
            return rows


def _get(url: str, token: str, timeout: float) -> tuple[list[Any], int | None]:
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked in api_root
        url, headers={"X-Auth-Token": token, "Accept": "application/json", "User-Agent": USER_AGENT}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read()
            total_header = response.headers.get("X-Total-Count")
    except urllib.error.HTTPError as exc:
        message = api_message(exc)
        if exc.code == 401:
            raise FetchError(
                f"{url.split('?')[0]}: the API refused the token (HTTP 401{message}); "
                "check the token and that the API is enabled"
            ) from None
        if exc.code in (403, 404):
            raise _Missing(f"HTTP {exc.code}{message}") from None
        raise FetchError(
            f"{url.split('?')[0]}: the server answered HTTP {exc.code}{message}"
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"cannot reach {url.split('?')[0]}: {reason}") from None
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise FetchError(f"{url.split('?')[0]}: expected JSON, found something else") from None
    if isinstance(data, dict) and "error" in data:
        raise _Missing(f"the API says: {data['error']}")
    if not isinstance(data, list):
        raise FetchError(f"{url.split('?')[0]}: expected a JSON array of rows")
    total = int(total_header) if total_header and total_header.strip().isdigit() else None
    return data, total


def api_message(exc: urllib.error.HTTPError) -> str:
    """What the API said in an error answer's JSON body, as ": <text>" on one line and cut
    short so it fits an error message; "" when it said nothing readable."""
    try:
        data = json.loads(exc.read() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError, OSError):
        return ""
    if not isinstance(data, dict):
        return ""
    # {"error": ...} from a resource; {"status": "error", "message": ...} from the API's
    # own checks (a refused key, an unknown resource: Core/Error/*.php)
    text = data.get("error") or data.get("message")
    return f": {' '.join(str(text).split())[:300]}" if text else ""


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
