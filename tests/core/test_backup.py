"""Backup and restore as an operator does it (docs/operations.md), with the real commands, on the
backend of the pass: after a restore into an empty place, issued certificates verify (same record,
same PDF, same signing key) and work that was still open when the backup was taken gets done."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from lms import create_app
from lms.extensions import db
from tests.conftest import FIXTURE_COURSES, ROOT, TEST_DB_URL


def _flask(env: dict, *args) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


class Place:
    """One installation: an instance folder, and in the PostgreSQL pass its own scratch database."""

    def __init__(self, root: Path, name: str):
        self.instance = root / name
        self.instance.mkdir()
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_EAGER")}
        self.env.update(LMS_INSTANCE_PATH=str(self.instance))
        self.database = None
        if TEST_DB_URL:
            import psycopg

            self.database = f"lms_backup_{name}_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(TEST_DB_URL, autocommit=True) as connection:
                connection.execute(f'CREATE DATABASE "{self.database}"')
            self.env.update(DATABASE_URL=TEST_DB_URL.rsplit("/", 1)[0] + "/" + self.database,
                            SECRET_KEY="backup-test-secret", LMS_SIGNING_KEY=str(self.instance / "signing.pem"))

    def app(self):
        saved = {k: os.environ.get(k) for k in self.env}
        os.environ.update(self.env)
        try:
            return create_app({"CELERY_EAGER": True})
        finally:
            for key, value in saved.items():
                os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)

    def drop(self):
        if self.database:
            import psycopg

            with psycopg.connect(TEST_DB_URL, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


@pytest.fixture()
def places(tmp_path):
    made = []

    def make(name):
        made.append(Place(tmp_path, name))
        return made[-1]

    yield make
    for place in made:
        place.drop()


def _issue_two_certificates(app) -> tuple[str, int]:
    """One certificate rendered, one whose rendering is still queued; returns (serial, pending id)."""
    from lms.accounts.operations import create_user
    from lms.catalog.operations import import_course
    from lms.catalog.queries import course_by_slug
    from lms.catalog.source import read_course
    from lms.certificates.tasks import issue_certificate
    from lms.core import outbox
    from lms.enrollment import operations as enrollment_ops

    with app.app_context():
        import_course(read_course(FIXTURE_COURSES / "mini-course"))
        course = course_by_slug("mini-course")
        serials = []
        for name in ("Trương Thị Lưu", "Hồ Văn Chờ"):
            enrollment = enrollment_ops.enrol(create_user(name, "mat-khau-123", email=f"{uuid.uuid4().hex}@x.vn"), course)
            enrollment.completed_at = enrollment.enrolled_at
            db.session.info.pop("lms_outbox_pending", None)
            db.session.commit()
            serials.append(issue_certificate.run(enrollment.id))
        from lms.certificates.models import Certificate

        pending = db.session.scalar(select(Certificate).where(Certificate.serial == serials[1]))
        pending.pdf_key, pending.credential_json = None, None
        outbox.enqueue("certificates.render", certificate_id=pending.id)
        db.session.info.pop("lms_outbox_pending", None)  # the backup is taken before it runs
        db.session.commit()
        return serials[0], pending.id


def test_a_restore_into_an_empty_place_serves_what_was_issued_and_finishes_what_was_open(places, tmp_path):
    source = places("source")
    _flask(source.env, "db", "upgrade")
    if source.database:
        _flask(source.env, "certificates", "generate-key", source.env["LMS_SIGNING_KEY"])
    serial, pending_id = _issue_two_certificates(source.app())
    backup = tmp_path / "backup"
    _flask(source.env, "backup", "create", str(backup))
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["files"] and "signing_key.pem" in manifest["keys"] and manifest["revision"]

    target = places("target")
    if target.database:
        target.env["LMS_SIGNING_KEY"] = str(target.instance / "signing.pem")
    _flask(target.env, "backup", "restore", str(backup))
    app = target.app()
    with app.app_context():
        from lms.certificates import queries
        from lms.certificates.signing import verify_proof
        from lms.core import outbox
        from lms.core.files import get_store

        outcome, certificate = queries.lookup(serial)
        assert outcome == "found" and certificate.holder_name == "Trương Thị Lưu"
        assert get_store().get(certificate.pdf_key).startswith(b"%PDF")
        from cryptography.hazmat.primitives import serialization

        key = serialization.load_pem_private_key(Path(app.config["LMS_SIGNING_KEY"]).read_bytes(), None)
        verify_proof(json.loads(certificate.credential_json), key.public_key())  # the same key came back
        from lms.core.models import OutboxMessage

        # The rendering left queued comes back open (importing the course also queued its search indexing).
        open_tasks = sorted(db.session.scalars(select(OutboxMessage.task)
                                               .where(OutboxMessage.state.in_(outbox.OPEN_STATES))))
        assert open_tasks.count("certificates.render") == 1, open_tasks
        assert set(open_tasks) <= {"certificates.render", "search.index_course"}, open_tasks
        outbox.relay(0)  # what the reconciler does after the restore (eager here)
        from lms.certificates.models import Certificate

        db.session.expire_all()
        assert db.session.get(Certificate, pending_id).pdf_key


def test_restore_refuses_to_overwrite_an_existing_database_without_force(places, tmp_path):
    if TEST_DB_URL:
        pytest.skip("pg_restore --clean replaces the database it is pointed at; the guard is for SQLite files")
    place = places("busy")
    _flask(place.env, "db", "upgrade")
    backup = tmp_path / "backup"
    _flask(place.env, "backup", "create", str(backup))
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "backup", "restore", str(backup)], cwd=ROOT,
                            env=place.env, capture_output=True, text=True)
    assert result.returncode != 0 and "--force" in result.stderr
