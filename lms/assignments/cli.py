"""`flask assignments …`: the beat jobs, by hand (catch-up runs, cron without Celery beat)."""

import click
from flask.cli import AppGroup

from lms.core.outbox import dispatch_ready
from lms.extensions import db

assignments_cli = AppGroup("assignments", help="Assigned training: rules, deadline reminders, digests.")


@assignments_cli.command("apply")
def apply_command():
    """Apply every active rule to everyone who matches it now. Safe to run again."""
    from lms.assignments.operations import apply_all_rules

    created = apply_all_rules()
    db.session.commit()
    click.echo(f"{created} enrollments assigned")


@assignments_cli.command("remind")
def remind_command():
    """Send today's deadline reminders (7 days, 1 day, overdue). Never sends one twice."""
    from lms.assignments.reminders import send_deadline_reminders

    sent = send_deadline_reminders()
    db.session.commit()
    dispatch_ready()
    click.echo(f"{sent} reminders")


@assignments_cli.command("digest")
def digest_command():
    """Send this week's digest to managers with overdue people in their area (once a week)."""
    from lms.assignments.reminders import send_manager_digests

    sent = send_manager_digests()
    db.session.commit()
    dispatch_ready()
    click.echo(f"{sent} digests")
