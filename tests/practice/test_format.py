"""The `*.sim.md` format: errors with file:line, import, and export → import → export byte for byte."""

from pathlib import Path

from lms.catalog.export import export_course
from lms.catalog.operations import import_course
from lms.catalog.source import check_folders, read_course
from lms.core.frontmatter import SourceError
from lms.practice.format import parse_simulation
from tests.conftest import text_of
from tests.practice.conftest import SIMULATION


def _errors(tmp_path, text):
    path = tmp_path / "01-x.sim.md"
    path.write_text(text, encoding="utf-8")
    found: list[SourceError] = []
    parse_simulation(path, errors=found)
    return [(error.line, error.message) for error in found]


def test_a_good_simulation_parses_into_steps(tmp_path):
    assert _errors(tmp_path, SIMULATION) == []
    source = parse_simulation(tmp_path / "01-x.sim.md")
    assert [step.title for step in source.steps] == ["Đăng nhập", "Nhập mã OTP", "Xác nhận thanh toán"]
    login, otp, pay = source.steps
    assert [(o.label, o.correct) for o in login.options] == [("Đăng ký tài khoản mới", False), ("Đăng nhập", True)]
    assert login.options[0].feedback == "Bạn đã có tài khoản mức 1 rồi."
    assert login.hints == ["Bạn đã có tài khoản.", "Chọn nút thứ hai."]
    assert otp.message == ("Dịch vụ định danh", "Mã OTP của bạn là 482913. Không cung cấp mã này cho ai.")
    assert (otp.action, otp.label, otp.answers) == ("input", "Mã OTP", ["482913"])
    assert pay.qr and "| Số tiền | 50.000 đ |" in pay.screen_md
    assert source.app == "Ứng dụng định danh (mô phỏng)"


def test_every_mistake_is_reported_with_its_line(tmp_path):
    text = """---
title: Thử
minuts: 5
---
## Bước một
acton: tap
- [x] A
- [x] B
hint: gợi ý
> vì sao

## Bước hai
action: input
label: Mã
hint: gợi ý

## Bước ba
action: swipe
> vì sao
"""
    assert _errors(tmp_path, text) == [
        (3, "unknown front-matter key `minuts` — did you mean `minutes`?"),
        (5, "the step “Bước một” has no `action:` (tap or input)"),
        (6, "unknown step key `acton` — did you mean `action`?"),
        (12, "the `input` step “Bước hai” needs `answer:`"),
        (12, "the step “Bước hai” needs a `> ` line explaining why (shown after the step)"),
        (17, "the step “Bước ba” needs at least one `hint:` (offered after a wrong try)"),
        (18, "unknown action `swipe`; use tap or input"),
    ]


def test_a_tap_step_needs_exactly_one_right_button(tmp_path):
    text = "---\ntitle: T\n---\n## S\naction: tap\n- [ ] A\n- [ ] B\nhint: h\n> w\n"
    assert _errors(tmp_path, text) == [(6, "a `tap` step needs exactly one right button, marked `- [x]`")]


def test_courses_check_reports_simulation_errors_as_file_line(app, practice_folder):
    sim = practice_folder / "01-bai-mo-dau" / "03-kich-hoat.sim.md"
    sim.write_text(sim.read_text(encoding="utf-8").replace("answer: 482913\n", ""), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["courses", "check", str(practice_folder.parent)])
    assert result.exit_code == 1
    assert f"{sim}:18: error: the `input` step “Nhập mã OTP” needs `answer:`" in result.output


def test_import_stores_the_steps_and_export_gives_the_file_back_byte_for_byte(db_session, practice_course,
                                                                               practice_folder, tmp_path):
    lesson = next(lesson for lesson in practice_course.active_lessons() if lesson.is_simulation)
    assert lesson.key == "bai-mo-dau/kich-hoat" and lesson.title == "Kích hoạt tài khoản (luyện tập)"
    steps = lesson.simulation["steps"]
    assert [s["action"] for s in steps] == ["tap", "input", "tap"]
    assert "<svg" in steps[2]["qr_svg"] and "<table>" in steps[2]["screen_html"]
    first = export_course(practice_course, tmp_path / "out1")
    exported = first / "01-bai-mo-dau" / "03-kich-hoat.sim.md"
    assert exported.read_bytes() == (practice_folder / "01-bai-mo-dau" / "03-kich-hoat.sim.md").read_bytes()
    assert import_course(read_course(first)) in ("updated", "unchanged")
    db_session.flush()
    second = export_course(practice_course, tmp_path / "out2")
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert all((first / f).read_bytes() == (second / f).read_bytes() for f in files)


def test_the_starter_courses_pass_the_checker():
    root = Path(__file__).resolve().parents[2] / "courses"
    problems = [str(error) for _folder, errors in check_folders(root) for error in errors]
    assert problems == []


def test_the_browser_editor_saves_a_simulation_as_its_file_and_refuses_a_broken_one(client, create_user, login,
                                                                                   practice_course, simulation_lesson,
                                                                                   db_session, english):
    from lms.catalog.models import CourseOwner

    trainer = create_user("Giảng Viên", roles=["trainer"])
    practice_course.owners.append(CourseOwner(user_id=trainer.id))
    db_session.flush()
    login(trainer)
    url = f"/author/courses/{practice_course.slug}/lessons/{simulation_lesson.id}"
    page = client.get(url).get_data(as_text=True)
    assert "action: input" in page  # the whole file is in the textarea
    version = simulation_lesson.version
    broken = SIMULATION.replace("answer: 482913\n", "")
    response = client.post(url, data={"title": "x", "body": broken, "version": str(version)})
    assert response.status_code == 400 and "needs `answer:`" in response.get_data(as_text=True)
    changed = SIMULATION.replace("## Nhập mã OTP", "## Nhập mã xác thực OTP")
    response = client.post(url, data={"title": "x", "body": changed, "version": str(version)})
    assert response.status_code == 302
    db_session.refresh(simulation_lesson)
    assert simulation_lesson.title == "Kích hoạt tài khoản (luyện tập)"  # from the file, not the title box
    assert simulation_lesson.simulation["steps"][1]["title"] == "Nhập mã xác thực OTP"
    assert "## Nhập mã xác thực OTP" in simulation_lesson.source_text


def test_a_simulation_made_in_the_browser_starts_from_a_valid_example_and_exports_as_sim_md(
        client, create_user, login, practice_course, db_session, tmp_path, english):
    from sqlalchemy import select

    from lms.catalog.models import CourseOwner, Lesson

    trainer = create_user("Giảng Viên", roles=["trainer"])
    practice_course.owners.append(CourseOwner(user_id=trainer.id))
    db_session.flush()
    login(trainer)
    module = practice_course.modules[0]
    response = client.post(f"/author/courses/{practice_course.slug}/modules/{module.id}/lessons",
                           data={"title": "Luyện tập: đổi mật khẩu", "kind": "simulation"})
    assert response.status_code == 302
    lesson = db_session.scalar(select(Lesson).where(Lesson.title == "Luyện tập: đổi mật khẩu"))
    assert lesson.is_simulation and [s["title"] for s in lesson.simulation["steps"]] == ["Màn hình đầu tiên"]
    assert "Start the practice" in text_of(client.get(f"/courses/{practice_course.slug}/lessons/{lesson.id}"))
    folder = export_course(practice_course, tmp_path / "out")
    written = next(folder.glob("01-bai-mo-dau/*-doi-mat-khau.sim.md"))
    assert parse_simulation(written).title == "Luyện tập: đổi mật khẩu"
    assert read_course(folder) is not None
