"""Coverage reports: numbers per commune, the manager's scope, boundary modes, the course filter.

The fixture data and its hand-computed numbers are described in tests/reports/conftest.py.
"""

import re

import pytest

from tests.conftest import text_of

pytestmark = pytest.mark.usefixtures("english", "facts")

ROW = re.compile(r'<th scope="row">(.*?)</th>\s*<td class="num">(\d+)</td>\s*<td class="num">(\d+)</td>'
                 r'\s*<td class="num">(\d+)%</td>\s*<td class="num">(\d+)</td>', re.S)
TOTAL = re.compile(r'<tfoot>.*?<td class="num">(\d+)</td>\s*<td class="num">(\d+)</td>'
                   r'\s*<td class="num">(\d+)%</td>\s*<td class="num">(\d+)</td>', re.S)

VUNG_TAU, BA_RIA, BA_DINH = "Phường Vũng Tàu", "Phường Bà Rịa", "Phường Ba Đình"
THANG_TAM_OLD = "Phường Thắng Tam (former unit)"


def rows(response) -> dict[str, tuple[int, int, int, int]]:
    """Commune → (enrolled, completed, completion %, certificates) as shown in the table."""
    assert response.status_code == 200, response.status_code
    html = response.get_data(as_text=True)
    return {re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", name)).strip(): tuple(int(n) for n in numbers)
            for name, *numbers in ROW.findall(html)}


def total(response) -> tuple[int, int, int, int]:
    return tuple(int(n) for n in TOTAL.search(response.get_data(as_text=True)).groups())


def report(client, unit, **params):
    return client.get(f"/reports/localities/{unit.id}", query_string=params)


@pytest.fixture()
def manager_of(create_user, login):
    def make(unit):
        user = create_user("Lê Hoàng Phúc", audience="official", roles=("manager",), manager_of=unit)
        login(user)
        return user

    return make


# ---------------------------------------------------------------- scope

def test_commune_manager_sees_only_their_commune(client, units, manager_of):
    manager_of(units.A)

    landing = client.get("/reports")
    assert landing.status_code == 302 and landing.headers["Location"].endswith(f"/reports/localities/{units.A.id}")
    response = client.get(landing.headers["Location"])

    # a1..a4 and o1, recorded in a commune merged into Vũng Tàu.
    assert rows(response) == {VUNG_TAU: (5, 4, 80, 3)}
    assert total(response) == (5, 4, 80, 3)
    page = text_of(response)
    assert BA_RIA not in page and BA_DINH not in page


@pytest.mark.parametrize("other", ["B", "H", "hcmc", "hanoi"])
def test_commune_manager_cannot_open_another_area(client, units, manager_of, other):
    manager_of(units.A)
    response = report(client, getattr(units, other))
    assert response.status_code == 403
    assert "You do not have permission" in text_of(response) and "Enrolled" not in text_of(response)


def test_province_manager_sees_every_commune_of_the_province(client, units, manager_of):
    manager_of(units.hcmc)
    response = client.get(client.get("/reports").headers["Location"])

    assert rows(response) == {BA_RIA: (2, 1, 50, 1), VUNG_TAU: (5, 4, 80, 3)}
    assert total(response) == (7, 5, 71, 4)
    assert BA_DINH not in text_of(response)
    # ... and may drill down into each of them.
    assert rows(report(client, units.B)) == {BA_RIA: (2, 1, 50, 1)}


@pytest.mark.parametrize("url", ["/reports", "/reports/localities/{A}"])
def test_learners_get_403_on_reports(client, units, create_user, login, url):
    login(create_user())
    response = client.get(url.format(A=units.A.id))
    assert response.status_code == 403
    assert "You do not have permission" in text_of(response) and VUNG_TAU not in text_of(response)


def test_anonymous_visitors_are_sent_to_log_in(client, units):
    response = report(client, units.A)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=/reports/")


def test_admin_sees_any_area(client, units, create_user, login):
    login(create_user("Phạm Quốc Bảo", audience="official", roles=("admin",)))

    home = client.get(client.get("/reports").headers["Location"])  # the home area: old province 77

    assert rows(home) == {BA_RIA: (2, 1, 50, 1), VUNG_TAU: (5, 4, 80, 3)}
    assert rows(report(client, units.H)) == {BA_DINH: (2, 1, 50, 1)}
    assert rows(report(client, units.hanoi)) == {BA_DINH: (2, 1, 50, 1)}
    assert rows(report(client, units.hcmc)) == rows(home)


# ---------------------------------------------------------------- boundaries

def test_old_commune_facts_roll_up_in_current_mode_and_stay_apart_as_recorded(client, units, manager_of):
    manager_of(units.A)

    current = report(client, units.A, mode="current")
    recorded = report(client, units.A, mode="recorded")

    assert rows(current) == {VUNG_TAU: (5, 4, 80, 3)}
    assert rows(recorded) == {VUNG_TAU: (4, 3, 75, 2), THANG_TAM_OLD: (1, 1, 100, 1)}
    assert total(recorded) == total(current)
    assert re.search(r'value="recorded"\s+checked', recorded.get_data(as_text=True))


def test_province_manager_sees_the_old_unit_as_recorded(client, units, manager_of):
    manager_of(units.hcmc)
    assert rows(report(client, units.hcmc, mode="recorded")) == {
        BA_RIA: (2, 1, 50, 1), VUNG_TAU: (4, 3, 75, 2), THANG_TAM_OLD: (1, 1, 100, 1)}


def test_manager_of_an_old_district_sees_facts_of_the_new_communes_that_succeeded_it(client, units, manager_of):
    manager_of(units.vung_tau_district)

    current = report(client, units.vung_tau_district)
    recorded = report(client, units.vung_tau_district, mode="recorded")

    # Vũng Tàu took over communes of the old district 747; Bà Rịa (old district 748) did not.
    assert rows(current) == {VUNG_TAU: (5, 4, 80, 3)}
    assert rows(recorded) == {VUNG_TAU: (4, 3, 75, 2), THANG_TAM_OLD: (1, 1, 100, 1)}
    assert rows(report(client, units.A)) == {VUNG_TAU: (5, 4, 80, 3)}
    assert report(client, units.B).status_code == 403


def test_unknown_mode_falls_back_to_current_boundaries(client, units, manager_of):
    manager_of(units.A)
    assert rows(report(client, units.A, mode="bogus")) == {VUNG_TAU: (5, 4, 80, 3)}


# ---------------------------------------------------------------- course filter

def test_course_filter_narrows_the_counts(client, units, manager_of, facts):
    manager_of(units.hcmc)

    first = report(client, units.hcmc, course=facts.first.id)
    second = report(client, units.hcmc, course=facts.second.id)

    assert rows(first) == {BA_RIA: (2, 1, 50, 1), VUNG_TAU: (3, 2, 67, 2)}
    assert rows(second) == {VUNG_TAU: (2, 2, 100, 1)}
    assert total(first)[0] + total(second)[0] == total(report(client, units.hcmc))[0] == 7
    assert re.search(rf'<option value="{facts.first.id}"\s+selected>', first.get_data(as_text=True))


def test_course_filter_with_recorded_boundaries(client, units, manager_of, facts):
    manager_of(units.A)
    response = report(client, units.A, course=facts.first.id, mode="recorded")
    assert rows(response) == {VUNG_TAU: (2, 1, 50, 1), THANG_TAM_OLD: (1, 1, 100, 1)}
