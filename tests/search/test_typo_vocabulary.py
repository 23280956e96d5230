"""Typo correction knows every indexed word — lesson bodies and library item text, not only titles —
on both engines; on PostgreSQL the vocabulary table follows the content as the worker re-indexes."""

import pytest
from sqlalchemy import text

from lms.extensions import db
from lms.search import indexer
from lms.search.backends import backend
from lms.search.queries import search
from tests.search.test_search import _item, _lesson_with

BODY = "Khi chuyển tiền, hãy quét mã VietQR của người nhận và đọc kỹ tên tài khoản trước khi xác nhận."


def _vocabulary() -> dict[str, int]:
    return dict(db.session.execute(text("SELECT word, docs FROM search_words")).all())


def _from_scratch() -> dict[str, int]:
    """What the vocabulary should hold: every word of every row's vector, with the rows holding it."""
    return dict(db.session.execute(text(
        "SELECT word, count(*) FROM search_documents d, unnest(tsvector_to_array(d.vector)) AS word "
        "WHERE length(word) <= 40 GROUP BY word")).all())


def test_a_typo_of_a_word_only_in_a_lesson_body_is_corrected(db_session, create_course, commit_and_index):
    course = create_course()
    lesson = _lesson_with(course, BODY)
    commit_and_index()

    results = search("vietqrr")
    assert results.corrected == "vietqr"
    assert [hit.url for hit in results.hits] == [f"/courses/{course.slug}/lessons/{lesson.id}"]
    assert "<mark>VietQR</mark>" in str(results.hits[0].snippet)
    assert search("quet ma vietqe").corrected == "quet ma vietqr"


def test_a_typo_of_a_word_only_in_a_library_item_body_is_corrected(db_session, commit_and_index):
    db_session.add(_item("Hướng dẫn thanh toán", body_md="Thanh toán học phí bằng ví MoMo hoặc VNPay."))
    commit_and_index()

    results = search("vnpayy")
    assert results.corrected == "vnpay" and results.total == 1 and results.hits[0].kind == "library"


def test_a_changed_letter_in_a_short_body_word_is_corrected(db_session, create_course, commit_and_index):
    """"zaio" shares too few trigrams with "zalo" for pg_trgm: one-edit variants find it on PostgreSQL."""
    course = create_course()
    lesson = _lesson_with(course, "Kẻ gian nhắn tin qua Zalo, giả danh nhân viên ngân hàng.")
    commit_and_index()

    results = search("zaio")
    assert results.corrected == "zalo"
    assert f"/courses/{course.slug}/lessons/{lesson.id}" in {hit.url for hit in results.hits}


@pytest.fixture()
def postgresql_only(db_session):
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("the vocabulary table is PostgreSQL's (SQLite reads FTS5's own word list)")


def test_the_vocabulary_follows_edits_and_deletions(postgresql_only, db_session, create_course, commit_and_index):
    course = create_course()
    lesson = _lesson_with(course, BODY)
    item = _item("Hướng dẫn thanh toán", body_md="Quét VietQR hoặc dùng VNPay.")
    db_session.add(item)
    commit_and_index()
    assert _vocabulary()["vietqr"] == 2 and _vocabulary()["vnpay"] == 1
    assert _vocabulary() == _from_scratch()

    lesson.body_md = "Chuyển khoản qua ứng dụng ngân hàng."
    commit_and_index()
    assert _vocabulary()["vietqr"] == 1 and _vocabulary() == _from_scratch()
    assert search("vietqrr").corrected == "vietqr"

    db_session.delete(item)
    db_session.commit()
    indexer.index_library_item(item.id)
    db_session.commit()
    assert "vietqr" not in _vocabulary() and "vnpay" not in _vocabulary()
    assert _vocabulary() == _from_scratch()
    assert search("vietqrr").corrected is None


def test_reindexing_rebuilds_the_vocabulary(postgresql_only, db_session, create_course, commit_and_index):
    create_course()
    db_session.add(_item("Hướng dẫn thanh toán", body_md="Quét VietQR hoặc dùng VNPay."))
    commit_and_index()
    db_session.execute(text("DELETE FROM search_words"))   # e.g. rows restored from a backup
    assert search("vnpayy").corrected is None

    indexer.reindex_everything()
    db_session.commit()
    assert _vocabulary() == _from_scratch() and search("vnpayy").corrected == "vnpay"


def test_near_reads_the_vocabulary_in_trigram_order(postgresql_only, db_session, commit_and_index):
    db_session.add(_item("Hướng dẫn thanh toán", body_md="Quét VietQR hoặc dùng VNPay."))
    commit_and_index()
    near = dict(backend().near("vnpey"))
    assert near.get("vnpay") == 1
