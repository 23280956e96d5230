"""`flask backup create|restore`: everything a restore needs, in one folder (docs/operations.md).

- the database: SQLite through its online backup API (consistent while the server writes), or
  PostgreSQL through `pg_dump --format=custom` / `pg_restore`;
- the file store (course assets, certificate PDFs, imports, exports) when it is a local directory;
- the keys: `LMS_SIGNING_KEY` (without it issued credentials cannot be verified against new ones)
  and, in the embedded default, `instance/secret_key` (sessions).
The broker holds nothing to back up: open work lives in the outbox table and is sent again by the
reconciler after a restore.
"""

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

from flask import current_app
from sqlalchemy.engine import make_url

from lms.core.db import utcnow
from lms.core.files import LocalFileStore, copy_store, get_store
from lms.extensions import db

MANIFEST = "manifest.json"


class BackupError(RuntimeError):
    pass


def _database():
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _libpq_url(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def create(destination: Path) -> dict:
    """Write a backup into `destination` (a new or empty folder); returns the manifest."""
    destination.mkdir(parents=True, exist_ok=True)
    if any(destination.iterdir()):
        raise BackupError(f"{destination} is not empty")
    url = _database()
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(url.database) as source, sqlite3.connect(destination / "lms.sqlite3") as target:
            source.backup(target)
        database = "lms.sqlite3"
    else:
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(destination / "database.dump"), _libpq_url(url)])
        database = "database.dump"
    # Any store (a directory or a bucket) is copied file by file into the backup folder.
    files = copy_store(get_store(), LocalFileStore(str(destination / "files")))
    keys = destination / "keys"
    keys.mkdir()
    for name, path in _key_files().items():
        if path.is_file():
            shutil.copy2(path, keys / name)
    manifest = {"created_at": utcnow().isoformat() + "Z", "database": database, "files": files > 0,
                "keys": sorted(p.name for p in keys.iterdir()), "revision": _revision()}
    (destination / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return manifest


def restore(source: Path, force: bool = False) -> dict:
    """Put a backup back: database, files and keys, into this configuration's places."""
    manifest = json.loads((source / MANIFEST).read_text())
    url = _database()
    db.session.remove()
    db.engine.dispose()
    if url.get_backend_name() == "sqlite":
        target = Path(url.database)
        if target.exists() and not force:
            raise BackupError(f"{target} exists; restore with --force to replace it")
        for suffix in ("-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        with sqlite3.connect(source / manifest["database"]) as backup, sqlite3.connect(target) as live:
            backup.backup(live)
    else:
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--dbname", _libpq_url(url),
              str(source / manifest["database"])])
    if manifest["files"]:
        copy_store(LocalFileStore(str(source / "files")), get_store())
    for name, path in _key_files().items():
        saved = source / "keys" / name
        if saved.is_file() and (force or not path.exists()):
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(saved, path)
    return manifest


def _key_files() -> dict[str, Path]:
    keys = {"signing_key.pem": Path(current_app.config["LMS_SIGNING_KEY"])}
    if current_app.config["LMS_EMBEDDED"]:
        keys["secret_key"] = Path(current_app.instance_path) / "secret_key"
    return keys


def _revision() -> str | None:
    from sqlalchemy import text

    try:
        return db.session.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        db.session.rollback()


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (Debian: postgresql-client)")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[-1000:]}")
