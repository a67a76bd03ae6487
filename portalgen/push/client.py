"""FacturaScripts' REST API (v3), for writing back: read one record, list, update one.

``GET <root>/<resource>/<id>`` answers the record as a JSON object, ``PUT`` takes the new
values form-encoded (``application/x-www-form-urlencoded``, FacturaScripts'
``APIModel::doPUT`` reads ``$request->request``) and answers ``{"ok": ..., "data":
{record}}``; a failed save answers HTTP 400 with ``{"error": ..., "data": ...}``, an
unknown id 404 with ``{"error": "record-not-found"}``, a bad key 401 and a key without
the permission 403 (``{"status": "error", "message": ...}``). Every failure is a
`PushError` whose message is one line and never holds the key.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from portalgen.errors import PortalgenError
from portalgen.load.facturascripts.api import api_message, api_root

USER_AGENT = "portalgen-push"


class PushError(PortalgenError):
    """A request that failed: unreachable server, refused key, 4xx/5xx, a record gone.
    A write that fails may still have landed (a timeout, a 5xx): the next run reads the
    record back before writing again. `fatal`: no request can succeed (the server cannot
    be reached, the key is refused)."""

    def __init__(self, message: str, *, status: int = 0, fatal: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.fatal = fatal


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    fields: Mapping[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        if not self.fields:
            return f"{self.method} {self.url}"
        body = "&".join(f"{k}={_short(v)}" for k, v in self.fields.items())
        return f"{self.method} {self.url} {body}"

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "url": self.url, "fields": dict(self.fields)}


def _short(value: str) -> str:
    text = value.replace("\n", "\\n")
    return text if len(text) <= 80 else f"{text[:60]}...({len(text)} characters)"


class FacturaScriptsApi:
    """One FacturaScripts installation. `seen` is told of every request before it goes
    (`--dry-run` prints them); with `dry_run`, a PUT is only told, never sent."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 30.0,
        dry_run: bool = False,
        seen: Callable[[Request], None] | None = None,
    ) -> None:
        try:
            self.root = api_root(url)
        except PortalgenError as exc:
            raise PushError(str(exc)) from None
        self.token = token
        self.timeout = timeout
        self.dry_run = dry_run
        self.seen = seen

    def get(self, resource: str, record_id: str) -> dict[str, Any]:
        data = self._send(Request("GET", self._url(resource, record_id)))
        if not isinstance(data, dict):
            raise PushError(f"{self._url(resource, record_id)}: expected a JSON object")
        return data

    def find(self, resource: str, **filters: str) -> list[dict[str, Any]]:
        query = urllib.parse.urlencode({f"filter[{k}]": v for k, v in filters.items()})
        data = self._send(Request("GET", f"{self.root}/{resource}?{query}"))
        if not isinstance(data, list):
            raise PushError(f"{self.root}/{resource}: expected a JSON array of rows")
        return [row for row in data if isinstance(row, dict)]

    def put(self, resource: str, record_id: str, fields: Mapping[str, str]) -> dict[str, Any]:
        """The record as saved (the answer's ``data``); {} in a dry run."""
        request = Request("PUT", self._url(resource, record_id), dict(fields))
        if self.dry_run:
            if self.seen is not None:
                self.seen(request)
            return {}
        data = self._send(request)
        saved = data.get("data") if isinstance(data, dict) else None
        if not isinstance(saved, dict):
            raise PushError(f"{request.url}: the answer has no saved record")
        return saved

    def _url(self, resource: str, record_id: str) -> str:
        return f"{self.root}/{resource}/{urllib.parse.quote(record_id, safe='')}"

    def _send(self, request: Request) -> Any:
        if self.seen is not None:
            self.seen(request)
        body = urllib.parse.urlencode(request.fields).encode() if request.fields else None
        headers = {"X-Auth-Token": self.token, "Accept": "application/json"}
        headers["User-Agent"] = USER_AGENT
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        raw = urllib.request.Request(  # noqa: S310 - api_root checked the scheme
            request.url, data=body, headers=headers, method=request.method
        )
        try:
            with urllib.request.urlopen(raw, timeout=self.timeout) as response:  # noqa: S310
                payload = response.read()
        except urllib.error.HTTPError as exc:
            raise _http_error(request, exc) from None
        except TimeoutError:
            raise PushError(f"{request.url}: no answer within {self.timeout:.0f} s") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise PushError(f"cannot reach {request.url}: {reason}", fatal=True) from None
        try:
            return json.loads(payload)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise PushError(f"{request.url}: expected JSON, found something else") from None


def _http_error(request: Request, exc: urllib.error.HTTPError) -> PushError:
    message = api_message(exc)
    if exc.code == 401:
        text = "the API refused the key (HTTP 401{}); check FACTURASCRIPTS_API_TOKEN"
        return PushError(f"{request.url}: " + text.format(message), status=401, fatal=True)
    if exc.code == 403:
        return PushError(
            f"{request.url}: the API key may not {request.method} this resource "
            f"(HTTP 403{message}); give it that permission (docs/facturascripts.md)",
            status=403,
        )
    if exc.code == 404:
        return PushError(
            f"{request.url}: no such record in FacturaScripts (HTTP 404{message})", status=404
        )
    return PushError(
        f"{request.url}: FacturaScripts answered HTTP {exc.code}{message}",
        status=exc.code,
    )
