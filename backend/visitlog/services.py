"""A visit's full history for auditors, and the record of every visit-log export.

The history puts side by side everything that touched a task: its creation, each accepted push
item, each duplicate a phone resent, each quarantined item naming it, each state change, each
step of its follow-ups and each review decision, in time order with who or what made it.
"""

from collections.abc import Callable, Iterator
from datetime import date, datetime

from sqlalchemy import Text, cast, or_, select

from backend.audit import reads
from backend.clock import care_tz, utcnow
from backend.extensions import db
from backend.followups.models import Followup, FollowupEvent
from backend.reviews.models import Review
from backend.tasks.models import Task, TaskEvent
from backend.users.models import User
from backend.visitlog import export, queries
from backend.visitlog.models import ExportLog
from backend.visits.models import PushReceipt, QuarantinedItem, VisitItem

# Entries at the same instant read in cause-and-effect order.
_RANK = {"task_created": 0, "item_quarantined": 1, "item_accepted": 2, "duplicate_received": 3,
         "state_changed": 4, "followup_event": 5, "review": 6, "review_unlocked": 7}


def visit_history(task: Task) -> list[dict]:
    entries = [_entry(task.created_at, "task_created", None,
                      "generator" if not task.source_key.startswith("manual:") else None,
                      source_key=task.source_key, window_start_at=task.window_start_at,
                      window_end_at=task.window_end_at)]
    # Items and state changes are read in the task's month only (their copy of its window start is
    # their partition key), not in every month kept.
    items = list(db.session.execute(
        select(VisitItem).where(VisitItem.task_id == task.id, VisitItem.window_start_at == task.window_start_at)
        .order_by(VisitItem.received_at, VisitItem.seq)
    ).scalars())
    for item in items:
        entries.append(_entry(item.received_at, "item_accepted", item.user_id, None, id=item.id, type=item.type,
                              device_id=item.device_id, seq=item.seq, captured_at=item.captured_at,
                              captured_at_corrected=item.captured_at_corrected,
                              clock_offset_seconds=item.clock_offset_seconds, qr_flag=item.qr_flag,
                              plate_id=item.plate_id, lat=item.lat, lon=item.lon, accuracy_m=item.accuracy_m,
                              distance_m=item.distance_m, flags=list(item.flags), payload=item.payload))
    entries += _duplicates(items)
    for held in db.session.execute(select(QuarantinedItem).where(QuarantinedItem.task_id == task.id)
                                   .order_by(QuarantinedItem.id)).scalars():
        entries.append(_entry(held.received_at, "item_quarantined", held.user_id, None, item_id=held.item_uuid,
                              device_id=held.device_id, seq=held.seq, code=held.code, message=held.message,
                              payload=held.payload))
    for event in db.session.execute(select(TaskEvent).where(TaskEvent.task_id == task.id,
                                                            TaskEvent.window_start_at == task.window_start_at)
                                    .order_by(TaskEvent.id)).scalars():
        entries.append(_entry(event.at, "state_changed", event.by_user_id, event.by_system,
                              from_status=event.from_status, to_status=event.to_status, reason=event.reason))
    # Follow-up steps are partitioned by when they happened, which nothing bounds here: each month
    # of followup_events is looked into once, by its index on followup_id.
    steps = db.session.execute(select(FollowupEvent, Followup.kind).join(Followup)
                               .where(Followup.task_id == task.id).order_by(FollowupEvent.id))
    for event, kind in steps:
        entries.append(_entry(event.at, "followup_event", event.by_user_id, event.by_system,
                              followup_id=event.followup_id, followup_kind=kind, action=event.action,
                              note=event.note, data=event.data))
    entries += _reviews(task)
    entries.sort(key=lambda entry: (entry["at"], _RANK[entry["kind"]]))
    _name_users(entries)
    return entries


