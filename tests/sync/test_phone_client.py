"""The reference phone client against an in-memory fake server: pull, record, push, faults."""

import random

import pytest

from sync.client import ApiError, AuthRequired, HttpResponse, NetworkError, PhoneClient, Store
from sync.digest import task_set_digest


@pytest.fixture
def make_client(server, clock):
    """Returns a logged-in client factory; `sleeps` collects every backoff wait."""
    sleeps: list[float] = []

    def make(store: Store | None = None, **options) -> PhoneClient:
        client = PhoneClient(store or Store(), server, device_id="phone-1", clock=clock, sleep=sleeps.append,
                             rng=random.Random(1), **options)
        if not client.store.get("access_token"):
            client.login("wang", "secret")
        return client

    make.sleeps = sleeps
    return make


@pytest.fixture
def client(make_client) -> PhoneClient:
    return make_client()


def pushes(server) -> list[list[dict]]:
    return [r.body["items"] for r in server.requests if r.path == "/api/v1/sync/push"]


def record_notes(client: PhoneClient, n: int, task_id: int = 1) -> list[str]:
    return [client.record_note(task_id, f"note {i}") for i in range(n)]


# --- pull --------------------------------------------------------------------------------------

def test_the_first_pull_pages_through_a_snapshot_and_matches_the_digest(server, make_client):
    for task_id in range(1, 8):
        server.add_task(task_id)
    client = make_client(pull_limit=3)
    client.pull()
    assert [t["id"] for t in client.store.rows("tasks")] == list(range(1, 8))
    assert len([r for r in server.requests if r.path == "/api/v1/sync/pull"]) == 3


def test_a_pull_after_changes_applies_updates_and_removals(server, client):
    for task_id in (1, 2, 3):
        server.add_task(task_id)
    client.pull()
    server.add_task(2)
    server.cancel_task(3)
    client.pull()
    assert {t["id"]: t["version"] for t in client.store.rows("tasks")} == {1: 1, 2: 2}
    assert server.requests[-1].query["cursor"] is not None


def test_a_digest_mismatch_triggers_one_full_reset_pull(server, client):
    server.add_task(1)
    client.pull()
    client.store.upsert("tasks", [{"id": 99, "version": 1}])  # a stray the server never sent
    client.pull()
    assert [t["id"] for t in client.store.rows("tasks")] == [1]
    assert server.requests[-1].query["cursor"] is None


def test_a_rejected_cursor_is_answered_with_a_snapshot_that_replaces_local_data(server, client):
    server.add_task(1)
    client.store.upsert("tasks", [{"id": 50, "version": 3}])
    client.store.put("cursor", "forged.cursor")
    client.pull()
    assert client.store.task_versions() == [(1, 1)]
    assert task_set_digest(client.store.task_versions()) == task_set_digest([(1, 1)])


def test_a_pull_keeps_the_users_open_follow_ups_and_notifications(clock):
    """First page: follow-ups and notifications whole; later: a resolved one removed, and any not in
    open_ids (escalated to a supervisor) dropped."""
    def followup(id_, priority="high"):
        return {"id": id_, "version": 1, "kind": "welfare_check", "priority": priority, "status": "open",
                "elder_id": 8, "task_id": 5, "summary": "巡访无人应答", "due_at": None}

    pages = [
        {"followups": {"upserted": [followup(1), followup(2, "urgent"), followup(3)], "removed": [],
                       "open_ids": [1, 2, 3]},
         "notifications": {"upserted": [{"id": 9, "event": "assigned", "title": "新的跟进事项", "read_at": None}]}},
        {"followups": {"upserted": [], "removed": [{"id": 1, "reason": "resolved"}], "open_ids": [2]},
         "notifications": {"upserted": [{"id": 9, "event": "assigned", "title": "新的跟进事项",
                                         "read_at": "2026-11-23T02:00:00+00:00"}]}},
    ]

    def transport(request):
        page = {"tasks": {}, "elders": {}, "cursor": "c", "has_more": False, "digest": None, **pages.pop(0)}
        return HttpResponse(200, page)

    store = Store()
    store.put("access_token", "token")
    client = PhoneClient(store, transport, device_id="phone-1", clock=clock)
    client.pull()
    assert [f["id"] for f in store.rows("followups")] == [1, 2, 3]
    assert store.rows("notifications")[0]["read_at"] is None
    client.pull()
    assert [f["id"] for f in store.rows("followups")] == [2]
    assert store.rows("notifications")[0]["read_at"] is not None


