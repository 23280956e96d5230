import click
from flask.cli import AppGroup

from lms.core.outbox import dispatch_ready
from lms.extensions import db

notifications_cli = AppGroup("notifications", help="In-app and e-mail notifications.")


@notifications_cli.command("send")
@click.argument("login")
@click.argument("subject")
@click.argument("body")
def send_command(login, subject, body):
    """Send a notification to one account (to test the e-mail settings)."""
    import uuid

    from lms.accounts.queries import find_by_login
    from lms.notifications.operations import notify

    user = find_by_login(login)
    if user is None:
        raise click.ClickException(f"no account with the log-in {login}")
    notification = notify(user, "general", subject, body, dedupe_key=f"cli:{uuid.uuid4().hex}")
    db.session.commit()
    dispatch_ready()
    click.echo(f"notification {notification.id}: e-mail {notification.email_status}")
