"""Command-line interface: `flask --app app <group> <command>`."""

import secrets
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from lms.core.frontmatter import SourceError
from lms.core.outbox import dispatch_ready, relay
from lms.extensions import db

localities_cli = AppGroup("localities", help="Administrative units (both 2025 schemes).")
courses_cli = AppGroup("courses", help="Import and check Markdown courses.")
users_cli = AppGroup("users", help="Accounts.")
demo_cli = AppGroup("demo", help="Demo accounts for the embedded default.")
outbox_cli = AppGroup("outbox", help="Background work that must not be lost.")


@localities_cli.command("load")
def load_localities_command():
    """Load (or update) the shipped locality data; safe to run again."""
    from lms.localities.operations import load_localities

    counts = load_localities()
    db.session.commit()
    click.echo(f"localities: {counts['units']} units ({counts['inserted']} new, {counts['updated']} updated), "
               f"{counts['lineage']} lineage rows")


@courses_cli.command("import")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("slugs", nargs=-1)
@click.option("--force", is_flag=True, help="Re-apply courses even when their files did not change.")
def import_courses_command(path, slugs, force):
    """Import every course folder under PATH (or only SLUGS). A course with an error keeps its previous version."""
    from lms.catalog.operations import import_course
    from lms.catalog.source import find_course_folders, read_course

    counts = {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}
    for folder in find_course_folders(path):
        if slugs and folder.name not in slugs:
            continue
        try:
            outcome = import_course(read_course(folder), force=force)
            db.session.commit()
        except SourceError as error:
            db.session.rollback()
            outcome = "failed"
            click.echo(f"error: {error}", err=True)
        counts[outcome] += 1
        click.echo(f"{outcome:9} {folder.name}")
    dispatch_ready()
    click.echo(", ".join(f"{count} {name}" for name, count in counts.items()))
    if counts["failed"]:
        sys.exit(1)


@courses_cli.command("check")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
def check_courses_command(path):
    """Check course folders without importing; exit 1 on error."""
    from lms.catalog.source import find_course_folders, read_course

    failed = 0
    folders = find_course_folders(path)
    for folder in folders:
        try:
            read_course(folder)
        except SourceError as error:
            failed += 1
            click.echo(f"{error.where}: error: {error.message}")
    click.echo(f"{len(folders) - failed} ok, {failed} with errors")
    sys.exit(1 if failed else 0)


def _create_user(name, login, password, audience="citizen", roles=(), locality=None):
    from lms.accounts import operations

    email, phone = operations.split_login(login)
    user = operations.find_by_login(login)
    if user is None:
        user = operations.create_user(name, password, email=email, phone=phone, audience=audience, locality=locality)
    for role in roles:
        scope = locality if role == "manager" else None
        operations.grant_role(user, role, locality=scope)
    return user


@users_cli.command("create-admin")
@click.option("--name", prompt="Full name")
@click.option("--login", prompt="E-mail or phone")
@click.password_option()
def create_admin_command(name, login, password):
    """Create an administrator (or make an existing account one)."""
    from lms.accounts import operations

    try:
        user = _create_user(name, login, password, audience="official", roles=("admin",))
    except operations.AccountError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"administrator: {user.login_name}")


@users_cli.command("grant")
@click.argument("login")
@click.argument("role", type=click.Choice(["trainer", "manager", "admin"]))
@click.option("--locality", help='Scope of a manager, as "scheme/code", e.g. 2025-07/26506 or 2025-07/79.')
def grant_command(login, role, locality):
    """Give an existing account a role (a manager needs --locality)."""
    from lms.accounts import operations
    from lms.localities.queries import find_unit

    user = operations.find_by_login(login)
    if user is None:
        raise click.ClickException(f"no account with the log-in {login}")
    scope = find_unit(locality) if locality else None
    if locality and scope is None:
        raise click.ClickException(f"no locality {locality}")
    try:
        operations.grant_role(user, role, locality=scope)
    except operations.AccountError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"{user.login_name}: {role}" + (f" of {scope.label}" if scope else ""))


DEMO_ACCOUNTS = [
    # (role, name, login, password, audience, home commune code in the 2025-07 scheme)
    ("learner", "Nguyễn Thị Lan", "hocvien@demo.vn", "hocvien-demo-2025", "citizen", "26506"),
    ("trainer", "Trần Văn Minh", "giangvien@demo.vn", "giangvien-demo-2025", "official", "26506"),
    ("manager", "Lê Hoàng Phúc", "quanly@demo.vn", "quanly-demo-2025", "official", "26506"),
    ("admin", "Phạm Quốc Bảo", "quantri@demo.vn", "quantri-demo-2025", "official", "26506"),
]


@demo_cli.command("create")
def create_demo_command():
    """Create one demo account per role (embedded default or LMS_DEMO=1 only)."""
    from lms.localities.models import Locality

    if not current_app.config["LMS_DEMO"]:
        raise click.ClickException("demo accounts are only created in the embedded default or with LMS_DEMO=1")
    click.echo("Demo accounts (log in at /login):")
    for role, name, login, password, audience, commune in DEMO_ACCOUNTS:
        locality = db.session.scalar(db.select(Locality).where(
            Locality.scheme == "2025-07", Locality.level == "commune", Locality.code == commune))
        roles = () if role == "learner" else (role,)
        _create_user(name, login, password, audience=audience, roles=roles, locality=locality)
        click.echo(f"  {role:8} {login:22} {password}")
    db.session.commit()


@outbox_cli.command("relay")
@click.option("--older-than", default=0, help="Only messages older than this many seconds.")
def relay_command(older_than):
    """Send outbox messages that never reached the broker."""
    click.echo(f"dispatched {relay(older_than)}")


@click.command("generate-secret")
def generate_secret_command():
    """Print a value suitable for SECRET_KEY."""
    click.echo(secrets.token_urlsafe(48))


def register_cli(app):
    from lms.quizzes.cli import quiz_cli

    for group in (localities_cli, courses_cli, users_cli, demo_cli, outbox_cli, quiz_cli):
        app.cli.add_command(group)
    app.cli.add_command(generate_secret_command)