def test_a_pull_drops_notifications_that_fell_behind_the_horizon(clock):
    """The server sends no notification older than NOTIFICATION_HORIZON (nor changes to one), so
    the phone drops those it holds once they fall behind, reckoned from the page's server_time."""
    from datetime import timedelta

    from schemas.sync import NOTIFICATION_HORIZON

    now = clock()

    def note(id_, age):
        return {"id": id_, "event": "assigned", "title": "新的跟进事项", "read_at": None,
                "created_at": (now - age).isoformat()}

    pages = [{"notifications": {"upserted": [note(1, NOTIFICATION_HORIZON - timedelta(hours=1)),
                                             note(2, timedelta(days=1))]}, "server_time": now.isoformat()},
             {"notifications": {"upserted": []}, "server_time": (now + timedelta(hours=2)).isoformat()}]

    def transport(request):
        return HttpResponse(200, {"tasks": {}, "elders": {}, "cursor": "c", "has_more": False, "digest": None,
                                  **pages.pop(0)})

    store = Store()
    store.put("access_token", "token")
    client = PhoneClient(store, transport, device_id="phone-1", clock=clock)
    client.pull()
    assert [n["id"] for n in store.rows("notifications")] == [1, 2]
    client.pull()
    assert [n["id"] for n in store.rows("notifications")] == [2]


# --- recording ---------------------------------------------------------------------------------

def test_recorded_items_get_uuids_rising_seqs_and_the_device_clock(client, clock):
    first = client.record_check_in(1, location={"lat": 41.8, "lon": 123.4, "accuracy_m": 8})
    clock.advance(minutes=40)
    client.record_check_out(1, services=[{"service_type": "bathing", "outcome": "done"}], satisfaction=5)
    items = client.store.pending(10)
    assert [i["seq"] for i in items] == [0, 1] and items[0]["id"] == first
    assert items[1]["captured_at"] == clock.now.isoformat()


def test_an_invalid_item_is_refused_before_it_spends_a_seq(client):
    with pytest.raises(ValueError):
        client.record_check_out(1, services=[], satisfaction=6)
    client.record_note(1, "ok")
    assert [i["seq"] for i in client.store.pending(10)] == [0]


# --- push --------------------------------------------------------------------------------------

def test_the_outbox_goes_in_batches_of_at_most_100_and_ends_acked(server, client):
    server.add_task(1)
    record_notes(client, 250)
    summary = client.push()
    assert [len(batch) for batch in pushes(server)] == [100, 100, 50]
    assert summary.accepted == 250 and client.store.pending(1) == []


def test_network_errors_and_5xx_are_retried_with_growing_jittered_backoff(server, make_client):
    server.add_task(1)
    client = make_client()
    record_notes(client, 3)
    server.faults = ["network", 503, 502]
    assert client.push().accepted == 3
    waits = make_client.sleeps
    assert len(waits) == 3
    assert all(ceiling / 2 <= wait <= ceiling for wait, ceiling in zip(waits, [1, 2, 4], strict=True))


def test_a_429_waits_at_least_as_long_as_retry_after_asks(server, make_client):
    server.add_task(1)
    client = make_client()
    record_notes(client, 1)
    server.faults = [(429, {"Retry-After": "7"})]
    assert client.push().accepted == 1
    assert make_client.sleeps == [7.0]


