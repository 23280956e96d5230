"""The file store in an S3-compatible bucket (boto3): `LMS_FILE_STORE=s3://bucket/prefix`.

Credentials and region come from boto3's usual places (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_REGION, an instance role…); `LMS_S3_ENDPOINT_URL` points at a store other than AWS (MinIO,
SeaweedFS, Ceph, a provincial data centre). Files are streamed both ways — multipart uploads from a
file on disk, downloads into a file — so a 100 MB video never sits in memory.

Downloads go through the app, so they keep the app's headers (content type, attachment, the
sandboxing CSP of user files). `local_path` gives a local copy for that: cached per host under the
temporary directory, keyed by the object's ETag, so an unchanged file is fetched once per host and a
replaced one is fetched again.
"""

import hashlib
import mimetypes
import os
import tempfile
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from lms.core.file_keys import safe_key

_CLIENTS: dict = {}
_CACHE = Path(tempfile.gettempdir()) / f"lms-s3-cache-{os.getuid()}"


def _client(endpoint_url: str | None):
    """One client per endpoint and process (boto3 clients are thread-safe; creating one costs ~50 ms)."""
    pid_key = (os.getpid(), endpoint_url)
    if pid_key not in _CLIENTS:
        _CLIENTS[pid_key] = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url, region_name=os.environ.get("AWS_REGION", "us-east-1"),
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, connect_timeout=5,
                          read_timeout=60, retries={"max_attempts": 4, "mode": "standard"}))
    return _CLIENTS[pid_key]


def _missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


def _content_type(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


class S3FileStore:
    def __init__(self, bucket: str, prefix: str, endpoint_url: str | None):
        self.bucket, self.prefix, self.endpoint_url = bucket, prefix.strip("/"), endpoint_url
        self.client = _client(endpoint_url)

    @classmethod
    def at(cls, location: str, endpoint_url: str | None) -> "S3FileStore":
        bucket, _, prefix = location.removeprefix("s3://").partition("/")
        if not bucket:
            raise ValueError(f"no bucket in {location!r} (expected s3://bucket/prefix)")
        return cls(bucket, prefix, endpoint_url)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def _object(self, key: str) -> str:
        relative = safe_key(key).as_posix()
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def _etag(self, key: str) -> str | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._object(key))["ETag"].strip('"')
        except ClientError as error:
            if _missing(error):
                return None
            raise

    def size(self, key: str) -> int | None:
        """Bytes of the object (one HEAD request), None if it is missing."""
        try:
            return int(self.client.head_object(Bucket=self.bucket, Key=self._object(key))["ContentLength"])
        except ClientError as error:
            if _missing(error):
                return None
            raise

    def put(self, key: str, data: bytes) -> bool:
        """Store `data`; False when the same bytes were already there (single-part ETag is the MD5)."""
        if self._etag(key) == hashlib.md5(data, usedforsecurity=False).hexdigest():
            return False
        self.client.put_object(Bucket=self.bucket, Key=self._object(key), Body=data, ContentType=_content_type(key))
        return True

    def put_file(self, key: str, source: str) -> None:
        """Upload a finished local file (multipart above 8 MB, memory flat), then remove it, as the
        local store moves it."""
        self.client.upload_file(source, self.bucket, self._object(key), ExtraArgs={"ContentType": _content_type(key)})
        os.remove(source)

    def get(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._object(key))["Body"].read()
        except ClientError as error:
            if _missing(error):
                return None
            raise

    def list(self, prefix: str) -> list[str]:
        """Keys under `prefix/`, sorted."""
        return sorted(self._keys_under(self._object(prefix) + "/"))

    def keys(self):
        yield from sorted(self._keys_under(f"{self.prefix}/" if self.prefix else ""))

    def _keys_under(self, full_prefix: str):
        strip = len(self.prefix) + 1 if self.prefix else 0
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=full_prefix):
            for item in page.get("Contents", []):
                yield item["Key"][strip:]

    def local_path(self, key: str) -> Path | None:
        """A local copy of the object (downloaded once per host and version), or None if it is missing."""
        etag = self._etag(key)
        if etag is None:
            return None
        name = hashlib.sha256(f"{self}/{self._object(key)}".encode()).hexdigest()
        cached = _CACHE / f"{name}-{etag.replace('-', '_')}{Path(key).suffix}"
        if cached.is_file():
            return cached
        _CACHE.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.NamedTemporaryFile(dir=_CACHE, delete=False) as staging:
            self.client.download_fileobj(self.bucket, self._object(key), staging)
        os.replace(staging.name, cached)
        for older in _CACHE.glob(f"{name}-*"):  # earlier versions of the same key
            if older != cached:
                older.unlink(missing_ok=True)
        return cached
