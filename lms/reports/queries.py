"""Coverage inside a scope. The scope is applied in the query, not in the view.

Two boundary modes: "current" rolls facts recorded in old units up to the unit that replaced
them (through `Locality.current_id`); "recorded" keeps the unit the fact was made in.

Rows are the children of the unit looked at (drill-down: province → district → commune in
the 2025-01 scheme; province → commune in 2025-07). A fact whose unit lies outside the
unit's own tree — reached across the reform — gets a row of its own unit (e.g. an old
commune merged into a current ward, shown as recorded).

Numbers come from `ReportSummary` (see lms/reports/summary.py).
"""

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from sqlalchemy import case, func, or_, select, union

from lms.agencies.models import Agency
from lms.catalog.models import Course
from lms.extensions import db
from lms.localities.models import Locality
from lms.programs.models import Program, ProgramCourse
from lms.reports.models import LocalityTarget, ReportSummary, ReportSummaryAllTime

MODES = ("current", "recorded")
AUDIENCES = ("citizen", "official", "cio")
METRICS = ("enrolled", "active", "completed", "hours", "attempts", "passed", "score_sum", "certificates",
           "program_certificates", "overdue", "learners", "trained")


def program_course_ids(program: str):
    """Courses of a program: the Program with that slug (through ProgramCourse), or — for links
    made before programs existed — the courses whose old `Course.program` text is that value."""
    return union(select(ProgramCourse.course_id).join(Program, Program.id == ProgramCourse.program_id)
                 .where(Program.slug == program),
                 select(Course.id).where(Course.program == program))


def agency_subtree_ids(agency_id: int):
    """The agency and every agency under it (materialised path prefix)."""
    path = db.session.scalar(select(Agency.path).where(Agency.id == agency_id))
    if not path:
        return select(Agency.id).where(Agency.id == agency_id)
    return select(Agency.id).where(Agency.path.startswith(path))


@dataclass(frozen=True)
class ReportFilter:
    """What narrows a report. `program` is a Program slug (or an old `Course.program` value);
    `agency_id` counts the enrolments recorded in that agency or any agency under it."""

    course_id: int | None = None
    program: str | None = None
    audience: str | None = None
    month_from: date | None = None
    month_to: date | None = None
    agency_id: int | None = None

    def as_params(self) -> dict:
        params = {"course": str(self.course_id) if self.course_id else None, "program": self.program, "audience": self.audience,
                  "agency": str(self.agency_id) if self.agency_id else None,
                  "from": self.month_from.strftime("%Y-%m") if self.month_from else None,
                  "to": self.month_to.strftime("%Y-%m") if self.month_to else None}
        return {key: value for key, value in params.items() if value}

    @property
    def table(self):
        """The summary to read: by month only when a month range asks for it."""
        return ReportSummary if self.month_from or self.month_to else ReportSummaryAllTime

    def narrow(self, query, course_id, audience, agency_id, program_id=None):
        """Course, program, audience and agency conditions on the given columns: the one place
        these filters are defined, for the summary tables and for live queries alike. With a
        `program_id` column (the summary's program certificates) the program filter also keeps
        the rows of that program itself."""
        if self.course_id:
            query = query.where(course_id == self.course_id)
        if self.program:
            in_program = course_id.in_(program_course_ids(self.program))
            if program_id is not None:
                in_program = or_(in_program, program_id.in_(select(Program.id).where(Program.slug == self.program)))
            query = query.where(in_program)
        if self.audience:
            query = query.where(audience == self.audience)
        if self.agency_id:
            query = query.where(agency_id.in_(agency_subtree_ids(self.agency_id)))
        return query

    def apply(self, query):
        table = self.table
        query = self.narrow(query, table.course_id, table.audience, table.agency_id, table.program_id)
        if self.month_from:
            query = query.where(ReportSummary.period >= self.month_from)
        if self.month_to:
            query = query.where(ReportSummary.period <= self.month_to)
        return query


