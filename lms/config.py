"""Configuration from the environment.

Two modes:
- embedded default (no DATABASE_URL): SQLite under instance/, Celery eager, a secret key
  generated once and kept in instance/ so sessions survive restarts;
- production (DATABASE_URL set): PostgreSQL, a real broker, and a SECRET_KEY that must be
  given — the app refuses to start without one, since a guessable key forges sessions.
"""

import os
import secrets
from pathlib import Path

PLACEHOLDER_SECRETS = {"", "dev", "change-me", "changeme", "secret", "development"}


class ConfigError(RuntimeError):
    """Raised at start-up when the environment cannot give a safe configuration."""


def _env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _embedded_secret(instance_path: Path) -> str:
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Build the Flask config dict; `overrides` (tests) win over the environment."""
    overrides = dict(overrides or {})
    instance = Path(instance_path)
    database_url = overrides.get("SQLALCHEMY_DATABASE_URI") or os.environ.get("DATABASE_URL")
    embedded = not database_url
    if embedded:
        database_url = f"sqlite:///{instance / 'lms.sqlite3'}"
    # Heroku-style URLs name the old driver; we ship psycopg 3.
    if database_url.startswith("postgres://"):
        database_url = "postgresql://" + database_url[len("postgres://"):]
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]

    broker_url = overrides.get("CELERY_BROKER_URL", os.environ.get("CELERY_BROKER_URL", ""))
    eager = overrides.get("CELERY_EAGER", _env_bool("CELERY_EAGER", default=not broker_url))

    secret_key = overrides.get("SECRET_KEY", os.environ.get("SECRET_KEY", ""))
    if secret_key.strip().lower() in PLACEHOLDER_SECRETS:
        if not embedded and not overrides.get("TESTING"):
            raise ConfigError(
                "SECRET_KEY is not set (or is a placeholder). Outside the embedded SQLite "
                "default the app refuses to start: set SECRET_KEY to a long random value, "
                "e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
            )
        secret_key = _embedded_secret(instance) if not overrides.get("TESTING") else "test-secret"

    base_url = os.environ.get("LMS_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    config = {
        "LMS_EMBEDDED": embedded,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "LMS_BASE_URL": base_url,
        "LMS_DEMO": _env_bool("LMS_DEMO", default=embedded),
        # The home area of locality pickers: a unit given as "scheme/code". The default is
        # Bà Rịa-Vũng Tàu (old province 77), whose communes now sit in Ho Chi Minh City.
        "LMS_HOME_LOCALITY": os.environ.get("LMS_HOME_LOCALITY", "2025-01/77"),
        "LMS_ISSUING_AUTHORITY": os.environ.get(
            "LMS_ISSUING_AUTHORITY", "Trung tâm Chuyển đổi số - Bà Rịa-Vũng Tàu"
        ),
        "LMS_FILE_STORE": os.environ.get("LMS_FILE_STORE", str(instance / "files")),
        "CELERY": {
            "broker_url": broker_url or "memory://",
            "result_backend": None,
            "task_always_eager": eager,
            "task_default_queue": overrides.get("CELERY_QUEUE", os.environ.get("CELERY_QUEUE", "lms")),
            "task_eager_propagates": False,
            "task_ignore_result": True,
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            "broker_connection_retry_on_startup": True,
            "broker_transport_options": {"socket_connect_timeout": 2, "socket_timeout": 5},
            # A request must not hang on a dead broker: fail fast, the outbox relay retries.
            "task_publish_retry_policy": {
                "max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2,
            },
            "beat_schedule": {
                "relay-outbox": {"task": "core.relay_outbox", "schedule": 60.0},
                "finish-overdue-attempts": {"task": "quizzes.finish_overdue", "schedule": 60.0},
            },
        },
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "LMS_LANGUAGES": {"vi": "Tiếng Việt", "en": "English"},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": base_url.startswith("https://"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": base_url.startswith("https://"),
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 32 * 1024 * 1024,
        "LOGIN_THROTTLE_MAX_FAILURES": 5,
        "LOGIN_THROTTLE_WINDOW_MINUTES": 15,
    }
    config.update(overrides)
    return config
