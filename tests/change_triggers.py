"""Migration 0018's change-feed triggers on a database whose schema the models made (db.create_all): for the
tests and benchmarks that skip the migrations but must run what production runs (lms.core.change_feed)."""

import importlib.util

from tests.conftest import ROOT

MIGRATION = ROOT / "migrations" / "versions" / "0018_change_feed.py"


def migration():
    """The migration module itself (its PERSON_TABLES, CONTENT_TABLES, upgrade)."""
    spec = importlib.util.spec_from_file_location("change_feed_0018", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def install(connection) -> None:
    """Create the triggers on `connection`'s database (a SQLAlchemy connection; nothing on SQLite)."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    with Operations.context(MigrationContext.configure(connection)):
        migration().upgrade()
