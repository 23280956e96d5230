"""Command-line interface: `flask --app app <group> <command>`."""

import secrets
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from lms.core.frontmatter import SourceError
from lms.core.outbox import dispatch_ready
from lms.extensions import db

localities_cli = AppGroup("localities", help="Administrative units (both 2025 schemes).")
courses_cli = AppGroup("courses", help="Import and check Markdown courses.")
users_cli = AppGroup("users", help="Accounts.")
demo_cli = AppGroup("demo", help="Demo accounts for the embedded default.")
agencies_cli = AppGroup("agencies", help="Agencies: departments, people's committees, offices.")


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
        except SQLAlchemyError as error:  # e.g. a unique value taken by a concurrent import
            db.session.rollback()
            outcome = "failed"
            click.echo(f"error: {folder}: the database refused the course (a value that must be unique is already "
                       f"used, or a value does not fit): {getattr(error, 'orig', error)}", err=True)
        counts[outcome] += 1
        click.echo(f"{outcome:9} {folder.name}")
    from lms.catalog.operations import rerender_stale

    rerendered = rerender_stale()
    db.session.commit()
    if rerendered:
        click.echo(f"re-rendered {rerendered} lessons of other courses (renderer version changed)")
    dispatch_ready()
    click.echo(", ".join(f"{count} {name}" for name, count in counts.items()))
    if counts["failed"]:
        sys.exit(1)


@courses_cli.command("check")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
def check_courses_command(path):
    """Check course folders without importing: every error as file:line; exit 1 on error."""
    from lms.catalog.source import check_folders

    results = check_folders(path, taken_by=_code_owner())
    failed = 0
    for _folder, errors in results:
        failed += bool(errors)
        for error in errors:
            click.echo(f"{error.where}: error: {error.message}")
    click.echo(f"{len(results) - failed} ok, {failed} with errors")
    sys.exit(1 if failed else 0)


def _code_owner():
    """`taken_by` for the checker: the course already using a code in the database, when there is a
    database with courses to ask (a fresh clone may check before `db upgrade`)."""
    from lms.catalog.queries import code_taken_by

    try:
        code_taken_by("", "")
    except SQLAlchemyError:
        db.session.rollback()
        click.echo("note: the database was not asked whether course codes are taken", err=True)
        return None

    def taken_by(slug, code):
        other = code_taken_by(slug, code)
        return (other.slug, other.title) if other is not None else None

    return taken_by


@courses_cli.command("export")
@click.argument("slug")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export_course_command(slug, directory):
    """Write course SLUG back as a folder DIRECTORY/SLUG in the course format."""
    from lms.catalog.export import export_course
    from lms.catalog.queries import course_by_slug

    course = course_by_slug(slug)
    if course is None:
        raise click.ClickException(f"no course {slug}")
    target = export_course(course, directory)
    click.echo(f"exported {slug} to {target}")


@courses_cli.command("give")
@click.argument("slug")
@click.argument("login")
def give_course_command(slug, login):
    """Let trainer LOGIN edit course SLUG in the browser editor (/author)."""
    from lms.accounts.operations import find_by_login
    from lms.authoring.operations import EditError, add_owner
    from lms.catalog.queries import course_by_slug

    course, user = course_by_slug(slug), find_by_login(login)
    if course is None or user is None:
        raise click.ClickException(f"no course {slug}" if course is None else f"no account with the log-in {login}")
    try:
        add_owner(course, user)
    except EditError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"{user.login_name} can edit {slug}")


@courses_cli.command("rerender")
@click.option("--all", "everything", is_flag=True, help="Every course, e.g. after changing LMS_IFRAME_HOSTS.")
def rerender_command(everything):
    """Re-render stored HTML written by an older renderer version (import does this too)."""
    from lms.catalog.operations import rerender_stale

    count = rerender_stale(everything)
    db.session.commit()
    click.echo(f"re-rendered {count} lessons")


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
@click.argument("role", type=click.Choice(["trainer", "manager", "librarian", "admin"]))
@click.option("--locality", help='Scope of a manager or librarian, as "scheme/code", e.g. 2025-07/26506 or 2025-07/79.')
@click.option("--agency", help="Scope of a manager as an agency code: the agency and all its offices.")
def grant_command(login, role, locality, agency):
    """Give an existing account a role (a manager needs --locality or --agency)."""
    from lms.accounts import operations
    from lms.agencies.queries import by_code
    from lms.localities.queries import find_unit

    user = operations.find_by_login(login)
    if user is None:
        raise click.ClickException(f"no account with the log-in {login}")
    scope = find_unit(locality) if locality else None
    if locality and scope is None:
        raise click.ClickException(f"no locality {locality}")
    agency_scope = by_code(agency) if agency else None
    if agency and agency_scope is None:
        raise click.ClickException(f"no agency {agency}")
    try:
        operations.grant_role(user, role, locality=scope, agency=agency_scope)
    except operations.AccountError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"{user.login_name}: {role}" + (f" of {scope.label}" if scope else "")
               + (f" of {agency_scope.name}" if agency_scope else ""))


