"""The LMS application factory: config → extensions → blueprints → CLI → errors."""

import os

from flask import Flask, current_app, has_request_context, request, session
from sqlalchemy import event

from lms.config import load_config
from lms.core.application import LmsFlask
from lms.core.cookie_sessions import CookieSessionInterface
from lms.core.db import sqlite_transaction_writes
from lms.core.templating import language_tag, locale_of
from lms.extensions import babel, compress, csrf, db, login_manager, migrate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _install_sqlite_hooks(engine) -> None:
    """Make pysqlite honour SAVEPOINT/BEGIN (SQLAlchemy's documented recipe) and foreign keys.

    Bound to this app's engine only, so another engine in the process (a second app in the tests,
    a script's own) is left as its owner made it.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        # A deferred transaction that reads, then writes after another one committed, fails at
        # once ("database is locked": its snapshot is stale; busy_timeout cannot help). Writers —
        # requests that change things, tasks, commands — take the write lock up front and wait
        # their turn instead. Page views read; the few that also write are retried once under the
        # lock when that happens (lms.core.db.retry_stale_reads).
        connection.exec_driver_sql("BEGIN IMMEDIATE" if sqlite_transaction_writes(connection) else "BEGIN")


def _select_locale():
    """The session's language (set at log-in from the account, or by the switch), else Vietnamese.

    Never the database: an error page must render in the person's language while the database is away.
    """
    if not has_request_context():  # CLI commands and tasks speak the default language
        return locale_of(current_app.config["BABEL_DEFAULT_LOCALE"])
    return locale_of(language_tag(session.get("lang"), current_app.config))


def create_app(overrides: dict | None = None) -> Flask:
    """The app, built step by step; the order of the steps is the order things are registered in."""
    app = _make_app(overrides)  # config, cookie sessions, logging, instance folder
    _init_database(app)  # the engine and its SQLite hooks, the session hooks (outbox, search), migrations
    _init_extensions(app)  # CSRF, translations, log-in and session records, SSO, Celery
    _register_models_and_tasks()
    _configure_login()
    _register_observability(app)  # before the blueprints: /metrics gets what every view gets on SQLite
    _install_inputs_and_fast_save(app)
    _trust_proxies(app)
    _register_blueprints(app)
    _install_rate_limits(app)
    _register_cli(app)
    _register_request_hooks(app)
    _register_pages(app)  # error pages, lessons' library links, template helpers
    _serve_light(app)
    from lms.core import overload

    overload.install(app)  # outermost: a request refused for its wait costs no other work
    _check_signing_key(app)
    return app


def _make_app(overrides: dict | None) -> Flask:
    app = LmsFlask(
        __name__,
        instance_path=os.environ.get("LMS_INSTANCE_PATH", os.path.join(ROOT, "instance")),
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
    )
    app.config.update(load_config(app.instance_path, overrides))
    app.session_interface = CookieSessionInterface()
    if not app.testing:  # before anything logs: Flask adds its own handler to a logger tree without one
        from lms.core.observability import configure_logging

        configure_logging(app.config["LMS_LOG_FORMAT"])
    os.makedirs(app.instance_path, exist_ok=True)
    return app


def _init_database(app: Flask) -> None:
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            _install_sqlite_hooks(engine)
    from flask_sqlalchemy.session import Session as FlaskSession

    from lms.core.outbox import install_session_hooks

    # Flask-SQLAlchemy's session class (every session of the app derives from it), not SQLAlchemy's global one.
    install_session_hooks(FlaskSession)
    from lms.search.hooks import install as install_search_hooks

    install_search_hooks(FlaskSession)
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"), render_as_batch=True)
    from lms.core import change_feed

    change_feed.install(app)  # a write gives its browser a moment of reads from the database (kept rows skipped)


def _init_extensions(app: Flask) -> None:
    csrf.init_app(app)
    from lms.core import csrf_tokens

    csrf_tokens.install(app)  # after CSRFProtect: the templates' csrf_token() signs once in a while, not per page
    babel.init_app(app, locale_selector=_select_locale,
                   default_translation_directories=os.path.join(ROOT, "lms", "translations"))
    login_manager.init_app(app)
    from lms.accounts import sessions as session_records

    session_records.install(app)
    from lms.accounts import sso

    sso.init_app(app)

    from lms.core.celery import celery_init_app

    celery_init_app(app)


def _install_inputs_and_fast_save(app: Flask) -> None:
    """The URL converters and request classes of the one input layer; the JSON autosave answered in front of
    the Flask app."""
    from lms.core import inputs

    inputs.install(app)
    from lms.quizzes import fast_save

    fast_save.install(app)  # inside ProxyFix (the client's address and scheme) and the shedding of overload
    from lms.core import fast_pages

    fast_pages.install(app)  # the same place: kept pages read again (the features register theirs)


def _install_rate_limits(app: Flask) -> None:
    from lms.accounts.throttle import ROUTE_LIMITS as ACCOUNT_LIMITS
    from lms.core import ratelimits

    ratelimits.install(app, ACCOUNT_LIMITS)


def _register_pages(app: Flask) -> None:
    from lms.core.errors import register_error_handlers
    from lms.core.templating import register_template_helpers

    register_error_handlers(app)
    from lms.library.queries import lookup as library_lookup

    app.extensions["lms_library_lookup"] = library_lookup  # `![[library:slug]]` in lessons (lms.core.markdown)
    register_template_helpers(app)


def _register_observability(app: Flask) -> None:
    from lms.core.metrics import install_metrics
    from lms.core.observability import install_request_ids

    install_request_ids(app)
    install_metrics(app)


def _trust_proxies(app: Flask) -> None:
    """Behind nginx, the client's address is in X-Forwarded-For; trusted only for as many proxies as
    configured, since a client can write that header too (rate limits and audit use the address)."""
    hops = app.config["LMS_TRUSTED_PROXIES"]
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def _check_signing_key(app: Flask) -> None:
    """Say at start-up, loudly, when certificates could not be signed (they would pile up unrendered)."""
    from lms.certificates.signing import key_problem

    problem = key_problem(app.config)
    if problem:
        app.logger.error("%s. Certificates will not be rendered or signed until this is fixed; /healthz reports "
                         "\"signing\": \"error\".", problem)


def _serve_light(app: Flask) -> None:
    """Pages compressed (brotli or gzip, as the browser asks), static files fingerprinted and cached for good."""
    from lms.core import assets

    compress.init_app(app)
    assets.init_app(app, ROOT)


def _register_models_and_tasks():
    # Imported for their side effects: model classes on the metadata, tasks on Celery.
    from lms.accounts import listeners as _account_listeners  # noqa: F401  (accounts asked for by community)
    from lms.accounts import models as _accounts  # noqa: F401
    from lms.accounts import tasks as _account_tasks  # noqa: F401
    from lms.agencies import listeners as _agency_listeners  # noqa: F401  (agencies files, test data)
    from lms.agencies import models as _agencies  # noqa: F401
    from lms.api import models as _api  # noqa: F401
    from lms.assignments import listeners as _assignment_listeners  # noqa: F401  (people placed, imported)
    from lms.assignments import models as _assignments  # noqa: F401
    from lms.assignments import tasks as _assignment_tasks  # noqa: F401
    from lms.audit import listeners as _audit_listeners  # noqa: F401  (writes the audit log)
    from lms.audit import tasks as _audit_tasks  # noqa: F401
    from lms.catalog import models as _catalog  # noqa: F401
    from lms.certificates import listeners as _certificate_listeners  # noqa: F401
    from lms.certificates import models as _certificates  # noqa: F401
    from lms.certificates import tasks as _certificate_tasks  # noqa: F401
    from lms.classes import models as _classes  # noqa: F401
    from lms.community import listeners as _community_listeners  # noqa: F401  (assisted attempts, for completion)
    from lms.completion import operations as _completion  # noqa: F401  (listens to grading and lessons)
    from lms.core import models as _core  # noqa: F401
    from lms.core import tasks as _core_tasks  # noqa: F401
    from lms.enrollment import models as _enrollment  # noqa: F401
    from lms.enrollment import operations as _enrollment_operations  # noqa: F401  (listens to visits, renewals)
    from lms.imports import jobs as _import_jobs  # noqa: F401  (listens to background_work_failed)
    from lms.imports import models as _imports  # noqa: F401
    from lms.imports import tasks as _import_tasks  # noqa: F401
    from lms.library import models as _library  # noqa: F401
    from lms.library import search as _library_search  # noqa: F401  (listens to course_indexed)
    from lms.library import tasks as _library_tasks  # noqa: F401
    from lms.localities import models as _localities  # noqa: F401
    from lms.notifications import listeners as _notification_listeners  # noqa: F401  (notices asked for)
    from lms.notifications import models as _notifications  # noqa: F401
    from lms.notifications import tasks as _notification_tasks  # noqa: F401
    from lms.privacy import listeners as _privacy_listeners  # noqa: F401  (consent at sign-up)
    from lms.privacy import models as _privacy  # noqa: F401
    from lms.privacy import tasks as _privacy_tasks  # noqa: F401
    from lms.programs import listeners as _program_listeners  # noqa: F401  (course completions)
    from lms.programs import models as _programs  # noqa: F401
    from lms.quizzes import listeners as _quiz_listeners  # noqa: F401  (/metrics figures)
    from lms.quizzes import models as _quizzes  # noqa: F401
    from lms.quizzes import tasks as _quiz_tasks  # noqa: F401
    from lms.reports import jobs as _report_jobs  # noqa: F401  (listens to background_work_failed)
    from lms.reports import models as _reports  # noqa: F401
    from lms.reports import tasks as _report_tasks  # noqa: F401
    from lms.search import models as _search  # noqa: F401
    from lms.search import tasks as _search_tasks  # noqa: F401
    from lms.sharing import listeners as _sharing_listeners  # noqa: F401  (results to VNeID / personnel records)
    from lms.sharing import models as _sharing  # noqa: F401
    from lms.sharing import tasks as _sharing_tasks  # noqa: F401
    from lms.targets import listeners as _target_listeners  # noqa: F401  (targets set from reports and community)


def _configure_login():
    from flask_babel import lazy_gettext as _l
    from sqlalchemy import and_, bindparam, select
    from sqlalchemy.orm import joinedload, lazyload

    from lms.accounts import sessions, viewer
    from lms.accounts.models import RoleGrant, SessionRecord, User

    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"

    statement = None

    def light_endpoints() -> frozenset:
        # The endpoints whose views are marked @light_viewer (lms.core.lifecycle), found once per app.
        app = current_app._get_current_object()
        endpoints = app.extensions.get("lms_light_viewer")
        if endpoints is None:
            endpoints = app.extensions["lms_light_viewer"] = frozenset(
                endpoint for endpoint, function in app.view_functions.items()
                if getattr(function, "lms_light_viewer", False))
        return endpoints

    def user_statement():
        # One narrow query for the user and their role grants: this runs on every request. A grant's
        # locality and agency rows load only where a manager's scope is looked at.
        # The browser's session record (lms/accounts/sessions.py) comes in the same query: an ended
        # one's cookie opens nothing. Built once (first request: the mappers are complete by then)
        # and run with new values: building it and its cache key cost more than running it.
        nonlocal statement
        if statement is None:
            grants = joinedload(User.grants).options(lazyload(RoleGrant.locality), lazyload(RoleGrant.agency))
            record = and_(SessionRecord.key == bindparam("key"), SessionRecord.user_id == User.id,
                          SessionRecord.ended_at.is_(None))
            statement = (select(User, SessionRecord.last_seen_at).options(grants)
                         .outerjoin(SessionRecord, record).where(User.id == bindparam("user_id")))
        return statement

    @login_manager.user_loader
    def load_user(user_id: str):
        raw_id, _, version = user_id.partition(":")
        if not raw_id.isdigit():
            return None
        key = session.get(sessions.SESSION_KEY)
        if not key:
            return None
        if request.endpoint in light_endpoints():  # a plain-valued person from one Core row (lms.accounts.viewer)
            found = viewer.load(int(raw_id), key)
            user, last_seen_at = found if found else (None, None)
        else:
            row = db.session.execute(user_statement(), {"key": key, "user_id": int(raw_id)}).unique().first()
            user, last_seen_at = (row.User, row.last_seen_at) if row else (None, None)
        if user is None or last_seen_at is None:
            return None
        if not user.is_active or str(user.session_version) != version:
            return None
        sessions.note_seen(key, last_seen_at)
        return user


def _register_blueprints(app):
    from lms.accounts.blueprint import bp as accounts
    from lms.agencies.blueprint import bp as agencies
    from lms.api.blueprint import bp as api
    from lms.assignments.blueprint import bp as assignments
    from lms.audit.blueprint import bp as audit
    from lms.authoring.blueprint import bp as authoring
    from lms.catalog.blueprint import bp as catalog
    from lms.certificates.blueprint import bp as certificates
    from lms.classes.blueprint import bp as classes
    from lms.community.blueprint import bp as community
    from lms.community.blueprint import home_bp
    from lms.core.blueprint import bp as core
    from lms.enrollment.blueprint import bp as enrollment
    from lms.hours.blueprint import bp as hours
    from lms.imports.blueprint import bp as imports
    from lms.library.blueprint import bp as library
    from lms.localities.blueprint import bp as localities
    from lms.notifications.blueprint import bp as notifications
    from lms.offline.blueprint import bp as offline
    from lms.practice.blueprint import bp as practice
    from lms.privacy.blueprint import bp as privacy
    from lms.programs.blueprint import bp as programs
    from lms.quizzes.blueprint import bp as quizzes
    from lms.reports.blueprint import bp as reports
    from lms.search.blueprint import bp as search
    from lms.sharing.blueprint import bp as sharing

    for blueprint in (core, accounts, localities, catalog, enrollment, quizzes, certificates, reports,
                      agencies, imports, notifications, classes, api, authoring, programs, assignments, hours, practice,
                      community, privacy, audit,
                      library, search, sharing, offline, home_bp):
        app.register_blueprint(blueprint)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from lms.core.db import retry_stale_reads

        for endpoint, view in app.view_functions.items():
            app.view_functions[endpoint] = retry_stale_reads(view)


def _register_cli(app):
    from lms.cli import register_cli

    register_cli(app)


def _register_request_hooks(app):
    from lms import security_headers
    from lms.core.outbox import dispatch_ready

    security_headers.install(app)

    @app.teardown_request
    def _dispatch_outbox(error):
        # After the view committed: send what the commit queued. Never let it break a page.
        if error is None:
            try:
                dispatch_ready()
            except Exception:  # noqa: BLE001 - the relay retries later
                app.logger.exception("outbox dispatch failed")
