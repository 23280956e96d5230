import click
from flask.cli import AppGroup
from sqlalchemy import select

from lms.extensions import db

api_cli = AppGroup("api", help="API tokens for the operations centre.")


@api_cli.command("create-token")
@click.option("--name", required=True, help="Who uses it, e.g. 'IOC Bà Rịa-Vũng Tàu'.")
@click.option("--locality", required=True, help='Scope as "scheme/code", e.g. 2025-01/77 or 2025-07/26506.')
@click.option("--agency", default=None, help="Agency code: the token then sees only that agency's people.")
def create_token_command(name, locality, agency):
    """Create a token; it is printed once and only its hash is kept."""
    from lms.agencies.models import Agency
    from lms.api.operations import create_token
    from lms.localities.queries import find_unit

    unit = find_unit(locality)
    if unit is None:
        raise click.ClickException(f"no locality {locality}")
    scope = None
    if agency:
        scope = db.session.scalar(select(Agency).where(Agency.code == agency))
        if scope is None:
            raise click.ClickException(f"no agency {agency}")
    token, secret = create_token(name, unit, agency=scope)
    db.session.commit()
    click.echo(f"token {token.id} for {unit.label}:")
    click.echo(secret)


@api_cli.command("list-tokens")
def list_tokens_command():
    from lms.api.models import ApiToken

    for token in db.session.scalars(select(ApiToken).order_by(ApiToken.id)):
        state = "revoked" if token.revoked_at else "active"
        click.echo(f"{token.id}\t{state}\t{token.name}\t{token.locality.label}\tlast used {token.last_used_at or '-'}")


@api_cli.command("revoke-token")
@click.argument("token_id", type=int)
def revoke_token_command(token_id):
    from lms.api.models import ApiToken
    from lms.api.operations import revoke_token

    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise click.ClickException(f"no token {token_id}")
    revoke_token(token)
    db.session.commit()
    click.echo(f"token {token_id} revoked")
