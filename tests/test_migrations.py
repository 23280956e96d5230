"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

import logging
import os
from contextlib import contextmanager

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from lms import create_app
from lms.extensions import db

PG_URL = os.environ.get("LMS_TEST_DATABASE_URL", "")
CHECK_DATABASE = f"lms_migration_check_{os.getpid()}"  # unique: other runs may share the server
pytestmark = pytest.mark.filterwarnings("ignore:'get_engine' is deprecated:DeprecationWarning")


@pytest.fixture(autouse=True)
def keep_logging():
    """migrations/env.py runs logging.fileConfig, which would disable the loggers of later tests."""
    manager = logging.root.manager
    disabled = {name: logger.disabled for name, logger in manager.loggerDict.items() if isinstance(logger, logging.Logger)}
    root_level, root_handlers = logging.root.level, list(logging.root.handlers)
    yield
    for name, logger in manager.loggerDict.items():
        if isinstance(logger, logging.Logger):
            logger.disabled = disabled.get(name, False)
    logging.root.setLevel(root_level)
    logging.root.handlers[:] = root_handlers


def _app(url: str):
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "migration-test",
                       "CELERY_EAGER": True, "CELERY_BROKER_URL": ""})


@contextmanager
def _migrating(url: str):
    """An app on `url` whose engine is released afterwards, for a test that walks the migrations."""
    app = _app(url)
    with app.app_context():
        try:
            yield
        finally:
            db.session.remove()
            db.engine.dispose()


def _not_fts(name, type_, _parent) -> bool:
    """SQLite's FTS5 search table (and its shadow tables) is created by the migration, not the models."""
    return not (type_ == "table" and name and name.startswith("search_fts"))


def _tables(connection) -> set:
    return {name for name in inspect(connection).get_table_names() if _not_fts(name, "table", None)}


def _differences(connection) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True, "render_as_batch": True,
                                                           "include_name": _not_fts})
    return compare_metadata(context, db.metadata)


def _check_upgrade_and_downgrade(url: str):
    app = _app(url)
    with app.app_context():
        try:
            flask_migrate.upgrade()
            with db.engine.connect() as connection:
                assert _differences(connection) == []
                tables = _tables(connection)
            assert set(db.metadata.tables) | {"alembic_version"} == tables
            assert {"users", "localities", "locality_lineage", "enrollments", "certificates"} <= tables

            flask_migrate.downgrade(revision="base")
            with db.engine.connect() as connection:
                assert _tables(connection) <= {"alembic_version"}
                assert _differences(connection)  # everything is missing again

            flask_migrate.upgrade()  # and the way up works a second time
            with db.engine.connect() as connection:
                assert _differences(connection) == []
        finally:
            db.session.remove()
            db.engine.dispose()


def test_migrations_build_the_model_schema_on_sqlite(tmp_path):
    _check_upgrade_and_downgrade(f"sqlite:///{tmp_path / 'migrations.sqlite3'}")


@pytest.fixture()
def fresh_postgres_database():
    import psycopg

    server = make_url(PG_URL).set(drivername="postgresql", database="postgres")
    maintenance = server.render_as_string(hide_password=False)

    def drop(connection):
        connection.execute(f'DROP DATABASE IF EXISTS "{CHECK_DATABASE}" WITH (FORCE)')

    with psycopg.connect(maintenance, autocommit=True) as connection:
        drop(connection)
        connection.execute(f'CREATE DATABASE "{CHECK_DATABASE}"')
    try:
        yield server.set(database=CHECK_DATABASE).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(maintenance, autocommit=True) as connection:
            drop(connection)


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL pass only (LMS_TEST_DATABASE_URL)")
def test_migrations_build_the_model_schema_on_postgresql(fresh_postgres_database):
    _check_upgrade_and_downgrade(fresh_postgres_database)


def test_0013_lists_accounts_without_consent_and_invents_none(tmp_path):
    """Accounts made before consent existed are listed to be asked at their next login; no consent
    record is made for them (docs/privacy.md)."""
    from sqlalchemy import text

    with _migrating(f"sqlite:///{tmp_path / 'rights.sqlite3'}"):
        flask_migrate.upgrade(revision="0012_library")
        with db.engine.begin() as connection:
            for number in (1, 2):
                connection.execute(text(
                    "INSERT INTO users (id, full_name, full_name_folded, password_hash, audience, is_active, "
                    "session_version, created_at) VALUES (:id, 'A', 'a', 'x', 'citizen', 1, 1, CURRENT_TIMESTAMP)"),
                    {"id": number})
            connection.execute(text("INSERT INTO consent_records (user_id, notice_version, action, via, at) "
                                    "VALUES (2, 1, 'given', 'register', CURRENT_TIMESTAMP)"))
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT user_id FROM notice_reviews")).scalars().all() == [1]
            assert connection.execute(text("SELECT user_id, purpose FROM consent_records")).all() == [(2, "account")]


def _check_0015_targets(url: str):
    """The community coverage targets move into the one target model and back (issue 15)."""
    from sqlalchemy import text

    with _migrating(url):
        flask_migrate.upgrade(revision="0015_search")
        with db.engine.begin() as connection:
            for number in (1, 2):
                connection.execute(text(
                    "INSERT INTO localities (id, scheme, level, code, name, name_folded, unit_type, path) "
                    "VALUES (:id, '2025-07', 'commune', :code, 'X', 'x', 'Xã', :path)"),
                    {"id": number, "code": f"0000{number}", "path": f"{number}/"})
            # Commune 1: a reports target (citizen, everyone) and a community target of everyone: one row.
            connection.execute(text(
                "INSERT INTO locality_targets (locality_id, audience, population, target_percent, due_on, "
                "updated_at, created_at) VALUES (1, 'citizen', 5000, 60, '2026-12-31', "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            for locality, reached, completed, counts in ((1, 40, 10, "all"), (2, 30, 12, "assisted")):
                connection.execute(text(
                    "INSERT INTO community_targets (locality_id, reached, completed, counts, updated_at) "
                    "VALUES (:l, :r, :c, :g, CURRENT_TIMESTAMP)"), {"l": locality, "r": reached, "c": completed,
                                                                    "g": counts})
        flask_migrate.upgrade(revision="0015_targets")
        query = text("SELECT locality_id, audience, counts, population, target_percent, completed_target, due_on "
                     "FROM locality_targets ORDER BY locality_id")
        with db.engine.connect() as connection:
            rows = [(*row[:6], str(row[6]) if row[6] else None) for row in connection.execute(query)]
        assert rows == [(1, "citizen", "all", 5000, 60, 10, "2026-12-31"),
                        (2, "citizen", "assisted", 30, 100, 12, None)]
        flask_migrate.downgrade(revision="0015_search")
        with db.engine.connect() as connection:
            back = connection.execute(text("SELECT locality_id, reached, completed, counts FROM community_targets "
                                           "ORDER BY locality_id")).all()
            kept = connection.execute(text("SELECT locality_id, population FROM locality_targets")).all()
        assert back == [(1, 3000, 10, "all"), (2, 30, 12, "assisted")] and kept == [(1, 5000)]


def test_0015_moves_community_targets_into_the_one_target_model_on_sqlite(tmp_path):
    _check_0015_targets(f"sqlite:///{tmp_path / 'targets.sqlite3'}")


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL pass only (LMS_TEST_DATABASE_URL)")
def test_0015_moves_community_targets_into_the_one_target_model_on_postgresql(fresh_postgres_database):
    _check_0015_targets(fresh_postgres_database)
