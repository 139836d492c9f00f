"""November 2026 in the city, inserted directly: tasks, visits, patrols and follow-ups whose
figures were worked out by hand (see test_figures.py), plus an API helper.

Street A: elder a1 (provider 颐康, caregiver cg1, patrols by wk_a) and elder a2 (provider 暖阳,
caregiver cg2). Street B: elder b1 (暖阳, cg2; patrols by wk_b) and b1e, an empty-nest elder
patrolled by phone. Two elders out of patrol scope: one inactive, one only low-income.
"""

from datetime import UTC, datetime, timedelta

import pytest

from backend.extensions import db
from backend.followups.models import Followup
from backend.tasks.models import Task
from backend.visits.models import Visit

MEAL = {"freq": "daily", "start": "10:00", "end": "11:00"}


def local(text: str) -> datetime:
    """'2026-11-23 13:30' in Shanghai → UTC."""
    return datetime.fromisoformat(text + "+08:00").astimezone(UTC)


class World:
    """The city's fixtures plus the tasks and follow-ups of the month, by name."""

    def __init__(self, city):
        self.__dict__.update(city.__dict__)
        self.tasks: dict[str, Task] = {}
        self._keys = iter(range(1, 10_000))

    def task(self, name, elder, assignee, start, *, end=None, status="completed", kind="service",
             service_type="meal", min_minutes=20, plan=None, started=None, minutes=None, verified=False,
             satisfaction=None, late_sync=False, outcome="seen_well", mode="door"):
        """A task whose window opens at local `start` (an hour long unless `end`), and when
        `started` (local) is given its visit."""
        window_start = local(start)
        window_end = local(end) if end else window_start + timedelta(hours=1)
        task = Task(kind=kind, service_type=service_type if kind == "service" else None, elder_id=elder.id,
                    assignee_id=assignee.id, care_plan_id=plan.id if plan else None,
                    source_key=f"manual:test-{next(self._keys)}", window_start_at=window_start,
                    window_end_at=window_end, min_duration_minutes=min_minutes if kind == "service" else 0,
                    status=status, missed_after_at=window_end + timedelta(hours=2))
        db.session.add(task)
        db.session.flush()
        if started:
            began = local(started)
            db.session.add(Visit(task_id=task.id, user_id=assignee.id, started_at=began,
                                 ended_at=began + timedelta(minutes=minutes or 0),
                                 duration_seconds=minutes * 60 if minutes is not None else None,
                                 is_verified=verified, satisfaction=satisfaction, is_late_sync=late_sync,
                                 patrol_outcome=outcome if kind == "patrol" else None,
                                 patrol_mode=mode if kind == "patrol" else None, flags=[]))
        self.tasks[name] = task
        return task

    def followup(self, elder, provider, opened, due, resolved=None, kind="missed_visit"):
        db.session.add(Followup(kind=kind, dedupe_key=f"test:{next(self._keys)}",
                                region_id=elder.community_id if elder else None,
                                provider_id=provider.id if provider else None, opened_at=local(opened),
                                due_at=local(due), resolved_at=local(resolved) if resolved else None,
                                status="resolved" if resolved else "open", summary=""))


