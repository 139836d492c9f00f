"""The demo city's field work: the previous month and yesterday as they happened, pushed through
the real sync engine, and the previous month's flagged visits reviewed by a supervisor.

The previous month is a finished month: call-backs can be drawn for it, and its report read.
"""

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from backend.clock import days, local_midnight
from backend.extensions import db
from backend.followups import actions
from backend.followups.models import Followup
from backend.plates.services import active_plate, plate_payload
from backend.reviews.services import decide
from backend.tasks.models import Task
from backend.users.models import User
from backend.visits.crosscheck import crosscheck_visits
from backend.visits.models import Visit
from backend.visits.push import push_batch
from sync.rules import haversine_m


class FieldDay:
    """Pushes one day's work per phone, each phone's items numbered on from its previous push.

    A day's pushes commit together: a push's task writes wait for the commit (the change feed
    stamps them), so the patrols reported today are remembered here rather than re-read.
    """

    def __init__(self, rng):
        self.rng = rng
        self.next_seq: dict[int, int] = {}
        self.reported: set[int] = set()
        self.plates: dict[int, str] = {}
        self.users = db.session.execute(select(User).where(User.role.in_(("caregiver", "community_worker")))
                                        .order_by(User.username)).scalars().all()

    def work(self, day: date, *, drawer_share: float, quiet_patrols: bool, overlapping: bool = False) -> None:
        """Most caregivers sync in the evening (a few visits with a photographed plate, a fix far from
        home or too short a stay); `drawer_share` of the phones never sync that day; community workers
        report some patrols (`quiet_patrols`: nobody fails to answer the door). With `overlapping`, the
        first caregiver who syncs two visits or more claims two of them at once (the cross-check flags
        the later one)."""
        evening = local_midnight(day) + timedelta(hours=21)
        start, end = local_midnight(day), local_midnight(day + timedelta(days=1))
        for user in self.users:
            if user.role == "caregiver" and self.rng.random() < drawer_share:
                continue  # this phone stayed in a drawer: its visits will be missed
            if user.role == "community_worker":
                items = self._patrol_items(user, day, quiet=quiet_patrols)
            else:
                tasks = db.session.execute(select(Task).where(
                    Task.assignee_id == user.id, Task.window_start_at >= start, Task.window_start_at < end,
                    Task.kind == "service").options(joinedload(Task.elder)).order_by(Task.window_start_at)
                ).scalars().all()
                overlap, overlapping = overlapping and len(tasks) >= 2, overlapping and len(tasks) < 2
                items = self._day_of_visits(tasks, overlap=overlap)
            if not items:
                continue
            seq = self.next_seq.get(user.id, 0)
            for n, item in enumerate(items):
                item["seq"] = seq + n
            self.next_seq[user.id] = seq + len(items)
            push_batch(user=user, device_id=f"demo-{user.username}", token_device_id=None, device_time=evening,
                       items=items, received_at=evening)
        db.session.commit()

    def _day_of_visits(self, tasks, *, overlap: bool) -> list[dict]:
        """A caregiver's visits one after the other, each begun after the previous one ended and the
        trip between the homes (at 30 km/h, plus 5 minutes); with `overlap`, the second visit of the
        day is claimed halfway through the first."""
        items, free_at, previous = [], None, None
        for n, task in enumerate(tasks):
            at = None
            if overlap and n == 1 and previous is not None:  # halfway through the first visit
                not_before = at = previous[0] + (free_at - previous[0]) / 2
            elif free_at is not None:
                trip = haversine_m(previous[1].lat, previous[1].lon, task.elder.lat, task.elder.lon)
                not_before = free_at + timedelta(minutes=5 + trip / 500)
            else:
                not_before = None
            check_in, check_out = _visit_items(self.rng, task, self.plate(task.elder), not_before=not_before, at=at)
            items += [check_in, check_out]
            arrived = datetime.fromisoformat(check_in["captured_at"])
            free_at, previous = datetime.fromisoformat(check_out["captured_at"]), (arrived, task.elder)
        return items

    def plate(self, elder) -> str:
        if elder.id not in self.plates:
            self.plates[elder.id] = plate_payload(active_plate(elder))
        return self.plates[elder.id]

    def _patrol_items(self, worker, day, *, quiet: bool) -> list[dict]:
        tasks = db.session.execute(select(Task).where(
            Task.assignee_id == worker.id, Task.kind == "patrol", Task.status == "scheduled",
            Task.window_start_at <= local_midnight(day), Task.window_end_at > local_midnight(day))
            .options(joinedload(Task.elder)).order_by(Task.id)).scalars().all()
        tasks = [task for task in tasks if task.id not in self.reported][:4]
        self.reported.update(task.id for task in tasks)
        return [_patrol_item(self.rng, task, n, day, self.plate(task.elder), quiet) for n, task in enumerate(tasks)]


