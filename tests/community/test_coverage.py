"""Coverage targets per commune (assisted / self-learners) and imported hamlet lists."""

import io

import pytest
from sqlalchemy import select

from lms.community import operations as ops
from lms.community.models import CommunityResident, Hamlet
from lms.community.queries import coverage
from lms.core.db import utcnow
from lms.enrollment.models import Enrollment
from lms.targets.models import LocalityTarget
from tests.community.test_assisted import team  # noqa: F401 - the team fixture
from tests.conftest import text_of

pytestmark = pytest.mark.usefixtures("english")


def resident(member, commune, name, phone, hamlet=""):
    return ops.register_resident(member, full_name=name, phone=phone, commune=commune, hamlet=hamlet,
                                 consent_method="paper", consent_reference="P-1")


def test_coverage_counts_assisted_and_self_learners_against_the_communes_target(
        client, login, team, db_session, create_user, practice_course):  # noqa: F811
    course = practice_course
    helped = [resident(team["a"], team["A"], f"Người {i}", f"091234567{i}") for i in range(3)]
    learners = [create_user(f"Tự Học {i}", locality=team["A"]) for i in range(2)]
    create_user("Chưa Học", locality=team["A"])  # not enrolled, never helped: not reached
    for person, done in ((helped[0].user, True), (learners[0], True), (learners[1], False)):
        db_session.add(Enrollment(user_id=person.id, course_id=course.id, completed_at=utcnow() if done else None))
    db_session.flush()
    ops.set_target(team["manager_a"], team["A"], reached=10, completed=4, counts="assisted")
    with pytest.raises(ops.CommunityError):
        ops.set_target(team["manager_a"], team["B"], reached=10, completed=4, counts="all")  # not manager A's
    with pytest.raises(ops.CommunityError):
        ops.set_target(team["manager_a"], team["A"], reached=1, completed=4, counts="all")
    [row] = coverage([team["A"]])
    assert (row.reached, row.completed) == ({"assisted": 3, "self": 2}, {"assisted": 1, "self": 1})
    assert (row.counted("reached"), row.percent("reached"), row.percent("completed")) == (3, 30, 25)

    login(team["manager_a"])
    saved = client.post("/community/team/targets", data={"commune_id": team["A"].id, "reached": "4",
                                                          "completed": "2", "counts": "all", "due_on": "2026-12-31"})
    assert saved.status_code == 303
    page = text_of(client.get("/community/team"))
    # One row per target: everyone (5 reached of 4, 2 completed of 2) and the assisted (3 of 10, 1 of 4).
    assert "5 / 4 (125%)" in page and "2 / 2 (100%)" in page and "Assisted and self-learners" in page
    assert "3 / 10 (30%)" in page and "1 / 4 (25%)" in page and "Assisted residents only" in page
    bad = client.post("/community/team/targets", data={"commune_id": team["A"].id, "reached": "-1",
                                                        "completed": "x", "counts": "all"})
    assert bad.status_code == 400
    everyone = db_session.scalar(select(LocalityTarget).where(LocalityTarget.counts == "all"))
    assert (everyone.audience, everyone.target_count, everyone.completed_target, everyone.due_on.isoformat()) == (
        "citizen", 4, 2, "2026-12-31")
    other = client.post("/community/team/targets", data={"commune_id": team["B"].id, "reached": "4",
                                                          "completed": "2", "counts": "all"})
    assert other.status_code == 400 and db_session.scalar(select(LocalityTarget.id).where(
        LocalityTarget.locality_id == team["B"].id)) is None


