"""Configuration defaults. The environment is read in create_app, never at import."""

from datetime import timedelta


class Defaults:
    # Database: None means "a SQLite file in the instance folder" (resolved in create_app).
    SQLALCHEMY_DATABASE_URI = None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False

    CARE_TIMEZONE = "Asia/Shanghai"

    # Secrets: None means "read from the instance folder, generating it on first run".
    SECRET_KEY = None
    TOKEN_SECRET = None
    QR_SECRET = None

    ACCESS_TOKEN_LIFETIME = timedelta(minutes=15)
    REFRESH_TOKEN_LIFETIME = timedelta(days=30)
    PASSWORD_HASH_METHOD = "scrypt"

    # Login throttling: after this many failures in the window the key is locked out.
    LOGIN_MAX_FAILURES = 5
    LOGIN_FAILURE_WINDOW = timedelta(minutes=15)
    LOGIN_LOCKOUT = timedelta(minutes=15)

    # Request bodies above this size answer 413 (a sync push is the largest legal body).
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024

    # Task generation.
    TASK_HORIZON_DAYS = 14
    TASK_GENERATION_INTERVAL_MINUTES = 60
    # Patrol frequency per risk tier: "week", "month" or "quarter".
    PATROL_FREQUENCY = {"high": "week", "key": "month", "general": "quarter"}

    PAGE_SIZE_DEFAULT = 50
    PAGE_SIZE_MAX = 500

    # flask-smorest / OpenAPI
    API_TITLE = "CareRounds API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = None  # no CDN: see backend/apidocs.py
    OPENAPI_REDOC_PATH = None
    API_SPEC_OPTIONS = {
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
        },
        "security": [{"bearer": []}],
    }
    JSON_SORT_KEYS = False
