"""The file store: where uploaded and imported files live.

A local directory by default (`LMS_FILE_STORE`); for several app hosts point it at shared
storage (NFS), or add another class with the same three methods and select it in
`get_store`. Keys are relative POSIX paths such as `courses/<slug>/assets/a.png`.
"""

import hashlib
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from flask import current_app


class LocalFileStore:
    def __init__(self, root: str):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        relative = PurePosixPath(key)
        if relative.is_absolute() or ".." in relative.parts:
            raise ValueError(f"unsafe file key: {key}")
        return self.root.joinpath(*relative.parts)

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


def get_store() -> LocalFileStore:
    return LocalFileStore(current_app.config["LMS_FILE_STORE"])
