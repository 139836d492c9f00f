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


def test_a_pull_shows_urgent_welfare_checks_first_and_drops_a_follow_up_once_resolved(
        carerounds_phone, city, make_elder, make_patrol_plan, clock, client, login):
    from backend.tasks.generation import generate_tasks

    alone = make_elder(city.community_a1, "赵长山", risk_tier="high",
                       emergency_contacts=[{"name": "赵明", "relation": "子女", "phone": "13800000001"}])
    make_patrol_plan(city.elder_a1, city.worker_a, tier="key")  # solitary, not high risk: a high welfare check
    make_patrol_plan(alone, city.worker_a, tier="high")  # solitary and high risk: an urgent one
    generate_tasks(now=clock(), horizon_days=2)
    db.session.commit()
    task_of = {t.elder_id: t.id for t in db.session.execute(select(Task)).scalars()}
    carerounds_phone("login", "--server", SERVER, "--username", "wk_a", "--password", PASSWORD)
    assert "follow-ups" not in carerounds_phone("pull").output
    for elder in (city.elder_a1, alone):
        carerounds_phone("patrol", str(task_of[elder.id]), "--outcome", "no_answer", "--mode", "phone")
    carerounds_phone("push")

    pulled = carerounds_phone("pull").output.splitlines()
    assert pulled[1].startswith("URGENT #") and "welfare_check (urgent)" in pulled[1] and "赵长山" in pulled[1]
    assert pulled[2].startswith("2 open follow-ups") and "carerounds phone followups" in pulled[2]
    listed = carerounds_phone("followups").output.splitlines()
    assert listed[0].startswith("URGENT #") and "赵长山" in listed[0] and f"task {task_of[alone.id]}" in listed[0]
    assert "emergency contact: 赵明 子女 13800000001" in listed[1]
    assert "welfare_check (high)" in listed[2] and "张秀英" in listed[2]
    assert "2 open" in carerounds_phone("status").output

    urgent = int(listed[0].split("#")[1].split()[0])
    headers = login("wk_a")
    version = client.get(f"/api/v1/followups/{urgent}", headers=headers).get_json()["version"]
    resolved = client.post(f"/api/v1/followups/{urgent}/resolve", headers=headers,
                           json={"code": "false_alarm", "note": "老人在女儿家", "version": version})
    assert resolved.status_code == 200, resolved.get_json()
    carerounds_phone("pull")
    left = carerounds_phone("followups").output
    assert "URGENT" not in left and "张秀英" in left and "赵长山" not in left.split("unread")[0]


def test_check_in_and_check_out_at_given_times_act_out_a_real_visit(carerounds_phone, round_of_visits, clock):
    stop = round_of_visits[0]
    clock.set(stop.task.window_end_at + timedelta(hours=1))  # the visit is over; its phone was offline
    carerounds_phone("login", "--server", SERVER, "--username", "cg1", "--password", PASSWORD)
    carerounds_phone("pull")
    arrived = stop.task.window_start_at + timedelta(minutes=10)
    door = ["--qr", stop.qr, "--lat", str(stop.at_door["lat"]), "--lon", str(stop.at_door["lon"])]
    local = arrived.astimezone(phone_cli.CARE_TZ).replace(tzinfo=None).isoformat()  # no offset: Shanghai time
    carerounds_phone("check-in", str(stop.task.id), *door, "--at", local)
    carerounds_phone("check-out", str(stop.task.id), *door, "--at", (arrived + timedelta(minutes=25)).isoformat())
    assert "not an ISO-8601 time" in carerounds_phone("check-in", str(stop.task.id), "--at", "noon", ok=False).output
    pushed = carerounds_phone("push").output
    assert "2 accepted" in pushed and "flagged" not in pushed
    db.session.expire_all()
    visit = db.session.execute(select(Visit)).scalar_one()
    assert visit.is_verified and visit.duration_seconds == 25 * 60 and not visit.flags
    captured = db.session.execute(select(VisitItem.captured_at).order_by(VisitItem.seq)).scalars().all()
    assert captured == [arrived, arrived + timedelta(minutes=25)]
