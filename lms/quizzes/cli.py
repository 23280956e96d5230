"""`flask --app app quiz …`: GIFT/Aiken import and export, overdue attempts."""

from pathlib import Path

import click
from flask.cli import AppGroup

from lms.core.frontmatter import SourceError
from lms.extensions import db

quiz_cli = AppGroup("quiz", help="Quizzes: GIFT and Aiken import/export.")


def _course(slug):
    from lms.catalog.queries import course_by_slug

    course = course_by_slug(slug)
    if course is None:
        raise click.ClickException(f"no course with the slug {slug}")
    return course


def _import(slug, file: Path, reader, title, keep_gift_text: bool):
    from lms.quizzes.gift import GiftError, decode
    from lms.quizzes.sync import import_bank

    course = _course(slug)
    try:
        text = decode(file.read_bytes(), file.name)
        source = reader(text, str(file), title or file.stem.removesuffix(".gift").removesuffix(".aiken"))
    except (GiftError, SourceError) as error:
        raise click.ClickException(str(error)) from None
    quiz = import_bank(course, source, gift_text=text if keep_gift_text else None)
    db.session.commit()
    click.echo(f"imported {len(source.questions)} questions into quiz {quiz.key} (id {quiz.id}) of {course.slug}")


@quiz_cli.command("import-gift")
@click.argument("course_slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--title", help="Quiz title (default: the file name).")
def import_gift_command(course_slug, file, title):
    """Import a Moodle GIFT file as a quiz of the course (run again to update it)."""
    from lms.quizzes.gift import parse_gift

    _import(course_slug, file, parse_gift, title, keep_gift_text=True)


@quiz_cli.command("import-aiken")
@click.argument("course_slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--title", help="Quiz title (default: the file name).")
def import_aiken_command(course_slug, file, title):
    """Import a Moodle Aiken file as a quiz of the course."""
    from lms.quizzes.aiken import parse_aiken

    _import(course_slug, file, parse_aiken, title, keep_gift_text=False)


@quiz_cli.command("export-gift")
@click.argument("course_slug")
@click.argument("quiz_slug")
def export_gift_command(course_slug, quiz_slug):
    """Print a quiz as GIFT (QUIZ_SLUG: its key such as `02-kiem-tra/quiz`, the module, or its id)."""
    from lms.quizzes.gift import export_gift
    from lms.quizzes.sync import find_quiz

    quiz = find_quiz(_course(course_slug), quiz_slug)
    if quiz is None:
        raise click.ClickException(f"no single quiz matches {quiz_slug}")
    click.echo(export_gift(quiz), nl=False)


@quiz_cli.command("finish-overdue")
def finish_overdue_command():
    """Finish timed attempts left open past their deadline (what the beat task does every minute)."""
    from lms.quizzes.tasks import finish_overdue_attempts

    click.echo(f"finished {finish_overdue_attempts.run()} attempts")
