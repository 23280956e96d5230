"""Typo choice by word adjacency (issue 14): among the near candidates of a word the index does not know,
the one written beside the query's other words wins, on both engines, over the real courses/ and
library/ content; the pair counts follow edits and deletions as the worker re-indexes."""

from pathlib import Path

import pytest
from sqlalchemy import select, text

from lms.catalog import operations as catalog_ops
from lms.catalog.source import find_course_folders, read_course
from lms.core.frontmatter import SourceError
from lms.extensions import db
from lms.library.cli import import_item
from lms.library.source import find_item_files, read_item
from lms.search import indexer, queries
from lms.search.backends import backend
from lms.search.models import SearchDocument
from lms.search.queries import search
from lms.search.text import best_sequence
from tests.search.test_search import _lesson_with, text_of

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def real_content(db_session, commit_and_index):
    """Every course of courses/ and every item of library/ that needs no locality loaded, indexed."""
    for folder in find_course_folders(ROOT / "courses"):
        catalog_ops.import_course(read_course(folder))
    for file in find_item_files(ROOT / "library"):
        try:
            import_item(read_item(file))
        except SourceError:  # an item for a commune: the localities are not loaded here
            db.session.rollback()
            continue
        db.session.commit()
    commit_and_index()


def _pairs() -> dict[tuple[str, str], int]:
    return {(a, b): n for a, b, n in db.session.execute(text("SELECT first, second, docs FROM search_pairs"))}


def test_the_candidate_written_beside_the_other_words_wins(real_content):
    assert _pairs()[("lua", "dao")] > _pairs().get(("la", "dao"), 0)
    assert search("lua dao").total and search("lua dao").corrected is None
    for typed, meant in (("lu dao", "lua dao"), ("dich vu cong truc tuyn", "dich vu cong truc tuyen"),
                         ("dich vu cng truc tuyen", "dich vu cong truc tuyen"), ("mat khau manj", "mat khau manh"),
                         ("mat khau mahn", "mat khau manh")):
        results = search(typed)
        assert results.corrected == meant, (typed, results.corrected)
        assert results.total > 0, typed


def test_a_typo_of_a_word_only_in_a_body_is_corrected_among_real_content(real_content, create_course,
                                                                          commit_and_index):
    course = create_course()
    _lesson_with(course, "Người dân nộp hồ sơ qua ứng dụng VNeID rồi tra cứu kết quả trên cổng dịch vụ công.")
    commit_and_index()
    results = search("ung dung vneidd")
    assert results.corrected == "ung dung vneid" and results.total > 0


def test_pair_counts_follow_edits_and_deletions(db_session, create_course, commit_and_index):
    course = create_course()
    lesson = _lesson_with(course, "Cảnh giác lừa đảo qua điện thoại.")
    commit_and_index()
    assert _pairs()[("lua", "dao")] >= 1
    before = _pairs()
    lesson.body_md = "Thanh toán qua ví điện tử."
    commit_and_index()
    after = _pairs()
    assert after.get(("lua", "dao"), 0) == before[("lua", "dao")] - 1
    assert after[("vi", "dien")] == before.get(("vi", "dien"), 0) + 1
    backend().rebuild_vocabulary()
    assert _pairs() == after  # what the worker kept is what a rebuild from the index gives
    indexer.store([], select(SearchDocument.id).where(SearchDocument.course_id == course.id))  # rows removed
    db.session.commit()
    assert ("vi", "dien") not in _pairs() and ("lua", "dao") not in _pairs()


def test_best_sequence_weighs_pairs_then_distance_then_rows():
    options = [[("la", 1, 90), ("lua", 1, 10)], [("dao", 0, 0)]]
    assert best_sequence(options, {}) == ["la", "dao"]
    assert best_sequence(options, {("lua", "dao"): 3, ("la", "dao"): 1}) == ["lua", "dao"]
    assert best_sequence([[("mat", 0, 0)], [("khau", 1, 5), ("kha", 1, 50)], [("manh", 0, 0)]],
                         {("mat", "khau"): 4, ("khau", "manh"): 4, ("mat", "kha"): 1}) == ["mat", "khau", "manh"]


def test_a_typo_that_is_another_word_is_corrected_by_its_neighbours(real_content, client, create_course,
                                                                   commit_and_index):
    """"khu" is a word of the index, so it is not a typo by itself; nothing holds all three words, and
    "mat khau" / "khau manh" are written where "mat khu" / "khu manh" are not."""
    assert backend().known(["mat", "khu", "manh"]) == {"mat", "khu", "manh"}
    results = search("mat khu manh")
    assert results.corrected == "mat khau manh" and results.total == search("mat khau manh").total > 0
    assert "<mark>" in str(results.hits[0].title) + str(results.hits[0].snippet)
    assert search("mat khau manh").corrected is None
    page = text_of(client.get("/search?q=mat+khu+manh"))
    assert "mat khu manh" in page and "mat khau manh" in page
    # A query that finds something is never changed, however the pairs lean.
    course = create_course()
    _lesson_with(course, "Khu dân cư nào cũng cần mạng internet mạnh.")
    commit_and_index()
    found = search("khu manh")
    assert found.corrected is None and found.total >= 1


def test_a_typo_in_the_first_letter_is_corrected(real_content):
    """SQLite looks up the one-edit words starting with another letter by key, as PostgreSQL does."""
    assert "lua" in dict(backend().near("kua"))
    for typed, meant in (("kua dao", "lua dao"), ("ma otp", None), ("nat khau", "mat khau")):
        assert search(typed).corrected == meant, typed
    assert search("kua dao").total == search("lua dao").total > 0


class _Engine:
    """known / near of a tiny vocabulary, for `_corrected` alone."""

    def __init__(self, near):
        self.words = near

    def known(self, words):
        return {word for word in words if word in {"mat", "khu", "khau", "manh"}}

    def near(self, word):
        return self.words.get(word, [])


@pytest.mark.parametrize(("typed_rows", "changed"), [(0, True), (1, True), (3, False)])
def test_a_known_word_changes_only_when_its_near_word_is_far_more_often_beside_the_others(monkeypatch, typed_rows,
                                                                                         changed):
    pairs = {("mat", "khau"): 20, ("khau", "manh"): 15, ("mat", "khu"): typed_rows, ("khu", "manh"): typed_rows}
    monkeypatch.setattr(queries, "pair_counts", lambda firsts, seconds: {
        pair: rows for pair, rows in pairs.items() if pair[0] in firsts and pair[1] in seconds and rows})
    engine = _Engine({"khu": [("khau", 30), ("kho", 90)], "mat": [("mac", 5)], "manh": [("mach", 5)]})
    terms = ["mat", "khu", "manh"]
    assert queries._corrected(engine, terms, engine.known(terms), {}) is None  # every word known
    assert queries._corrected(engine, terms, engine.known(terms), {}, known_too=True) == (
        ["mat", "khau", "manh"] if changed else None)