def _duplicates(items: list[VisitItem]) -> list[dict]:
    """Push receipts that answered `duplicate` for any of the task's items: the phone resent them."""
    if not items:
        return []
    ids = {item.id for item in items}
    # Item ids are UUIDs, so a quoted id in the JSON list's text is an exact match; the user and
    # time bounds let the receipts' user index do the work.
    query = select(PushReceipt).where(
        PushReceipt.user_id.in_(sorted({item.user_id for item in items})),
        PushReceipt.received_at >= min(item.received_at for item in items),
        PushReceipt.duplicates > 0,
        or_(*(cast(PushReceipt.duplicate_ids, Text).like(f'%"{item_id}"%') for item_id in sorted(ids))),
    ).order_by(PushReceipt.id)
    entries = []
    for receipt in db.session.execute(query).scalars():
        resent = [i for i in receipt.duplicate_ids if i in ids]
        if resent:
            entries.append(_entry(receipt.received_at, "duplicate_received", receipt.user_id, None,
                                  receipt_id=receipt.id, device_id=receipt.device_id, item_ids=resent,
                                  device_time=receipt.device_time))
    return entries


def _reviews(task: Task) -> list[dict]:
    entries = []
    for review in db.session.execute(select(Review).where(Review.task_id == task.id)
                                     .order_by(Review.id)).scalars():
        entries.append(_entry(review.decided_at, "review", review.decided_by_id, None, review_id=review.id,
                              seq=review.seq, decision=review.decision, reason_code=review.reason_code,
                              comment=review.comment, superseded_by_id=review.superseded_by_id))
        if review.unlocked_at is not None:
            entries.append(_entry(review.unlocked_at, "review_unlocked", review.unlocked_by_id, None,
                                  review_id=review.id, reason=review.unlock_reason))
    return entries


def _entry(at: datetime, kind: str, user_id: int | None, system: str | None, **details) -> dict:
    return {"at": at, "kind": kind, "who": {"user_id": user_id, "username": None, "system": system},
            "details": {name: _plain(value) for name, value in details.items()}}


def _plain(value):
    return value.isoformat() if isinstance(value, datetime | date) else value


def _name_users(entries: list[dict]) -> None:
    ids = {entry["who"]["user_id"] for entry in entries} - {None}
    if not ids:
        return
    names = dict(db.session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())
    for entry in entries:
        entry["who"]["username"] = names.get(entry["who"]["user_id"])


def start_export(user: User, fmt: str, args: dict, *, at: datetime) -> ExportLog:
    """Record that an export of the visit log begins, as an ExportLog and a read of personal data;
    the caller commits before the first byte. Bad filters fail here, before anything is recorded."""
    queries.visit_rows(user, queries.Filters.from_args(args), now=at, after=None, limit=1)
    log = ExportLog(user_id=user.id, at=at, format=fmt, filters={name: _plain(value) for name, value in args.items()})
    db.session.add(log)
    db.session.flush()
    # Recorded as it starts: an export cut short, or a process killed mid-way, is still on record.
    # Its row count is known at its end, in export_logs (audited as an update).
    reads.exported("visit_log", fmt, filters=log.filters, rows=None, export_id=log.id,
                   regions=[args["region_id"]] if args.get("region_id") else
                   # A provider's elders live anywhere: its manager's export concerns every region.
                   None if user.role in ("admin", "provider_manager") else [user.region_id])
    return log


def export_chunks(fmt: str, user_id: int, args: dict, *, now: datetime, log_id: int,
                  codes: bool = False) -> Iterator[bytes]:
    """The export's bytes; after the last, its log is marked finished with its row count (the
    caller commits that). Runs after the view has returned and its session is gone, so it takes
    ids and loads the user again."""
    chunks_of: Callable[..., Iterator[bytes]] = export.FORMATS[fmt][1]
    rows = queries.iter_visit_rows(db.session.get(User, user_id), queries.Filters.from_args(args), now=now)
    count = 0

    def counted():
        nonlocal count
        for row in rows:
            count += 1
            yield row

    yield from chunks_of(counted(), codes=codes)
    log = db.session.get(ExportLog, log_id)
    log.row_count = count
    log.finished_at = utcnow()


def export_filename(fmt: str, *, at: datetime) -> str:
    return f"visits-{at.astimezone(care_tz()):%Y%m%d-%H%M%S}.{fmt}"
