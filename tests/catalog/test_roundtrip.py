"""export → import → export gives identical files: over every starter course and generated courses."""

import itertools
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from lms.catalog.export import export_course
from lms.catalog.models import Lesson
from lms.catalog.operations import import_course
from lms.catalog.queries import course_by_slug
from lms.catalog.source import find_course_folders, read_course
from lms.quizzes.models import Quiz
from tests.conftest import FIXTURE_COURSES, ROOT

STARTER = find_course_folders(ROOT / "courses")


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def round_trip(folder: Path, work: Path):
    """Import `folder`, export, import the export, export again; returns both exports and the course."""
    import_course(read_course(folder))
    course = course_by_slug(folder.name)
    first = export_course(course, work / "a")
    assert import_course(read_course(first)) in ("updated", "unchanged")
    second = export_course(course_by_slug(folder.name), work / "b")
    return tree(first), tree(second), course


@pytest.mark.parametrize("folder", [*STARTER, FIXTURE_COURSES / "mini-course"], ids=lambda p: p.name)
def test_export_import_export_is_byte_identical(folder, db_session, tmp_path):
    first, second, course = round_trip(folder, tmp_path)

    assert first == second
    assert "course.md" in first and any(name.startswith("assets/") for name in first)
    # Nothing was lost on the way: same lessons (by identity), bodies, quizzes and assets.
    original = read_course(folder)
    exported = read_course(tmp_path / "b" / folder.name)
    assert [(m.key, m.title, m.intro) for m in exported.modules] == [(m.key, m.title, m.intro) for m in original.modules]
    assert [(lsn.key, lsn.title, lsn.minutes, lsn.body) for m in exported.modules for lsn in m.lessons] == \
        [(lsn.key, lsn.title, lsn.minutes, lsn.body) for m in original.modules for lsn in m.lessons]
    assert exported.meta == original.meta and exported.description == original.description
    for quiz_file in folder.rglob("*quiz.md"):
        relative = quiz_file.relative_to(folder).as_posix()
        assert first[relative] == quiz_file.read_bytes()
    for asset in (folder / "assets").rglob("*"):
        assert first["assets/" + asset.relative_to(folder / "assets").as_posix()] == asset.read_bytes()
    # An unchanged export re-imports as "unchanged".
    assert import_course(read_course(tmp_path / "b" / folder.name)) == "unchanged"


def test_export_cli_writes_the_folder_and_checks_clean(app, create_course, db_session, tmp_path):
    create_course()
    db_session.commit()
    runner = app.test_cli_runner()

    result = runner.invoke(args=["courses", "export", "mini-course", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "mini-course" / "01-bai-mo-dau" / "02-dang-nhap.md").read_text(encoding="utf-8").startswith(
        "---\ntitle: Đăng nhập bằng VNeID\nid: dang-nhap-vneid\n---\n")
    check = runner.invoke(args=["courses", "check", str(tmp_path)])
    assert check.exit_code == 0 and "1 ok, 0 with errors" in check.output

    missing = runner.invoke(args=["courses", "export", "khong-co", str(tmp_path)])
    assert missing.exit_code != 0 and "no course khong-co" in missing.output


# ---------------------------------------------------------------- generated courses

_counter = itertools.count()
_TEXT = st.characters(codec="utf-8", categories=["L", "N", "Zs", "Pd", "Po", "Sm", "Sc"],
                      exclude_characters="[]()<>#\\`*_!|:&%{}\"'")
titles = st.text(_TEXT, min_size=1, max_size=40).map(str.strip).filter(bool)
snippets = st.sampled_from([
    "**đậm** và *nghiêng*", "| a | b |\n|---|---|\n| 1 | 2 |", "```python\nprint('xin chào')\n```",
    "Chú thích[^1].\n\n[^1]: Ghi chú.", '!!! note "Lưu ý"\n    Nội dung lưu ý.', "[TOC]", "Thuật ngữ\n:   Định nghĩa",
    "Đoạn có thuộc tính\n{: .note }", "- một\n- hai", "1. một\n2. hai", "> trích dẫn", "![Sơ đồ](../assets/so-do.svg)",
])
bodies = st.lists(st.one_of(titles, snippets), max_size=6).map("\n\n".join)
descriptions = bodies.filter(lambda text: "../assets" not in text)  # course.md sits beside assets/
lessons = st.lists(st.tuples(titles, st.one_of(st.none(), st.integers(0, 300)), bodies, st.booleans()), min_size=1, max_size=3)
modules = st.lists(st.tuples(st.one_of(st.none(), titles), bodies, lessons), min_size=1, max_size=3)


def write_course(root: Path, slug: str, title: str, hours, tags, description, module_specs) -> None:
    import yaml

    folder = root / slug
    (folder / "assets").mkdir(parents=True)
    (folder / "assets" / "so-do.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>', encoding="utf-8")
    meta = {"title": title, "code": slug.upper(), "hours": hours, "tags": tags}
    (folder / "course.md").write_text(f"---\n{yaml.safe_dump(meta, allow_unicode=True)}---\n{description}\n", encoding="utf-8")
    for m_index, (module_title, intro, lesson_specs) in enumerate(module_specs, start=1):
        module_dir = folder / f"{m_index}-chuong-{m_index}"
        module_dir.mkdir()
        if module_title is not None:
            (module_dir / "module.md").write_text(
                f"---\n{yaml.safe_dump({'title': module_title}, allow_unicode=True)}---\n{intro}", encoding="utf-8")
        for l_index, (lesson_title, minutes, body, explicit) in enumerate(lesson_specs, start=1):
            lesson_meta = {"title": lesson_title}
            if minutes is not None:
                lesson_meta["minutes"] = minutes
            if explicit:
                lesson_meta["id"] = f"bai-{m_index}-{l_index}-rieng"
            (module_dir / f"{l_index}_bai-{l_index}.md").write_text(
                f"---\n{yaml.safe_dump(lesson_meta, allow_unicode=True)}---\n{body}", encoding="utf-8")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(title=titles, hours=st.one_of(st.integers(0, 100), st.sampled_from([1.5, 2.25])),
       tags=st.lists(titles, max_size=3), description=descriptions, module_specs=modules)
def test_generated_courses_round_trip(db_session, title, hours, tags, description, module_specs):
    slug = f"sinh-{next(_counter)}"
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        write_course(work / "src", slug, title, hours, tags, description, module_specs)
        first, second, course = round_trip(work / "src" / slug, work)

        assert first == second
        db_session.expire_all()
        stored = db_session.scalars(select(Lesson).where(Lesson.course_id == course.id).order_by(
            Lesson.module_position, Lesson.position)).all()
        expected = [(t, m, b.strip()) for _, _, specs in module_specs for t, m, b, _ in specs]
        assert [(lsn.title, lsn.minutes, lsn.body_md) for lsn in stored] == expected
        assert course.title == title and course.tags == tags
        assert not db_session.scalars(select(Quiz).where(Quiz.course_id == course.id)).all()
