"""Pure presence and clock rules the server applies to pushed items, and the flags they raise."""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

# Flags: facts the server records on an accepted item. The two *_verified flags are good news and
# after_missed says what the evidence did to its task, not that the evidence is doubtful; any other
# flag sends the visit to the supervisors' exception queue (see REVIEW_FLAGS).
QR_VERIFIED = "qr_verified"  # a static plate signed by us, of this task's elder
DYNAMIC_CODE_VERIFIED = "dynamic_code_verified"  # an in-home device code current at the capture time
QR_MISSING = "qr_missing"  # a door visit without any scan
QR_INVALID = "qr_invalid"  # not a plate, a bad signature, or a code not current at the capture time
QR_WRONG_ELDER = "qr_wrong_elder"  # a genuine plate, but another elder's
QR_REVOKED = "qr_revoked"  # a genuine plate that was revoked (lost, photographed, replaced)
OUTSIDE_GEOFENCE = "outside_geofence"
NO_LOCATION = "no_location"
CLOCK_SKEW = "clock_skew"  # the device clock was off by more than the threshold when it pushed
FUTURE_CAPTURE = "future_capture"
BEFORE_TASK_CREATED = "before_task_created"
OUTSIDE_WINDOW = "outside_window"  # captured outside the task's time window (plus grace)
OUT_OF_ORDER = "out_of_order"  # captured earlier than an item the device recorded before it
TOO_SHORT = "too_short"
CHECK_OUT_WITHOUT_CHECK_IN = "check_out_without_check_in"
DUPLICATE_CHECK_IN = "duplicate_check_in"
TASK_CANCELLED = "task_cancelled"
TASK_REASSIGNED = "task_reassigned"
# Two lateness facts with two names (both were once `late_sync`):
LATE_UPLOAD = "late_upload"  # received more than 24 h after capture, by the device's own clock
AFTER_MISSED = "after_missed"  # evidence for a task already marked missed: it completes the task late
# Cross-visit checks, set on the later of two visits of one caregiver by a job after the push
# (backend/visits/crosscheck.py), on server-corrected times:
OVERLAPPING_VISIT = "overlapping_visit"  # it began before an earlier-begun visit of theirs had ended
IMPOSSIBLE_TRAVEL = "impossible_travel"  # reaching it from their previous visit needed an implausible speed
CROSS_VISIT_FLAGS = (OVERLAPPING_VISIT, IMPOSSIBLE_TRAVEL)

FLAGS = (
    QR_VERIFIED, DYNAMIC_CODE_VERIFIED, QR_MISSING, QR_INVALID, QR_WRONG_ELDER, QR_REVOKED,
    OUTSIDE_GEOFENCE, NO_LOCATION, CLOCK_SKEW, FUTURE_CAPTURE, BEFORE_TASK_CREATED, OUTSIDE_WINDOW,
    OUT_OF_ORDER, TOO_SHORT, CHECK_OUT_WITHOUT_CHECK_IN, DUPLICATE_CHECK_IN, TASK_CANCELLED,
    TASK_REASSIGNED, LATE_UPLOAD, AFTER_MISSED, OVERLAPPING_VISIT, IMPOSSIBLE_TRAVEL,
)
VISIT_FLAGS = frozenset(FLAGS) - {QR_VERIFIED, DYNAMIC_CODE_VERIFIED}  # shown as is_verified instead
REVIEW_FLAGS = VISIT_FLAGS - {AFTER_MISSED}

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)
GEOFENCE_RADIUS_M = 200
# A fix reporting ±accuracy may be that much closer than it looks; we forgive at most 100 m of
# it, so a useless 2 km cell-tower fix cannot make any place count as "at the door".
ACCURACY_ALLOWANCE_CAP_M = 100
SKEW_THRESHOLD = timedelta(minutes=10)
FUTURE_TOLERANCE = timedelta(minutes=2)
LATE_UPLOAD_AFTER = timedelta(hours=24)
WINDOW_GRACE = timedelta(minutes=30)
ORDER_TOLERANCE = timedelta(minutes=1)
MISSING_SEQS_LIMIT = 1000
# Two visits may touch: a check-out and the next check-in a minute apart on two phones' clocks.
OVERLAP_TOLERANCE = timedelta(minutes=1)
# Faster than a car in town (configurable: IMPOSSIBLE_TRAVEL_KMH). Distances within the allowance
# are neighbours (the same building, GPS noise), and any trip is given at least a minute.
MAX_TRAVEL_KMH = 60
TRAVEL_ALLOWANCE_M = 500
MIN_TRAVEL_SECONDS = 60


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres; plenty accurate at the scale of a geofence."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def geofence_flag(home_lat: float, home_lon: float, fix_lat: float, fix_lon: float, accuracy_m: float,
                  radius_m: float = GEOFENCE_RADIUS_M) -> bool:
    """True when the fix is outside the fence even after forgiving min(accuracy, 100 m)."""
    allowance = min(max(accuracy_m, 0.0), ACCURACY_ALLOWANCE_CAP_M)
    return haversine_m(home_lat, home_lon, fix_lat, fix_lon) - allowance > radius_m


def clock_offset(server_received_at: datetime, device_time: datetime) -> timedelta:
    """How far the device clock is behind the server's (negative: ahead), measured at push time."""
    return server_received_at - device_time


def corrected(captured_at: datetime, offset: timedelta) -> datetime:
    """A device-clock time moved onto the server clock.

    Assumes the device clock was not changed between capture and push; the out_of_order and
    late_upload flags exist because that assumption can fail.
    """
    return captured_at + offset


def clock_skew(offset: timedelta, threshold: timedelta = SKEW_THRESHOLD) -> bool:
    return abs(offset) > threshold


