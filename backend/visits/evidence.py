"""What an accepted item does to its task and to the task's visit, worked out in memory.

check_in starts a visit (scheduled → in_progress); check_out completes it with its duration;
a patrol report completes a patrol. Evidence for a task already marked missed completes it,
flagged after_missed (the visit's is_late_sync). Cancelled tasks keep their state: the evidence
is kept and flagged for review.
Items may arrive in any order (a check-out before its check-in, in another batch): the visit is
recomputed from whatever items it holds.

A push applies its whole batch here, item after item, on plain rows read once per batch
(backend/visits/store.py); the rows are then written back with one statement per table. Nothing
here touches the database.
"""

from dataclasses import dataclass, field
from datetime import datetime

from schemas.fields import INT32
from sync import rules

COMPLETING = {"check_out", "patrol_report"}
VERIFIED = {rules.QR_VERIFIED, rules.DYNAMIC_CODE_VERIFIED}
AFTER_MISSED_REASON = "after_missed: evidence arrived after the task was marked missed"


@dataclass(slots=True)
class ItemRow:
    """A visit_items row (the same attribute names as VisitItem)."""

    id: str
    user_id: int
    device_id: str
    seq: int
    type: str
    task_id: int
    captured_at: datetime
    captured_at_corrected: datetime
    received_at: datetime
    clock_offset_seconds: float
    qr_flag: str | None
    plate_id: int | None
    fingerprint: str
    payload: dict
    window_start_at: datetime  # the task's: the item's partition key
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    distance_m: float | None = None
    flags: list = field(default_factory=list)


@dataclass(slots=True)
class TaskRow:
    """The task columns a push reads, with its elder's home location; `status` moves in memory."""

    id: int
    kind: str
    status: str
    version: int
    assignee_id: int | None
    elder_id: int
    care_plan_id: int | None
    created_at: datetime
    window_start_at: datetime
    window_end_at: datetime
    min_duration_minutes: int
    elder_lat: float | None
    elder_lon: float | None
    reassigned_away: bool = False  # a TaskRemoval says it left this user's phone (reassigned)
    initial_status: str = ""
    transitions: list = field(default_factory=list)  # (from, to, reason)

    def __post_init__(self):
        self.initial_status = self.initial_status or self.status


@dataclass(slots=True)
class VisitRow:
    """A visits row (the same attribute names as Visit); `id` is None until it is inserted."""

    task_id: int
    user_id: int
    window_start_at: datetime  # the task's: the visit's partition key
    id: int | None = None
    check_in_item_id: str | None = None
    check_out_item_id: str | None = None
    report_item_id: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_seconds: int | None = None
    is_verified: bool = False
    max_distance_m: float | None = None
    satisfaction: int | None = None
    patrol_outcome: str | None = None
    patrol_mode: str | None = None
    is_late_sync: bool = False
    flags: list = field(default_factory=list)
    needs_review: bool = False
    # Written NULL by every push: a changed visit waits for the cross-check again.
    crosschecked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class VisitSnapshot:
    """The visit as it stood right after one item was applied, for the follow-up triggers."""

    user_id: int
    flags: list
    needs_review: bool


def apply_item(item: ItemRow, data: dict, task: TaskRow, visits: dict[int, VisitRow],
               items: dict[str, object]) -> VisitRow | None:
    """Attach the item to its task's visit and move the task; returns the visit (None for notes).

    `visits` are the batch's visits by task id (a new one is added to it); `items` are the items
    those visits may point at, by id (held ones read from the database, and the batch's own).
    The item's flags grow here (duplicate_check_in, after_missed, too_short, …).
    """
    if item.type == "note":
        return None
    visit = visits.get(task.id)
    if visit is None:
        visit = visits[task.id] = VisitRow(task_id=task.id, user_id=item.user_id,
                                           window_start_at=task.window_start_at)
    _attach(visit, item, data)
    _move_task(task, item)
    _recompute(visit, task, item, items)
    return visit