@dataclass
class CoverageRow:
    locality: Locality | None
    enrolled: int = 0
    active: int = 0
    completed: int = 0
    hours: Decimal = Decimal(0)
    attempts: int = 0
    passed: int = 0
    score_sum: Decimal = Decimal(0)
    certificates: int = 0  # course certificates (not revoked)
    program_certificates: int = 0  # certificates of whole programs (not revoked)
    overdue: int = 0  # required training past its deadline and not completed
    learners: int = 0  # residents (citizens) reached: counted at their first enrolment
    trained: int = 0  # officials and CIOs trained: counted at their first completion
    targets: dict = field(default_factory=dict)

    def add(self, other: "CoverageRow") -> None:
        for name in METRICS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def completion_rate(self) -> int:
        return round(100 * self.completed / self.enrolled) if self.enrolled else 0

    @property
    def pass_rate(self) -> int:
        return round(100 * self.passed / self.attempts) if self.attempts else 0

    @property
    def average_score(self) -> float | None:
        return round(float(self.score_sum) / self.attempts, 1) if self.attempts else None

    def target_progress(self) -> list["TargetProgress"]:
        """Progress of this row's unit against its targets: everyone with the page's filters applied; a target of
        the assisted or the self-learners by the community coverage rule (unfiltered)."""
        ordered = sorted(self.targets.values(), key=_target_order)
        # The split costs live queries: only rows with a target of the assisted or the self-learners pay for it.
        split = _split(self.locality) if any(t.audience == "citizen" and t.counts != "all" for t in ordered) else None
        return [_progress(target, self.learners if target.audience == "citizen" else self.trained, split)
                for target in ordered]

    def as_dict(self) -> dict:
        return {"enrolled": self.enrolled, "active_30_days": self.active, "completed": self.completed,
                "completion_percent": self.completion_rate, "attempts": self.attempts, "passed": self.passed,
                "pass_percent": self.pass_rate, "average_score": self.average_score,
                "certificates": self.certificates, "program_certificates": self.program_certificates,
                "overdue_required": self.overdue, "training_hours": float(self.hours)}


class ScopeError(Exception):
    """The viewer may not see this combination of unit and agency."""


def restrict_to_agencies(filters: ReportFilter, agencies: list) -> ReportFilter:
    """`filters` for a viewer who may only see the people of `agencies` (subtrees): an agency
    asked for must lie in one of them; without one, a viewer with a single agency gets it.
    Raises ScopeError otherwise (several agencies and none chosen, or one outside)."""
    if filters.agency_id:
        agency = db.session.get(Agency, filters.agency_id)
        if any(scope.contains(agency) for scope in agencies):
            return filters
        raise ScopeError
    if len(agencies) == 1:
        return replace(filters, agency_id=agencies[0].id)
    raise ScopeError


def scope_condition(unit_alias, scope: Locality):
    """Units whose facts belong to `scope`: under it as recorded, or rolled up into it."""
    return scope.covers_clause(unit_alias)


def scope_unit_ids(scope: Locality) -> dict[int, int | None]:
    """{unit id: current unit id} of every unit whose facts belong to `scope` (a few hundred at most
    for a province), fetched first so the summary is read through its locality index."""
    return dict(db.session.execute(select(Locality.id, Locality.current_id).where(scope_condition(Locality, scope))).all())


def _grouped(scope: Locality, mode: str, filters: ReportFilter) -> dict[int, CoverageRow]:
    table = filters.table
    in_scope = scope_unit_ids(scope)
    sums = [func.sum(getattr(table, name)) for name in METRICS[:-2]]
    sums += [func.sum(case((table.audience == "citizen", table.learners), else_=0)),
             func.sum(case((table.audience != "citizen", table.trained), else_=0))]
    query = (select(table.locality_id, *sums)
             .where(table.locality_id.in_(in_scope))
             .group_by(table.locality_id))
    query = filters.apply(query)
    result: dict[int, CoverageRow] = {}
    for unit_id, *sums in db.session.execute(query):
        key = in_scope[unit_id] if mode == "current" else unit_id
        if key is not None:
            counts = CoverageRow(None, **{name: value or 0 for name, value in zip(METRICS, sums, strict=True)})
            result.setdefault(key, CoverageRow(None)).add(counts)
    return result


def _row_unit_id(unit: Locality, scope: Locality) -> int:
    """The child of `scope` on the unit's path; the unit itself when outside scope's tree."""
    if unit.id == scope.id or not unit.path.startswith(scope.path):
        return unit.id
    return int(unit.path[len(scope.path):].split("/", 1)[0])


