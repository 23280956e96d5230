import pytest


@pytest.fixture()
def english(client):
    client.post("/language", data={"lang": "en"})


@pytest.fixture()
def trainer(create_user):
    return create_user("Trần Văn Minh", roles=("trainer",), audience="official")


from tests.catalog.conftest import course_copy  # noqa: E402,F401 - shared fixture
