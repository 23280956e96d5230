"""Reads for community teams: residents' progress, a manager's communes, and the report that tells
self-learners from assisted ones (per commune and hamlet, and per team member)."""

from dataclasses import dataclass, field

import segno
from sqlalchemy import and_, case, exists, func, or_, select

from lms.accounts.models import User
from lms.community.models import TEAM_ROLE, AssistedSession, CommunityResident
from lms.core.permissions import can
from lms.enrollment.models import Enrollment
from lms.extensions import db
from lms.localities.models import Locality
from lms.practice.models import PracticeRun


def qr_svg(text: str) -> str:
    return segno.make(text, error="m").svg_inline(scale=4, border=2, dark="#16202b", light="#ffffff", omitsize=True)


def progress_of(user_ids: list[int]) -> dict[int, dict]:
    """{user id: courses enrolled, courses completed, simulations finished}."""
    if not user_ids:
        return {}
    result = {uid: {"enrolled": 0, "completed": 0, "simulations": 0} for uid in user_ids}
    for uid, enrolled, completed in db.session.execute(
            select(Enrollment.user_id, func.count(), func.count(Enrollment.completed_at))
            .where(Enrollment.user_id.in_(user_ids)).group_by(Enrollment.user_id)):
        result[uid].update(enrolled=enrolled, completed=completed)
    for uid, finished in db.session.execute(
            select(PracticeRun.user_id, func.count(func.distinct(PracticeRun.lesson_id)))
            .where(PracticeRun.user_id.in_(user_ids), PracticeRun.finished_at.is_not(None)).group_by(PracticeRun.user_id)):
        result[uid]["simulations"] = finished
    return result


def managed_communes(user) -> list[Locality]:
    """The current communes under the user's manager scopes (an admin: those of the home area)."""
    if can("administer", user):
        from lms.localities.queries import home_communes

        return home_communes()
    communes: dict[int, Locality] = {}
    for scope in user.manager_scopes():
        if scope.level == "commune":
            communes[scope.id] = scope
            continue
        for unit in db.session.scalars(select(Locality).where(
                Locality.path.startswith(scope.path), Locality.level == "commune", Locality.scheme == scope.scheme)):
            communes[unit.id] = unit
    return sorted(communes.values(), key=lambda unit: unit.name)


def _in_session(user_column, at_column):
    """Something the user did at that time happened inside one of their assisted sessions."""
    return exists().where(AssistedSession.resident_id == user_column, AssistedSession.started_at <= at_column,
                          or_(AssistedSession.ended_at.is_(None), AssistedSession.ended_at >= at_column))


@dataclass
class ReportRow:
    commune: str
    hamlet: str
    registered: int = 0  # residents the team registered
    assisted: int = 0  # residents helped in at least one assisted session
    self_learners: int = 0  # residents learning on their own (enrolled, never assisted, not team-registered)
    simulations_assisted: int = 0
    simulations_self: int = 0


@dataclass
class Report:
    rows: list[ReportRow] = field(default_factory=list)
    members: list[tuple[str, str, int, int, int]] = field(default_factory=list)  # name, commune, registered, assisted, sessions