def _attach(visit: VisitRow, item: ItemRow, data: dict) -> None:
    if item.type == "check_in":
        if visit.check_in_item_id is not None:
            item.flags = item.flags + [rules.DUPLICATE_CHECK_IN]
            return
        visit.check_in_item_id = item.id
        visit.started_at = item.captured_at_corrected
    elif item.type == "check_out":
        if visit.check_out_item_id is None:
            visit.check_out_item_id = item.id
            visit.ended_at = item.captured_at_corrected
            visit.satisfaction = data.get("satisfaction")
    elif item.type == "patrol_report":
        visit.report_item_id = item.id
        visit.patrol_outcome = data["outcome"]
        visit.patrol_mode = data["mode"]
        visit.started_at = visit.started_at or item.captured_at_corrected
        visit.ended_at = item.captured_at_corrected


def _transition(task: TaskRow, to_status: str, reason: str | None = None) -> None:
    if task.status != to_status:
        task.transitions.append((task.status, to_status, reason))
        task.status = to_status


def _move_task(task: TaskRow, item: ItemRow) -> None:
    if task.status == "cancelled":
        return
    if task.status == "missed":
        if item.type in COMPLETING or item.type == "check_in":
            item.flags = item.flags + [rules.AFTER_MISSED]
            _transition(task, "completed", AFTER_MISSED_REASON)
        return
    if item.type == "check_in" and task.status == "scheduled":
        _transition(task, "in_progress")
    elif item.type in COMPLETING and task.status in ("scheduled", "in_progress"):
        _transition(task, "completed")


def _recompute(visit: VisitRow, task: TaskRow, item: ItemRow, items: dict) -> None:
    """Derive the visit's duration and flags from the items it holds."""
    check_in = items.get(visit.check_in_item_id) if visit.check_in_item_id else None
    check_out = items.get(visit.check_out_item_id) if visit.check_out_item_id else None
    visit_flags = set(visit.flags) | set(item.flags)
    if check_in and check_out:
        # Same device: two readings of one clock, its offset cancels. Otherwise corrected times.
        same_clock = check_in.device_id == check_out.device_id
        duration = rules.visit_duration(check_in.captured_at if same_clock else check_in.captured_at_corrected,
                                        check_out.captured_at if same_clock else check_out.captured_at_corrected)
        seconds = int(duration.total_seconds())
        # Capture times decades apart (both in the accepted range, or one read back clamped by
        # backend/timestamps.py) give no duration the column can hold: it is left unknown.
        visit.duration_seconds = seconds if INT32[0] <= seconds <= INT32[1] else None
        visit_flags.discard(rules.CHECK_OUT_WITHOUT_CHECK_IN)
        if rules.too_short(duration, task.min_duration_minutes):
            visit_flags.add(rules.TOO_SHORT)
            if rules.TOO_SHORT not in item.flags:
                item.flags = item.flags + [rules.TOO_SHORT]
    elif check_out and not check_in and item.type == "check_out":
        item.flags = item.flags + [rules.CHECK_OUT_WITHOUT_CHECK_IN]
        visit_flags.add(rules.CHECK_OUT_WITHOUT_CHECK_IN)
    presence = [i for i in (check_in, check_out) if i is not None]
    if item.type == "patrol_report":
        presence.append(item)
    distances = [i.distance_m for i in presence if i.distance_m is not None]
    visit.max_distance_m = max(distances) if distances else None
    visit.is_verified = bool(presence) and all(i.qr_flag in VERIFIED or i.qr_flag is None for i in presence) \
        and any(i.qr_flag in VERIFIED for i in presence) and rules.OUTSIDE_GEOFENCE not in visit_flags
    if item.type == "patrol_report" and item.qr_flag is None:  # a phone call proves no presence
        visit.is_verified = False
    visit_flags.update(item.flags)
    if rules.AFTER_MISSED in item.flags:
        visit.is_late_sync = True
    visit.flags = sorted(visit_flags - VERIFIED)
    visit.needs_review = bool(set(visit.flags) & rules.REVIEW_FLAGS)
