"""Issue 12, finding 4: the agency import is set-based — a few statements for a whole file, no
savepoint per row — and still places children listed before parents, moves subtrees, and refuses
cycles and duplicate codes row by row."""

from sqlalchemy import event, select

from lms.agencies import operations, queries
from lms.agencies.models import Agency
from lms.extensions import db


def _big_csv(count: int) -> bytes:
    lines = ["code,name,parent_code,kind,locality_code"]
    for number in range(count, 0, -1):  # children first
        parent = f"A{number // 10:05d}" if number >= 10 and number % 10 else ""
        lines.append(f"A{number:05d},Phòng số {number},{parent},office,26506")
    return ("\n".join(lines) + "\n").encode()


def _statements(run):
    seen = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement.split(None, 1)[0].upper())

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        result = run()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return result, seen


def test_two_thousand_agencies_in_a_handful_of_statements(db_session):
    counts, statements = _statements(lambda: operations.import_agencies_csv(_big_csv(2000)))
    assert (counts["created"], counts["updated"], counts["errors"]) == (2000, 0, [])
    # (one SAVEPOINT at most: the test's own transaction; the old import made one per row)
    assert statements.count("SAVEPOINT") <= 1 and len(statements) < 20, statements
    leaf = queries.by_code("A01234")
    assert leaf.parent.code == "A00123" and leaf.path == f"{leaf.parent.path}{leaf.id}/"
    again, statements = _statements(lambda: operations.import_agencies_csv(_big_csv(2000)))
    assert (again["created"], again["updated"]) == (0, 2000)
    assert "UPDATE" not in statements  # nothing changed, nothing written


def test_a_move_rewrites_the_subtree_and_cycles_and_duplicates_are_row_errors(db_session):
    from flask_babel import force_locale

    operations.import_agencies_csv("code,name,parent_code\nA,Sở A,\nB,Sở B,\nA1,Phòng A1,A\nA11,Tổ A11,A1\n".encode())
    with force_locale("en"):
        counts = operations.import_agencies_csv(
            "code,name,parent_code\nA1,Phòng A1,B\nX,Vòng X,Y\nY,Vòng Y,X\nB,Sở B,\nB,Trùng,\nZ,Sai loại,,planet\n".encode())  # noqa: E501
    errors = dict(counts["errors"])
    assert "under itself" in errors[3] and "under itself" in errors[4]
    assert "same code as row 5" in errors[6]
    b, a1, a11 = (db_session.scalar(select(Agency).where(Agency.code == code)) for code in ("B", "A1", "A11"))
    assert a1.parent_id == b.id and a11.path == f"/{b.id}/{a1.id}/{a11.id}/"
    assert db_session.scalar(select(Agency).where(Agency.code == "X")) is None
