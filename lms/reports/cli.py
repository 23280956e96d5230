from pathlib import Path

import click
from flask.cli import AppGroup

from lms.extensions import db

reports_cli = AppGroup("reports", help="Report summary and targets.")


@reports_cli.command("refresh")
def refresh_command():
    """Rebuild the report summary now (Celery beat does it every few minutes)."""
    from lms.reports.summary import refresh

    rows = refresh()
    db.session.commit()
    click.echo(f"report summary: {rows} rows")


@reports_cli.command("import-targets")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_targets_command(path):
    """Targets from a CSV: locality,audience,population,target_percent,due_on (e.g. 2025-07/26506,citizen,52000,60,2026-12-31)."""
    from lms.core.signals import answer, targets_file_received

    try:
        count = answer(targets_file_received, None, text=path.read_text(encoding="utf-8-sig"))
    except ValueError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"targets: {count} saved")


@click.command("synthetic")
@click.option("--users", default=2000, show_default=True)
@click.option("--enrollments", default=10000, show_default=True)
@click.option("--progress-per-enrollment", default=5, show_default=True, help="Lesson-progress rows per enrolment (mean).")
@click.option("--seed", default=2025, show_default=True)
@click.option("--force", is_flag=True, help="Add the synthetic province even beside real accounts.")
def synthetic_command(users, enrollments, progress_per_enrollment, seed, force):
    """Fill the database with a synthetic province (for demos and benchmarks; never in production)."""
    from lms.reports.synthetic import generate, real_accounts

    real = real_accounts()
    if real and not force:
        raise click.ClickException(
            f"this database has {real} real account(s): synthetic people would be counted in its reports. "
            "Use an empty database (or demo accounts only), or --force if this really is a test copy.")
    counts = generate(users=users, enrollments=enrollments, progress_per_enrollment=progress_per_enrollment,
                      seed=seed, echo=click.echo)
    click.echo(", ".join(f"{count} {name}" for name, count in counts.items()))
