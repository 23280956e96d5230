"""The e-library: open reading, librarian-only changes (scoped like managers), file versions, downloads,
lessons that use an item, and the git folder import."""

import io
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from lms.library.models import LibraryFile, LibraryItem
from lms.search.queries import search
from tests.conftest import ROOT, text_of
from tests.search.conftest import make_pdf


def _form(**values):
    data = {"title": "Sổ tay dịch vụ công", "kind": "document", "licence": "CC BY 4.0", "status": "published",
            "summary": "Tóm tắt", "collections": "Cẩm nang dịch vụ công", "locality_id": ""}
    data.update(values)
    return data


def _upload(client, pdf_lines, **values):
    data = _form(**values)
    data["file"] = (io.BytesIO(make_pdf(pdf_lines)), "so-tay.pdf")
    return client.post("/library/new", data=data, content_type="multipart/form-data")


def test_visitor_reads_and_downloads_without_an_account(client, db_session, create_user, login, commit_and_index):
    login(create_user(roles=("librarian",)))
    response = _upload(client, ["Hướng dẫn nộp thuế điện tử cho hộ kinh doanh"])
    assert response.status_code == 303, text_of(response)
    client.post("/logout")
    item = db_session.scalar(select(LibraryItem))
    commit_and_index()

    page = client.get(f"/library/{item.slug}")
    assert page.status_code == 200 and "Sổ tay dịch vụ công" in text_of(page) and "CC BY 4.0" in text_of(page)
    assert "Sổ tay dịch vụ công" in text_of(client.get("/library?collection=cam-nang-dich-vu-cong"))
    download = client.get(f"/library/{item.slug}/file")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert "sandbox" in download.headers["Content-Security-Policy"]
    client.get(f"/library/{item.slug}/file")
    db_session.refresh(item)
    assert item.downloads == 2
    assert [hit.url for hit in search("nop thue dien tu ho kinh doanh").hits] == [f"/library/{item.slug}"]


def test_learners_and_visitors_cannot_change_the_library(client, db_session, create_user, login):
    assert client.get("/library/new").status_code == 302  # to the log-in page
    login(create_user())
    assert client.get("/library/new").status_code == 403
    assert _upload(client, ["x"]).status_code == 403
    assert db_session.scalar(select(LibraryItem)) is None


def test_replacing_the_file_keeps_the_old_version(client, db_session, create_user, login, commit_and_index):
    login(create_user(roles=("librarian",)))
    _upload(client, ["Phiên bản một: thủ tục cũ"])
    item = db_session.scalar(select(LibraryItem))
    commit_and_index()
    data = _form(title="Sổ tay dịch vụ công", version="2")
    data["file"] = (io.BytesIO(make_pdf(["Phiên bản hai: quy trình mới"])), "so-tay-moi.pdf")
    assert client.post(f"/library/{item.slug}/edit", data=data, content_type="multipart/form-data").status_code == 303
    commit_and_index()
    files = db_session.scalars(select(LibraryFile).where(LibraryFile.item_id == item.id)
                               .order_by(LibraryFile.number)).all()
    assert [(f.number, f.is_current) for f in files] == [(1, False), (2, True)]
    assert search("quy trinh moi").total == 1 and search("thu tuc cu").total == 0
    old = client.get(f"/library/{item.slug}/versions/{files[0].id}")
    assert old.status_code == 200 and old.data.startswith(b"%PDF")
    client.post("/logout")
    assert client.get(f"/library/{item.slug}/versions/{files[0].id}").status_code == 302


def test_a_commune_librarian_is_scoped(client, db_session, create_user, login, commune):
    from lms.accounts import operations

    librarian = create_user()
    operations.grant_role(librarian, "librarian", locality=commune())
    db_session.flush()
    login(librarian)
    response = _upload(client, ["x"], locality_id="")
    assert response.status_code == 400
    assert "only add material for the localities" in text_of(response) or "chỉ được thêm" in text_of(response)
    assert _upload(client, ["Lịch tiếp dân của phường"], locality_id=str(commune().id)).status_code == 303


