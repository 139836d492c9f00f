"""The facts an item carries on arrival, before it meets its visit: presence, place and clock."""

from datetime import datetime, timedelta

from backend.plates.services import verify_presence
from backend.visits.evidence import ItemRow, TaskRow
from sync import rules
from sync.plates import DYNAMIC_PREFIX


def presence(data: dict, task: TaskRow, corrected: datetime, plates: dict, keys: dict,
             verdicts: dict) -> tuple[str | None, int | None]:
    """(qr flag, plate row id) for items that claim presence at the door; none for notes and phone patrols.

    `verdicts` remembers them for the batch: a static plate's verdict depends only on the scan
    and the elder (a phone scans the same door for check-in and check-out); a dynamic code's
    also on the capture time.
    """
    if data["type"] == "note" or (data["type"] == "patrol_report" and data.get("mode") == "phone"):
        return None, None
    qr = data.get("qr")
    key = (qr, task.elder_id, corrected if qr and qr.strip().startswith(DYNAMIC_PREFIX + ".") else None)
    if key not in verdicts:
        result = verify_presence(qr, task.elder_id, corrected, known=plates, keys=keys)
        verdicts[key] = (result.flags[0] if result.flags else None), result.plate_id
    return verdicts[key]


def intake_flags(item: ItemRow, task: TaskRow, reassigned: bool, offset: timedelta,
                 received_at: datetime) -> list[str]:
    """The item's flags from itself and its task; sets item.distance_m when it can be measured."""
    flags = [item.qr_flag] if item.qr_flag else []
    if item.qr_flag is not None:  # the item claims presence at the door
        if item.lat is None:
            flags.append(rules.NO_LOCATION)
        elif task.elder_lat is not None and task.elder_lon is not None:
            item.distance_m = round(rules.haversine_m(task.elder_lat, task.elder_lon, item.lat, item.lon), 1)
            if rules.geofence_flag(task.elder_lat, task.elder_lon, item.lat, item.lon, item.accuracy_m or 0.0):
                flags.append(rules.OUTSIDE_GEOFENCE)
    if rules.clock_skew(offset):
        flags.append(rules.CLOCK_SKEW)
    if rules.future_capture(item.captured_at_corrected, received_at):
        flags.append(rules.FUTURE_CAPTURE)
    if rules.before_task_created(item.captured_at_corrected, task.created_at):
        flags.append(rules.BEFORE_TASK_CREATED)
    if item.type in ("check_in", "patrol_report") and rules.outside_window(
            item.captured_at_corrected, task.window_start_at, task.window_end_at):
        flags.append(rules.OUTSIDE_WINDOW)
    if rules.late_upload(item.captured_at_corrected, received_at):
        flags.append(rules.LATE_UPLOAD)
    if task.status == "cancelled":
        flags.append(rules.TASK_CANCELLED)
    if reassigned:
        flags.append(rules.TASK_REASSIGNED)
    return flags
