"""Configuration defaults. The environment is read in create_app, never at import."""

from datetime import timedelta


class Defaults:
    # Database: None means "the embedded PostgreSQL server in the instance folder" (resolved in
    # create_app, which starts it or joins the one already running there).
    SQLALCHEMY_DATABASE_URI = None
    # No pre-ping: it cost every request a round trip before its first statement (a third of an
    # empty sync pull's). Disconnects are handled optimistically instead: connections are
    # recycled before idle timeouts, and a request that meets a dead one fails once (a 5xx that
    # clients retry) while SQLAlchemy invalidates the rest of the pool.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": False, "pool_recycle": 1800}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # A streaming replica for the heavy reads: the monthly report, the visit log and its exports
    # (DATABASE_REPLICA_URL; None reads them on the primary). Everything a phone or a write
    # depends on reads the primary. A replica further behind than REPLICA_MAX_LAG
    # (CARE_REPLICA_MAX_LAG, seconds) is passed over for the primary (backend/replica.py).
    DATABASE_REPLICA_URL = None
    REPLICA_MAX_LAG = timedelta(seconds=60)
    # psycopg's server-side prepared statements. CARE_DB_PREPARED=off turns them off, for
    # PgBouncer before 1.21 in transaction mode, which sends a transaction's statements to
    # whichever server connection is free: one that never prepared the statement.
    DB_PREPARED = True

    CARE_TIMEZONE = "Asia/Shanghai"

    # Secrets: None means "read from the instance folder, generating it on first run".
    SECRET_KEY = None
    TOKEN_SECRET = None
    QR_SECRET = None

    ACCESS_TOKEN_LIFETIME = timedelta(minutes=15)
    REFRESH_TOKEN_LIFETIME = timedelta(days=30)
    PASSWORD_HASH_METHOD = "scrypt"

    # Login throttling (backend/auth/throttle.py; the README's "Sign-in limits" explains them).
    # Per account, wherever the attempts come from: growing waits, never a long lockout, because
    # the waits also hold up the account's real user. After LOGIN_ACCOUNT_FREE_FAILURES failures
    # each further attempt waits LOGIN_ACCOUNT_DELAY, doubled by every failure, up to the cap;
    # the count is forgotten after LOGIN_FAILURE_WINDOW without a failure.
    LOGIN_ACCOUNT_FREE_FAILURES = 5
    LOGIN_ACCOUNT_DELAY = timedelta(seconds=1)
    LOGIN_ACCOUNT_MAX_DELAY = timedelta(minutes=5)
    # Per account and address: the hard stop for one address guessing one account's password.
    LOGIN_PAIR_MAX_FAILURES = 10
    # Per address across all accounts: only sprays, far above the typos of the people sharing a
    # carrier NAT or a street office's address.
    LOGIN_ADDRESS_MAX_FAILURES = 100
    LOGIN_FAILURE_WINDOW = timedelta(minutes=15)
    LOGIN_LOCKOUT = timedelta(minutes=15)
    # Proxy hops in front of the server whose X-Forwarded-For/-Proto are believed (Werkzeug's
    # ProxyFix); 0 believes none, so a client cannot choose the address it is throttled by.
    TRUSTED_PROXIES = 0

    # Request bodies above this size answer 413 (a sync push is the largest legal body).
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024

    # Signature images and photos (PUT /api/v1/media/{sha256}): where their files are kept (None:
    # `media/` in the instance folder; CARE_MEDIA_FOLDER) and the largest one taken, in bytes
    # (CARE_MEDIA_MAX_BYTES), refused while it is read.
    MEDIA_FOLDER = None
    MEDIA_MAX_BYTES = 5 * 1024 * 1024

    # The register's age rules (backend/elders/services.py): elders in these categories must be at
    # least ELDER_MIN_AGE (the 60 of the elder-care policies); advanced_age (高龄) is derived from
    # the birth date at ADVANCED_AGE and never typed in.
    ELDER_MIN_AGE = 60
    ELDER_MIN_AGE_CATEGORIES = ("solitary", "empty_nest", "left_behind", "low_income", "extreme_poverty",
                                "disabled")
    ADVANCED_AGE = 80

    # Monthly partitions (backend/partitions.py): the daily job makes each partitioned table's
    # months from the current one to this many ahead (CARE_PARTITION_MONTHS_AHEAD), so no row
    # lands in a default partition while the job runs at all within that time.
    PARTITION_MONTHS_AHEAD = 3
    # Whole years kept online (CARE_RETENTION_YEARS); older months may be moved to the archive
    # schema (`carerounds partitions archive`, docs/operations.md): ARCHIVE_SCHEMA
    # (CARE_ARCHIVE_SCHEMA), in the same database.
    RETENTION_YEARS = 5
    ARCHIVE_SCHEMA = "archive"

    # Task generation.
    TASK_HORIZON_DAYS = 14
    TASK_GENERATION_INTERVAL_MINUTES = 60
    # Patrol frequency per risk tier: "week", "month" or "quarter".
    PATROL_FREQUENCY = {"high": "week", "key": "month", "general": "quarter"}

    # Patrol coverage (月探访率): the elder categories whose active elders it counts, as the policies
    # name them for regular patrol visits (Benxi: 独居、空巢、留守、计划生育特殊家庭). Each elder
    # is judged on the frequency above: one patrolled quarterly is covered when seen in the quarter.
    # CARE_COVERAGE_CATEGORIES sets it (comma-separated codes of schemas.vocab.ELDER_CATEGORIES).
    COVERAGE_CATEGORIES = ("solitary", "empty_nest", "left_behind", "special_family")

    # Patrols have no start alert; a patrol period is missed this long after it closes.
    PATROL_MISSED_GRACE_MINUTES = 120

    # Follow-ups: how long the owner has, and who takes over when that runs out (in order).
    # Targets: "region_supervisor" (the nearest supervisor above the elder's community).
    FOLLOWUP_RULES = {
        "missed_visit": {"due_minutes": 24 * 60, "escalate": [{"to": "region_supervisor", "due_minutes": 24 * 60}]},
        "unverified_visit": {"due_minutes": 72 * 60, "escalate": [{"to": "region_supervisor", "due_minutes": 72 * 60}]},
        "patrol_concern": {"due_minutes": 24 * 60, "escalate": [{"to": "region_supervisor", "due_minutes": 24 * 60}]},
        "welfare_check": {"due_minutes": 24 * 60, "urgent_due_minutes": 120,
                          "escalate": [{"to": "region_supervisor", "due_minutes": 60}]},
        "reassessment": {"due_minutes": 7 * 24 * 60, "escalate": []},
        # A report that an elder died, moved away or is in hospital, for the supervisor to confirm.
        "register_change": {"due_minutes": 72 * 60, "escalate": []},
        "worker_pattern": {"due_minutes": 7 * 24 * 60,
                           "escalate": [{"to": "region_supervisor", "due_minutes": 7 * 24 * 60}]},
    }
    # A caregiver whose missed-or-unverified share of the last 30 days passes this (over at least
    # WORKER_PATTERN_MIN_TASKS ended tasks) gets a worker_pattern follow-up for their manager.
    WORKER_PATTERN_THRESHOLD = 0.2
    WORKER_PATTERN_MIN_TASKS = 10
    # The follow-up step after each sweep looks for missed tasks without a follow-up among those
    # whose window ended this many days back (further after an outage: as far as the sweep marked).
    MISSED_FOLLOWUP_LOOKBACK_DAYS = 30
    # Cross-visit checks (backend/visits/crosscheck.py): a trip between two consecutive visits of a
    # caregiver faster than this (km/h, a car in town) flags the later visit impossible_travel.
    IMPOSSIBLE_TRAVEL_KMH = 60
    # Visits that began longer ago than this are not judged (history from before the check existed
    # would flood the review queue): the current month and the previous one, whose report is read.
    CROSSCHECK_LOOKBACK_DAYS = 62
    # How often the scheduler sweeps and escalates.
    SWEEP_INTERVAL_MINUTES = 5
    # Delivery beyond the API: "log" (default) writes each notification to the log.
    NOTIFICATION_SENDER = "log"

    # Reviews: a decision locks this many days after it was taken (Texas EVV: 95) unless an admin
    # unlocks it. Call-backs: the share of each provider's completed visits drawn every month.
    REVIEW_LOCK_DAYS = 95
    CALLBACK_SHARE = 0.05

    # Monthly reports: a provider whose satisfaction mean or verification rate falls below these
    # is listed for rectification (整改), each rate judged only over at least this many visits.
    RECTIFICATION_MIN_SATISFACTION = 4.0
    RECTIFICATION_MIN_VERIFICATION = 0.9
    RECTIFICATION_MIN_VISITS = 10
    # Satisfaction for rectification is the call-backs' (电话回访, what the elder says) for a provider
    # with at least this many rated call-backs in the month, else the ratings recorded at check-out
    # on the caregiver's phone. Three: at the default 5 % draw, a provider with 60 visits a month.
    RECTIFICATION_MIN_CALLBACKS = 3
    # Whether a provider with a rectification order past its deadline and unanswered has its next
    # statement held (结算暂缓) until it answers; read by the statements through
    # backend.rectifications.services.holds_statement.
    RECTIFICATION_HOLDS_STATEMENT = False
    # PostgreSQL connections one monthly report reads on at once, in one snapshot (its main scan
    # is cut in as many parts): about the cores the database may give one report. Each report
    # holds them from the pool beside its request's own, so the pool (5 + 10 overflow per
    # process) must cover threads × (1 + this); gthread workers run 4 threads.
    REPORT_CONNECTIONS = 2

    # Settlement (backend/settlement). A verified visit shorter than its service's minimum is paid
    # by its actual units ("actual") or not at all ("none").
    SETTLEMENT_PAY_TOO_SHORT = "actual"
    # Eligibility for government-bought and co-paid services (本溪, 保山): age, a qualifying
    # category, and a capability assessment no older than this with one of these levels.
    ELIGIBILITY_MIN_AGE = 60
    ELIGIBILITY_CATEGORIES = ("low_income", "extreme_poverty", "disabled", "advanced_age", "special_family")
    ELIGIBILITY_ASSESSMENT_MAX_AGE_DAYS = 365
    ELIGIBILITY_LEVELS = (1, 2, 3, 4)
    # The government's share of co-paid plans while admins have not set the table (/copay-shares).
    COPAY_DEFAULT_SHARES = (
        {"category": "extreme_poverty", "assessment_level": None, "government_percent": 100},
        {"category": "low_income", "assessment_level": None, "government_percent": 80},
        {"category": None, "assessment_level": None, "government_percent": 50},
    )

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

    # Console sessions: a signed cookie, never readable by scripts, sent only to this site.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Secure whenever the request came over HTTPS (see TRUSTED_PROXIES behind a proxy); True
    # (CARE_COOKIE_SECURE=1) forces it also on requests that look like plain http.
    SESSION_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    BABEL_DEFAULT_LOCALE = "zh"