def test_a_retry_after_beyond_the_backoff_cap_surfaces_at_once(server, make_client):
    client = make_client()
    record_notes(client, 1)
    server.faults = [(429, {"Retry-After": "900"})]
    with pytest.raises(ApiError) as caught:
        client.push()
    assert caught.value.retry_after == 900 and make_client.sleeps == []


def test_after_the_last_attempt_the_error_surfaces_and_items_stay_pending(server, make_client):
    client = make_client(max_attempts=3)
    record_notes(client, 2)
    server.faults = ["network"] * 3
    with pytest.raises(NetworkError):
        client.push()
    assert len(client.store.pending(10)) == 2


def test_a_413_halves_the_batch_and_nothing_of_the_refused_batch_is_written(server, client):
    server.add_task(1)
    server.max_items = 30
    record_notes(client, 100)
    assert client.push().accepted == 100
    assert [len(batch) for batch in pushes(server)] == [100, 50, 25, 25, 25, 25]


def test_an_expired_access_token_is_refreshed_and_the_identical_batch_resent(server, client):
    server.add_task(1)
    record_notes(client, 3)
    server.faults = ["token_expired"]
    assert client.push().accepted == 3
    first, second = pushes(server)
    assert first == second
    assert client.store.get("access_token") == server.tokens["access"] == "a2"
    assert client.store.get("refresh_token") == "r2"


def test_a_refused_refresh_asks_the_user_to_log_in_again(server, client):
    record_notes(client, 1)
    server.faults = ["token_expired"]
    server.tokens["refresh"] = "rotated-elsewhere"
    with pytest.raises(AuthRequired):
        client.push()
    assert client.store.get("refresh_token") is None


def test_other_client_errors_are_not_retried(server, client):
    record_notes(client, 1)
    server.faults = [422]
    with pytest.raises(ApiError) as caught:
        client.push()
    assert caught.value.status == 422 and len(pushes(server)) == 1


def test_a_lost_answer_after_the_server_committed_is_resent_and_answered_duplicate(server, client):
    server.add_task(1)
    record_notes(client, 2)
    server.faults = ["lost_answer"]
    summary = client.push()
    assert (summary.accepted, summary.duplicate) == (0, 2)
    assert all(row["status"] == "acked" for row in client.store.outbox())


def test_a_crash_between_server_commit_and_local_ack_resends_and_ends_acked(server, make_client, tmp_path,
                                                                              monkeypatch):
    server.add_task(1)
    path = str(tmp_path / "phone.db")
    client = make_client(Store(path))
    record_notes(client, 2)

    def crash(results):
        raise SystemExit("the phone died")

    monkeypatch.setattr(client.store, "ack", crash)
    with pytest.raises(SystemExit):
        client.push()
    assert len(server.items) == 2  # the server committed both
    client.store.close()

    restarted = make_client(Store(path))
    summary = restarted.push()
    assert summary.duplicate == 2
    assert [row["status"] for row in restarted.store.outbox()] == ["acked", "acked"]
    assert restarted.store.outbox()[0]["result"]["status"] == "duplicate"


def test_rejected_items_are_acked_with_their_answer_for_the_user_to_see(server, client):
    item_id = client.record_note(404, "no such task")
    summary = client.push()
    assert summary.rejected == 1 and summary.rejections[0]["code"] == "unknown_task"
    assert client.store.outbox()[0] == {"id": item_id, "seq": 0, "status": "acked",
                                        "result": summary.rejections[0]}


def test_items_the_server_reports_missing_are_sent_again(server, client):
    server.add_task(1)
    lost = record_notes(client, 3)[1]
    client.push()
    del server.items[lost]  # say a server restore lost it
    server.held_seqs.discard(1)
    client.record_note(1, "later")
    summary = client.push()
    assert summary.requeued == 1 and summary.accepted == 2
    assert lost in server.items and client.store.pending(10) == []
