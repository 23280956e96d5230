import click
from flask.cli import AppGroup

from lms.extensions import db

privacy_cli = AppGroup("privacy", help="Personal data: deletion requests (docs/privacy.md).")


@privacy_cli.command("erase-due")
def erase_due_command():
    """Erase now the accounts whose deletion grace period has ended (beat does it every night)."""
    from lms.privacy.erasure import erase_due

    count = erase_due()
    db.session.commit()
    click.echo(f"{count} account(s) erased")
