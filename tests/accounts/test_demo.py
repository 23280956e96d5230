"""`flask demo create`: one account per role, idempotent, and a trainer who owns the courses."""

from sqlalchemy import func, select

from lms.accounts.models import User
from lms.accounts.operations import find_by_login


def test_demo_accounts_one_per_role_idempotent_and_trainer_owns_the_courses(app, db_session, create_course):
    course = create_course()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "create"])
    assert first.exit_code == 0, first.output
    assert "hocvien@demo.vn" in first.output and "quantri-demo-2025" in first.output
    second = runner.invoke(args=["demo", "create"])
    assert second.exit_code == 0, second.output
    assert db_session.scalar(select(func.count(User.id)).where(User.email.like("%@demo.vn"))) == 5

    admin, manager, trainer = (find_by_login(f"{name}@demo.vn") for name in ("quantri", "quanly", "giangvien"))
    assert admin.is_admin and admin.check_password("quantri-demo-2025")
    assert [scope.code for scope in manager.manager_scopes()] == ["26506"]
    assert trainer.has_role("trainer") and [owner.user_id for owner in course.owners] == [trainer.id]
    assert not find_by_login("hocvien@demo.vn").grants
    librarian = find_by_login("thuvien@demo.vn")
    assert [(g.role, g.locality_id) for g in librarian.grants] == [("librarian", None)]  # province-wide


def test_demo_accounts_are_refused_outside_the_embedded_default(app, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_DEMO", False)
    result = app.test_cli_runner().invoke(args=["demo", "create"])
    assert result.exit_code != 0 and "LMS_DEMO=1" in result.output
    assert find_by_login("hocvien@demo.vn") is None
