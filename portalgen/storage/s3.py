"""S3Storage: the objects live in a bucket under a prefix, on AWS S3 or any compatible store.

boto3 is imported only when an S3 storage is actually used, so the gate and the CLI
start fast with a local folder. Credentials come from the standard AWS chain
(environment, shared config/profile, instance or task role), never from config.yaml.
Every botocore failure becomes a StorageError saying what staff can do about it.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from portalgen.errors import StorageError
from portalgen.storage.base import (
    ObjectInfo,
    content_disposition,
    validate_folder,
    validate_key,
    validate_prefix,
)

if TYPE_CHECKING:
    import boto3
    from botocore.exceptions import ClientError
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import GetObjectOutputTypeDef

    from portalgen.config import Settings

DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys
CONFLICT_RETRIES = 5  # a 409 on a conditional write means "retry": another one was in flight
_DENIED = {"AccessDenied", "AllAccessDisabled", "AccountProblem", "403", "Forbidden"}
_BAD_CREDENTIALS = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "TokenRefreshRequired",
}
_MISSING = {"NoSuchKey", "404", "NotFound"}
_session_lock = threading.Lock()
_default_session: boto3.session.Session | None = None


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix/`` → ``("bucket", "some/prefix")``."""
    match = re.fullmatch(r"s3://([^/]+)/?(.*)", url)
    if not match:
        raise StorageError(f"not an S3 location: {url!r} (expected s3://bucket/prefix)")
    bucket, prefix = match.group(1), match.group(2).strip("/")
    if prefix:
        validate_key(prefix)
    return bucket, prefix


def make_s3_client(
    settings: Settings,
    session: boto3.session.Session | None = None,
    *,
    endpoint_url: str | None = None,
) -> S3Client:
    """The one place an S3 client is made: endpoint and region from the settings,
    SigV4 (also for presigned URLs), botocore's standard retry mode, credentials from
    the standard AWS chain (or the given boto3 session). `endpoint_url` overrides the
    settings' (the public endpoint presigned URLs are signed for).

    Without `session`, one boto3 session is shared by the process (making a client from
    a fresh session costs ~0.1 s); it resolves credentials once and refreshes them."""
    from botocore.config import Config

    storage = settings.storage
    endpoint = storage.endpoint_url if endpoint_url is None else endpoint_url
    config = Config(
        signature_version="s3v4",
        retries={"mode": "standard"},
        connect_timeout=10,
        read_timeout=60,
        max_pool_connections=max(10, 2 * settings.publish.upload_threads),
        # S3-compatible services (SeaweedFS, MinIO...) expect path-style addresses.
        s3={"addressing_style": "path"} if endpoint else {},
    )
    with _session_lock:  # sessions are not thread-safe; clients are
        return (session or _shared_session()).client(
            "s3",
            endpoint_url=endpoint or None,
            region_name=storage.region or None,
            config=config,
        )


def _shared_session() -> boto3.session.Session:
    global _default_session
    if _default_session is None:
        import boto3
        import botocore.session

        core = botocore.session.get_session()
        parsers = core.get_component("response_parser_factory")
        parsers.set_parser_defaults(timestamp_parser=parse_timestamp)
        _default_session = boto3.session.Session(botocore_session=core)
    return _default_session


