"""Pulling tasks: snapshot, deltas by change sequence, removals with reasons, pages, resets."""

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.extensions import db
from backend.tasks.models import Task
from backend.tasks.services import cancel, reassign
from sync.digest import task_set_digest


def _body(response):
    assert response.status_code == 200, response.get_json()
    return response.get_json()


class Holder:
    """What a phone holds after applying pulls, the way the reference client does."""

    def __init__(self, phone):
        self.phone, self.tasks, self.elders, self.cursor = phone, {}, {}, None

    def sync(self, limit=500):
        pages = []
        while True:
            body = _body(self.phone.pull(self.cursor, limit=limit))
            if body["reset"]:
                self.tasks, self.elders = {}, {}
            for row in body["tasks"]["upserted"]:
                self.tasks[row["id"]] = row
            for row in body["tasks"]["removed"]:
                self.tasks.pop(row["id"], None)
            for row in body["elders"]["upserted"]:
                self.elders[row["id"]] = row
            for row in body["elders"]["removed"]:
                self.elders.pop(row["id"], None)
            self.cursor = body["cursor"]
            pages.append(body)
            if not body["has_more"]:
                # The test client shares the test's session; end its transaction as a request would,
                # so that writers in other threads are not kept waiting on its row locks.
                db.session.rollback()
                return pages

    def digest(self):
        return task_set_digest((t["id"], t["version"]) for t in self.tasks.values())


def test_the_first_pull_holds_the_window_and_only_what_a_visit_needs(field, city):
    holder = Holder(field.phone)
    body = holder.sync()[-1]
    assert set(holder.tasks) == {t.id for t in field.tasks}  # yesterday through the horizon
    elder = holder.elders[city.elder_a1.id]
    assert elder["name"] == city.elder_a1.name and elder["plate_ids"] == [field.plate.plate_id]
    assert "id_card_no" not in elder and "birth_on" not in elder
    assert body["digest"] == holder.digest() and body["reset"] is True  # a first pull is a snapshot


def test_an_empty_incremental_pull_returns_nothing_and_the_same_digest(field):
    holder = Holder(field.phone)
    first = holder.sync()[-1]
    again = holder.sync()[-1]
    assert again["tasks"] == {"upserted": [], "removed": []} and again["elders"] == {"upserted": [], "removed": []}
    assert again["digest"] == first["digest"]


def test_a_change_comes_down_once(field):
    holder = Holder(field.phone)
    holder.sync()
    field.task.min_duration_minutes = 40
    db.session.commit()
    body = holder.sync()[-1]
    assert [t["id"] for t in body["tasks"]["upserted"]] == [field.task.id]
    assert holder.tasks[field.task.id]["min_duration_minutes"] == 40
    assert holder.sync()[-1]["tasks"]["upserted"] == []


def test_a_cancelled_task_is_removed_with_its_reason(field):
    holder = Holder(field.phone)
    holder.sync()
    cancel(field.task, at=field.now, reason="plan_changed", by_system="test")
    db.session.commit()
    body = holder.sync()[-1]
    assert body["tasks"]["removed"] == [{"id": field.task.id, "reason": "cancelled"}]
    assert body["digest"] == holder.digest()


def test_a_reassignment_is_a_removal_for_one_and_an_addition_for_the_other(field, city, client, login):
    from tests.visits.conftest import Phone

    mine = Holder(field.phone)
    theirs = Holder(Phone(client, login(city.caregiver_other, device_id="phone-B"), "phone-B", field.clock))
    mine.sync()
    theirs.sync()
    assert field.task.id not in theirs.tasks
    reassign(field.task, city.caregiver_other, at=field.now, by_system="test")
    db.session.commit()
    assert mine.sync()[-1]["tasks"]["removed"] == [{"id": field.task.id, "reason": "reassigned"}]
    body = theirs.sync()[-1]
    assert [t["id"] for t in body["tasks"]["upserted"]] == [field.task.id]
    assert city.elder_a1.id in theirs.elders


