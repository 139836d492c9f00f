"""`carerounds phone` driven through click, its server calls going over the test-client transport."""

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from backend.extensions import db
from backend.plates.services import active_plate, plate_payload
from backend.tasks.models import Task
from backend.visits.models import Visit, VisitItem
from sync.client import cli as phone_cli
from tests.conftest import PASSWORD
from tests.e2e.conftest import count

SERVER = "http://carerounds.test"


@pytest.fixture
def carerounds_phone(monkeypatch, transport, clock, tmp_path):
    """carerounds_phone(*args, store="phone", ok=True) → the click Result; each store name is one phone."""
    seen_urls = []
    monkeypatch.setattr(phone_cli, "make_transport", lambda url: seen_urls.append(url) or transport)
    monkeypatch.setattr(phone_cli, "device_clock", clock)
    monkeypatch.setattr(phone_cli, "sleep", lambda seconds: None)

    def run(*args, store="phone", ok=True):
        result = CliRunner().invoke(phone_cli.phone, ["--store", str(tmp_path / f"{store}.sqlite3"), *args])
        assert (result.exit_code == 0) is ok, result.output
        return result

    run.urls = seen_urls
    return run


def test_the_phone_cli_records_a_visit_offline_and_pushes_it_when_back_online(carerounds_phone, round_of_visits,
                                                                              transport, clock):
    stop = round_of_visits[0]
    assert "Signed in as" in carerounds_phone("login", "--server", SERVER, "--username", "cg1",
                                              "--password", PASSWORD).output
    assert carerounds_phone("pull").output.startswith("Holding ")
    listing = carerounds_phone("tasks", "--today").output
    assert "张秀英" in listing and "11:00–13:00" in listing and str(stop.task.id) in listing

    transport.offline = True
    clock.set(stop.task.window_start_at + timedelta(minutes=5))
    door = ["--qr", stop.qr, "--lat", str(stop.at_door["lat"]), "--lon", str(stop.at_door["lon"])]
    assert "Recorded check-in" in carerounds_phone("check-in", str(stop.task.id), *door).output
    clock.advance(minutes=30)
    carerounds_phone("check-out", str(stop.task.id), *door, "--satisfaction", "4", "--service", "meal:done",
                     "--signer", "elder")
    carerounds_phone("note", str(stop.task.id), "老人胃口很好")
    assert "3 pending, 0 acked" in carerounds_phone("status").output
    offline = carerounds_phone("push", ok=False)
    assert "cannot reach" in offline.output and "3 recorded items stay safe" in offline.output
    assert "check_in* check_out* note*" in carerounds_phone("tasks").output

    transport.offline = False
    assert "3 accepted, 0 duplicate, 0 rejected" in carerounds_phone("push").output
    status = carerounds_phone("status").output
    assert "0 pending, 3 acked" in status and "last push  just now: 3 accepted" in status
    assert set(carerounds_phone.urls) == {SERVER}
    db.session.expire_all()
    assert count(VisitItem) == 3 and db.session.get(Task, stop.task.id).status == "completed"
    visit = db.session.execute(select(Visit)).scalar_one()
    assert visit.is_verified and visit.satisfaction == 4 and visit.duration_seconds == 30 * 60


def test_the_phone_cli_records_door_and_phone_patrols(carerounds_phone, city, make_elder, make_patrol_plan, clock,
                                                      transport):
    from backend.tasks.generation import generate_tasks

    make_patrol_plan(city.elder_a1, city.worker_a, tier="high")
    generate_tasks(now=clock(), horizon_days=2)
    db.session.commit()
    task = db.session.execute(select(Task)).scalar_one()
    carerounds_phone("login", "--server", SERVER, "--username", "wk_a", "--password", PASSWORD)
    carerounds_phone("pull")
    transport.offline = True
    clock.advance(hours=1)
    carerounds_phone("patrol", str(task.id), "--outcome", "not_at_home", "--mode", "phone")
    refused = carerounds_phone("patrol", str(task.id), "--outcome", "seen_well", "--mode", "door", ok=False)
    assert "give at least one observation" in refused.output
    warned = carerounds_phone("patrol", str(task.id), "--outcome", "seen_well", "--mode", "door", "--health", "好",
                              "--safety", "ok,ok,hazard", "--risk-event", "fall:夜里摔倒")
    assert "no plate scanned" in warned.output
    transport.offline = False
    assert "2 accepted" in carerounds_phone("push").output
    flags = db.session.execute(select(VisitItem.flags)
                               .order_by(VisitItem.seq)).scalars().all()
    assert "qr_missing" not in flags[0] and "qr_missing" in flags[1]


def test_the_phone_cli_says_plainly_what_is_wrong(carerounds_phone, round_of_visits):
    assert "not signed in" in carerounds_phone("status").output
    assert "task 1 is not on this phone: run `carerounds phone pull`" in carerounds_phone("check-in", "1",
                                                                                       ok=False).output
    assert "not signed in" in carerounds_phone("push", ok=False).output
    wrong = carerounds_phone("login", "--server", SERVER, "--username", "cg1", "--password", "nope", ok=False)
    assert "401 invalid_credentials" in wrong.output
    carerounds_phone("login", "--server", SERVER, "--username", "cg1", "--password", PASSWORD)
    carerounds_phone("pull")
    assert "task 999999 is not on this phone" in carerounds_phone("note", "999999", "x", ok=False).output
    task_id = str(round_of_visits[0].task.id)
    assert "say why" in carerounds_phone("check-out", task_id, "--service", "meal:refused", ok=False).output
    assert "is a service task" in carerounds_phone("patrol", task_id, "--outcome", "moved", "--mode", "phone",
                                                   ok=False).output
    assert "not a plate of this elder" in carerounds_phone("check-in", task_id, "--qr", round_of_visits[1].qr).output
    assert "only administrators and supervisors" in carerounds_phone("plate", "1", ok=False).output
    other = carerounds_phone("login", "--username", "cg2", "--password", PASSWORD, ok=False)  # server remembered
    assert "1 items recorded by cg1 are not pushed yet" in other.output


def test_an_admin_prints_a_plate_payload_for_a_caregiver_to_scan(carerounds_phone, city, round_of_visits):
    carerounds_phone("login", "--server", SERVER, "--username", "admin", "--password", PASSWORD, store="admin")
    printed = carerounds_phone("plate", str(city.elder_a2.id), store="admin").stdout.strip()
    assert printed == plate_payload(active_plate(city.elder_a2)) == round_of_visits[1].qr


def test_phone_is_a_carerounds_command_and_every_subcommand_has_help(app):
    runner = app.test_cli_runner()
    listing = runner.invoke(args=["phone", "--help"])
    assert listing.exit_code == 0
    commands = ["login", "pull", "tasks", "check-in", "check-out", "patrol", "note", "push", "status", "plate"]
    for command in commands:
        assert command in listing.output
        result = runner.invoke(args=["phone", command, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, result.output
