"""Read-only locality queries: the commune picker and the home area."""

from flask import current_app
from sqlalchemy import case, select
from sqlalchemy.orm import aliased

from lms.core.text import like_pattern
from lms.extensions import db
from lms.localities.models import CURRENT_SCHEME, Locality


def find_unit(ref: str) -> Locality | None:
    """A unit by "scheme/code" (province level first), e.g. "2025-01/77" or "2025-07/26506"."""
    scheme, _, code = ref.partition("/")
    units = db.session.scalars(select(Locality).where(Locality.scheme == scheme, Locality.code == code)).all()
    order = {"province": 0, "district": 1, "commune": 2}
    return min(units, key=lambda u: order.get(u.level, 3)) if units else None


def home_area() -> Locality | None:
    return find_unit(current_app.config["LMS_HOME_LOCALITY"])


def home_commune_ids() -> set[int]:
    """Current communes of the home area, resolved through lineage when it is an old unit."""
    area = home_area()
    if area is None:
        return set()
    # Not only communes: an old island district (Côn Đảo) had none and became a commune-level zone.
    successor = aliased(Locality)
    return set(db.session.scalars(
        select(successor.id).distinct()
        .join(Locality, Locality.current_id == successor.id)
        .where(Locality.path.startswith(area.path), successor.level == "commune")
    ))


def home_communes() -> list[Locality]:
    ids = home_commune_ids()
    if not ids:
        return []
    return db.session.scalars(select(Locality).where(Locality.id.in_(ids)).order_by(Locality.name_folded)).all()


def search_communes(query: str, limit: int = 20) -> list[tuple[Locality, str | None]]:
    """Current communes whose name — or a former commune's name — matches, with or without diacritics.

    Returns (current commune, former name when the match came through lineage). Communes of
    the home area come first.
    """
    if not query or not query.strip():
        return []
    matched = aliased(Locality)
    home_ids = home_commune_ids() or {-1}
    rows = db.session.execute(
        select(Locality, matched.name, matched.scheme)
        .join(matched, matched.current_id == Locality.id)
        .where(matched.level == "commune", matched.name_folded.like(like_pattern(query), escape="\\"),
               Locality.scheme == CURRENT_SCHEME)
        .order_by(case((Locality.id.in_(home_ids), 0), else_=1), Locality.name_folded,
                  case((matched.scheme == CURRENT_SCHEME, 0), else_=1))
        .limit(limit * 3)
    ).all()
    results, seen = [], set()
    for unit, matched_name, matched_scheme in rows:
        if unit.id in seen:
            continue
        seen.add(unit.id)
        results.append((unit, None if matched_scheme == CURRENT_SCHEME else matched_name))
        if len(results) == limit:
            break
    return results


def communes_by_ids(ids) -> dict[int, Locality]:
    ids = [i for i in ids if i]
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(Locality).where(Locality.id.in_(ids)))}
