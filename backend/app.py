"""The application factory: config → extensions → errors → blueprints → CLI."""

import os
import secrets
import time
from datetime import timedelta
from pathlib import Path

from flask import Flask, has_request_context, redirect, request, request_started, url_for
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, UnicodeConverter, ValidationError

from backend import config as default_config
from schemas.fields import INT32
from schemas.vocab import ELDER_CATEGORIES

SECRET_NAMES = {"SECRET_KEY": "CARE_SECRET_KEY", "TOKEN_SECRET": "CARE_TOKEN_SECRET",
                "QR_SECRET": "CARE_QR_SECRET"}


def create_app(config: dict | None = None) -> Flask:
    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get("CARE_INSTANCE_PATH")
    app = Flask("backend", instance_path=instance_path and str(Path(instance_path).resolve()),
                instance_relative_config=True)
    app.config.from_object(default_config.Defaults)
    _load_environment(app)
    if config:
        app.config.update(config)
    _check_coverage_categories(app.config["COVERAGE_CATEGORIES"])
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _resolve_database_url(app)
    _resolve_secrets(app)
    from backend.jsonbody import StrictJSONProvider, StrictRequest

    app.request_class = StrictRequest
    app.json = StrictJSONProvider(app)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.session_interface = ConsoleOnlySessions()
    app.url_map.converters["int"] = IdConverter  # before any route is declared
    app.url_map.converters["default"] = app.url_map.converters["string"] = SegmentConverter
    if app.config["TRUSTED_PROXIES"]:
        # The client's address (the login throttle's key) and scheme come from the proxies'
        # X-Forwarded-For/-Proto, as many hops back as there are proxies, never further.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    from backend import model_registry  # noqa: F401  (all tables on the metadata)
    from backend.extensions import db, migrate
    db.init_app(app)
    from backend import timestamps
    with app.app_context():
        for engine in db.engines.values():  # the primary's, and the replica's if any
            timestamps.install(engine)  # a stored time Python cannot hold reads back clamped, not as a 500
    from backend import commit_hooks
    commit_hooks.install(db.session)  # the change feed's stamp, then the audit append, at every commit
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))

    from backend import api
    api.init_app(app)

    from backend.errors import register_error_handlers
    register_error_handlers(app)

    _init_console(app)
    from backend.fieldapp.views import bp as fieldapp_bp

    app.register_blueprint(fieldapp_bp)

    from backend.security_headers import install_security_headers
    install_security_headers(app)

    from backend.retries import retry_lost_transactions

    retry_lost_transactions(app)  # after every view is registered

    from backend.cli import register_commands
    register_commands(app)
    return app


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: ids are INTEGER columns, so a larger number matches no route and
    answers 404 like any unknown id, instead of reaching the database as an error."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", INT32[1])
        super().__init__(map, *args, **kwargs)


class SegmentConverter(UnicodeConverter):
    """`<…>` and `<string:…>`: a segment holding NUL, which no text column can store, matches no
    route (404) instead of reaching the database as an error."""

    def to_python(self, value: str) -> str:
        if "\x00" in value:
            raise ValidationError
        return value


class ConsoleOnlySessions(SecureCookieSessionInterface):
    """The signed cookie session is the console's; the API authenticates by bearer token alone,
    so its requests get Flask's null session (read-only, empty) instead of paying to set up the
    cookie's serializer on every call."""

    def open_session(self, app: Flask, request):
        if request.path.startswith("/api/"):
            return self.make_null_session(app)
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        # A cookie set over HTTPS is always Secure; SESSION_COOKIE_SECURE forces it on plain
        # http too (a TLS proxy not listed in TRUSTED_PROXIES makes requests look like http).
        return app.config["SESSION_COOKIE_SECURE"] or (has_request_context() and request.is_secure)


def _init_console(app: Flask) -> None:
    # Each page module adds its routes to the blueprint and its entry to the navigation.
    from backend.console import (  # noqa: F401
        pages_callbacks,
        pages_elders,
        pages_followups,
        pages_provider,
        pages_reads,
        pages_rectifications,
        pages_register,
        pages_reports,
        pages_reviews,
        pages_statements,
        pages_visits,
    )
    from backend.console.views import bp as console_bp
    from backend.extensions import babel, csrf
    from backend.i18n import refresh_locale, select_locale

    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(Path(__file__).parent / "translations"))
    babel.init_app(app, locale_selector=select_locale)
    request_started.connect(refresh_locale, app)
    csrf.init_app(app)
    app.register_blueprint(console_bp)
    # People type the bare address: the root leads to the console (which asks them to sign in).
    app.add_url_rule("/", "root", lambda: redirect(url_for("console.home")))
    app.add_url_rule("/favicon.ico", "favicon",
                     lambda: redirect(url_for("console.static", filename="favicon.svg"), code=301))


