import hashlib
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from lms.core.frontmatter import SourceError
from lms.core.outbox import dispatch_ready
from lms.extensions import db

library_cli = AppGroup("library", help="The e-library: import items kept in git.")


def import_item(source, force=False) -> str:
    from lms.library import operations
    from lms.library.models import LibraryItem
    from lms.localities.queries import find_unit

    item = db.session.scalar(select(LibraryItem).where(LibraryItem.slug == source.slug))
    if item is not None and item.source_hash == source.source_hash and not force:
        return "unchanged"
    outcome = "updated" if item is not None else "created"
    if item is None:
        item = LibraryItem(slug=source.slug, kind=source.fields["kind"], title="")
        db.session.add(item)
    locality = find_unit(source.locality) if source.locality else None
    if source.locality and locality is None:
        raise SourceError(source.path, 1, f"no locality {source.locality}")
    operations.apply_fields(item, dict(source.fields, locality_id=locality.id if locality else None))
    operations.set_collections(item, source.collections)
    for role, (filename, data) in source.files.items():
        current = item.current_file(role) if item.id else None
        if current is None or current.sha256 != hashlib.sha256(data).hexdigest():
            operations.attach_file(item, filename, data, role=role)
    item.source_path, item.source_hash = str(source.path), source.source_hash
    return outcome


@library_cli.command("import")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Re-apply items even when their files did not change.")
def import_command(path, force):
    """Import every `<slug>.md` under PATH. An item with an error keeps its previous version."""
    from lms.library.source import find_item_files, read_item

    counts = {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}
    for file in find_item_files(path):
        try:
            outcome = import_item(read_item(file), force=force)
            db.session.commit()
        except (SourceError, ValueError, SQLAlchemyError) as error:
            db.session.rollback()
            outcome = "failed"
            click.echo(f"error: {file}: {error}", err=True)
        counts[outcome] += 1
        click.echo(f"{outcome:9} {file.stem}")
    dispatch_ready()
    click.echo(", ".join(f"{n} {k}" for k, n in counts.items()))
    if counts["failed"]:
        raise SystemExit(1)