def test_an_elder_leaves_the_phone_when_none_of_their_tasks_remain(field, city):
    holder = Holder(field.phone)
    holder.sync()
    for task in field.tasks:
        reassign(task, city.caregiver_other, at=field.now, by_system="test")
    db.session.commit()
    body = holder.sync()[-1]
    assert body["elders"]["removed"] == [{"id": city.elder_a1.id, "reason": "no_open_tasks"}]
    assert holder.tasks == {} and holder.elders == {}


@pytest.mark.parametrize("tamper", ["forged", "foreign", "garbage"])
def test_a_bad_cursor_answers_reset_with_a_full_snapshot(field, city, client, login, tamper):
    from tests.visits.conftest import Phone

    holder = Holder(field.phone)
    holder.sync()
    if tamper == "forged":
        body, mac = holder.cursor.split(".")
        holder.cursor = body + "." + ("A" * len(mac))
    elif tamper == "foreign":
        other = Holder(Phone(client, login(city.caregiver_other, device_id="phone-B"), "phone-B", field.clock))
        other.sync()
        holder.cursor = other.cursor
    else:
        holder.cursor = "not-a-cursor"
    body = holder.sync()[0]
    assert body["reset"] is True
    assert {t["id"] for t in body["tasks"]["upserted"]} == {t.id for t in field.tasks}


@pytest.mark.parametrize("kind", ["snapshot", "delta"])
def test_pages_share_one_upper_bound_and_a_change_mid_pull_follows_it(field, kind):
    """A change committed between pages is not read by the pages of the range under way (they
    share one bound). The page that exhausts the range then says has_more: the phone continues
    with a delta from the bound, which brings the change, and the last digest always matches."""
    holder = Holder(field.phone)
    if kind == "delta":
        holder.sync()
        for task in field.tasks:
            task.min_duration_minutes = 41
        db.session.commit()
    first = _body(field.phone.pull(holder.cursor, limit=2))
    assert first["has_more"] and len(first["tasks"]["upserted"]) == 2
    field.tasks[-1].min_duration_minutes = 55  # changes while the phone is between pages
    db.session.commit()
    holder.cursor = first["cursor"]
    for row in first["tasks"]["upserted"]:
        holder.tasks[row["id"]] = row
    pages = holder.sync(limit=2)
    assert pages[-1]["digest"] == holder.digest()
    assert set(holder.tasks) == {t.id for t in field.tasks}
    assert holder.tasks[field.tasks[-1].id]["min_duration_minutes"] == 55


def test_a_new_day_removes_tasks_that_left_the_window_and_adds_those_that_entered(field, clock):
    from backend.tasks.generation import generate_tasks

    holder = Holder(field.phone)
    holder.sync()
    yesterday = field.tasks[0]
    clock.advance(days=1)
    generate_tasks(now=clock(), horizon_days=14)
    db.session.commit()
    body = holder.sync()[0]
    assert {"id": yesterday.id, "reason": "out_of_window"} in body["tasks"]["removed"]
    assert yesterday.id not in holder.tasks
    assert holder.sync()[-1]["digest"] == holder.digest()


def test_concurrent_writers_never_make_a_pull_skip_a_change(field, app):
    """Writers commit in whatever order they finish; the phone must end up with every last version."""
    holder = Holder(field.phone)
    task_ids = [t.id for t in field.tasks]
    holder.sync()
    errors = []

    def writer(n):
        try:
            with app.app_context():
                for round_ in range(8):
                    task = db.session.get(Task, task_ids[(n + round_) % len(task_ids)], with_for_update=True)
                    task.min_duration_minutes = 10 + n * 10 + round_
                    db.session.commit()
                db.session.remove()
        except Exception as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        holder.sync(limit=3)
    for t in threads:
        t.join()
    assert not errors
    holder.sync()
    db.session.expire_all()
    current = {t.id: t.version for t in db.session.execute(select(Task)).scalars()}
    assert {i: row["version"] for i, row in holder.tasks.items()} == current