def future_capture(corrected_capture: datetime, server_time: datetime,
                   tolerance: timedelta = FUTURE_TOLERANCE) -> bool:
    return corrected_capture > server_time + tolerance


def before_task_created(corrected_capture: datetime, task_created_at: datetime,
                        tolerance: timedelta = FUTURE_TOLERANCE) -> bool:
    return corrected_capture < task_created_at - tolerance


def outside_window(corrected_capture: datetime, window_start_at: datetime, window_end_at: datetime,
                   grace: timedelta = WINDOW_GRACE) -> bool:
    return not window_start_at - grace <= corrected_capture <= window_end_at + grace


def late_upload(corrected_capture: datetime, server_received_at: datetime,
                threshold: timedelta = LATE_UPLOAD_AFTER) -> bool:
    """Received long after capture: the offset measured at push then vouches for a clock that had
    a day or more to be changed or reset. Equal to the device-clock time between capture and push."""
    return server_received_at - corrected_capture > threshold


def out_of_order(previous_captured_at: datetime, captured_at: datetime,
                 tolerance: timedelta = ORDER_TOLERANCE) -> bool:
    """An item recorded after another (higher seq) but captured clearly earlier: the clock moved."""
    return captured_at < previous_captured_at - tolerance


def visit_duration(check_in_captured_at: datetime, check_out_captured_at: datetime) -> timedelta:
    """Both readings come from the same device clock, so its offset cancels out."""
    return check_out_captured_at - check_in_captured_at


def too_short(duration: timedelta, min_minutes: int) -> bool:
    return duration < timedelta(minutes=min_minutes)


def seq_ranges(seqs: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted, merged, inclusive ranges: [0, 1, 2, 5, 6] → [(0, 2), (5, 6)]."""
    return merge_ranges((), seqs)


def merge_ranges(ranges: Iterable[tuple[int, int]], seqs: Iterable[int] = ()) -> list[tuple[int, int]]:
    """Inclusive ranges and single seqs folded into sorted, merged ranges: [(0, 2)] + [3, 7] → [(0, 3), (7, 7)]."""
    merged: list[tuple[int, int]] = []
    for low, high in sorted([*((int(a), int(b)) for a, b in ranges), *((int(s), int(s)) for s in seqs)]):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def missing_seqs(held: Iterable[tuple[int, int]], limit: int = MISSING_SEQS_LIMIT) -> list[int]:
    """Seqs from 0 up to the highest held that the server does not hold, lowest first, at most `limit`.

    `held` are inclusive (low, high) ranges in any order, e.g. from seq_ranges or a SQL gaps query.
    """
    missing: list[int] = []
    expected = 0
    for low, high in sorted(held):
        gap_end = min(low, expected + limit - len(missing))
        missing.extend(range(expected, gap_end))
        if len(missing) >= limit:
            break
        expected = max(expected, high + 1)
    return missing


@dataclass(frozen=True, slots=True)
class Stop:
    """One visit of a caregiver as the cross-checks see it: when it began and ended (ended_at =
    started_at when it has no end) and where they arrived and left ((lat, lon), or None)."""

    id: int
    started_at: datetime
    ended_at: datetime
    arrived: tuple[float, float] | None = None
    left: tuple[float, float] | None = None


def overlapping(earlier_end: datetime, later_start: datetime, tolerance: timedelta = OVERLAP_TOLERANCE) -> bool:
    """The later visit began before the earlier one ended (beyond the tolerance)."""
    return later_start < earlier_end - tolerance


def impossible_travel(distance_m: float, seconds: float, max_kmh: float = MAX_TRAVEL_KMH,
                      allowance_m: float = TRAVEL_ALLOWANCE_M) -> bool:
    """Covering `distance_m` (less the allowance) in `seconds` (at least a minute) is faster than max_kmh."""
    far = distance_m - allowance_m
    return far > 0 and far / max(seconds, MIN_TRAVEL_SECONDS) * 3.6 > max_kmh


def cross_visit_flags(stops: Iterable[Stop], max_kmh: float = MAX_TRAVEL_KMH,
                      tolerance: timedelta = OVERLAP_TOLERANCE) -> dict[int, set[str]]:
    """The cross-visit flags of each of one caregiver's visits, judged against the visits that
    began before it (by start, then id): see neighbour_flags. The earlier visit of a pair is never
    flagged for it."""
    flags: dict[int, set[str]] = {}
    latest_end: datetime | None = None
    previous: Stop | None = None
    for stop in sorted(stops, key=lambda s: (s.started_at, s.id)):
        flags[stop.id] = neighbour_flags(stop, latest_end=latest_end, previous=previous, max_kmh=max_kmh,
                                         tolerance=tolerance)
        latest_end = stop.ended_at if latest_end is None else max(latest_end, stop.ended_at)
        previous = stop
    return flags


def neighbour_flags(stop: Stop, *, latest_end: datetime | None, previous: Stop | None,
                    max_kmh: float = MAX_TRAVEL_KMH, tolerance: timedelta = OVERLAP_TOLERANCE) -> set[str]:
    """One visit's cross-visit flags from its neighbours among the caregiver's visits begun before
    it: overlapping_visit when the latest end among them (`latest_end`) came after it began,
    impossible_travel when the trip from the one just before it (`previous`) was too fast. None:
    no such visit."""
    found = set()
    if latest_end is not None and overlapping(latest_end, stop.started_at, tolerance):
        found.add(OVERLAPPING_VISIT)
    if previous is not None and previous.left and stop.arrived:
        gap = (stop.started_at - previous.ended_at).total_seconds()
        if impossible_travel(haversine_m(*previous.left, *stop.arrived), gap, max_kmh):
            found.add(IMPOSSIBLE_TRAVEL)
    return found
