"""Security headers beyond the CSP (issue 12, part B): Permissions-Policy everywhere, HSTS only
when the site is served over HTTPS (LMS_BASE_URL), never on plain-HTTP installs."""

from lms import create_app


def _policy(header: str) -> dict[str, str]:
    return dict(part.strip().split("=", 1) for part in header.split(","))


def test_permissions_policy_denies_device_features(client):
    for path in ("/courses", "/login", "/khong-co-trang-nay"):
        response = client.get(path)
        policy = _policy(response.headers["Permissions-Policy"])
        for feature in ("camera", "microphone", "geolocation", "payment"):
            assert policy[feature] == "()"
        assert "Strict-Transport-Security" not in response.headers  # the test app is http://


def test_hsts_only_when_the_base_url_is_https(app):
    secure = create_app({**{k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "LMS_FILE_STORE")},
                         "TESTING": True, "CELERY_EAGER": True, "CELERY_BROKER_URL": "",
                         "LMS_BASE_URL": "https://hoc.example.gov.vn"})
    response = secure.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Content-Security-Policy" in response.headers and "Permissions-Policy" in response.headers