def test_bad_uploads_get_a_message_not_an_error(client, db_session, create_user, login):
    login(create_user(roles=("librarian",)))
    data = _form()
    data["file"] = (io.BytesIO(b"MZ..."), "virus.exe")
    response = client.post("/library/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert db_session.scalar(select(LibraryItem)) is None
    response = client.post("/library/new", data=_form(title=""), content_type="multipart/form-data")
    assert response.status_code == 400


def test_archived_and_draft_items_are_hidden(client, db_session, create_user, login, commit_and_index):
    login(create_user(roles=("librarian",)))
    client.post("/library/new", data=_form(kind="article", title="Bài nháp", status="draft", body_md="Nội dung"),
                content_type="multipart/form-data")
    client.post("/library/new", data=_form(kind="article", title="Bài công khai", body_md="Nội dung"),
                content_type="multipart/form-data")
    public = db_session.scalar(select(LibraryItem).where(LibraryItem.title == "Bài công khai"))
    client.post(f"/library/{public.slug}/archive")
    commit_and_index()
    client.post("/logout")
    listing = text_of(client.get("/library"))
    assert "Bài nháp" not in listing and "Bài công khai" not in listing
    draft = db_session.scalar(select(LibraryItem).where(LibraryItem.title == "Bài nháp"))
    assert client.get(f"/library/{draft.slug}").status_code == 403
    assert search("bai").total == 0


def test_lessons_embed_items_and_the_item_lists_them(client, db_session, create_course, create_user, login,
                                                     commit_and_index):
    login(create_user(roles=("librarian",)))
    client.post("/library/new", data=_form(kind="article", title="Cảnh báo OTP", body_md="Không đọc OTP."),
                content_type="multipart/form-data")
    item = db_session.scalar(select(LibraryItem))
    course = create_course()
    lesson = course.active_lessons()[0]
    from lms.core.markdown import render

    lesson.body_md = f"Đọc thêm [[library:{item.slug}]].\n\n![[library:{item.slug}]]\n"
    lesson.body_html = render(lesson.body_md)
    commit_and_index()
    assert f'href="/library/{item.slug}"' in lesson.body_html and "Cảnh báo OTP" in lesson.body_html
    assert "library-embed" in lesson.body_html
    page = text_of(client.get(f"/library/{item.slug}"))
    assert "Used in these lessons" in page or "Dùng trong các bài học" in page
    assert lesson.title in page


def test_the_git_folder_imports_every_starter_item(app, db_session):
    from lms.library.cli import import_command

    runner = CliRunner()
    with app.app_context():
        result = runner.invoke(import_command, [str(ROOT / "library")], standalone_mode=False)
    assert result.exception is None, result.output
    items = db_session.scalars(select(LibraryItem)).all()
    assert len(items) >= 15 and all(item.licence for item in items)
    assert "0 failed" in result.output
    assert Path(ROOT / "library").is_dir()


def test_a_video_with_captions_plays_them_and_its_words_are_found(client, db_session, create_user, login,
                                                                  commit_and_index):
    login(create_user(roles=("librarian",)))
    data = _form(kind="video", title="Video hướng dẫn VNeID")
    data["file"] = (io.BytesIO(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64), "huong-dan.mp4")
    data["captions"] = (io.BytesIO("WEBVTT\n\n00:00.000 --> 00:04.000\nMở ứng dụng và quét mã QR trên căn cước.\n"
                                   .encode()), "phu-de.vtt")
    assert client.post("/library/new", data=data, content_type="multipart/form-data").status_code == 303
    item = db_session.scalar(select(LibraryItem))
    commit_and_index()
    page = client.get(f"/library/{item.slug}").get_data(as_text=True)
    assert "<video" in page and f'src="/library/{item.slug}/captions"' in page
    captions = client.get(f"/library/{item.slug}/captions")
    assert captions.status_code == 200 and captions.headers["Content-Type"].startswith("text/vtt")
    assert [hit.url for hit in search("quet ma qr tren can cuoc").hits] == [f"/library/{item.slug}"]
