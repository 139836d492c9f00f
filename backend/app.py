"""The application factory: config → extensions → errors → blueprints → CLI."""

import os
import secrets
import time
from pathlib import Path

from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from backend import config as default_config

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
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _resolve_database_url(app)
    _resolve_secrets(app)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.session_interface = ConsoleOnlySessions()

    from backend import model_registry  # noqa: F401  (all tables on the metadata)
    from backend.extensions import db, migrate
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))

    from backend import api
    api.init_app(app)

    from backend.errors import register_error_handlers
    register_error_handlers(app)

    _init_console(app)

    from backend.cli import register_commands
    register_commands(app)
    return app


class ConsoleOnlySessions(SecureCookieSessionInterface):
    """The signed cookie session is the console's; the API authenticates by bearer token alone,
    so its requests get Flask's null session (read-only, empty) instead of paying to set up the
    cookie's serializer on every call."""

    def open_session(self, app: Flask, request):
        if request.path.startswith("/api/"):
            return self.make_null_session(app)
        return super().open_session(app, request)


def _init_console(app: Flask) -> None:
    # Each page module adds its routes to the blueprint and its entry to the navigation.
    from backend.console import (  # noqa: F401
        pages_callbacks,
        pages_elders,
        pages_followups,
        pages_reports,
        pages_reviews,
        pages_visits,
    )
    from backend.console.i18n import select_locale
    from backend.console.views import bp as console_bp
    from backend.extensions import babel, csrf

    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(Path(__file__).parent / "translations"))
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    app.register_blueprint(console_bp)


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
    if env.get("CARE_COOKIE_SECURE"):
        app.config["SESSION_COOKIE_SECURE"] = env["CARE_COOKIE_SECURE"] not in ("0", "false", "")


def _resolve_database_url(app: Flask) -> None:
    url = app.config.get("SQLALCHEMY_DATABASE_URI")
    if not url:
        url = "sqlite:///" + str(Path(app.instance_path) / "carerounds.sqlite3")
    # psycopg 3 is the PostgreSQL driver we ship; plain postgresql:// URLs mean it.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("sqlite"):
        # SQLite serialises writers; wait for the lock rather than fail.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("connect_args", {"timeout": 15})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


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