@pytest.fixture
def world(city, make_elder, make_care_plan):
    w = World(city)
    w.elder_b1e = make_elder(city.community_b1, "赵淑珍", categories=["empty_nest"])
    make_elder(city.community_a1, "钱玉梅", categories=["solitary"], is_active=False)
    make_elder(city.community_a1, "孙建国", categories=["low_income"])
    plan_a1 = make_care_plan(city.elder_a1, city.provider, [("meal", MEAL, 20, city.caregiver)])
    plan_a2 = make_care_plan(city.elder_a2, city.other_provider, [("meal", MEAL, 20, city.caregiver_other)])
    plan_b1 = make_care_plan(city.elder_b1, city.other_provider, [("meal", MEAL, 20, city.caregiver_other)])
    a1, a2, b1, cg1, cg2 = city.elder_a1, city.elder_a2, city.elder_b1, city.caregiver, city.caregiver_other

    # Street A, elder a1, provider 颐康, caregiver cg1.
    w.task("T1", a1, cg1, "2026-11-03 10:00", plan=plan_a1, started="2026-11-03 10:05", minutes=25,
           verified=True, satisfaction=5)
    w.task("T2", a1, cg1, "2026-11-04 10:00", plan=plan_a1, started="2026-11-04 11:30", minutes=15,
           satisfaction=2)
    w.task("T3", a1, cg1, "2026-11-05 10:00", plan=plan_a1, service_type="bathing", min_minutes=30,
           started="2026-11-05 10:00", minutes=40, verified=True, satisfaction=4, late_sync=True)
    w.task("T4", a1, cg1, "2026-11-06 10:00", plan=plan_a1, status="missed")
    w.task("T5", a1, cg1, "2026-11-07 10:00", plan=plan_a1, status="cancelled")
    w.task("T6", a1, cg1, "2026-11-08 10:00", plan=plan_a1, status="scheduled")
    # Street A, elder a2, provider 暖阳, caregiver cg2; T8 opens at 23:30 on the last local day.
    w.task("T7", a2, cg2, "2026-11-10 10:00", plan=plan_a2, service_type="bathing", min_minutes=30,
           started="2026-11-10 10:20", minutes=20, verified=True, satisfaction=1)
    w.task("T8", a2, cg2, "2026-11-30 23:30", end="2026-11-30 23:59", plan=plan_a2,
           started="2026-11-30 23:40", minutes=30, verified=True)
    # Street B, elder b1, provider 暖阳: T9 in December, T11 in October, T10 in November.
    w.task("T9", b1, cg2, "2026-12-01 00:10", plan=plan_b1, started="2026-12-01 00:15", minutes=25,
           verified=True, satisfaction=5)
    w.task("T10", b1, cg2, "2026-11-15 10:00", plan=plan_b1, started="2026-11-15 10:10", minutes=22,
           verified=True, satisfaction=3)
    w.task("T11", b1, cg2, "2026-10-31 23:50", plan=plan_b1, status="missed")
    # Patrols: a1 at the door, b1 missed, b1e by phone (no presence, so unverified).
    w.task("P1", a1, city.worker_a, "2026-11-12 09:00", end="2026-11-12 17:00", kind="patrol",
           started="2026-11-12 09:30", verified=True)
    w.task("P2", b1, city.worker_b, "2026-11-20 09:00", end="2026-11-20 17:00", kind="patrol", status="missed")
    w.task("P3", w.elder_b1e, city.worker_b, "2026-11-25 09:00", end="2026-11-25 17:00", kind="patrol",
           started="2026-11-25 10:00", mode="phone")

    provider, other = city.provider, city.other_provider
    w.followup(a1, provider, "2026-11-02 09:00", "2026-11-03 09:00", resolved="2026-11-03 08:00")  # F1
    w.followup(a1, provider, "2026-11-20 09:00", "2026-11-21 09:00")  # F2: overdue at the end
    w.followup(b1, other, "2026-10-20 09:00", "2026-10-21 09:00", resolved="2026-11-05 09:00")  # F3
    w.followup(a2, None, "2026-11-29 09:00", "2026-12-02 09:00", kind="patrol_concern")  # F4: due later
    w.followup(b1, other, "2026-10-01 09:00", "2026-10-02 09:00", resolved="2026-10-03 09:00")  # F5
    w.followup(b1, other, "2026-11-28 09:00", "2026-11-29 09:00", resolved="2026-12-03 09:00")  # F6
    w.followup(None, provider, "2026-11-10 09:00", "2026-11-17 09:00", kind="worker_pattern")  # F7: no region
    db.session.commit()
    return w


@pytest.fixture
def report(client, login):
    """report(user, region, month="2026-11", ext="") → the response of /reports/monthly{ext}."""
    headers = {}

    def get(user, region, month="2026-11", ext=""):
        if user.id not in headers:
            headers[user.id] = login(user)
        return client.get(f"/api/v1/reports/monthly{ext}", query_string={"region": region.id, "month": month},
                          headers=headers[user.id])
    return get
