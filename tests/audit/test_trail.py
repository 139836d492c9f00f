"""The audit trail records every write, chained by hashes, and catches edits behind the app's back."""

from sqlalchemy import select, text

from backend.audit.models import AuditEntry
from backend.audit.trail import acting_as, verify_chain
from backend.extensions import db


def _entries():
    return db.session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()


def test_an_api_write_records_who_from_which_device_and_what(client, city, login):
    headers = login(city.admin, device_id="desk-1")
    before = len(_entries())
    response = client.post("/api/v1/regions", json={"name": "新区", "level": "district"}, headers=headers)
    assert response.status_code == 201, response.get_json()
    entries = _entries()[before:]
    region_entry = next(e for e in entries if any(c.get("table") == "regions" for c in e.changes))
    assert region_entry.actor == f"user:{city.admin.id}" and region_entry.device_id == "desk-1"
    assert region_entry.source == "POST /api/v1/regions"
    change = next(c for c in region_entry.changes if c["table"] == "regions" and c["action"] == "insert")
    assert change["values"]["name"] == "新区"


def test_secrets_are_never_written_into_the_trail(city):
    users = [c for e in _entries() for c in e.changes if c.get("table") == "users"]
    assert users and all(c["values"].get("password_hash") in (None, "[redacted]") for c in users)


def test_jobs_and_bulk_statements_are_recorded_with_their_actor(city, make_care_plan, now):
    from backend.tasks.generation import generate_tasks

    make_care_plan(city.elder_a1, city.provider, [("meal", {"freq": "daily", "start": "11:00", "end": "13:00"},
                                                   20, city.caregiver)])
    with acting_as("job:generate_tasks_job"):
        generate_tasks(now=now, horizon_days=2)
        db.session.commit()
    last = _entries()[-1]
    assert last.actor == "job:generate_tasks_job"
    assert any(c["table"] == "tasks" and c["action"] == "bulk_insert" for c in last.changes)


def test_the_sweep_records_what_it_marked_missed(city, make_care_plan, now):
    from datetime import timedelta

    from backend.tasks.generation import generate_tasks
    from backend.tasks.sweep import sweep

    make_care_plan(city.elder_a1, city.provider, [("meal", {"freq": "daily", "start": "11:00", "end": "13:00"},
                                                   20, city.caregiver)])
    generate_tasks(now=now - timedelta(days=2), horizon_days=2)
    db.session.commit()
    with acting_as("job:sweep_job"):
        assert sweep(now=now).missed == 2
        db.session.commit()
    last = _entries()[-1]
    assert last.actor == "job:sweep_job"
    updates = [c["rows"] for c in last.changes if (c["table"], c["action"]) == ("tasks", "bulk_update")]
    assert 2 in updates
    assert any((c["table"], c["action"]) == ("task_events", "bulk_insert") for c in last.changes)


def test_an_intact_chain_verifies(city):
    result = verify_chain(db.session)
    assert result.ok and result.entries == len(_entries()) > 0


def test_an_entry_edited_behind_the_apps_back_is_caught(city):
    _more_writes(city)
    entries = _entries()
    seq = entries[len(entries) // 2].seq
    db.session.execute(text("UPDATE audit_trail SET actor = 'user:999' WHERE seq = :seq"), {"seq": seq})
    db.session.commit()
    result = verify_chain(db.session)
    assert not result.ok and result.broken_at == seq and "changed" in result.reason


def _more_writes(city, n=4):
    for i in range(n):
        city.provider.contact_phone = f"024-0000{i}"
        db.session.commit()


def test_a_deleted_entry_is_caught(city):
    _more_writes(city)
    seq = _entries()[2].seq
    db.session.execute(text("DELETE FROM audit_trail WHERE seq = :seq"), {"seq": seq})
    db.session.commit()
    result = verify_chain(db.session)
    assert not result.ok and result.broken_at == seq and "missing" in result.reason


def test_entries_cut_off_the_end_are_caught(city):
    _more_writes(city)
    last = _entries()[-1]
    db.session.execute(text("DELETE FROM audit_trail WHERE seq = :seq"), {"seq": last.seq})
    db.session.commit()
    assert not verify_chain(db.session).ok


def test_one_transaction_makes_one_entry_however_many_savepoints_it_released(city):
    before = len(_entries())
    for i in range(3):
        with db.session.begin_nested():
            city.provider.contact_phone = f"025-0000{i}"
    db.session.commit()
    assert len(_entries()) == before + 1


def test_the_verify_command_reports_clean_and_broken(app, city):
    runner = app.test_cli_runner()
    clean = runner.invoke(args=["audit", "verify"])
    assert clean.exit_code == 0 and "intact" in clean.output
    db.session.execute(text("UPDATE audit_trail SET changes = '[]' WHERE seq = 1"))
    db.session.commit()
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1 and "BROKEN at entry 1" in broken.output
