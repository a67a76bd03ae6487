"""Comments on documents, kept per customer and per page so a page's thread is one listing.

A comment is ``_comments/<customer_key>/<thread id>/<event ulid>.json``, created if absent
and never changed. The thread is the portal page that shows it: a document's own page
(``invoices/F2026A-00001.html``), the shared documents page for a comment about a shared
file, or ``""`` for a general message from the contact page. The thread id is a hash of
that path, so keys stay short and safe whatever the path holds. ULIDs sort by time, so a
listing is the thread in order.

The comment's audit event (``comment.added``) carries the same id: the audit log is the
staff's record, these objects are what the customer sees again on the page.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from portalgen.interact.decisions import ActionRefused, clean_text
from portalgen.slots import COMMENT_LIMIT, DOCUMENT_PAGE

if TYPE_CHECKING:
    from portalgen.publish.manifest import Manifest
    from portalgen.storage import Storage

COMMENTS_PREFIX = "_comments/"
COMMENT_VERSION = 1
THREAD_LIMIT = 200  # comments shown in one thread (the latest)
SHARED_FILES = "documents/files/"
SHARED_PAGE = "documents/index.html"
GENERAL_PAGE = "contact.html"
# A document's own page (not a list: quotes/index.html is no document).


def thread_of(document: str) -> str:
    """The page (slot path) whose thread shows a comment on `document`."""
    return SHARED_PAGE if document.startswith(SHARED_FILES) else document


def page_of(thread: str) -> str:
    """The portal path of the page that shows `thread` (the general one: the contact page)."""
    return thread or GENERAL_PAGE


def thread_prefix(customer_key: str, thread: str) -> str:
    digest = hashlib.sha256(thread.encode("utf-8")).hexdigest()[:32]
    return f"{COMMENTS_PREFIX}{customer_key}/{digest}/"


def check_document(document: str, manifest: Manifest) -> str:
    """The document a comment is about, if the customer can comment on it: "" (general),
    a document page or a shared file of their own portal. ActionRefused otherwise."""
    document = document.strip()
    if document == "":
        return document
    commentable = DOCUMENT_PAGE.match(document) or document.startswith(SHARED_FILES)
    if not commentable or manifest.get(document) is None:
        raise ActionRefused("not-found", "not a document of this portal")
    return document


def parse_comment(form_text: str) -> str:
    text = clean_text(form_text, COMMENT_LIMIT, "comment")
    if not text:
        raise ActionRefused("comment-empty", "an empty comment")
    return text


@dataclass(frozen=True)
class CommentRecord:
    id: str  # the comment.added event's ULID
    ts: str  # UTC ISO 8601
    contact: str
    document: str  # what it is about ("" general, a page, documents/files/...)
    text: str

    @property
    def when(self) -> datetime:
        return datetime.fromisoformat(self.ts.replace("Z", "+00:00"))

    def to_json(self) -> bytes:
        body = {"version": COMMENT_VERSION, **self.__dict__}
        return json.dumps(body, ensure_ascii=False, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> CommentRecord:
        try:
            data = json.loads(raw)
            if data.get("version") != COMMENT_VERSION:
                raise ValueError("not a version 1 comment")
            fields = ("id", "ts", "contact", "document", "text")
            return cls(**{k: str(data[k]) for k in fields})
        except (KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
            raise ValueError(f"not a comment: {exc}") from None


def comment_key(customer_key: str, record: CommentRecord) -> str:
    return f"{thread_prefix(customer_key, thread_of(record.document))}{record.id}.json"


def add_comment(storage: Storage, customer_key: str, record: CommentRecord) -> str:
    """Store the comment (its id is new, so it cannot exist); returns its key."""
    key = comment_key(customer_key, record)
    storage.put_if_absent(key, record.to_json(), "application/json")
    return key


def list_thread(storage: Storage, customer_key: str, thread: str) -> list[str]:
    """The keys of a thread's comments, oldest first (one listing)."""
    return sorted(info.key for info in storage.list(thread_prefix(customer_key, thread)))


def read_comments(
    storage: Storage, keys: list[str], cache: MutableMapping[str, CommentRecord] | None = None
) -> list[CommentRecord]:
    """The latest THREAD_LIMIT of these comments: a read per comment not in `cache`
    (comments never change, so the cache stays right)."""
    found = []
    for key in keys[-THREAD_LIMIT:]:
        record = cache.get(key) if cache is not None else None
        if record is None:
            raw = storage.get(key)
            if raw is None:
                continue  # deleted since the listing
            try:
                record = CommentRecord.from_json(raw)
            except ValueError:
                continue
            if cache is not None:
                cache[key] = record
        found.append(record)
    return found


def load_thread(
    storage: Storage,
    customer_key: str,
    thread: str,
    cache: MutableMapping[str, CommentRecord] | None = None,
) -> list[CommentRecord]:
    """The thread's comments, oldest first (the latest THREAD_LIMIT)."""
    return read_comments(storage, list_thread(storage, customer_key, thread), cache)
