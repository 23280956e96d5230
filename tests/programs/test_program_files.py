"""`programs/*.md` with `audience` and `requires`, and where the program pages are linked from."""

import pytest
from sqlalchemy import select

from lms.core.frontmatter import SourceError
from lms.programs.models import Prerequisite, Program
from lms.programs.operations import import_program
from lms.programs.source import in_dependency_order, read_program
from tests.conftest import text_of


def write(folder, slug, body):
    path = folder / f"{slug}.md"
    path.write_text(f"---\n{body}---\nMô tả.\n", encoding="utf-8")
    return path


def prerequisites(db_session, program):
    rows = db_session.scalars(select(Prerequisite).where(Prerequisite.program_id == program.id))
    return sorted((p.requires_course.slug if p.requires_course else p.requires_program.slug) for p in rows)


def test_audience_and_requires_import_idempotently(tmp_path, db_session, create_course, course_copy):
    a = create_course()
    # Open to everyone the program is meant for (a program for people who could not take it is refused).
    b = create_course(course_copy("khoa-b", code="KB-1", title="Khóa B", audience="[official, cio]"))
    base = write(tmp_path, "co-ban", f"title: Cơ bản\nrequired: [{a.slug}]\n")
    advanced = write(tmp_path, "nang-cao", f"title: Nâng cao\naudience: [official, cio]\nrequired: [khoa-b]\n"
                                           f"requires: [co-ban, {a.slug}]\n")
    sources = in_dependency_order([read_program(advanced), read_program(base)])
    assert [s.slug for s in sources] == ["co-ban", "nang-cao"]
    assert [import_program(s) for s in sources] == ["created", "created"]
    program = db_session.scalar(select(Program).where(Program.slug == "nang-cao"))
    assert program.audience == ["official", "cio"]
    assert prerequisites(db_session, program) == sorted(["co-ban", a.slug])

    assert import_program(read_program(advanced)) == "unchanged"
    assert prerequisites(db_session, program) == sorted(["co-ban", a.slug])
    write(tmp_path, "nang-cao", "title: Nâng cao\naudience: [official]\nrequired: [khoa-b]\nrequires: [co-ban]\n")
    assert import_program(read_program(advanced)) == "updated"
    assert program.audience == ["official"] and prerequisites(db_session, program) == ["co-ban"]
    assert b.id in {link.course_id for link in program.courses}


def test_bad_audience_and_unknown_requires_are_refused(tmp_path, db_session, create_course):
    a = create_course()
    with pytest.raises(SourceError, match="unknown audience officials"):
        read_program(write(tmp_path, "x", f"title: X\naudience: [officials]\nrequired: [{a.slug}]\n"))
    with pytest.raises(SourceError, match="not the program or its own courses"):
        read_program(write(tmp_path, "y", f"title: Y\nrequired: [{a.slug}]\nrequires: [{a.slug}]\n"))
    with pytest.raises(SourceError, match="no course or program khong-co"):
        import_program(read_program(write(tmp_path, "z", f"title: Z\nrequired: [{a.slug}]\nrequires: [khong-co]\n")))
    assert db_session.scalar(select(Program).where(Program.slug == "z")) is None


def test_programs_cli_imports_a_folder_in_dependency_order(tmp_path, app, db_session, create_course):
    a = create_course()
    write(tmp_path, "a-sau", f"title: Sau\nrequired: [{a.slug}]\nrequires: [b-truoc]\n")
    write(tmp_path, "b-truoc", f"title: Trước\nrequired: [{a.slug}]\n")
    result = app.test_cli_runner().invoke(args=["programs", "import", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.index("b-truoc") < result.output.index("a-sau")
    later = db_session.scalar(select(Program).where(Program.slug == "a-sau"))
    assert prerequisites(db_session, later) == ["b-truoc"]


def test_programs_are_linked_from_catalogue_nav_and_course_page(client, db_session, create_course, english):
    from lms.programs.models import ProgramCourse

    course = create_course()
    program = Program(slug="lo-trinh", title="Lộ trình số", hours=8, audience=["official"])
    program.courses = [ProgramCourse(course=course, required=True, position=1)]
    db_session.add(program)
    db_session.flush()
    catalogue = client.get("/courses").get_data(as_text=True)
    assert 'href="/programs/lo-trinh"' in catalogue and 'href="/programs"' in catalogue
    assert "Lộ trình số" in text_of(client.get("/programs"))
    assert "Civil servants" in text_of(client.get("/programs"))
    page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert "Part of:" in page and 'href="/programs/lo-trinh"' in page
    assert "Civil servants" in text_of(client.get("/programs/lo-trinh"))
    # Searching the catalogue lists matching courses only.
    assert 'href="/programs/lo-trinh"' not in client.get("/courses?q=zzzz").get_data(as_text=True)


def test_admin_edits_course_prerequisites_in_the_browser(client, login, db_session, create_user, create_course,
                                                         course_copy, english):
    first = create_course()
    second = create_course(course_copy("khoa-b", code="KB-1", title="Khóa B"))
    db_session.add(Program(slug="nen-tang", title="Nền tảng", hours=1))
    db_session.flush()
    url = f"/admin/programs/courses/{second.slug}/prerequisites"
    login(create_user("Học Viên"))
    assert client.get(url).status_code == 403
    client.post("/logout")
    login(create_user("Quản Trị", roles=("admin",)))
    assert "Edit prerequisites" in text_of(client.get(f"/courses/{second.slug}"))
    bad = client.post(url, data={"requires": "khong-co"})
    assert bad.status_code == 400 and "No course or other program has these short names: khong-co" in text_of(bad)
    response = client.post(url, data={"requires": f"{first.slug}\nnen-tang"})
    assert response.status_code == 302
    rows = db_session.scalars(select(Prerequisite).where(Prerequisite.course_id == second.id)).all()
    assert {(p.requires_course_id, p.requires_program_id is not None) for p in rows} == {(first.id, False), (None, True)}
    page = text_of(client.get(f"/courses/{second.slug}"))
    assert "Complete first:" in page and first.title in page and "Nền tảng" in page
    assert f"{first.slug}\nnen-tang" in client.get(url).get_data(as_text=True)
    client.post(url, data={"requires": ""})
    assert db_session.scalars(select(Prerequisite).where(Prerequisite.course_id == second.id)).all() == []