def coverage(scope: Locality, mode: str = "current", filters: ReportFilter | None = None,
             with_targets: bool = True) -> list[CoverageRow]:
    grouped = _grouped(scope, mode, filters or ReportFilter())
    if not grouped:
        return []
    units = {u.id: u for u in db.session.scalars(select(Locality).where(Locality.id.in_(grouped)))}
    rows: dict[int, CoverageRow] = {}
    for unit_id, counts in grouped.items():
        row_id = _row_unit_id(units[unit_id], scope)
        rows.setdefault(row_id, CoverageRow(None)).add(counts)
    missing = set(rows) - set(units)
    if missing:
        units.update({u.id: u for u in db.session.scalars(select(Locality).where(Locality.id.in_(missing)))})
    for row_id, row in rows.items():
        row.locality = units[row_id]
    if with_targets:
        for target in db.session.scalars(select(LocalityTarget).where(LocalityTarget.locality_id.in_(rows))):
            rows[target.locality_id].targets[(target.audience, target.counts)] = target
    return sorted(rows.values(), key=lambda row: row.locality.name_folded)


def totals(rows: list[CoverageRow]) -> CoverageRow:
    total = CoverageRow(locality=None)
    for row in rows:
        total.add(row)
    return total


_GROUPS = {"all": 0, "assisted": 1, "self": 2}


def _target_order(target) -> tuple:
    return target.audience, _GROUPS.get(target.counts, 9)


def _split(unit: Locality) -> dict:
    """Residents reached and completed in the unit, assisted / self (lms.community's coverage rule)."""
    from lms.community.queries import split_under

    return split_under(unit)


@dataclass
class TargetProgress:
    """A target with the people counted for it. For residents' targets `split` holds the unit's residents
    reached and completed, assisted / self, and `completed` those of the target's group who completed a course."""

    target: LocalityTarget
    reached: int
    split: dict | None = None
    completed: int | None = None

    @property
    def percent_of_population(self) -> int:
        return round(100 * self.reached / self.target.population) if self.target.population else 0

    @property
    def percent_of_target(self) -> int:
        goal = self.target.target_count
        return min(100, round(100 * self.reached / goal)) if goal else 100

    @property
    def percent_completed(self) -> int | None:
        goal = self.target.completed_target
        if not goal or self.completed is None:
            return None
        return min(100, round(100 * self.completed / goal))

    def as_dict(self) -> dict:
        target = self.target
        return {"audience": target.audience, "counts": target.counts, "population": target.population,
                "target_percent": target.target_percent, "target_count": target.target_count,
                "due_on": target.due_on.isoformat() if target.due_on else None, "reached": self.reached,
                "reached_percent_of_population": self.percent_of_population,
                "progress_percent": self.percent_of_target, "completed_target": target.completed_target,
                "completed": self.completed, "split": self.split}


def _progress(target: LocalityTarget, everyone: int, split: dict | None) -> TargetProgress:
    """Everyone's count for a target of all; the group's own count (coverage rule) for assisted / self."""
    if target.audience != "citizen" or split is None:
        return TargetProgress(target, int(everyone))
    groups = ("assisted", "self") if target.counts == "all" else (target.counts,)
    reached = everyone if target.counts == "all" else split["reached"][target.counts]
    return TargetProgress(target, int(reached), split, sum(split["completed"][g] for g in groups))


def target_progress(unit: Locality) -> list[TargetProgress]:
    """Targets of the unit with people reached (residents) / trained (officials), unfiltered."""
    targets = sorted(db.session.scalars(select(LocalityTarget).where(LocalityTarget.locality_id == unit.id)),
                     key=_target_order)
    if not targets:
        return []
    table = ReportSummaryAllTime
    people = {audience: (learners or 0, trained or 0) for audience, learners, trained in db.session.execute(
        select(table.audience, func.sum(table.learners), func.sum(table.trained))
        .where(table.locality_id.in_(scope_unit_ids(unit)))
        .group_by(table.audience))}
    split = _split(unit) if any(t.audience == "citizen" for t in targets) else None
    result = []
    for target in targets:
        if target.audience == "citizen":
            reached = people.get("citizen", (0, 0))[0]
        else:  # officials and CIOs are both civil servants
            reached = sum(people.get(a, (0, 0))[1] for a in ("official", "cio"))
        result.append(_progress(target, reached, split))
    return result
