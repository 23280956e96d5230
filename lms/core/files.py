"""The file store: where uploaded, imported and generated files live.

`LMS_FILE_STORE` is a local directory (the embedded default, `instance/files`) or an S3-compatible
bucket, `s3://bucket/prefix` (lms.core.s3_store: AWS S3, MinIO, SeaweedFS, Ceph…), which every app
host and worker shares. Both offer the same methods; keys are relative POSIX paths such as
`courses/<slug>/assets/a.png`. `flask files migrate` copies one store into another.
"""

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from flask import current_app

from lms.core.file_keys import safe_key


class LocalFileStore:
    def __init__(self, root: str):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*safe_key(key).parts)

    def put(self, key: str, data: bytes) -> bool:
        """Write atomically; returns False when the same bytes were already there."""
        path = self._path(key)
        if path.is_file() and hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(data).digest():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
            handle.write(data)
        os.replace(handle.name, path)
        return True

    def put_file(self, key: str, source: str) -> None:
        """Move a finished local file into the store (big exports: never read into memory)."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(source, path.with_name(path.name + ".part"))
        os.replace(path.with_name(path.name + ".part"), path)
    def list(self, prefix: str) -> list[str]:
        """Keys under `prefix/`, sorted."""
        base = self._path(prefix)
        if not base.is_dir():
            return []
        return sorted(f"{prefix}/{p.relative_to(base).as_posix()}" for p in base.rglob("*") if p.is_file())

    def get(self, key: str) -> bytes | None:
        path = self.local_path(key)
        return path.read_bytes() if path else None

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None

    def size(self, key: str) -> int | None:
        path = self.local_path(key)
        return path.stat().st_size if path else None

    def keys(self):
        """Every key in the store (for copying it elsewhere)."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.endswith(".part"):
                yield path.relative_to(self.root).as_posix()

    def __str__(self) -> str:
        return str(self.root)


def store_for(location: str, config=None):
    """The store at `location`: a directory, or `s3://bucket[/prefix]`."""
    if location.startswith("s3://"):
        from lms.core.s3_store import S3FileStore

        return S3FileStore.at(location, (config or current_app.config).get("LMS_S3_ENDPOINT_URL") or None)
    return LocalFileStore(location)


def get_store():
    return store_for(current_app.config["LMS_FILE_STORE"])


def copy_store(source, target, progress=None) -> int:
    """Copy every file of `source` into `target`, streaming through a temporary file; the count."""
    copied = 0
    for key in source.keys():  # noqa: SIM118 - a file store's listing, not a dict
        path = source.local_path(key)
        if path is None:
            continue
        # put_file moves the staging file into the target
        with tempfile.NamedTemporaryFile(delete=False) as staging, open(path, "rb") as original:
            shutil.copyfileobj(original, staging, 1024 * 1024)
        target.put_file(key, staging.name)
        copied += 1
        if progress:
            progress(key)
    return copied
