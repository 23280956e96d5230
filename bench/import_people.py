"""Bulk import of people: 50,000 rows (DESIGN budget: under 60 s on PostgreSQL).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/lms_bench .venv/bin/python bench/import_people.py \
        [--rows 50000] [--xlsx] [--names]

`--names`: the commune and the agency by name ("Xã/Phường", "Đơn vị" columns: names of the home
area's communes, former and current, resolved through the lineage) instead of by code.

Creates the schema in that database if needed (create_all; use a throw-away database), loads
the localities and one agency, writes a CSV (or XLSX) of ROWS officials with Vietnamese names,
then times: reading the file, the plan (validation + matching against the database), and the
bulk write — first run (all created), second run of the same file (all unchanged) and a third
with every position changed (all updated). Deletes the bench accounts at the end.
"""

import argparse
import csv
import io
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Thanh", "Minh", "Ngọc", "Quốc"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hoà", "Khánh", "Lan", "Long", "Mai", "Nam", "Phúc", "Thảo"]
POSITIONS = ["Chuyên viên", "Trưởng phòng", "Phó trưởng phòng", "Công chức địa chính", "Văn thư"]


def make_rows(n: int, communes: list[str], position_suffix: str = "", names: bool = False):
    rng = random.Random(7)
    headers = ["Họ và tên", "Email", "Số điện thoại", "Xã/Phường" if names else "Mã xã",
               "Đơn vị" if names else "Mã cơ quan", "Chức vụ", "Đối tượng"]
    rows = []
    for i in range(n):
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        rows.append([name, f"bench{i}@bench.vn", f"09{i:08d}", rng.choice(communes), "Cơ quan thử tải" if names else "BENCH",
                     rng.choice(POSITIONS) + position_suffix, "Cán bộ công chức"])
    return headers, rows


def encode(headers, rows, xlsx: bool) -> tuple[bytes, str]:
    if xlsx:
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet()
        sheet.append(headers)
        for row in rows:
            sheet.append(row)
        out = io.BytesIO()
        workbook.save(out)
        return out.getvalue(), "people.xlsx"
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode(), "people.csv"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--xlsx", action="store_true")
    parser.add_argument("--names", action="store_true", help="communes and the agency by name, not by code")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("set DATABASE_URL to a throw-away PostgreSQL database")
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production")

    from sqlalchemy import delete, func, select

    from lms import create_app
    from lms.accounts.models import User
    from lms.agencies.operations import import_agencies_csv
    from lms.extensions import db
    from lms.imports.mapping import detect
    from lms.imports.operations import apply_plan, plan_import
    from lms.imports.reader import read_table
    from lms.localities.models import Locality
    from lms.localities.operations import load_localities

    app = create_app({"CELERY_EAGER": True})
    with app.app_context():
        db.create_all()
        if not db.session.scalar(select(func.count(Locality.id))):
            load_localities()
        import_agencies_csv("code,name\nBENCH,Cơ quan thử tải\n".encode())
        db.session.commit()
        communes = list(db.session.scalars(select(Locality.code).where(
            Locality.scheme == "2025-07", Locality.level == "commune").limit(200)))
        if args.names:
            from lms.localities.queries import home_area

            area = home_area()
            former = db.session.scalars(select(Locality).where(Locality.path.startswith(area.path),
                                                               Locality.level == "commune")).all()
            communes = sorted({unit.name for unit in former} | {unit.current.name for unit in former if unit.current})
        db.session.execute(delete(User).where(User.email.like("bench%@bench.vn")))
        db.session.commit()

        def run(label, suffix=""):
            headers, rows = make_rows(args.rows, communes, suffix, names=args.names)
            data, name = encode(headers, rows, args.xlsx)
            started = time.perf_counter()
            headers, rows = read_table(data, name)
            read = time.perf_counter()
            plan = plan_import(headers, rows, detect(headers))
            planned = time.perf_counter()
            counts = apply_plan(plan)
            db.session.commit()
            done = time.perf_counter()
            print(f"{label:28} read {read - started:5.1f} s  plan {planned - read:5.1f} s  "
                  f"write {done - planned:5.1f} s  total {done - started:5.1f} s  {counts}")

        run(f"{args.rows} rows, first run")
        run("same file again")
        run("every position changed", " (mới)")
        db.session.execute(delete(User).where(User.email.like("bench%@bench.vn")))
        db.session.commit()


if __name__ == "__main__":
    main()
