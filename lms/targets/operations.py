"""Setting targets: the one writer of `locality_targets`, from the reports' form and CSV import and from
the community team page. Flush, never commit."""

import csv
import io
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.core.audit import record
from lms.extensions import db
from lms.localities.models import Locality
from lms.localities.queries import find_unit
from lms.targets.models import TARGET_AUDIENCES, TARGET_GROUPS, LocalityTarget


class TargetError(ValueError):
    pass


def set_target(unit: Locality, audience: str, population: int, target_percent: int, due_on: date | None,
               actor=None, *, counts: str = "all", completed: int | None = None) -> LocalityTarget:
    """Create or replace the unit's target for (audience, counts)."""
    if audience not in TARGET_AUDIENCES:
        raise TargetError(_l("Unknown audience “%(value)s”: use citizen or official.", value=audience))
    if counts not in TARGET_GROUPS:
        raise TargetError(_l("Unknown group “%(value)s”: use all, assisted or self.", value=counts))
    if audience != "citizen" and counts != "all":
        raise TargetError(_l("Only residents' targets can count assisted or self-learners apart."))
    if population < 1 or not 1 <= target_percent <= 100:
        raise TargetError(_l("The population must be positive and the share between 1 and 100."))
    if completed is not None and not 0 <= completed <= -(-population * target_percent // 100):
        raise TargetError(_l("People completing a course cannot be more than the people to reach."))
    target = db.session.scalar(select(LocalityTarget).where(
        LocalityTarget.locality_id == unit.id, LocalityTarget.audience == audience, LocalityTarget.counts == counts))
    if target is None:
        target = LocalityTarget(locality_id=unit.id, audience=audience, counts=counts)
        db.session.add(target)
    target.population, target.target_percent, target.due_on = population, target_percent, due_on
    target.completed_target, target.updated_by_id = completed, actor.id if actor else None
    db.session.flush()
    record(actor, "report_target.set", target, after={
        "locality": unit.id, "audience": audience, "counts": counts, "population": population,
        "percent": target_percent, "completed": completed, "due_on": due_on.isoformat() if due_on else None})
    return target


def _optional_int(value) -> int | None:
    value = (value or "").strip()
    return int(value) if value else None


def import_targets(text: str, actor=None) -> int:
    """CSV with a header: locality (scheme/code), audience, population, target_percent, and optionally
    due_on (YYYY-MM-DD, empty: no date), counts (all | assisted | self, empty: all), completed (people)."""
    count = 0
    for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        try:
            unit = find_unit((row.get("locality") or "").strip())
            if unit is None:
                raise TargetError(f"no locality {row.get('locality')!r}")
            due = (row.get("due_on") or "").strip()
            set_target(unit, (row.get("audience") or "").strip(), int(row["population"]), int(row["target_percent"]),
                       date.fromisoformat(due) if due else None, actor,
                       counts=(row.get("counts") or "").strip() or "all", completed=_optional_int(row.get("completed")))
        except (KeyError, TypeError, ValueError) as error:
            raise TargetError(f"line {line}: {error}") from None
        count += 1
    return count
