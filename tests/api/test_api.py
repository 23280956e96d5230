"""The operations centre's API: tokens, scope, numbers, OpenAPI."""

import pytest
from openapi_schema_validator import validate as validate_schema
from openapi_spec_validator import validate as validate_spec
from sqlalchemy import select

from lms.api.models import ApiToken
from lms.api.operations import create_token, revoke_token

pytestmark = pytest.mark.usefixtures("facts")


@pytest.fixture()
def token_for(db_session):
    def make(unit):
        token, secret = create_token("IOC", unit)
        db_session.commit()
        return {"Authorization": f"Bearer {secret}"}

    return make


def get(client, unit, headers, **params):
    return client.get(f"/api/v1/reports/localities/{unit.id}", headers=headers, query_string=params)


def test_openapi_document_is_valid(client):
    document = client.get("/api/v1/openapi.json").get_json()
    validate_spec(document)
    assert "/reports/localities/{locality_id}" in document["paths"]


def test_commune_token_sees_its_commune_with_correct_numbers(client, units, token_for):
    headers = token_for(units.A)
    response = get(client, units.A, headers)
    data = response.get_json()
    assert response.status_code == 200
    assert [(row["locality"]["name"], row["enrolled"], row["completed"], row["certificates"]) for row in data["rows"]] == [
        ("Phường Vũng Tàu", 5, 4, 3)]
    assert data["total"]["completion_percent"] == 80 and data["total"]["training_hours"] == 8.0

    recorded = get(client, units.A, headers, mode="recorded").get_json()
    assert {row["locality"]["name"]: row["enrolled"] for row in recorded["rows"]} == {
        "Phường Vũng Tàu": 4, "Phường Thắng Tam": 1}
    assert client.get("/api/v1/reports/scope", headers=headers).get_json()["scope"]["code"] == "26506"


def test_responses_match_the_openapi_schema(client, units, token_for):
    document = client.get("/api/v1/openapi.json").get_json()
    schema = dict(document["components"]["schemas"]["Coverage"], components=document["components"])
    validate_schema(get(client, units.hcmc, token_for(units.hcmc)).get_json(), schema)


@pytest.mark.parametrize("other", ["B", "H", "hcmc", "hanoi", "vung_tau_district"])
def test_commune_token_gets_403_elsewhere(client, units, token_for, other):
    response = get(client, getattr(units, other), token_for(units.A))
    assert response.status_code == 403
    assert response.get_json()["error"] == 403 and "rows" not in response.get_json()


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer lms_wrong"}, {"Authorization": "Basic abc"}])
def test_missing_or_wrong_token_is_401(client, units, headers):
    response = get(client, units.A, headers)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "rows" not in response.get_json()


def test_revoked_token_is_refused_and_only_the_hash_is_stored(client, units, token_for, db_session):
    headers = token_for(units.A)
    secret = headers["Authorization"].split()[1]
    token = db_session.scalar(select(ApiToken))
    assert secret not in (token.token_hash, token.name) and len(token.token_hash) == 64
    assert get(client, units.A, headers).status_code == 200
    revoke_token(token)
    db_session.commit()
    assert get(client, units.A, headers).status_code == 401


def test_bad_filter_is_400_json(client, units, token_for):
    response = get(client, units.A, token_for(units.A), **{"from": "2025-99"})
    assert response.status_code == 400 and "2025-07" in response.get_json()["message"]


def test_session_cookie_does_not_open_the_api(client, units, create_user, login):
    login(create_user("Quản trị", audience="official", roles=("admin",)))
    assert get(client, units.A, {}).status_code == 401
