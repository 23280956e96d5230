"""File store keys: relative POSIX paths, never leaving the store (shared by every store)."""

from pathlib import PurePosixPath


def safe_key(key: str) -> PurePosixPath:
    relative = PurePosixPath(key)
    if not key or relative.is_absolute() or ".." in relative.parts:
        raise ValueError(f"unsafe file key: {key}")
    return relative
