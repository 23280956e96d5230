"""Configuration from the environment.

Two modes:
- embedded default (no DATABASE_URL): SQLite under instance/, Celery eager, a secret key
  generated once and kept in instance/ so sessions survive restarts;
- production (DATABASE_URL set): PostgreSQL, a real broker, and a SECRET_KEY that must be
  given — the app refuses to start without one, since a guessable key forges sessions.
"""

import os
import re
import secrets
from pathlib import Path

from celery.schedules import crontab

PLACEHOLDER_SECRETS = {"", "dev", "change-me", "changeme", "secret", "development"}


class ConfigError(RuntimeError):
    """Raised at start-up when the environment cannot give a safe configuration."""


def _env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name) -> tuple[str, ...]:
    return tuple(item.strip().lower() for item in os.environ.get(name, "").split(",") if item.strip())


def _password_hash_method() -> str:
    """werkzeug's scrypt (n=32768, r=8, p=1) unless LMS_PASSWORD_HASH names other scrypt parameters,
    "scrypt:N:R:P". The test suite lowers N (tests/conftest.py): hashing was ~40 % of its CPU."""
    value = os.environ.get("LMS_PASSWORD_HASH", "scrypt").strip()
    if not re.fullmatch(r"scrypt(:\d+:\d+:\d+)?", value):
        raise ConfigError(f"LMS_PASSWORD_HASH must be scrypt or scrypt:N:R:P, not {value!r}")
    return value


def _embedded_secret(instance_path: Path) -> str:
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def _engine_options(database_url: str) -> dict:
    options = {"pool_pre_ping": True}
    if database_url.startswith("postgresql") and _env_bool("LMS_PGBOUNCER"):
        # PgBouncer in transaction mode hands each transaction to any server connection: statements
        # psycopg would prepare on one are unknown on the next (deploy/README.md).
        options["connect_args"] = {"prepare_threshold": None}
    return options


def _change_feed_url(database_url: str, testing: bool) -> str:
    """Where the change feed LISTENs (lms.core.change_feed): PostgreSQL itself, never PgBouncer in transaction
    mode (LISTEN needs a session of its own). "" keeps nothing (SQLite, LMS_CHANGE_FEED=0, the in-process tests)."""
    if not _env_bool("LMS_CHANGE_FEED", default=not testing) or not database_url.startswith("postgresql"):
        return ""
    explicit = os.environ.get("LMS_CHANGE_FEED_URL", "").strip()
    if explicit or _env_bool("LMS_PGBOUNCER"):
        return explicit  # behind PgBouncer, only an address given for it
    return "postgresql://" + database_url.split("://", 1)[1]