def test_a_transaction_that_started_first_but_commits_last_is_not_skipped(field, app):
    """T1 writes task A and takes its change number, then stalls; T2 writes task B and commits; a
    pull in between must not move its cursor past A."""
    holder = Holder(field.phone)
    holder.sync()
    a, b = field.tasks[0].id, field.tasks[1].id
    engine = db.engine
    t1 = engine.connect()
    t1_tx = t1.begin()
    seq = next_seq_on(t1)
    t1.execute(Task.__table__.update().where(Task.id == a).values(min_duration_minutes=77, change_seq=seq,
                                                                     version=Task.version + 1))
    done = threading.Event()

    def t2():
        with app.app_context():
            task = db.session.get(Task, b)
            task.min_duration_minutes = 88
            db.session.commit()  # waits for T1's lock on the change counter
            db.session.remove()
        done.set()

    thread = threading.Thread(target=t2)
    thread.start()
    assert not done.wait(0.5)  # T2 is queued behind T1
    body = holder.sync()[-1]
    assert body["tasks"]["upserted"] == []  # nothing visible yet: the cursor stays put
    t1_tx.commit()
    t1.close()
    thread.join(10)
    holder.sync()
    assert holder.tasks[a]["min_duration_minutes"] == 77 and holder.tasks[b]["min_duration_minutes"] == 88


def next_seq_on(connection):
    from backend.changefeed import SyncClock

    return connection.execute(SyncClock.__table__.update().where(SyncClock.id == 1)
                              .values(value=SyncClock.value + 1).returning(SyncClock.value)).scalar_one()


def test_only_field_roles_pull(field, city, client, login):
    response = client.get("/api/v1/sync/pull", query_string={"device_id": "d"}, headers=login(city.admin))
    assert response.status_code == 403


def test_pulls_never_cost_more_than_one_delta_after_time_moves(field):
    """A pull one hour later on the same day is an ordinary delta, not a snapshot."""
    holder = Holder(field.phone)
    holder.sync()
    field.clock.advance(hours=1)
    body = holder.sync()[-1]
    assert body["reset"] is False and body["tasks"]["upserted"] == []


def test_limit_out_of_range_is_422(field):
    response = field.phone.pull(limit=5000)
    assert response.status_code == 422 and "limit" in response.get_json()["errors"]


def test_follow_ups_and_notifications_the_user_owns_come_down_with_the_pull(field, city, clock):
    from backend.followups.services import auto_resolve, open_followup

    holder = Holder(field.phone)
    open_followup(kind="welfare_check", dedupe_key="welfare_check:test", owner_id=city.caregiver.id, at=clock(),
                  summary="无人应答", elder_id=city.elder_a1.id, details={"emergency_contacts": [{"phone": "1"}]})
    db.session.commit()
    first = holder.sync()[0]
    assert [f["kind"] for f in first["followups"]["upserted"]] == ["welfare_check"]
    assert first["followups"]["upserted"][0]["details"]["emergency_contacts"] == [{"phone": "1"}]
    assert [n["event"] for n in first["notifications"]["upserted"]] == ["assigned"]
    assert len(first["followups"]["open_ids"]) == 1
    quiet = holder.sync()[0]
    assert quiet["followups"]["upserted"] == [] and quiet["notifications"]["upserted"] == []
    auto_resolve("welfare_check:test", code="false_alarm", at=clock(), note="seen at the market")
    db.session.commit()
    after = holder.sync()[0]
    assert after["followups"]["removed"][0]["reason"] == "resolved" and after["followups"]["open_ids"] == []


