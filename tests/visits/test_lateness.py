"""Two kinds of lateness, two flags: late_upload (received a day after capture) and after_missed
(evidence for a task the server had already marked missed)."""

import importlib
from datetime import timedelta

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import select, text

from backend.extensions import db
from backend.tasks.models import Task
from backend.tasks.services import transition
from backend.visits.models import Visit, VisitItem


def _push(f, *items):
    response = f.phone.push(list(items))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["results"]


def _visit(task):
    db.session.expire_all()
    return db.session.execute(select(Visit).where(Visit.task_id == task.id)).scalar_one()


def test_evidence_for_a_missed_task_completes_it_after_missed_and_needs_no_review_for_that(field):
    f = field
    transition(f.task, "missed", at=f.now, by_system="sweep")
    db.session.commit()
    f.clock.set(f.start + timedelta(minutes=26))
    results = _push(f, f.phone.item("check_in", f.task.id, f.start, qr=f.qr, location=f.at_door),
                    f.phone.item("check_out", f.task.id, f.start + timedelta(minutes=25), qr=f.qr,
                                 location=f.at_door, satisfaction=5))
    assert results[0]["flags"] == ["qr_verified", "after_missed"]
    assert "late_upload" not in results[1]["flags"]
    visit = _visit(f.task)
    assert db.session.get(Task, f.task.id).status == "completed"
    assert visit.flags == ["after_missed"] and visit.is_late_sync and visit.is_verified
    assert not visit.needs_review


def test_an_item_received_more_than_a_day_after_capture_is_a_late_upload_for_review(field):
    f = field
    yesterday = f.tasks[0]
    captured = yesterday.window_start_at + timedelta(minutes=10)
    assert f.clock() - captured > timedelta(hours=24)
    result = _push(f, f.phone.item("check_in", yesterday.id, captured, qr=f.qr, location=f.at_door))[0]
    assert result["flags"] == ["qr_verified", "late_upload"]
    visit = _visit(yesterday)
    assert visit.flags == ["late_upload"] and not visit.is_late_sync and visit.needs_review


def test_the_day_is_measured_on_the_device_clock_whatever_its_error(field):
    f = field
    behind = timedelta(days=2)  # the phone's clock runs two days slow; capture and push are 23 h apart
    device_now = f.clock() - behind
    item = f.phone.item("check_in", f.tasks[0].id, device_now - timedelta(hours=23), qr=f.qr, location=f.at_door)
    result = f.phone.push([item], device_time=device_now).get_json()["results"][0]
    assert "clock_skew" in result["flags"] and "late_upload" not in result["flags"]


def test_missed_and_two_days_late_carries_both_flags(field):
    f = field
    yesterday = f.tasks[0]
    transition(yesterday, "missed", at=f.now, by_system="sweep")
    db.session.commit()
    f.clock.set(f.clock() + timedelta(days=1))
    result = _push(f, f.phone.item("check_in", yesterday.id, yesterday.window_start_at + timedelta(minutes=5),
                                   qr=f.qr, location=f.at_door))[0]
    assert {"late_upload", "after_missed"} <= set(result["flags"])
    visit = _visit(yesterday)
    assert visit.is_late_sync and visit.needs_review


def test_the_migration_renames_stored_late_sync_to_after_missed_and_back(field):
    f = field
    transition(f.task, "missed", at=f.now, by_system="sweep")
    db.session.commit()
    _push(f, f.phone.item("check_in", f.task.id, f.start, qr=f.qr, location=f.at_door))
    # As an earlier server stored it: one flag, late_sync, beside others.
    db.session.execute(text("""UPDATE visit_items SET flags = '["qr_verified", "late_sync", "no_location"]'"""))
    db.session.execute(text("""UPDATE visits SET flags = '["late_sync", "no_location"]'"""))
    migration = importlib.import_module("migrations.versions.0008_late_sync_split")
    with Operations.context(MigrationContext.configure(db.session.connection())):
        migration.upgrade()
        db.session.expire_all()
        item_flags = db.session.execute(select(VisitItem.flags)).scalar_one()
        assert item_flags == ["qr_verified", "after_missed", "no_location"]
        assert _visit(f.task).flags == ["after_missed", "no_location"]
        db.session.execute(text("""UPDATE visits SET flags = '["after_missed", "late_upload"]'"""))
        migration.downgrade()
        db.session.expire_all()
        assert db.session.execute(select(VisitItem.flags)).scalar_one() == ["qr_verified", "late_sync", "no_location"]
        assert _visit(f.task).flags == ["late_sync"]
