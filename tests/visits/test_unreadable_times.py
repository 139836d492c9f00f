"""A stored time Python cannot hold (a BC timestamp, `infinity`) takes down no page, export or push.

The schema refuses such times on input (tests/visits/test_push_hostile_items.py). These rows are
planted with SQL, as a row written before that fix, or by any other writer, would be: the check-in
of a task is made to read back as one. What holds them up is the loader of backend/timestamps.py.
"""

from datetime import timedelta

import pytest
from sqlalchemy import text

from backend.extensions import db

UNREADABLE = ["0001-01-01 00:00:00+14", "infinity", "-infinity", "9999-12-31 23:00:00+00"]


def _plant(task_id: int, value: str) -> None:
    """The task's accepted check-in, and the visit it began, now carry `value` as their time."""
    db.session.execute(text("UPDATE visit_items SET captured_at = CAST(:v AS timestamptz), "
                            "captured_at_corrected = CAST(:v AS timestamptz) WHERE task_id = :t"),
                       {"v": value, "t": task_id})
    db.session.execute(text("UPDATE visits SET started_at = CAST(:v AS timestamptz) WHERE task_id = :t"),
                       {"v": value, "t": task_id})
    db.session.commit()


@pytest.fixture
def planted(request, field):
    """A task whose check-in reads back as an unreadable time, and a supervisor of its street."""
    f = field
    check_in = f.phone.item("check_in", f.task.id, f.start, qr=f.qr, location=f.at_door)
    response = f.phone.push([check_in])
    assert response.status_code == 200 and response.get_json()["results"][0]["status"] == "accepted"
    _plant(f.task.id, request.param)
    return f


@pytest.mark.parametrize("planted", UNREADABLE, indirect=True)
def test_a_good_check_out_beside_an_unreadable_check_in_is_accepted(planted):
    f = planted
    check_out = f.phone.item("check_out", f.task.id, f.start + timedelta(minutes=25), qr=f.qr, location=f.at_door,
                             services=[{"service_type": "meal", "outcome": "done"}])
    response = f.phone.push([check_out])
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.get_json()["results"][0]["status"] == "accepted"


@pytest.mark.parametrize("planted", UNREADABLE, indirect=True)
def test_the_visit_its_review_queue_and_the_visit_log_answer(planted, city, client, login):
    f = planted
    headers = login(city.supervisor_a)
    # By the window's days: the visit's own day is the unreadable time itself.
    day = {"window_from": (f.now - timedelta(days=2)).date().isoformat(),
           "window_to": (f.now + timedelta(days=2)).date().isoformat()}
    visit = client.get(f"/api/v1/audit/visits/{f.task.id}", headers=headers)
    assert visit.status_code == 200, visit.get_data(as_text=True)[:500]
    assert client.get("/api/v1/reviews/queue", headers=headers).status_code == 200
    listed = client.get("/api/v1/audit/visits", query_string=day, headers=headers)
    assert listed.status_code == 200 and f.task.id in [row["id"] for row in listed.get_json()["items"]]


@pytest.mark.parametrize("planted", UNREADABLE, indirect=True)
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_visit_log_exports_run_to_their_end(planted, city, client, login, fmt):
    f = planted
    query = {"date_from": (f.now - timedelta(days=2)).date().isoformat(),
             "date_to": (f.now + timedelta(days=2)).date().isoformat()}
    response = client.get(f"/api/v1/audit/visits.{fmt}", query_string=query, headers=login(city.supervisor_a))
    assert response.status_code == 200
    body = response.get_data()  # the whole stream: an export cut short raises here
    if fmt == "csv":
        assert len(body.decode("utf-8-sig").splitlines()) >= 2
    else:
        assert body.startswith(b"PK")
    finished = db.session.execute(text("SELECT row_count FROM export_logs")).scalar_one()
    assert finished is not None and finished >= 1


def test_a_visit_whose_times_lie_a_century_apart_is_stored_without_a_duration(field):
    """Both times are inside the accepted range; their distance is past what the duration column holds."""
    f = field
    check_in = f.phone.item("check_in", f.task.id, f.start.replace(year=2000), qr=f.qr, location=f.at_door)
    check_out = f.phone.item("check_out", f.task.id, f.start.replace(year=2100), qr=f.qr, location=f.at_door,
                             services=[{"service_type": "meal", "outcome": "done"}])
    response = f.phone.push([check_in, check_out])
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert [r["status"] for r in response.get_json()["results"]] == ["accepted", "accepted"]
    stored = db.session.execute(text("SELECT duration_seconds FROM visits WHERE task_id = :t"),
                                {"t": f.task.id}).one()
    assert stored.duration_seconds is None
