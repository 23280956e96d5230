"""One scope rule: every manager-scoped listing shows exactly what the matching permission allows.

The fixture has an old district (2025-01 scheme, code 747) whose communes were merged into the new
ward Phường Vũng Tàu (26506): a manager of the district oversees what is recorded in the ward, as
the reports always did. Each listing and its check run over the same objects and must agree.
"""

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from lms.accounts.operations import grant_role
from lms.accounts.scope import Scope
from lms.agencies.operations import save_agency
from lms.assignments.reminders import overdue_counts_for
from lms.certificates.models import Certificate
from lms.certificates.queries import register
from lms.classes.models import TrainingClass
from lms.classes.queries import classes_for
from lms.enrollment.operations import enrol
from lms.extensions import db
from lms.hours.queries import people_in_scope
from lms.localities.models import Locality
from lms.reports.forms import filter_choices
from lms.reports.queries import scope_unit_ids


@pytest.fixture()
def world(db_session, commune, create_user, create_course):
    district, ward, elsewhere = commune("747", scheme="2025-01", level="district"), commune("26506"), commune("00004")
    department = save_agency(None, code="SO-TT", name="Sở Thông tin")
    office = save_agency(None, code="PHONG-1", name="Phòng Một", parent=department)
    other_agency = save_agency(None, code="SO-KH", name="Sở Kế hoạch")
    district_manager = create_user("Quản lý quận", roles=("manager",), manager_of=district)
    agency_manager = create_user("Quản lý sở")
    grant_role(agency_manager, "manager", agency=department)
    course = create_course()
    people = [create_user(f"Cán bộ {n}", audience="official", locality=unit)
              for n, unit in enumerate((ward, elsewhere, elsewhere, district))]
    people[2].agency = office
    for person in people:
        enrol(person, course, source="assigned").deadline = date.today() - timedelta(days=3)
    classes = [TrainingClass(course_id=course.id, title=f"Lớp {unit.code}", locality_id=unit.id)
               for unit in (ward, elsewhere)]
    certificates = [Certificate(serial=f"SCOPE-{n}", user_id=person.id, course_id=course.id, locality_id=person.locality_id,
                                holder_name=person.full_name, course_title=course.title, issuing_authority="UBND")
                    for n, person in enumerate(people)]
    db.session.add_all(classes + certificates)
    db.session.flush()
    return SimpleNamespace(units=(district, ward, elsewhere), agencies=(department, office, other_agency),
                           managers=(district_manager, agency_manager), people=people, classes=classes,
                           certificates=certificates)


def test_the_scope_of_an_old_district_reaches_its_successor_ward(world):
    district, ward, elsewhere = world.units
    scope = Scope.of(world.managers[0])
    assert [scope.covers_locality(unit) for unit in world.units] == [True, True, False]
    assert set(db.session.scalars(select(Locality.id).where(
        Locality.id.in_([u.id for u in world.units]), scope.locality_clause()))) == {district.id, ward.id}


def test_listings_and_permissions_agree(world):
    for manager in world.managers:
        _agree(manager, world)


def _agree(manager, world):
    classes = {c.id for c in classes_for(manager)["in_scope"]}
    assert classes == {c.id for c in world.classes if c.can_view(manager)}
    registered = {c.id for c in db.session.scalars(register(manager))}
    assert registered == {c.id for c in world.certificates if c.can_see_in_register(manager)}
    overseen = set(db.session.scalars(people_in_scope(manager)))
    managed = {p.id for p in world.people if manager.can_manage_user(p)}
    assert overseen & {p.id for p in world.people} == managed
    assert overdue_counts_for(manager, date.today()) == (len(managed), len(managed))
    agencies = {a.id for a in filter_choices(manager)["agencies"]} & {a.id for a in world.agencies}
    if not manager.manager_scopes():  # a locality manager may pick any agency (the filter narrows people)
        assert agencies == {a.id for a in world.agencies if manager.can_manage_agency(a)}
    for unit in world.units:  # a report's figures sum the units of scope_unit_ids(scope)
        summed = any(unit.id in scope_unit_ids(scope) for scope in manager.manager_scopes())
        assert summed == manager.can_manage_locality(unit)


def test_what_each_manager_oversees(world):
    district_manager, agency_manager = world.managers
    ward_person, far_person, office_person, district_person = world.people
    assert {p.id for p in world.people if district_manager.can_manage_user(p)} == {ward_person.id, district_person.id}
    assert {p.id for p in world.people if agency_manager.can_manage_user(p)} == {office_person.id}
    assert [c.can_view(district_manager) for c in world.classes] == [True, False]