def test_the_reports_show_the_same_targets_per_split_and_the_import_sets_them(
        app, client, login, team, db_session, create_user, practice_course, tmp_path):  # noqa: F811
    """One target model: what the community page sets, the reports dashboard shows (and the reports' CSV import
    sets what the community page shows), each target counting its own group."""
    helped = [resident(team["a"], team["A"], f"Người {i}", f"091234567{i}") for i in range(2)]
    learner = create_user("Tự Học", locality=team["A"])
    for person in (helped[0].user, learner):
        db_session.add(Enrollment(user_id=person.id, course_id=practice_course.id, completed_at=utcnow()))
    db_session.flush()
    ops.set_target(team["manager_a"], team["A"], reached=4, completed=2, counts="assisted")
    path = tmp_path / "targets.csv"
    path.write_text("locality,audience,population,target_percent,due_on,counts,completed\n"
                    f"2025-07/{team['A'].code},citizen,10,50,2026-12-31,self,1\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["reports", "import-targets", str(path)])
    assert result.exit_code == 0 and "1 saved" in result.output, result.output
    assert db_session.scalar(select(LocalityTarget.id).where(LocalityTarget.counts == "assisted")) is not None

    login(team["manager_a"])
    report = text_of(client.get(f"/reports/localities/{team['A'].id}"))
    assert "Residents reached (Assisted residents only): 2 / 4" in report
    assert "Residents reached (Self-learners only): 1 / 5" in report
    assert "Reached: 2 assisted, 1 on their own. Completed a course: 1 assisted, 1 on their own." in report
    assert "Completing a course: 1 / 2 (50%)" in report and "Completing a course: 1 / 1 (100%)" in report
    page = text_of(client.get("/community/team"))
    assert "2 / 4 (50%)" in page and "1 / 5 (20%)" in page and "Self-learners only" in page
    refused = client.get(f"/reports/localities/{team['B'].id}")
    assert refused.status_code == 403  # another commune's targets and people: not manager A's area

    bad = tmp_path / "bad.csv"
    bad.write_text("locality,audience,population,target_percent,counts\n"
                   f"2025-07/{team['A'].code},official,10,50,assisted\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["reports", "import-targets", str(bad)])
    assert result.exit_code == 1 and "line 2" in result.output


def test_hamlets_imported_by_the_manager_become_the_picker(client, login, team, db_session):  # noqa: F811
    old = resident(team["a"], team["A"], "Người Cũ", "0912000001", hamlet="xóm cũ gõ tay")
    db_session.flush()
    login(team["manager_a"])
    csv = "tên\nẤp 1\nẤp 2\nẤp 2\nKhu phố 3\n".encode()
    imported = client.post("/community/team/hamlets", data={"commune_id": team["A"].id,
                                                            "file": (io.BytesIO(csv), "ap.csv")},
                           content_type="multipart/form-data")
    assert imported.status_code == 303
    assert sorted(db_session.scalars(select(Hamlet.name))) == ["Khu phố 3", "Ấp 1", "Ấp 2"]
    latin1 = client.post("/community/team/hamlets", data={"commune_id": team["A"].id,
                                                          "file": (io.BytesIO(b"\xc2p 9 \xff"), "a.csv")},
                         content_type="multipart/form-data")
    assert latin1.status_code == 400 and "UTF-8" in text_of(latin1)
    client.post("/logout")

    login(team["a"])
    form = text_of(client.get("/community/residents/new"))
    assert "Ấp 2" in form
    data = {"full_name": "Người Mới", "phone": "0912000002", "commune_id": team["A"].id, "hamlet_pick": "Ấp 9",
            "consent_method": "paper", "consent_reference": "P-2"}
    refused = client.post("/community/residents/new", data=data)
    assert refused.status_code == 400 and "Choose a hamlet of this commune from the list" in text_of(refused)
    elsewhere = client.post("/community/residents/new", data={**data, "hamlet_pick": "Ấp 9", "hamlet": "Ấp 2"})
    assert elsewhere.status_code == 400  # the picked name wins and must be the commune's
    created = client.post("/community/residents/new", data={**data, "hamlet_pick": "Ấp 2"})
    assert created.status_code == 303
    assert db_session.scalar(select(CommunityResident.hamlet).where(CommunityResident.id != old.id)) == "Ấp 2"
    assert db_session.get(CommunityResident, old.id).hamlet == "xóm cũ gõ tay"  # the old free text stays


def test_the_cli_imports_a_communes_hamlets(app, team, tmp_path, db_session):  # noqa: F811
    path = tmp_path / "khu-pho.csv"
    path.write_text("Khu phố 1\nKhu phố 2\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["community", "import-hamlets", team["A"].code, str(path)])
    assert result.exit_code == 0 and "2 hamlets added" in result.output, result.output
    assert db_session.scalar(select(Hamlet.name).where(Hamlet.locality_id == team["A"].id).order_by(Hamlet.name)) == "Khu phố 1"
