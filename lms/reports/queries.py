"""Coverage per commune inside a scope. The scope is applied in the query, not in the view.

Two boundary modes: "current" rolls facts recorded in old units up to the unit that replaced
them (through `Locality.current_id`); "recorded" keeps the unit the fact was made in.
"""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from lms.certificates.models import Certificate
from lms.enrollment.models import Enrollment
from lms.extensions import db
from lms.localities.models import Locality

MODES = ("current", "recorded")


@dataclass
class CoverageRow:
    locality: Locality
    enrolled: int = 0
    completed: int = 0
    certificates: int = 0

    @property
    def completion_rate(self) -> int:
        return round(100 * self.completed / self.enrolled) if self.enrolled else 0


def _grouped(fact_locality_column, scope: Locality, mode: str, *aggregates):
    """Facts in scope, grouped per unit: recorded under the scope, or rolled up (through the
    lineage) to a unit that the scope's subtree rolls up to — the same rule as Locality.contains."""
    recorded = aliased(Locality)
    group_key = recorded.current_id if mode == "current" else recorded.id
    return (select(group_key.label("unit_id"), *aggregates)
            .join(recorded, recorded.id == fact_locality_column)
            .where(scope.covers_clause(recorded))
            .group_by(group_key))


def coverage(scope: Locality, mode: str = "current", course_id: int | None = None) -> list[CoverageRow]:
    enrollments = _grouped(Enrollment.locality_id, scope, mode, func.count(Enrollment.id),
                           func.count(Enrollment.completed_at))
    certificates = _grouped(Certificate.locality_id, scope, mode, func.count(Certificate.id))
    if course_id:
        enrollments = enrollments.where(Enrollment.course_id == course_id)
        certificates = certificates.where(Certificate.course_id == course_id)
    rows: dict[int, list[int]] = {}
    for unit_id, enrolled, completed in db.session.execute(enrollments):
        rows.setdefault(unit_id, [0, 0, 0])[:2] = [enrolled, completed]
    for unit_id, issued in db.session.execute(certificates):
        rows.setdefault(unit_id, [0, 0, 0])[2] = issued
    rows.pop(None, None)
    units = {u.id: u for u in db.session.scalars(select(Locality).where(Locality.id.in_(rows)))} if rows else {}
    result = [CoverageRow(units[unit_id], *counts) for unit_id, counts in rows.items() if unit_id in units]
    return sorted(result, key=lambda row: row.locality.name_folded)


def totals(rows: list[CoverageRow]) -> CoverageRow:
    total = CoverageRow(locality=None)
    for row in rows:
        total.enrolled += row.enrolled
        total.completed += row.completed
        total.certificates += row.certificates
    return total