def test_a_pull_without_a_cursor_makes_a_phone_drop_tasks_it_should_not_hold(field):
    """docs/sync-protocol.md 4.6: a snapshot's first page says reset, so stale tasks go."""
    holder = Holder(field.phone)
    holder.sync()
    holder.tasks[999_999] = {"id": 999_999, "version": 1}  # left over from another account, say
    holder.cursor = None
    pages = holder.sync(limit=2)
    assert [page["reset"] for page in pages] == [True] + [False] * (len(pages) - 1)
    assert 999_999 not in holder.tasks and pages[-1]["digest"] == holder.digest()


def _round_trip(body):
    from schemas.sync import PullResponseSchema

    schema = PullResponseSchema()
    return json.dumps(schema.dump(schema.load(body)), ensure_ascii=False)


def test_pages_are_built_exactly_as_the_schema_dumps_them(field, city, clock, make_patrol_plan):
    """The rows skip the marshmallow dump for speed; schemas/sync.py stays the contract."""
    from backend.elders.models import Assessment
    from backend.followups.services import open_followup
    from backend.tasks.generation import generate_tasks

    make_patrol_plan(city.elder_a1, city.caregiver, revised_at=clock() - timedelta(days=30))
    generate_tasks(now=clock(), horizon_days=14)
    db.session.add(Assessment(elder_id=city.elder_a1.id, assessed_on=clock().date(), self_care=10, motion=5,
                              mental=10, perception=5, total=30, level=2))
    open_followup(kind="welfare_check", dedupe_key="welfare_check:wire", owner_id=city.caregiver.id, at=clock(),
                  summary="无人应答", elder_id=city.elder_a1.id, details={"emergency_contacts": [{"phone": "1"}]})
    db.session.commit()
    holder = Holder(field.phone)
    first = holder.sync()[-1]
    assert json.dumps(first, ensure_ascii=False) == _round_trip(first)
    patrols = [t for t in first["tasks"]["upserted"] if t["kind"] == "patrol"]
    assert patrols and {t["patrol_mode"] for t in patrols} == {"door"}  # the plan's preferred mode
    assert {t["patrol_mode"] for t in first["tasks"]["upserted"] if t["kind"] == "service"} == {None}
    assert holder.elders[city.elder_a1.id]["capability_level"] == 2
    assert first["notifications"]["upserted"] and first["followups"]["upserted"]
    cancel(field.task, at=clock(), reason="plan_changed", by_system="test")
    field.tasks[2].min_duration_minutes = 45
    city.elder_a1.care_notes = "敲门后多等一会"
    db.session.commit()
    delta = holder.sync()[-1]
    assert delta["tasks"]["removed"] and delta["tasks"]["upserted"] and delta["elders"]["upserted"]
    assert json.dumps(delta, ensure_ascii=False) == _round_trip(delta)


