"""Administrative units across the 2025 reforms: loading, tree, lineage, home area and search (DESIGN.md §4)."""

import csv
import shutil
import unicodedata

import pytest
from sqlalchemy import func, select

from lms.core.text import like_pattern
from lms.localities.models import CURRENT_SCHEME, Locality, LocalityLineage
from lms.localities.operations import DATA_DIR, load_localities
from lms.localities.queries import find_unit, home_commune_ids, home_communes, search_communes

UNITS, LINEAGE_ROWS = 14_149, 11_361


@pytest.fixture()
def unit(db_session):
    def find(scheme, level, code):
        found = db_session.scalar(select(Locality).where(
            Locality.scheme == scheme, Locality.level == level, Locality.code == code))
        assert found is not None, (scheme, level, code)
        return found

    return find


def table_snapshot(db_session):
    units = db_session.execute(select(
        Locality.id, Locality.scheme, Locality.level, Locality.code, Locality.name, Locality.name_folded,
        Locality.parent_id, Locality.path, Locality.current_id).order_by(Locality.id)).all()
    lineage = db_session.execute(select(
        LocalityLineage.id, LocalityLineage.old_id, LocalityLineage.new_id, LocalityLineage.is_partial,
        LocalityLineage.is_default).order_by(LocalityLineage.id)).all()
    return units, lineage


# ---------------------------------------------------------------- loading

def test_loading_again_changes_nothing(db_session):
    before = table_snapshot(db_session)
    assert (len(before[0]), len(before[1])) == (UNITS, LINEAGE_ROWS)

    counts = load_localities()

    assert counts == {"units": UNITS, "inserted": 0, "updated": 0, "lineage": LINEAGE_ROWS}
    db_session.expire_all()
    assert table_snapshot(db_session) == before


