from sqlalchemy import select

from backend.extensions import db
from backend.tasks.generation import generate_tasks
from backend.tasks.models import Task


def test_the_sweep_command_runs_as_if_at_the_given_time(app, city, make_care_plan, now):
    make_care_plan(city.elder_a1, city.provider, [("meal", {"freq": "daily", "start": "11:00", "end": "13:00"},
                                                   20, city.caregiver)])
    generate_tasks(now=now, horizon_days=1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["sweep", "--now", "2026-11-23T15:30+08:00"])
    assert result.exit_code == 0, result.output
    assert "1 missed" in result.output
    db.session.expire_all()
    assert db.session.execute(select(Task.status)).scalar_one() == "missed"


def test_the_sweep_command_reads_a_naive_time_in_the_care_time_zone(app, city, make_care_plan, now):
    make_care_plan(city.elder_a1, city.provider, [("meal", {"freq": "daily", "start": "11:00", "end": "13:00"},
                                                   20, city.caregiver)])
    generate_tasks(now=now, horizon_days=1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["sweep", "--now", "2026-11-23T14:59"])
    assert "0 missed" in result.output and "1 late" in result.output
