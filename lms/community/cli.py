from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from lms.extensions import db

community_cli = AppGroup("community", help="Community digital teams.")


@community_cli.command("import-hamlets")
@click.argument("commune_code")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_hamlets_command(commune_code, path):
    """A commune's hamlets (thôn, ấp, khu phố) from a CSV, one per line: COMMUNE_CODE is the current code (26506)."""
    from lms.community.operations import CommunityError, import_hamlets
    from lms.localities.models import Locality

    commune = db.session.scalar(select(Locality).where(Locality.level == "commune", Locality.code == commune_code)
                                .order_by(Locality.scheme.desc()).limit(1))
    if commune is None:
        raise click.ClickException(f"no commune with code {commune_code}")
    try:
        added = import_hamlets(None, commune, path.read_text(encoding="utf-8-sig"))
    except (CommunityError, UnicodeDecodeError) as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"{commune.name}: {added} hamlets added")
