"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

import logging
import os

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

    app = _app(f"sqlite:///{tmp_path / 'rights.sqlite3'}")
    with app.app_context():
        try:
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
        finally:
            db.session.remove()
            db.engine.dispose()