def parse_timestamp(value: Any) -> datetime:
    """A timestamp of an S3 response. Listings give ISO 8601, which datetime reads at once;
    botocore's own parser (through dateutil) spends half a second per 3,000 objects
    listed. Anything else (HTTP dates of HEAD and GET) goes to botocore's parser."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    from botocore.utils import parse_timestamp as botocore_parse

    result: datetime = botocore_parse(value)
    return result


class S3Storage:
    def __init__(
        self,
        client: S3Client,
        bucket: str,
        prefix: str = "",
        *,
        server_side_encryption: str = "",
        kms_key_id: str = "",
        page_size: int = 1000,
        presign_client: S3Client | None = None,
    ) -> None:
        prefix = prefix.strip("/")
        if prefix:
            validate_key(prefix)
        self.client = client
        # signs presigned URLs: a client of the public endpoint, if the settings have one
        self.presign_client = presign_client or client
        self.bucket = bucket
        self.prefix = prefix
        self.location = f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"
        self.page_size = page_size
        self._write_args: dict[str, Any] = {}
        if server_side_encryption:
            self._write_args["ServerSideEncryption"] = server_side_encryption
            if server_side_encryption == "aws:kms" and kms_key_id:
                self._write_args["SSEKMSKeyId"] = kms_key_id

    @classmethod
    def from_settings(
        cls, settings: Settings, session: boto3.session.Session | None = None
    ) -> S3Storage:
        bucket, prefix = parse_s3_url(settings.storage_location())
        public = settings.storage.public_endpoint_url
        return cls(
            make_s3_client(settings, session),
            bucket,
            prefix,
            server_side_encryption=settings.storage.server_side_encryption,
            kms_key_id=settings.storage.kms_key_id,
            presign_client=make_s3_client(settings, session, endpoint_url=public)
            if public
            else None,
        )

    def __repr__(self) -> str:
        return f"S3Storage({self.location!r})"

    # -- reading ----------------------------------------------------------------------------

    def get(self, key: str) -> bytes | None:
        found = self.get_with_version(key)
        return None if found is None else found[0]

    def get_with_version(self, key: str) -> tuple[bytes, str] | None:
        with self._translated("read", key):
            response = self._get_object(key)
            if response is None:
                return None
            with contextlib.closing(response["Body"]) as body:
                return body.read(), response["ETag"]

    def stat(self, key: str) -> ObjectInfo | None:
        with self._translated("read", key):
            try:
                head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            except Exception as exc:
                if _code(exc) in _MISSING:
                    return None
                raise
            return ObjectInfo(
                key, head["ContentLength"], head["LastModified"], head.get("ETag", "")
            )

    def exists(self, key: str) -> bool:
        return self.stat(key) is not None

    def open_stream(self, key: str) -> Any:
        with self._translated("read", key):
            response = self._get_object(key)
            return None if response is None else response["Body"]

    def presigned_url(
        self,
        key: str,
        filename: str,
        content_type: str,
        expires: int = 60,
        disposition: Literal["attachment", "inline"] = "attachment",
    ) -> str | None:
        with self._translated("sign a link to", key):
            return self.presign_client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": self._key(key),
                    "ResponseContentDisposition": content_disposition(filename, disposition),
                    "ResponseContentType": content_type,
                },
                ExpiresIn=expires,
            )

    def presigned_post(
        self, key: str, content_type: str, max_size: int, expires: int
    ) -> tuple[str, dict[str, str]]:
        """A browser upload straight to `key`: the URL and the form fields of a presigned
        POST whose policy names this exact key, this Content-Type and 1..`max_size`
        bytes (S3 refuses anything else), valid for `expires` seconds."""
        with self._translated("sign an upload to", key):
            post = self.presign_client.generate_presigned_post(
                Bucket=self.bucket,
                Key=self._key(key),
                Fields={"Content-Type": content_type},
                Conditions=[
                    {"Content-Type": content_type},
                    ["content-length-range", 1, max_size],
                ],
                ExpiresIn=expires,
            )
        return post["url"], {str(k): str(v) for k, v in post["fields"].items()}

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        validate_prefix(prefix)
        root = f"{self.prefix}/" if self.prefix else ""
        for page in self._pages(prefix):
            for item in page.get("Contents", []):
                key = item["Key"][len(root) :]
                if key and not key.endswith("/"):  # "folder" markers are not objects
                    yield ObjectInfo(key, item["Size"], item["LastModified"], item.get("ETag", ""))

    def list_folders(self, prefix: str = "") -> Iterator[str]:
        validate_folder(prefix)
        root = f"{self.prefix}/" if self.prefix else ""
        start = len(root + prefix)
        for page in self._pages(prefix, folders=True):
            for item in page.get("CommonPrefixes", []):
                name = item.get("Prefix", "")[start:].removesuffix("/")
                if name:
                    yield name

    def _pages(self, prefix: str, *, folders: bool = False) -> Iterator[Any]:
        """The pages of a listing of `prefix` (below the storage prefix), errors translated;
        with `folders`, a delimiter listing (its folders in "CommonPrefixes")."""
        root = f"{self.prefix}/" if self.prefix else ""
        options: dict[str, Any] = {"Delimiter": "/"} if folders else {}
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket,
            Prefix=root + prefix,
            PaginationConfig={"PageSize": self.page_size},
            **options,
        )
        with self._translated("list", prefix or "/"):
            yield from pages

    # -- writing ----------------------------------------------------------------------------

    def put(self, key: str, data: bytes, content_type: str) -> None:
        with self._translated("write", key):
            self.client.put_object(
                Bucket=self.bucket,
                Key=self._key(key),
                Body=data,
                ContentType=content_type,
                **self._write_args,
            )

    def put_if_absent(self, key: str, data: bytes, content_type: str) -> bool:
        return self._conditional_put(key, data, content_type, IfNoneMatch="*")

    def put_if_version(self, key: str, data: bytes, content_type: str, version: str) -> bool:
        return self._conditional_put(key, data, content_type, IfMatch=version)

    def delete(self, key: str) -> None:
        with self._translated("delete", key):
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def delete_many(self, keys: Iterable[str]) -> None:
        batch: list[str] = []
        for key in keys:
            batch.append(self._key(key))
            if len(batch) == DELETE_BATCH:
                self._delete_batch(batch)
                batch = []
        if batch:
            self._delete_batch(batch)

    # -- internals --------------------------------------------------------------------------

    def _key(self, key: str) -> str:
        validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _get_object(self, key: str) -> GetObjectOutputTypeDef | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            if _code(exc) in _MISSING:
                return None
            raise

    def _conditional_put(self, key: str, data: bytes, content_type: str, **condition: str) -> bool:
        with self._translated("write", key):
            for attempt in range(CONFLICT_RETRIES):
                try:
                    self.client.put_object(
                        Bucket=self.bucket,
                        Key=self._key(key),
                        Body=data,
                        ContentType=content_type,
                        **condition,  # type: ignore[arg-type]
                        **self._write_args,
                    )
                    return True
                except Exception as exc:
                    code = _code(exc)
                    if code in {"PreconditionFailed", "412"} or code in _MISSING:
                        return False
                    if code == "ConditionalRequestConflict" and attempt < CONFLICT_RETRIES - 1:
                        continue
                    raise
        raise AssertionError("unreachable")

    def _delete_batch(self, keys: Sequence[str]) -> None:
        with self._translated("delete", keys[0]):
            response = self.client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True},
            )
        errors = response.get("Errors", [])
        if errors:
            first = errors[0]
            raise StorageError(
                f"S3 could not delete {len(errors)} of {len(keys)} objects in {self.location}, "
                f"e.g. {first.get('Key')}: {first.get('Code')} {first.get('Message', '')}".strip()
            )

    @contextlib.contextmanager
    def _translated(self, action: str, key: str) -> Iterator[None]:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            HTTPClientError,
            NoCredentialsError,
        )
        from botocore.exceptions import ConnectionError as BotoConnectionError

        try:
            yield
        except ClientError as exc:
            raise self._client_error(action, key, exc) from exc
        except (BotoConnectionError, HTTPClientError) as exc:
            endpoint = self.client.meta.endpoint_url
            raise StorageError(f"cannot connect to {endpoint}: {exc}") from exc
        except NoCredentialsError as exc:
            raise StorageError(
                "no AWS credentials found for S3: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run with an IAM role"
            ) from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 could not {action} {self._url(key)}: {exc}") from exc

    def _client_error(self, action: str, key: str, exc: ClientError) -> StorageError:
        code = _code(exc)
        message = exc.response.get("Error", {}).get("Message", "")
        if code == "NoSuchBucket":
            return StorageError(
                f"the S3 bucket {self.bucket!r} does not exist ({self.location}): "
                "create it, or correct storage.url in the configuration"
            )
        if code in _DENIED:
            return StorageError(
                f"access denied: S3 refused to let these AWS credentials {action} "
                f"{self._url(key)}; give them the permissions in docs/storage.md"
            )
        if code in _BAD_CREDENTIALS:
            return StorageError(
                f"S3 refused the AWS credentials ({code}): check AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY (or the AWS profile) and the clock of this machine"
            )
        return StorageError(f"S3 could not {action} {self._url(key)}: {code} {message}".strip())

    def _url(self, key: str) -> str:
        return f"{self.location}/{key}"


def _code(exc: BaseException) -> str:
    """The S3 error code of a botocore ClientError ('' for anything else)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return ""
    error = response.get("Error", {})
    code = str(error.get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code or str(status or "")
