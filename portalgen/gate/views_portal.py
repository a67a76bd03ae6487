"""Serving a customer's published portal under /portal/.

Opening a document's page or downloading a file is recorded (``document.viewed``,
``document.downloaded``) off the request's thread (recorder.py).

Only paths in the signed-in customer's manifest exist: the storage key is always
``portals/<session's customer_key>/files/<sha256 from the manifest>``, never built from
the URL, so no path (``..``, encoded, doubled slashes, another customer's key) can
reach anything else. Pages are served by the gate with their slots filled; theme
assets by the gate too (small, cacheable); PDFs and other files by a 303 to a
presigned URL that lives about a minute on S3, streamed from a local folder.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, TYPE_CHECKING, cast

from werkzeug.wrappers import Response
from werkzeug.wsgi import wrap_file

from portalgen.gate import errors
from portalgen.gate.live import PublishedPage, fill_page
from portalgen.gate.request import PlainResponse
from portalgen.storage.base import content_disposition

if TYPE_CHECKING:
    from portalgen.gate.app import Gate
    from portalgen.gate.request import GateRequest, Visit
    from portalgen.publish.manifest import FileEntry

MAX_PATH = 1024


def portal_path(path: str) -> str | None:
    """The manifest path a URL path names, or None if it cannot name one."""
    if len(path) > MAX_PATH or "\\" in path or "\x00" in path:
        return None
    if path == "" or path.endswith("/"):
        path += "index.html"
    segments = path.split("/")
    if any(s in ("", ".", "..") or s.startswith(".") for s in segments):
        return None
    return path


def serve(gate: Gate, request: GateRequest, path: str = "") -> Response:
    visit = gate.require_visit(request)
    return serve_file(gate, request, visit, path, f"{gate.base_path}/portal")


def serve_file(
    gate: Gate,
    request: GateRequest,
    visit: Visit,
    path: str,
    root: str,
    fill: Callable[[Gate, Visit, PublishedPage], bytes] = fill_page,
) -> Response:
    """The file `path` of the visit's portal (served under the URL `root`), its page
    filled by `fill`; the view recorded."""
    manifest = gate.manifest(visit)
    if manifest is None:
        raise errors.PortalNotReady("no manifest")
    wanted = portal_path(path)
    if wanted is None or wanted.startswith("_live/"):
        raise errors.NotFound("not a portal path")
    entry = manifest.get(wanted)
    if entry is None:
        if manifest.get(f"{wanted}/index.html") is not None:  # a folder without its slash
            return Response("", 308, headers={"Location": f"{root}/{wanted}/"})
        raise errors.NotFound("not in the manifest")
    page = _is_page(wanted, entry)
    response: Response
    if page:
        body = fill(gate, visit, _page(gate, visit, entry))
        response = PlainResponse(body, content_type="text/html; charset=utf-8")
    elif wanted.startswith("static/"):
        return serve_asset(gate, request, visit, entry)
    else:
        response = serve_download(gate, request, visit, wanted, entry)
    gate.record_view(request, visit, wanted, page=page)  # queued: written off this thread
    return response


def page_text(gate: Gate, visit: Visit, path: str) -> str | None:
    """The text of a published page of the visit's portal, or None if it has none."""
    manifest = gate.manifest(visit)
    entry = manifest.get(path) if manifest is not None else None
    if entry is None or not _is_page(path, entry):
        return None
    return _page(gate, visit, entry).text


def _is_page(path: str, entry: FileEntry) -> bool:
    """Portal pages are served inline; an HTML file shared as a document is a download."""
    return entry.content_type.startswith("text/html") and not path.startswith("documents/files/")


def _blob(gate: Gate, visit: Visit, entry: FileEntry) -> bytes:
    """A page's or asset's bytes. Blobs are content-addressed (their name is their
    SHA-256), so bytes read once stay right: kept in memory, keyed by customer and hash."""
    from portalgen.publish.manifest import blob_key

    key = blob_key(visit.customer_key, entry.sha256)
    data = gate.caches.blobs.get(key)
    if data is None:
        data = gate.storage.get(key)
        if data is None:  # deleted under us (revoke, garbage collection): gone
            raise errors.NotFound("blob missing")
        gate.caches.blobs.put(key, data)
    return data


def _page(gate: Gate, visit: Visit, entry: FileEntry) -> PublishedPage:
    """A page decoded and examined once, then kept (like `_blob`)."""
    from portalgen.publish.manifest import blob_key

    key = blob_key(visit.customer_key, entry.sha256)
    page = gate.caches.blobs.get_page(key)
    if page is None:
        data = gate.storage.get(key)
        if data is None:
            raise errors.NotFound("blob missing")
        page = PublishedPage(data.decode("utf-8"))
        gate.caches.blobs.put_page(key, page, len(data))
    return page


def serve_asset(gate: Gate, request: GateRequest, visit: Visit, entry: FileEntry) -> Response:
    etag = entry.sha256
    headers = {"ETag": f'"{etag}"', "Cache-Control": "private, max-age=300"}
    if request.if_none_match.contains(etag):
        return Response(status=304, headers=headers)
    data = _blob(gate, visit, entry)
    return PlainResponse(data, content_type=entry.content_type, headers=headers)


def serve_download(
    gate: Gate, request: GateRequest, visit: Visit, path: str, entry: FileEntry
) -> Response:
    from portalgen.publish.manifest import blob_key

    key = blob_key(visit.customer_key, entry.sha256)
    filename = path.rsplit("/", 1)[-1]
    expires = int(gate.settings.presigned_url_expiry.total_seconds())
    url = gate.storage.presigned_url(key, filename, entry.content_type, expires=expires)
    if url is not None:
        return Response("", status=303, headers={"Location": url})
    stream = gate.storage.open_stream(key)
    if stream is None:
        raise errors.NotFound("blob missing")
    response = Response(
        wrap_file(request.environ, cast(IO[bytes], stream)),  # a file-like object
        content_type=entry.content_type,
        direct_passthrough=True,
    )
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Content-Length"] = str(entry.size)
    return response