def previous_month(field: FieldDay, first: date, end: date, supervisor: User) -> None:
    """Every day of [first, end) in the field, then the supervisor's month-end review: most flagged
    visits decided (approved, or rejected when the stay was far too short), their follow-ups and
    the month's patrol concerns resolved; a few flagged visits still wait in the review queue."""
    for day in days(first, (end - first).days):
        field.work(day, drawer_share=0.0, quiet_patrols=True)
    month_end = local_midnight(end) + timedelta(hours=10)
    crosscheck(month_end)
    flagged = db.session.execute(select(Visit).join(Task, Task.id == Visit.task_id).where(
        Task.window_start_at >= local_midnight(first), Task.window_start_at < local_midnight(end),
        Visit.needs_review).order_by(Visit.task_id)).scalars().all()
    for n, visit in enumerate(flagged):
        if n % 6 == 5:
            continue  # still in the queue
        decision, code = (("rejected", "duration_too_short") if "too_short" in visit.flags
                          else ("approved", "confirmed_by_elder"))
        decide(visit.task, decision, code, None, by=supervisor, at=month_end + timedelta(minutes=n))
        for followup in db.session.execute(select(Followup).where(
                Followup.task_id == visit.task_id, Followup.status != "resolved")).scalars():
            actions.resolve(followup, "other", f"督查审核：{'通过' if decision == 'approved' else '不予认可'}",
                            by=supervisor, at=month_end + timedelta(minutes=n))
    concerns = db.session.execute(select(Followup).where(
        Followup.kind == "patrol_concern", Followup.status != "resolved",
        Followup.opened_at < local_midnight(end))).scalars().all()
    for followup in concerns:
        actions.resolve(followup, "other", "已转介社区跟进", by=supervisor, at=month_end)
    db.session.flush()


def crosscheck(now) -> None:
    """The cross-check job's work on everything pushed so far, as the scheduler would have done it."""
    while crosscheck_visits(now=now):
        db.session.flush()


def reported_deceased(field: FieldDay, now) -> Task | None:
    """This morning a community worker found an elder with a family bed had died, and reported it
    from the patrol: the report waits for the supervisor's confirmation, and the elder's visits stand
    until then (the register follows people only once a supervisor confirms it)."""
    from backend.plans.models import CarePlan  # the demo's plans, read only here

    task = db.session.execute(select(Task).join(CarePlan, CarePlan.elder_id == Task.elder_id).where(
        Task.kind == "patrol", Task.status == "scheduled", Task.window_start_at <= now - timedelta(hours=2),
        Task.window_end_at > now, CarePlan.status == "active").options(joinedload(Task.elder))
        .order_by(Task.id).limit(1)).scalar()
    if task is None:
        return None
    worker = db.session.get(User, task.assignee_id)
    at = now - timedelta(hours=1)
    seq = field.next_seq.get(worker.id, 0)
    field.next_seq[worker.id] = seq + 1
    item = {"id": str(uuid.UUID(int=field.rng.getrandbits(128), version=4)), "seq": seq, "type": "patrol_report",
            "task_id": task.id, "captured_at": at.isoformat(), "qr": field.plate(task.elder), "mode": "door",
            "location": {"lat": task.elder.lat, "lon": task.elder.lon, "accuracy_m": 10}, "outcome": "deceased",
            "observations": {"living_conditions": "邻居告知老人已于昨夜去世，家属正在料理后事"}}
    push_batch(user=worker, device_id=f"demo-{worker.username}", token_device_id=None, device_time=at,
               items=[item], received_at=at)
    db.session.commit()
    return task


def _visit_items(rng, task, qr: str, not_before: datetime | None = None, at: datetime | None = None) -> list[dict]:
    """A visit's check-in and check-out: arriving in the first 40 minutes of the window (not before
    `not_before`, or exactly `at`), staying the minimum or longer, with the odd trouble."""
    elder = task.elder
    home = {"lat": elder.lat + rng.uniform(-0.0002, 0.0002), "lon": elder.lon + rng.uniform(-0.0002, 0.0002),
            "accuracy_m": rng.choice([5, 8, 12, 20])}
    arrive = task.window_start_at + timedelta(minutes=rng.randint(0, 40))
    if not_before is not None and arrive < not_before:
        arrive = not_before
    arrive = at or arrive
    stay = timedelta(minutes=task.min_duration_minutes + rng.randint(0, 25))
    trouble = rng.random()
    if trouble < 0.05:
        home = {"lat": elder.lat + 0.008, "lon": elder.lon, "accuracy_m": 15}  # ~900 m away
    elif trouble < 0.10:
        stay = timedelta(minutes=max(2, task.min_duration_minutes // 4))
    elif trouble < 0.13:
        qr = None
    check_in = {"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "type": "check_in", "task_id": task.id,
                "captured_at": arrive.isoformat(), "qr": qr, "location": home}
    check_out = {"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "type": "check_out",
                 "task_id": task.id, "captured_at": (arrive + stay).isoformat(), "qr": qr, "location": home,
                 "services": [{"service_type": task.service_type, "outcome": "done"}],
                 "satisfaction": rng.choice([5, 5, 5, 4, 4, 3, 2])}
    return [check_in, check_out]


def _patrol_item(rng, task, n: int, day: date, qr: str, quiet: bool) -> dict:
    elder = task.elder
    # The fourth door of a day that is not quiet stays closed: attempted, not coverage (a solitary
    # elder's silence opens a welfare check).
    attempted = "no_answer" if "solitary" in elder.categories else "not_at_home"
    outcome = attempted if n == 3 and not quiet else rng.choice(
        ["seen_well", "seen_well", "seen_well", "seen_needs_help"])
    at = local_midnight(day) + timedelta(hours=9 + n, minutes=rng.randint(0, 50))
    seen = outcome.startswith("seen")
    by_phone = n == 1 and seen  # the second elder of a day is reached by phone: no plate, no fix
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "type": "patrol_report", "task_id": task.id,
        "captured_at": at.isoformat(), "qr": None if by_phone else qr, "mode": "phone" if by_phone else "door",
        "location": None if by_phone else {"lat": elder.lat, "lon": elder.lon, "accuracy_m": 10},
        "outcome": outcome,
        "observations": {"health": "精神尚可", "mental_state": "情绪稳定",
                         "safety": {"gas": "ok", "water": "ok", "electricity": "ok"},
                         "hygiene": "整洁", "living_conditions": "良好",
                         "needs": "需要助浴服务" if outcome == "seen_needs_help" else None} if seen else None,
    }