def test_loading_changed_data_updates_in_place(db_session, tmp_path, unit):
    shutil.copy(DATA_DIR / "lineage.csv", tmp_path / "lineage.csv")
    with open(DATA_DIR / "localities.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if (row["scheme"], row["level"], row["code"]) == ("2025-07", "commune", "26506"):
            row["name"] = unicodedata.normalize("NFD", "Phường  Vũng Tàu Mới")
    with open(tmp_path / "localities.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    vung_tau = unit("2025-07", "commune", "26506")
    old_id, old_path = vung_tau.id, vung_tau.path

    counts = load_localities(tmp_path)

    assert (counts["inserted"], counts["updated"]) == (0, 1)
    db_session.expire_all()
    renamed = unit("2025-07", "commune", "26506")
    assert (renamed.id, renamed.path) == (old_id, old_path)
    assert renamed.name == "Phường Vũng Tàu Mới" and renamed.name_folded == "phuong vung tau moi"
    assert db_session.scalar(select(func.count(Locality.id))) == UNITS


@pytest.mark.parametrize("scheme, level, expected", [
    ("2025-01", "province", 63),
    ("2025-01", "district", 696),
    ("2025-01", "commune", 10_035),
    ("2025-07", "province", 34),
    ("2025-07", "commune", 3_321),
    ("2025-07", "district", 0),
])
def test_each_scheme_has_the_official_number_of_units(db_session, scheme, level, expected):
    count = db_session.scalar(select(func.count(Locality.id)).where(Locality.scheme == scheme, Locality.level == level))
    assert count == expected


def test_names_are_stored_in_nfc_with_a_folded_search_key(db_session, unit):
    con_dao = unit("2025-07", "commune", "26732")
    assert con_dao.name == "Đặc khu Côn Đảo" and unicodedata.is_normalized("NFC", con_dao.name)
    assert con_dao.name_folded == "dac khu con dao" and con_dao.unit_type == "đặc khu"
    assert str(con_dao.valid_from) == "2025-07-01" and con_dao.valid_to is None
    assert str(unit("2025-01", "commune", "26508").valid_to) == "2025-06-30"


# ---------------------------------------------------------------- tree

def test_path_is_the_chain_of_ancestor_ids(unit):
    province = unit("2025-01", "province", "77")
    district = unit("2025-01", "district", "747")
    commune = unit("2025-01", "commune", "26508")
    assert province.path == f"/{province.id}/" and province.parent_id is None
    assert district.path == f"/{province.id}/{district.id}/" and district.parent_id == province.id
    assert commune.path == f"/{province.id}/{district.id}/{commune.id}/" and commune.parent_id == district.id

    hcmc = unit("2025-07", "province", "79")
    vung_tau = unit("2025-07", "commune", "26506")
    assert vung_tau.path == f"/{hcmc.id}/{vung_tau.id}/" and vung_tau.parent == hcmc
    assert vung_tau.label == "Phường Vũng Tàu, Thành phố Hồ Chí Minh"
    assert commune.label == "Phường Thắng Tam, Thành phố Vũng Tàu, Tỉnh Bà Rịa - Vũng Tàu"


def test_every_unit_path_starts_with_its_parent_path(db_session):
    parent = Locality.__table__.alias("parent")
    child = Locality.__table__
    rows = db_session.execute(
        select(child.c.path, parent.c.path, child.c.id).join(parent, child.c.parent_id == parent.c.id)).all()
    assert len(rows) == UNITS - 63 - 34
    assert all(path == f"{parent_path}{unit_id}/" for path, parent_path, unit_id in rows)


def test_subtree_is_one_prefix_query(db_session, unit):
    hcmc = unit("2025-07", "province", "79")
    communes = db_session.scalar(select(func.count(Locality.id)).where(
        Locality.path.startswith(hcmc.path), Locality.level == "commune"))
    assert communes == 168
    brvt = unit("2025-01", "province", "77")
    assert db_session.scalar(select(func.count(Locality.id)).where(
        Locality.path.startswith(brvt.path), Locality.level == "district")) == 7  # Long Đất merged 1 Jan 2025


def test_contains_province_over_commune(unit):
    hcmc = unit("2025-07", "province", "79")
    hanoi = unit("2025-07", "province", "01")
    vung_tau = unit("2025-07", "commune", "26506")
    brvt = unit("2025-01", "province", "77")
    vung_tau_city = unit("2025-01", "district", "747")
    thang_tam = unit("2025-01", "commune", "26508")

    assert hcmc.contains(vung_tau) and not hanoi.contains(vung_tau)
    assert not vung_tau.contains(hcmc)
    assert vung_tau.contains(vung_tau)
    assert brvt.contains(thang_tam) and vung_tau_city.contains(thang_tam)
    assert hcmc.contains(thang_tam), "an old commune lies in the province of its successor"
    assert vung_tau.contains(thang_tam)
    assert not hcmc.contains(None)


def test_no_province_contains_another(db_session):
    # Paths end with "/", so /1/ is no prefix of /12/: sibling subtrees never overlap.
    provinces = db_session.scalars(select(Locality).where(Locality.level == "province")).all()
    assert len(provinces) == 63 + 34
    current = [p for p in provinces if p.is_current]
    assert not any(a.contains(b) for a in current for b in current if a is not b)


# ---------------------------------------------------------------- lineage

def test_old_vung_tau_ward_rolls_up_to_phuong_vung_tau(db_session, unit):
    thang_tam = unit("2025-01", "commune", "26508")
    vung_tau = unit("2025-07", "commune", "26506")
    assert thang_tam.name == "Phường Thắng Tam"
    assert thang_tam.current == vung_tau and vung_tau.name == "Phường Vũng Tàu"
    row = db_session.scalar(select(LocalityLineage).where(LocalityLineage.old_id == thang_tam.id))
    assert (row.new_id, row.is_default, str(row.effective_date)) == (vung_tau.id, True, "2025-07-01")


def test_con_dao_district_becomes_the_special_zone(db_session, unit):
    con_dao = unit("2025-01", "district", "755")
    zone = unit("2025-07", "commune", "26732")
    assert con_dao.name == "Huyện Côn Đảo" and con_dao.current == zone
    rows = db_session.execute(select(LocalityLineage.new_id, LocalityLineage.is_default)
                              .where(LocalityLineage.old_id == con_dao.id)).all()
    assert set(rows) == {(zone.id, True), (unit("2025-07", "province", "79").id, False)}


def test_current_units_are_their_own_current_and_every_old_commune_has_one(db_session):
    current = db_session.scalars(select(Locality).where(Locality.scheme == CURRENT_SCHEME)).all()
    assert all(u.current_id == u.id for u in current)
    orphans = db_session.scalar(select(func.count(Locality.id)).where(
        Locality.scheme == "2025-01", Locality.level == "commune", Locality.current_id.is_(None)))
    assert orphans == 0


def test_old_province_resolves_to_the_merged_province(unit):
    assert unit("2025-01", "province", "77").current == unit("2025-07", "province", "79")


# ---------------------------------------------------------------- home area

def test_default_home_area_is_the_thirty_communes_of_old_ba_ria_vung_tau(app, db_session):
    assert app.config["LMS_HOME_LOCALITY"] == "2025-01/77"
    communes = home_communes()
    codes = sorted(int(u.code) for u in communes)
    assert len(communes) == 30 == len(home_commune_ids())
    assert codes[0] == 26506 and codes[-1] == 26732 and all(26506 <= c <= 26732 for c in codes)
    assert "Đặc khu Côn Đảo" in {u.name for u in communes}
    assert all(u.scheme == CURRENT_SCHEME and u.level == "commune" and u.parent.code == "79" for u in communes)
    assert [u.name_folded for u in communes] == sorted(u.name_folded for u in communes)


def test_home_area_can_be_a_current_unit_or_missing(app, db_session, monkeypatch, unit):
    monkeypatch.setitem(app.config, "LMS_HOME_LOCALITY", "2025-07/26506")
    assert home_commune_ids() == {unit("2025-07", "commune", "26506").id}
    monkeypatch.setitem(app.config, "LMS_HOME_LOCALITY", "2025-01/747")  # the old city of Vũng Tàu
    assert {u.name for u in home_communes()} >= {"Phường Vũng Tàu", "Xã Long Sơn"}
    monkeypatch.setitem(app.config, "LMS_HOME_LOCALITY", "2025-09/999")
    assert home_communes() == [] and home_commune_ids() == set()


def test_find_unit_prefers_the_province_for_a_shared_code(unit):
    # Code 79 is only a province; 26506 exists in both schemes as a commune.
    assert find_unit("2025-07/79") == unit("2025-07", "province", "79")
    assert find_unit("2025-01/26506") == unit("2025-01", "commune", "26506")
    assert find_unit("nonsense") is None


# ---------------------------------------------------------------- search

def test_search_folds_accents_case_and_unicode_form(db_session, unit):
    vung_tau = unit("2025-07", "commune", "26506")
    for typed in ("vung tau", "VŨNG TÀU", unicodedata.normalize("NFD", "Vũng Tàu"), "  vung   tau "):
        assert search_communes(typed)[0] == (vung_tau, None)
    assert [u.name for u, _ in search_communes("dat do")] == ["Xã Đất Đỏ"]


def test_search_finds_a_current_commune_through_a_former_name(db_session, unit):
    results = search_communes("thang tam")
    assert results == [(unit("2025-07", "commune", "26506"), "Phường Thắng Tam")]
    # Lineage row: 2025-01 commune 26725 Phường Hắc Dịch -> 2025-07 commune 26725 Phường Tân Thành.
    assert (unit("2025-07", "commune", "26725"), "Phường Hắc Dịch") in search_communes("hac dich")


def test_search_lists_home_area_communes_first(db_session):
    results = search_communes("dich")
    home = home_commune_ids()
    assert results[0][0].id in home and results[0][1] == "Phường Hắc Dịch"
    assert all(u.id not in home for u, _ in results[1:])
    assert ("Xã Nậm Dịch", None) in [(u.name, f) for u, f in results]
    assert all(u.scheme == CURRENT_SCHEME and u.level == "commune" for u, _ in results)
    assert len({u.id for u, _ in results}) == len(results)


def test_search_respects_the_limit_and_ignores_blank_queries(db_session):
    assert len(search_communes("xa", limit=5)) == 5
    assert search_communes("") == [] and search_communes("   ") == []


@pytest.mark.parametrize("query", ["%", "_", "%%", "vung%tau", "vung_tau", "\\", "v\\%"])
def test_search_treats_like_wildcards_as_plain_characters(db_session, query):
    assert search_communes(query) == []


def test_like_pattern_escapes_wildcards():
    assert like_pattern("50%_off") == "%50\\%\\_off%"
    assert like_pattern("a\\b") == "%a\\\\b%"
    assert like_pattern("Đất Đỏ") == "%dat do%"
