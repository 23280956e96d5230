"""LMS_PASSWORD_HASH: scrypt's parameters. The default is werkzeug's (n=32768, r=8, p=1); the test suite
lowers n (tests/conftest.py); a hash keeps its own parameters, so changing them locks nobody out."""

import pytest

from lms import create_app
from lms.accounts import operations
from lms.config import ConfigError


def test_without_the_setting_passwords_get_werkzeugs_full_scrypt(monkeypatch, tmp_path):
    monkeypatch.delenv("LMS_PASSWORD_HASH", raising=False)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x" * 32,
                      "LMS_FILE_STORE": str(tmp_path)})
    assert app.config["LMS_PASSWORD_HASH"] == "scrypt"
    with app.app_context():
        user = operations.User(full_name="Trần Thị Bình")
        user.set_password("mat-khau-rat-dai-2026")
    assert user.password_hash.startswith("scrypt:32768:8:1$")
    assert user.check_password("mat-khau-rat-dai-2026") and not user.check_password("sai")


@pytest.mark.parametrize("value", ["md5", "scrypt:1024", "plain", "scrypt:a:b:c"])
def test_anything_but_scrypt_parameters_stops_the_start(monkeypatch, value):
    monkeypatch.setenv("LMS_PASSWORD_HASH", value)
    with pytest.raises(ConfigError, match="LMS_PASSWORD_HASH"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x" * 32})


def test_a_hash_made_with_other_parameters_still_logs_in(app, db_session, create_user, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_PASSWORD_HASH", "scrypt:2048:8:1")
    user = create_user(password="mat-khau-cu-2025")
    assert user.password_hash.startswith("scrypt:2048:8:1$")
    monkeypatch.setitem(app.config, "LMS_PASSWORD_HASH", "scrypt:4096:8:1")
    with app.test_request_context():
        assert operations.authenticate(user.email, "mat-khau-cu-2025") == user
        assert operations.authenticate(user.email, "sai-mat-khau") is None
    assert operations._decoy_hash("scrypt:4096:8:1").startswith("scrypt:4096:8:1$")  # unknown accounts: same cost