DEMO_ACCOUNTS = [
    # (role, name, login, password, audience, home commune code in the 2025-07 scheme)
    ("learner", "Nguyễn Thị Lan", "hocvien@demo.vn", "hocvien-demo-2025", "citizen", "26506"),
    ("trainer", "Trần Văn Minh", "giangvien@demo.vn", "giangvien-demo-2025", "official", "26506"),
    ("manager", "Lê Hoàng Phúc", "quanly@demo.vn", "quanly-demo-2025", "official", "26506"),
    ("librarian", "Võ Thị Thu", "thuvien@demo.vn", "thuvien-demo-2025", "official", "26506"),
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
        user = _create_user(name, login, password, audience=audience, roles=roles, locality=locality)
        if role == "trainer":
            # So the demo trainer can try the browser editor on the starter courses at once.
            from lms.authoring.operations import add_owner
            from lms.catalog.models import Course

            for course in db.session.scalars(db.select(Course)):
                add_owner(course, user)
        click.echo(f"  {role:8} {login:22} {password}")
    db.session.commit()


@agencies_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_agencies_command(path):
    """Create or update agencies from a CSV (code, name, parent_code, kind, locality_code); safe to run again."""
    from lms.agencies.operations import AgencyError, import_agencies_csv

    try:
        counts = import_agencies_csv(path.read_bytes())
    except AgencyError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    for number, message in counts["errors"]:
        click.echo(f"row {number}: {message}", err=True)
    click.echo(f"{counts['created']} created, {counts['updated']} updated, {len(counts['errors'])} failed")
    if counts["errors"] and not (counts["created"] or counts["updated"]):
        sys.exit(1)


@users_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and print what would happen; save nothing.")
@click.option("--audience", type=click.Choice(["official", "citizen", "cio"]), default="official",
              help="Audience of rows without an audience column.")
def import_users_command(path, dry_run, audience):
    """Create or update accounts from a CSV or XLSX file (matched by e-mail, then phone)."""
    from lms.imports.mapping import detect
    from lms.imports.operations import apply_plan, plan_import
    from lms.imports.reader import FileFormatError, read_table

    try:
        headers, rows = read_table(path.read_bytes(), path.name)
    except FileFormatError as error:
        raise click.ClickException(str(error)) from None
    mapping = detect(headers)
    click.echo("columns: " + ", ".join(f"{field}={column!r}" for field, column in mapping.items()))
    if "full_name" not in mapping or not ({"email", "phone"} & set(mapping)):
        raise click.ClickException("the file needs a full-name column and an e-mail or phone column")
    plan = plan_import(headers, rows, mapping, audience)
    for number, _cells, message in plan.errors:
        click.echo(f"row {number}: {message}", err=True)
    if not dry_run:
        apply_plan(plan)
        from lms.assignments.operations import apply_all_rules

        assigned = apply_all_rules()
        db.session.commit()
        if assigned:
            click.echo(f"{assigned} enrollments assigned by rules")
    counts = plan.counts
    prefix = "dry run: would be " if dry_run else ""
    click.echo(f"{prefix}{counts['created']} created, {counts['updated']} updated, {counts['unchanged']} unchanged, "
               f"{counts['failed']} failed")
    if not (counts["created"] or counts["updated"] or counts["unchanged"]):
        sys.exit(1)


@users_cli.command("set-password-link")
@click.argument("login")
def set_password_link_command(login):
    """Print a one-time set-password link for an account (e.g. an imported one)."""
    from lms.accounts import operations, recovery

    user = operations.find_by_login(login)
    if user is None:
        raise click.ClickException(f"no account with the log-in {login}")
    click.echo(recovery.set_password_link(user))


@click.command("generate-secret")
def generate_secret_command():
    """Print a value suitable for SECRET_KEY."""
    click.echo(secrets.token_urlsafe(48))


def register_cli(app):
    from lms.api.cli import api_cli
    from lms.assignments.cli import assignments_cli
    from lms.certificates.cli import certificates_cli
    from lms.community.cli import community_cli
    from lms.core.cli import register as register_core_cli
    from lms.library.cli import library_cli
    from lms.notifications.cli import notifications_cli
    from lms.privacy.cli import privacy_cli
    from lms.programs.cli import programs_cli
    from lms.quizzes.cli import quiz_cli
    from lms.reports.cli import reports_cli, synthetic_command
    from lms.search.cli import search_cli

    register_core_cli(app)
    for group in (localities_cli, courses_cli, users_cli, demo_cli, agencies_cli, notifications_cli,
                  certificates_cli, programs_cli, reports_cli, api_cli, assignments_cli, quiz_cli, privacy_cli,
                  library_cli, search_cli, community_cli):
        app.cli.add_command(group)
    app.cli.add_command(synthetic_command)
    app.cli.add_command(generate_secret_command)