def report(communes: list[Locality]) -> Report:
    ids = [c.id for c in communes]
    names = {c.id: c.name for c in communes}
    if not ids:
        return Report()
    rows: dict[tuple[int, str], ReportRow] = {}

    def row(locality_id, hamlet) -> ReportRow:
        key = (locality_id, hamlet or "")
        return rows.setdefault(key, ReportRow(names[locality_id], hamlet or ""))

    assisted_ever = exists().where(AssistedSession.resident_id == CommunityResident.user_id)
    for locality_id, hamlet, registered, assisted in db.session.execute(
            select(CommunityResident.locality_id, CommunityResident.hamlet, func.count(),
                   func.sum(case((assisted_ever, 1), else_=0)))
            .where(CommunityResident.locality_id.in_(ids))
            .group_by(CommunityResident.locality_id, CommunityResident.hamlet)):
        item = row(locality_id, hamlet)
        item.registered, item.assisted = registered, int(assisted or 0)
    helped = or_(exists().where(CommunityResident.user_id == User.id), exists().where(AssistedSession.resident_id == User.id))
    for locality_id, learners in db.session.execute(
            select(User.locality_id, func.count(func.distinct(User.id))).join(Enrollment, Enrollment.user_id == User.id)
            .where(User.locality_id.in_(ids), ~helped).group_by(User.locality_id)):
        row(locality_id, "").self_learners = learners
    hamlet = select(CommunityResident.hamlet).where(CommunityResident.user_id == User.id).scalar_subquery()
    runs = (select(User.locality_id.label("locality_id"), hamlet.label("hamlet"),
                   case((_in_session(PracticeRun.user_id, PracticeRun.finished_at), 1), else_=0).label("assisted"))
            .join(PracticeRun, PracticeRun.user_id == User.id)
            .where(User.locality_id.in_(ids), PracticeRun.finished_at.is_not(None)).subquery())
    for locality_id, place, assisted, count in db.session.execute(
            select(runs.c.locality_id, runs.c.hamlet, runs.c.assisted, func.count())
            .group_by(runs.c.locality_id, runs.c.hamlet, runs.c.assisted)):
        item = row(locality_id, place)
        if assisted:
            item.simulations_assisted += count
        else:
            item.simulations_self += count
    return Report(sorted(rows.values(), key=lambda r: (r.commune, r.hamlet)), _members(ids, names))


def _members(ids: list[int], names: dict[int, str]) -> list[tuple[str, str, int, int, int]]:
    from lms.accounts.models import RoleGrant

    result = []
    for member, locality_id in db.session.execute(
            select(User, RoleGrant.locality_id).join(RoleGrant, RoleGrant.user_id == User.id)
            .where(RoleGrant.role == TEAM_ROLE, RoleGrant.locality_id.in_(ids)).order_by(User.full_name)):
        registered = db.session.scalar(select(func.count()).where(CommunityResident.registered_by_id == member.id))
        assisted, sessions = db.session.execute(select(func.count(func.distinct(AssistedSession.resident_id)), func.count())
                                                .where(and_(AssistedSession.member_id == member.id))).one()
        result.append((member.full_name, names[locality_id], registered, assisted, sessions))
    return result


def assisted_attempts(user_id: int, course_id: int | None) -> int:
    """The user's submitted quiz attempts in the course that were taken in an assisted session."""
    from lms.quizzes.models import Attempt, Quiz

    if course_id is None:
        return 0
    return db.session.scalar(select(func.count()).select_from(Attempt).join(Quiz, Quiz.id == Attempt.quiz_id).where(
        Attempt.user_id == user_id, Quiz.course_id == course_id, Attempt.submitted_at.is_not(None),
        _in_session(Attempt.user_id, Attempt.submitted_at))) or 0


def assisted_attempt_ids(user_id: int, quiz_ids) -> set[int]:
    """The user's submitted attempts at these quizzes that were taken in an assisted session."""
    from lms.quizzes.models import Attempt

    return set(db.session.scalars(select(Attempt.id).where(
        Attempt.user_id == user_id, Attempt.quiz_id.in_(list(quiz_ids)), Attempt.submitted_at.is_not(None),
        _in_session(Attempt.user_id, Attempt.submitted_at))))


@dataclass
class Coverage:
    """A commune's residents reached and completed, split assisted / self-learners, against its targets
    (lms.targets: residents' targets of the commune, at most one per group all / assisted / self)."""

    commune: Locality
    reached: dict = field(default_factory=lambda: {"assisted": 0, "self": 0})
    completed: dict = field(default_factory=lambda: {"assisted": 0, "self": 0})
    targets: list = field(default_factory=list)

    @property
    def target(self):
        """The first target (all, then assisted, then self), or None."""
        return self.targets[0] if self.targets else None

    def counted(self, measure: str, group: str | None = None) -> int:
        """What a target of `group` counts: assisted, self-learners or both (default: the first target's group)."""
        values = getattr(self, measure)
        group = group or (self.target.counts if self.target is not None else "all")
        return values["assisted"] + values["self"] if group == "all" else values[group]

    def percent(self, measure: str, target=None) -> int | None:
        target = target if target is not None else self.target
        goal = goal_of(target, measure)
        return round(100 * self.counted(measure, target.counts) / goal) if goal else None