def test_an_empty_pull_is_answered_from_one_probe_with_the_cursors_digest(field, app, monkeypatch):
    import psycopg
    from sqlalchemy import event

    holder = Holder(field.phone)
    first = holder.sync()[-1]
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    # The probe goes straight through psycopg (pull_probe.probe_alone), past
    # SQLAlchemy's events, so count what psycopg's cursors are asked to run as well.
    execute = psycopg.Cursor.execute

    def spy(cursor, query, *args, **kwargs):
        if str(query) != ";":  # the test engine's pre-ping on checkout (off in production)
            statements.append(str(query))
        return execute(cursor, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", spy)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        again = holder.sync()[-1]
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
        monkeypatch.undo()
    assert again["digest"] == first["digest"] == holder.digest()
    # One statement: the probe, which reads the token's account too (SQLAlchemy's event and the
    # psycopg spy both see a statement that SQLAlchemy runs; only one of them sees the raw probe).
    assert len(set(statements)) == 1 and "FROM users u" in statements[0]
    assert holder.sync()[-1]["digest"] == first["digest"]  # the next cursor carries it on


@pytest.mark.parametrize("change, status, code", [
    ("disabled", 403, "account_disabled"),
    ("made a supervisor", 403, "forbidden"),
    ("deleted", 401, "invalid_token"),
])
def test_the_empty_pull_checks_the_account_as_the_gate_does(field, city, change, status, code):
    """The empty pull reads the account in its one statement instead of the gate's query: an
    account disabled, moved out of the field roles or gone since the token was issued is refused
    all the same, valid token and cursor notwithstanding."""
    holder = Holder(field.phone)
    holder.sync()
    holder.sync()  # an empty pull: the cursor now carries the digest, so the next one is the probe
    user = city.caregiver
    if change == "disabled":
        user.is_active = False
    elif change == "made a supervisor":
        user.role = "supervisor"
    else:
        from sqlalchemy import text
        db.session.execute(text("UPDATE tasks SET assignee_id = NULL WHERE assignee_id = :id"), {"id": user.id})
        db.session.execute(text("DELETE FROM users WHERE id = :id"), {"id": user.id})
    db.session.commit()
    response = field.phone.pull(holder.cursor)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["code"] == code


def test_an_elder_edit_is_not_hidden_by_the_empty_pull_probe(field, city):
    holder = Holder(field.phone)
    holder.sync()
    holder.sync()  # an empty pull: the cursor now carries the digest
    city.elder_a1.care_notes = "新的注意事项"
    db.session.commit()
    body = holder.sync()[-1]
    assert [e["care_notes"] for e in body["elders"]["upserted"]] == ["新的注意事项"]


def test_a_new_day_with_nothing_written_still_moves_the_window(field, clock):
    holder = Holder(field.phone)
    holder.sync()
    holder.sync()
    yesterday = field.tasks[0]
    clock.advance(days=1)
    body = holder.sync()[-1]
    assert {"id": yesterday.id, "reason": "out_of_window"} in body["tasks"]["removed"]
    assert body["digest"] == holder.digest() and body["reset"] is False
    assert holder.sync()[-1]["digest"] == holder.digest()


def test_a_patrol_plans_new_modes_reach_the_phone(city, make_patrol_plan, client, login, clock):
    from backend.plans.services import update_patrol_plan
    from backend.tasks.generation import generate_tasks
    from tests.visits.conftest import Phone

    plan = make_patrol_plan(city.elder_a1, city.caregiver, revised_at=clock() - timedelta(days=30))
    generate_tasks(now=clock(), horizon_days=14)
    db.session.commit()
    holder = Holder(Phone(client, login(city.caregiver, device_id="phone-P"), "phone-P", clock))
    holder.sync()
    assert {t["patrol_mode"] for t in holder.tasks.values()} == {"door"}
    update_patrol_plan(plan, {"modes": ["phone"]}, by=city.admin, now=clock())
    db.session.commit()
    body = holder.sync()[-1]
    assert body["tasks"]["upserted"] and {t["patrol_mode"] for t in holder.tasks.values()} == {"phone"}


def test_a_phone_is_sent_only_notifications_within_the_horizon(field, city, clock):
    """Notifications older than NOTIFICATION_HORIZON before the window are not sent, unread or
    not, nor are later changes to them: the pull reads only the notifications table's latest
    months. They stay in the console and GET /api/v1/notifications."""
    from backend.followups.models import Notification
    from schemas.sync import NOTIFICATION_HORIZON

    def note(key, age):
        row = Notification(user_id=city.caregiver.id, event="overdue", dedupe_key=key, title=key,
                           created_at=clock() - age)
        db.session.add(row)
        return row

    old, recent = note("old", NOTIFICATION_HORIZON + timedelta(days=3)), note("recent", timedelta(days=20))
    db.session.commit()
    holder = Holder(field.phone)
    titles = {n["title"] for n in holder.sync()[0]["notifications"]["upserted"]}
    assert "recent" in titles and "old" not in titles
    old.read_at = recent.read_at = clock()
    db.session.commit()
    assert {n["title"] for n in holder.sync()[0]["notifications"]["upserted"]} == {"recent"}
