"""`flask programs …`."""

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from lms.core.frontmatter import SourceError
from lms.extensions import db
from lms.programs.operations import import_program
from lms.programs.source import find_program_files, in_dependency_order, read_program

programs_cli = AppGroup("programs", help="Programs: sets of courses with a certificate of their own.")


@programs_cli.command("import")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
def import_programs_command(path):
    """Import every programs/*.md file under PATH (courses first). Safe to run again."""
    failed = 0
    sources = []
    for file in find_program_files(path):
        try:
            sources.append(read_program(file))
        except SourceError as error:
            failed += 1
            click.echo(f"error: {error}", err=True)
            click.echo(f"{'failed':9} {file.stem}")
    for source in in_dependency_order(sources):
        try:
            outcome = import_program(source)
            db.session.commit()
        except SourceError as error:
            db.session.rollback()
            failed += 1
            outcome = "failed"
            click.echo(f"error: {error}", err=True)
        click.echo(f"{outcome:9} {source.slug}")
    sys.exit(1 if failed else 0)