def goal_of(target, measure: str) -> int | None:
    """A target's number of people to reach ("reached") or to complete a course ("completed")."""
    if target is None:
        return None
    return target.target_count if measure == "reached" else target.completed_target


_GROUP_ORDER = {"all": 0, "assisted": 1, "self": 2}


def coverage(communes: list[Locality]) -> list[Coverage]:
    """Per commune: residents reached (registered or assisted by the team = assisted; enrolled on their own
    = self) and those of them who completed a course — the same split as the report's rows."""
    from lms.targets.models import LocalityTarget

    result = {c.id: Coverage(c) for c in communes}
    if not result:
        return []
    helped = or_(exists().where(CommunityResident.user_id == User.id), exists().where(AssistedSession.resident_id == User.id))
    enrolled = exists().where(Enrollment.user_id == User.id)
    done = exists().where(Enrollment.user_id == User.id, Enrollment.completed_at.is_not(None))
    group = case((helped, "assisted"), else_="self")
    for locality_id, kind, reached, completed in db.session.execute(
            select(User.locality_id, group, func.count(), func.sum(case((done, 1), else_=0)))
            .where(User.locality_id.in_(result), or_(helped, enrolled)).group_by(User.locality_id, group)):
        result[locality_id].reached[kind] = reached
        result[locality_id].completed[kind] = int(completed or 0)
    for target in db.session.scalars(select(LocalityTarget).where(LocalityTarget.locality_id.in_(result),
                                                                  LocalityTarget.audience == "citizen")):
        result[target.locality_id].targets.append(target)
    for item in result.values():
        item.targets.sort(key=lambda target: _GROUP_ORDER.get(target.counts, 9))
    return list(result.values())


def split_under(unit: Locality) -> dict:
    """Residents of the communes under `unit` reached and completed, split assisted / self (the coverage rule):
    {"reached": {"assisted": n, "self": n}, "completed": {...}} — for the reports' targets of a group."""
    total = {"reached": {"assisted": 0, "self": 0}, "completed": {"assisted": 0, "self": 0}}
    for item in coverage(communes_under(unit)):
        for measure in total:
            for group in ("assisted", "self"):
                total[measure][group] += getattr(item, measure)[group]
    return total


def hamlets_of(communes: list[Locality]) -> dict[int, list[str]]:
    """{commune id: its imported hamlet names}, for the picker (communes without a list are left out)."""
    from lms.community.models import Hamlet

    lists: dict[int, list[str]] = {}
    for locality_id, name in db.session.execute(select(Hamlet.locality_id, Hamlet.name).where(
            Hamlet.locality_id.in_([c.id for c in communes])).order_by(Hamlet.locality_id, Hamlet.name)):
        lists.setdefault(locality_id, []).append(name)
    return lists


def communes_under(unit: Locality) -> list[Locality]:
    """The current communes in `unit`'s subtree (the unit itself when it is a commune)."""
    if unit.level == "commune":
        return [unit]
    return list(db.session.scalars(select(Locality).where(
        Locality.path.startswith(unit.path), Locality.level == "commune", Locality.scheme == unit.scheme)
        .order_by(Locality.name_folded)))