def _load_environment(app: Flask) -> None:
    env = os.environ
    if env.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = env["DATABASE_URL"]
    if env.get("CARE_TIMEZONE"):
        app.config["CARE_TIMEZONE"] = env["CARE_TIMEZONE"]
    for key, var in SECRET_NAMES.items():
        if env.get(var):
            app.config[key] = env[var]
    if env.get("CARE_TASK_HORIZON_DAYS"):
        app.config["TASK_HORIZON_DAYS"] = int(env["CARE_TASK_HORIZON_DAYS"])
    if env.get("CARE_PARTITION_MONTHS_AHEAD"):
        app.config["PARTITION_MONTHS_AHEAD"] = _count("CARE_PARTITION_MONTHS_AHEAD", env["CARE_PARTITION_MONTHS_AHEAD"])
    if env.get("CARE_RETENTION_YEARS"):
        app.config["RETENTION_YEARS"] = _count("CARE_RETENTION_YEARS", env["CARE_RETENTION_YEARS"], least=1)
    if env.get("CARE_ARCHIVE_SCHEMA"):
        app.config["ARCHIVE_SCHEMA"] = env["CARE_ARCHIVE_SCHEMA"]
    if env.get("CARE_TRUSTED_PROXIES"):
        app.config["TRUSTED_PROXIES"] = int(env["CARE_TRUSTED_PROXIES"])
    if env.get("CARE_MEDIA_FOLDER"):
        app.config["MEDIA_FOLDER"] = env["CARE_MEDIA_FOLDER"]
    if env.get("CARE_MEDIA_MAX_BYTES"):
        app.config["MEDIA_MAX_BYTES"] = int(env["CARE_MEDIA_MAX_BYTES"])
    if env.get("DATABASE_REPLICA_URL"):
        app.config["DATABASE_REPLICA_URL"] = env["DATABASE_REPLICA_URL"]
    if env.get("CARE_REPLICA_MAX_LAG"):
        app.config["REPLICA_MAX_LAG"] = timedelta(seconds=_number("CARE_REPLICA_MAX_LAG", env["CARE_REPLICA_MAX_LAG"]))
    if env.get("CARE_DB_PREPARED"):
        app.config["DB_PREPARED"] = _switch("CARE_DB_PREPARED", env["CARE_DB_PREPARED"])
    if env.get("CARE_COVERAGE_CATEGORIES") is not None:
        app.config["COVERAGE_CATEGORIES"] = tuple(
            code.strip() for code in env["CARE_COVERAGE_CATEGORIES"].split(",") if code.strip())
    if env.get("CARE_COOKIE_SECURE"):
        app.config["SESSION_COOKIE_SECURE"] = env["CARE_COOKIE_SECURE"] not in ("0", "false", "")


def _check_coverage_categories(categories) -> None:
    """Patrol coverage's population must name elder categories: a mistyped one would silently
    leave its elders out of every report, so the app refuses to start."""
    if not categories:
        raise RuntimeError("CARE_COVERAGE_CATEGORIES (COVERAGE_CATEGORIES) names no elder category; "
                           f"choose among {', '.join(ELDER_CATEGORIES)}")
    unknown = [code for code in categories if code not in ELDER_CATEGORIES]
    if unknown:
        raise RuntimeError(f"CARE_COVERAGE_CATEGORIES (COVERAGE_CATEGORIES): unknown elder categories "
                           f"{', '.join(map(repr, unknown))}; choose among {', '.join(ELDER_CATEGORIES)}")


def _number(var: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 <= number < 10**9:
        raise RuntimeError(f"{var} must be a number of seconds, not {value!r}")
    return number


def _count(var: str, value: str, least: int = 0) -> int:
    if not (value.isdigit() and least <= int(value) <= 1000):
        raise RuntimeError(f"{var} must be a whole number from {least} to 1000, not {value!r}")
    return int(value)


def _switch(var: str, value: str) -> bool:
    if value.lower() in ("on", "1", "true", "yes"):
        return True
    if value.lower() in ("off", "0", "false", "no"):
        return False
    raise RuntimeError(f"{var} must be on or off, not {value!r}")


def _resolve_database_url(app: Flask) -> None:
    """DATABASE_URL, or else the embedded PostgreSQL server whose data lives in the instance
    folder (started here, or joined if another command of ours already runs it); the replica's
    engine as the bind "replica" when DATABASE_REPLICA_URL is given, with the primary's options."""
    url = app.config.get("SQLALCHEMY_DATABASE_URI")
    if not url:
        from backend.embedded import server_url

        url = server_url(Path(app.instance_path) / "pgdata")
    app.config["SQLALCHEMY_DATABASE_URI"] = _psycopg_url(url, "DATABASE_URL")
    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    if not app.config["DB_PREPARED"]:
        # Never prepared, however often run (driver_execute and the pull's probe follow it too).
        options["connect_args"] = {**options.get("connect_args", {}), "prepare_threshold": None}
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if app.config["DATABASE_REPLICA_URL"]:
        replica = _psycopg_url(app.config["DATABASE_REPLICA_URL"], "DATABASE_REPLICA_URL")
        app.config["SQLALCHEMY_BINDS"] = {**app.config.get("SQLALCHEMY_BINDS", {}),
                                          "replica": {**options, "url": replica}}


def _psycopg_url(url: str, var: str) -> str:
    # psycopg 3 is the PostgreSQL driver we ship; plain postgresql:// URLs mean it.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    if not url.startswith("postgresql+psycopg://"):
        raise RuntimeError(f"{var} must be a PostgreSQL URL (postgresql://…)")
    return url


def _resolve_secrets(app: Flask) -> None:
    """Secrets come from the environment, or from files in the instance folder made on first run."""
    for key, var in SECRET_NAMES.items():
        if not app.config.get(key):
            app.config[key] = _instance_secret(Path(app.instance_path) / key.lower())
        if len(app.config[key].encode()) < 32:
            raise RuntimeError(f"{var} must be at least 32 bytes long")


def _instance_secret(path: Path) -> str:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret(path)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _read_secret(path: Path) -> str:
    # Another process may have created the file a moment ago and still be writing it.
    for _ in range(50):
        value = path.read_text().strip()
        if value:
            return value
        time.sleep(0.02)
    raise RuntimeError(f"secret file {path} is empty")