def _oidc_providers() -> dict:
    """OpenID providers from OIDC_PROVIDERS=name,name and OIDC_<NAME>_* (docs/identity.md)."""
    providers = {}
    for name in _env_list("OIDC_PROVIDERS"):
        prefix = f"OIDC_{name.upper()}_"
        issuer = os.environ.get(prefix + "ISSUER", "").rstrip("/")
        client_id = os.environ.get(prefix + "CLIENT_ID", "")
        if not issuer or not client_id:
            raise ConfigError(f"OIDC provider {name!r} needs {prefix}ISSUER and {prefix}CLIENT_ID")
        providers[name] = {
            "issuer": issuer, "client_id": client_id,
            "client_secret": os.environ.get(prefix + "CLIENT_SECRET", ""),
            "label": os.environ.get(prefix + "LABEL", name),
            "scope": os.environ.get(prefix + "SCOPE", "openid email phone profile"),
        }
    return providers


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
    # Background work: a broker means Celery workers; without one the embedded runner (started by
    # `flask serve`, i.e. `make run`) polls the outbox. Eager (in the caller, after its commit) is for tests.
    eager = overrides.get("CELERY_EAGER", _env_bool("CELERY_EAGER", default=False))
    task_mode = "eager" if eager else ("celery" if broker_url else "runner")

    secret_key = overrides.get("SECRET_KEY", os.environ.get("SECRET_KEY", ""))
    if secret_key.strip().lower() in PLACEHOLDER_SECRETS:
        if not embedded and not overrides.get("TESTING"):
            raise ConfigError(
                "SECRET_KEY is not set (or is a placeholder). Outside the embedded SQLite "
                "default the app refuses to start: set SECRET_KEY to a long random value, "
                "e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
            )
        secret_key = _embedded_secret(instance) if not overrides.get("TESTING") else "test-secret"

    reconcile_seconds = float(os.environ.get("LMS_OUTBOX_RECONCILE_SECONDS", "20"))
    # Links follow the port `make run` serves on (PORT=8080 make run) unless the public address is given.
    base_url = os.environ.get("LMS_BASE_URL", f"http://127.0.0.1:{os.environ.get('PORT') or 5000}").rstrip("/")
    config = {
        "LMS_EMBEDDED": embedded,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(database_url),
        "LMS_CHANGE_FEED_URL": _change_feed_url(database_url, bool(overrides.get("TESTING"))),
        "LMS_BASE_URL": base_url,
        "LMS_DEMO": _env_bool("LMS_DEMO", default=embedded),
        # The home area of locality pickers: a unit given as "scheme/code". The default is
        # Bà Rịa-Vũng Tàu (old province 77), whose communes now sit in Ho Chi Minh City.
        "LMS_HOME_LOCALITY": os.environ.get("LMS_HOME_LOCALITY", "2025-01/77"),
        "LMS_ISSUING_AUTHORITY": os.environ.get(
            "LMS_ISSUING_AUTHORITY", "Trung tâm Chuyển đổi số - Bà Rịa-Vũng Tàu"
        ),
        # Certificates: what the PDF shows per deployment, the key that signs credentials, and the
        # public lookup limit (per IP, counted in the database so every app process agrees).
        "LMS_CERTIFICATE_LOGO": os.environ.get("LMS_CERTIFICATE_LOGO", ""),
        "LMS_CERTIFICATE_SIGNATURE_IMAGE": os.environ.get("LMS_CERTIFICATE_SIGNATURE_IMAGE", ""),
        "LMS_CERTIFICATE_SIGNER_NAME": os.environ.get("LMS_CERTIFICATE_SIGNER_NAME", ""),
        "LMS_CERTIFICATE_SIGNER_TITLE": os.environ.get("LMS_CERTIFICATE_SIGNER_TITLE", "Giám đốc"),
        "LMS_SIGNING_KEY": os.environ.get("LMS_SIGNING_KEY", str(instance / "signing_key.pem")),
        "LMS_VERIFY_RATE_LIMIT": int(os.environ.get("LMS_VERIFY_RATE_LIMIT", "60")),
        "LMS_VERIFY_RATE_WINDOW_SECONDS": int(os.environ.get("LMS_VERIFY_RATE_WINDOW_SECONDS", "600")),
        "LMS_FILE_STORE": os.environ.get("LMS_FILE_STORE", str(instance / "files")),
        # For LMS_FILE_STORE=s3://bucket/prefix on a store other than AWS (SeaweedFS, MinIO, Ceph).
        "LMS_S3_ENDPOINT_URL": os.environ.get("LMS_S3_ENDPOINT_URL", ""),
        # Hosts lessons may embed with <iframe> (https only), e.g. "www.youtube-nocookie.com,player.vimeo.com".
        # Empty by default. After changing it run `flask --app app courses rerender --all`.
        "LMS_IFRAME_HOSTS": _env_list("LMS_IFRAME_HOSTS"),
        # Largest file a trainer may upload in the course editor.
        # Bounds on reading an import file (lms.imports.reader.LIMITS; 0 = the default there).
        "LMS_IMPORT_MAX_ROWS": int(os.environ.get("LMS_IMPORT_MAX_ROWS", "0")),
        "LMS_IMPORT_MAX_CELLS": int(os.environ.get("LMS_IMPORT_MAX_CELLS", "0")),
        "LMS_IMPORT_MAX_SECONDS": float(os.environ.get("LMS_IMPORT_MAX_SECONDS", "0")),
        # Audit events older than this are deleted by the daily purge (docs/security.md, part B).
        "LMS_AUDIT_RETENTION_DAYS": int(os.environ.get("LMS_AUDIT_RETENTION_DAYS", "730")),
        "LMS_PASSWORD_HASH": _password_hash_method(),
        "LMS_UPLOAD_MAX_BYTES": int(os.environ.get("LMS_UPLOAD_MAX_BYTES", str(20 * 1024 * 1024))),
        "LMS_TASK_MODE": task_mode,
        # Observability (docs/operations.md): /metrics answers a bearer token or these networks;
        # logs as text or one JSON object per line.
        "LMS_METRICS_TOKEN": os.environ.get("LMS_METRICS_TOKEN", ""),
        "LMS_METRICS_ALLOW": _env_list("LMS_METRICS_ALLOW") or ("127.0.0.1/32", "::1/128"),
        "LMS_LOG_FORMAT": os.environ.get("LMS_LOG_FORMAT", "text").strip().lower(),
        # Kept pages (a lesson read again) answered in front of Flask when nothing is unusual (lms/core/fast_pages.py).
        "LMS_FAST_PAGES": _env_bool("LMS_FAST_PAGES", default=True),
        # How often the embedded runner looks for new work, in seconds.
        "LMS_RUNNER_POLL_SECONDS": float(os.environ.get("LMS_RUNNER_POLL_SECONDS", "0.5")),
        # A background run not finished (or not extended) within this many seconds is presumed dead and
        # sent again; long tasks extend it as they go. Bounds recovery after a killed worker.
        "LMS_OUTBOX_LEASE_SECONDS": float(os.environ.get("LMS_OUTBOX_LEASE_SECONDS", "120")),
        # A message handed to the broker that no worker started within this many seconds is presumed lost
        # with the broker (Redis restarted empty) and sent again.
        "LMS_OUTBOX_START_SECONDS": float(os.environ.get("LMS_OUTBOX_START_SECONDS", "90")),
        # How often beat runs the reconciler. With the lease and the start bound it sets how long work
        # left behind by a fault waits (the fault suite shortens all three to keep its runs short).
        "LMS_OUTBOX_RECONCILE_SECONDS": reconcile_seconds,
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
            # The app's log handler (text or JSON, with the request id) stays on the worker's root logger.
            "worker_hijack_root_logger": False,
            "broker_connection_retry_on_startup": True,
            # A message a killed worker had taken comes back after this many seconds (Redis). The outbox
            # reconciler resends it sooner (lease of 2 minutes), so this only bounds the broker's own copy.
            "broker_transport_options": {"socket_connect_timeout": 2, "socket_timeout": 5,
                                         "visibility_timeout": int(os.environ.get("LMS_BROKER_VISIBILITY_SECONDS",
                                                                                  "300"))},
            # A request must not hang on a dead broker: fail fast, the outbox relay retries.
            "task_publish_retry_policy": {
                "max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2,
            },
            "beat_schedule": {
                "reconcile-outbox": {"task": "core.reconcile_outbox", "schedule": reconcile_seconds},
                "repair-completions": {"task": "certificates.repair", "schedule": 300.0},
                "refresh-report-summary": {"task": "reports.refresh_summary",
                                           "schedule": float(os.environ.get("LMS_REPORT_REFRESH_SECONDS", "300"))},
                # Times in UTC: 01:00 UTC is 08:00 in Vietnam, when people read their mail.
                "assignments-apply-all": {"task": "assignments.apply_all", "schedule": crontab(minute=30, hour=19)},
                "assignments-reminders": {"task": "assignments.reminders", "schedule": crontab(minute=0, hour=1)},
                "assignments-digest": {"task": "assignments.digest",
                                       "schedule": crontab(minute=15, hour=1, day_of_week="mon")},
                "finish-overdue-attempts": {"task": "quizzes.finish_overdue", "schedule": 60.0},
                "privacy-erase-due": {"task": "privacy.erase_due", "schedule": crontab(minute=45, hour=19)},
                "audit-purge": {"task": "audit.purge", "schedule": crontab(minute=40, hour=20)},
                # Failed log-in rows: only the last 15 minutes matter to the delays (docs/security.md).
                "prune-login-failures": {"task": "accounts.prune_login_failures", "schedule": crontab(minute=5)},
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
        # E-mail: SMTP when SMTP_HOST is set; otherwise messages land in the /dev/mailbox page.
        "SMTP_HOST": os.environ.get("SMTP_HOST", ""),
        "SMTP_PORT": int(os.environ.get("SMTP_PORT", "587") or 587),
        "SMTP_USER": os.environ.get("SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _env_bool("SMTP_STARTTLS", default=True),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "LMS <no-reply@localhost>"),
        "MAIL_DOMAIN": os.environ.get("MAIL_DOMAIN", "lms.local"),
        # SMS: "mailbox" (default: /dev/mailbox) or "http" (a gateway, see docs/identity.md).
        "SMS_BACKEND": os.environ.get("SMS_BACKEND", "mailbox"),
        "SMS_HTTP_URL": os.environ.get("SMS_HTTP_URL", ""),
        "SMS_HTTP_TOKEN": os.environ.get("SMS_HTTP_TOKEN", ""),
        "SMS_HTTP_TIMEOUT": float(os.environ.get("SMS_HTTP_TIMEOUT", "10")),
        "SMS_SENDER": os.environ.get("SMS_SENDER", ""),
        # Single sign-on by OpenID Connect: {name: {issuer, client_id, client_secret, label, scope}}.
        "OIDC_PROVIDERS": _oidc_providers(),
        "OIDC_LEEWAY_SECONDS": int(os.environ.get("OIDC_LEEWAY_SECONDS", "60")),
        # Personal data: days between a deletion request and the erasure (the person may cancel meanwhile).
        # Results sharing (lms/sharing, docs/privacy.md): unset endpoint = nothing is sent.
        "LMS_RESULTS_ENDPOINT": os.environ.get("LMS_RESULTS_ENDPOINT", ""),
        "LMS_RESULTS_TOKEN": os.environ.get("LMS_RESULTS_TOKEN", ""),
        "LMS_RESULTS_LABEL": os.environ.get("LMS_RESULTS_LABEL", "VNeID"),
        "LMS_RESULTS_TIMEOUT": float(os.environ.get("LMS_RESULTS_TIMEOUT", "10")),
        "LMS_DELETION_GRACE_DAYS": int(os.environ.get("LMS_DELETION_GRACE_DAYS", "30")),
        # Recovery: reset links live an hour, codes 5 minutes with 5 tries; requests per login and per IP.
        "PASSWORD_RESET_MAX_AGE_SECONDS": 3600,
        "OTP_LIFETIME_SECONDS": 300,
        "OTP_MAX_ATTEMPTS": 5,
        "RECOVERY_MAX_PER_LOGIN": 3,
        "RECOVERY_MAX_PER_IP": 20,
        "RECOVERY_WINDOW_MINUTES": 15,
        # Pages compressed by Flask-Compress (static files come precompressed: lms.core.assets). Streamed
        # responses (CSV exports) stay streamed; brotli first, gzip for the rest.
        "COMPRESS_ALGORITHM": ["br", "gzip"],
        "COMPRESS_MIMETYPES": ["text/html", "text/css", "text/csv", "text/plain", "application/json",
                               "application/javascript", "application/manifest+json", "image/svg+xml"],
        "COMPRESS_STREAMS": False,
        "COMPRESS_BR_LEVEL": 5,
        "LMS_STATIC_BUILD_DIR": os.environ.get("LMS_STATIC_BUILD_DIR", ""),
        # Log-in defences (lms/accounts/throttle.py): growing delays, never a lock-out.
        "LOGIN_THROTTLE_MAX_FAILURES": int(os.environ.get("LMS_LOGIN_FREE_FAILURES", "5")),
        "LOGIN_THROTTLE_ACCOUNT_FAILURES": int(os.environ.get("LMS_LOGIN_ACCOUNT_FREE_FAILURES", "20")),
        "LOGIN_THROTTLE_MAX_DELAY_SECONDS": int(os.environ.get("LMS_LOGIN_MAX_DELAY_SECONDS", "300")),
        "LOGIN_THROTTLE_WINDOW_MINUTES": 15,
        # Verified e-mail addresses in these domains confirm an official (lms/accounts/audiences.py).
        "LMS_OFFICIAL_EMAIL_DOMAINS": [d.strip().lower() for d in
                                       os.environ.get("LMS_OFFICIAL_EMAIL_DOMAINS", "*.gov.vn").split(",") if d.strip()],
        "LMS_LOGIN_FAILURE_KEEP_HOURS": int(os.environ.get("LMS_LOGIN_FAILURE_KEEP_HOURS", "24")),
        "LMS_LOGIN_IP_LIMIT": os.environ.get("LMS_LOGIN_IP_LIMIT", "30 per minute;300 per hour"),
        "LMS_PASSWORD_CHECK_LIMIT": os.environ.get("LMS_PASSWORD_CHECK_LIMIT", "60 per minute"),
        # Accounts created per address: a classroom registers together, a script does not.
        "LMS_REGISTER_IP_LIMIT": os.environ.get("LMS_REGISTER_IP_LIMIT", "30 per hour"),
        # Export jobs one person may have waiting or running at once.
        "LMS_EXPORT_JOBS_PER_USER": int(os.environ.get("LMS_EXPORT_JOBS_PER_USER", "3")),
        # How many reverse proxies in front of the app set X-Forwarded-For/-Proto/-Host (0: none, the
        # default: the client address is the connection's). See docs/security.md for nginx.
        "LMS_TRUSTED_PROXIES": int(os.environ.get("LMS_TRUSTED_PROXIES", "0")),
        # A request that waited longer than this for a gunicorn thread is answered 503 + Retry-After at
        # once (lms/core/overload.py; under lms.core.queue_timed_worker.QueueTimedWorker, or any worker from the
        # proxy's stamp with LMS_REQUEST_START_HEADER below). 0: never.
        # 10 s by default: only a request whose client has most likely given up (the quiz page resends a
        # save after 15 s) is refused; a person's ordinary page or log-in that waits a second or two under
        # a burst is served, not turned into an error page. Exam-day gthread hosts set 1000 (docs/operations.md).
        "LMS_QUEUE_LIMIT_MS": int(os.environ.get("LMS_QUEUE_LIMIT_MS", "10000")),
        # The header in which the reverse proxy stamps when it passed the request on (nginx:
        # X-Request-Start, deploy/nginx/lms-proxy.conf): under sync workers LMS_QUEUE_LIMIT_MS then
        # applies to the time since. Empty (default): not read. Set it only behind a proxy that overwrites it.
        "LMS_REQUEST_START_HEADER": os.environ.get("LMS_REQUEST_START_HEADER", ""),
        "LMS_PASSWORD_MIN_SCORE": int(os.environ.get("LMS_PASSWORD_MIN_SCORE", "2")),
        # Flask-Limiter: Redis in production (the broker's Redis unless LMS_RATELIMIT_STORAGE_URL says
        # otherwise); in the embedded default a small SQLite file every gunicorn worker shares
        # (lms/core/ratelimit_store.py; docs/security.md). In-process test apps count in memory.
        "RATELIMIT_ENABLED": _env_bool("LMS_RATE_LIMITS", default=not overrides.get("TESTING")),
        "RATELIMIT_STORAGE_URI": os.environ.get("LMS_RATELIMIT_STORAGE_URL")
        or (broker_url if broker_url.startswith(("redis://", "rediss://")) else
            "memory://" if overrides.get("TESTING") else f"lms-sqlite://{instance / 'ratelimits.sqlite3'}"),
        # Named after the queue, so deployments (and test runs) sharing one Redis database keep their own counts.
        "RATELIMIT_KEY_PREFIX": f"{overrides.get('CELERY_QUEUE', os.environ.get('CELERY_QUEUE', 'lms'))}-limits",
        # No X-RateLimit headers on every answer (they would also replace the log-in delay's Retry-After);
        # a refused request says Retry-After (lms/core/errors.py).
        "RATELIMIT_HEADERS_ENABLED": False,
        # Redis away: let requests through (and keep the database-backed delays) rather than refuse everyone.
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
    config.update(overrides)
    return config
