import click
from flask.cli import AppGroup

from lms.extensions import db

search_cli = AppGroup("search", help="The search index.")


@search_cli.command("reindex")
def reindex_command():
    """Rebuild every row of the search index now (e.g. after restoring a backup)."""
    from lms.search.indexer import reindex_everything

    counts = reindex_everything()
    db.session.commit()
    click.echo(f"indexed {counts['courses']} courses (with their lessons) and {counts['library']} library items")