def export_table(unit: Locality) -> tuple[list[str], list[list]]:
    """The community report of the communes under `unit`, as one table for CSV/XLSX (lms.reports exporter):
    the commune × hamlet rows, then one coverage row per commune (its hamlet column says so)."""
    from flask_babel import gettext as _

    communes = communes_under(unit)
    header = [_("Commune or ward"), _("Hamlet or residential group"), _("Registered by the team"), _("Assisted"),
              _("Learning on their own"), _("Simulations done with help"), _("Simulations done alone"),
              _("Who counts"), _("Reached: assisted"), _("Reached: self-learners"), _("Target: residents to reach"),
              _("Reached (%)"), _("Completed: assisted"), _("Completed: self-learners"),
              _("Target: residents completing a course"), _("Completed (%)")]
    rows = [[r.commune, r.hamlet or "—", r.registered, r.assisted, r.self_learners, r.simulations_assisted,
             r.simulations_self, *[""] * 9] for r in report(communes).rows]
    for item in coverage(communes):
        for target in item.targets or [None]:
            rows.append([item.commune.name, _("(coverage of the commune)"), *[""] * 5,
                         target.counts if target else "", item.reached["assisted"], item.reached["self"],
                         _blank(goal_of(target, "reached")), _blank(item.percent("reached", target) if target else None),
                         item.completed["assisted"], item.completed["self"], _blank(goal_of(target, "completed")),
                         _blank(item.percent("completed", target) if target else None)])
    return header, rows


def _blank(value):
    return "" if value is None else value


def export_units(user) -> list[Locality]:
    """The units whose community report the user may export: their manager scopes (an admin: the home area)."""
    if can("administer", user):
        return sorted({c.parent for c in managed_communes(user) if c.parent is not None}, key=lambda unit: unit.name)
    return sorted(user.manager_scopes(), key=lambda unit: unit.name)


def help_for(commune) -> dict:
    """A resident's help in their commune: the contact the manager set (or None) and the team members' names."""
    from lms.accounts.models import RoleGrant
    from lms.community.models import CommuneContact

    if commune is None:
        return {"commune": None, "contact": None, "members": []}
    contact = db.session.scalar(select(CommuneContact).where(CommuneContact.locality_id == commune.id))
    members = list(db.session.scalars(select(User.full_name).join(RoleGrant, RoleGrant.user_id == User.id).where(
        RoleGrant.role == TEAM_ROLE, RoleGrant.locality_id == commune.id, User.is_active.is_(True))
        .order_by(User.full_name)))
    has_contact = contact is not None and any((contact.phone, contact.place, contact.hours))
    return {"commune": commune, "contact": contact if has_contact else None, "members": members}


def team_scopes(user) -> list:
    """The communes where the user is a community digital team member."""
    if not getattr(user, "is_authenticated", False):
        return []
    return [g.locality for g in user.grants if g.role == TEAM_ROLE and g.locality is not None]


def serves(member, locality) -> bool:
    return locality is not None and any(scope.contains(locality) for scope in team_scopes(member))


def resident_record(user_id: int) -> CommunityResident | None:
    return db.session.scalar(select(CommunityResident).where(CommunityResident.user_id == user_id))


def can_see_resident(member, user_id: int) -> bool:
    """A member sees the residents they registered or assisted — no others."""
    return bool(db.session.scalar(select(CommunityResident.id).where(
        CommunityResident.user_id == user_id, CommunityResident.registered_by_id == member.id))
        or db.session.scalar(select(AssistedSession.id).where(
            AssistedSession.resident_id == user_id, AssistedSession.member_id == member.id).limit(1)))


def my_residents(member) -> list[CommunityResident]:
    assisted = select(AssistedSession.resident_id).where(AssistedSession.member_id == member.id)
    return list(db.session.scalars(select(CommunityResident).where(or_(
        CommunityResident.registered_by_id == member.id, CommunityResident.user_id.in_(assisted)))
        .order_by(CommunityResident.id)))


def was_assisted(user_id: int, at) -> bool:
    """Whether something the user did at `at` was done in an assisted session (results, certificates)."""
    if at is None:
        return False
    return bool(db.session.scalar(select(AssistedSession.id).where(
        AssistedSession.resident_id == user_id, AssistedSession.started_at <= at,
        or_(AssistedSession.ended_at.is_(None), AssistedSession.ended_at >= at)).limit(1)))
