"""Presence and clock rules, missing sequences, QR verdicts and item fingerprints."""

from datetime import UTC, datetime, timedelta

import pytest

from sync import rules
from sync.items import PlateRecord, item_fingerprint, judge_qr
from sync.plates import make_dynamic_payload, make_payload, new_plate_id

HOME = (41.8057, 123.4315)  # Shenyang
T0 = datetime(2024, 5, 2, 9, 0, tzinfo=UTC)
KEY = b"q" * 32


def north_of(origin: tuple[float, float], metres: float) -> tuple[float, float]:
    return origin[0] + metres / 111_195, origin[1]


def test_haversine_measures_a_known_distance():
    beijing, shanghai = (39.9042, 116.4074), (31.2304, 121.4737)
    assert rules.haversine_m(*beijing, *shanghai) == pytest.approx(1_067_000, rel=0.005)
    assert rules.haversine_m(*HOME, *north_of(HOME, 150)) == pytest.approx(150, abs=1)


@pytest.mark.parametrize(("metres", "accuracy", "outside"), [
    (150, 10, False),   # inside the fence
    (250, 10, True),    # outside, and a precise fix
    (250, 60, False),   # outside only by less than its accuracy
    (350, 500, True),   # a vague fix is forgiven 100 m at most
    (290, 500, False),  # …and those 100 m bring it inside
])
def test_the_geofence_forgives_a_fix_its_accuracy_up_to_100_metres(metres, accuracy, outside):
    assert rules.geofence_flag(*HOME, *north_of(HOME, metres), accuracy) is outside


def test_the_geofence_radius_can_be_set_per_call():
    assert rules.geofence_flag(*HOME, *north_of(HOME, 80), 5, radius_m=50)


def test_a_device_clock_behind_the_server_gives_a_positive_offset_that_corrects_captures():
    offset = rules.clock_offset(server_received_at=T0, device_time=T0 - timedelta(minutes=15))
    assert offset == timedelta(minutes=15)
    assert rules.corrected(T0 - timedelta(hours=1, minutes=15), offset) == T0 - timedelta(hours=1)
    assert rules.clock_skew(offset)
    assert not rules.clock_skew(timedelta(minutes=-9))
    assert rules.clock_skew(timedelta(minutes=-11))


def test_a_capture_more_than_two_minutes_ahead_of_the_server_is_in_the_future():
    assert not rules.future_capture(T0 + timedelta(minutes=2), T0)
    assert rules.future_capture(T0 + timedelta(minutes=3), T0)


def test_a_capture_before_the_task_existed_is_flagged():
    assert rules.before_task_created(T0 - timedelta(hours=1), task_created_at=T0)
    assert not rules.before_task_created(T0 - timedelta(minutes=1), task_created_at=T0)


def test_a_capture_outside_the_task_window_and_its_grace_is_flagged():
    start, end = T0, T0 + timedelta(hours=2)
    assert not rules.outside_window(T0 - timedelta(minutes=29), start, end)
    assert rules.outside_window(T0 - timedelta(minutes=31), start, end)
    assert rules.outside_window(end + timedelta(hours=1), start, end)


def test_an_item_received_more_than_a_day_after_capture_is_a_late_upload():
    assert rules.late_upload(T0, T0 + timedelta(hours=25))
    assert not rules.late_upload(T0, T0 + timedelta(hours=23))


def test_a_later_item_captured_clearly_earlier_is_out_of_order():
    assert rules.out_of_order(previous_captured_at=T0, captured_at=T0 - timedelta(minutes=5))
    assert not rules.out_of_order(previous_captured_at=T0, captured_at=T0 - timedelta(seconds=30))


def test_a_visit_shorter_than_the_minimum_is_too_short():
    duration = rules.visit_duration(T0, T0 + timedelta(minutes=5))
    assert duration == timedelta(minutes=5)
    assert rules.too_short(duration, min_minutes=30)
    assert not rules.too_short(timedelta(minutes=30), min_minutes=30)


def test_seqs_collapse_into_ranges():
    assert rules.seq_ranges([6, 0, 1, 2, 5, 2]) == [(0, 2), (5, 6)]
    assert rules.seq_ranges([]) == []


def test_missing_seqs_are_the_gaps_below_the_highest_held():
    assert rules.missing_seqs([(0, 2), (5, 6), (9, 9)]) == [3, 4, 7, 8]
    assert rules.missing_seqs([(3, 4)]) == [0, 1, 2]
    assert rules.missing_seqs([(0, 10)]) == []
    assert rules.missing_seqs([]) == []


def test_missing_seqs_are_capped_lowest_first():
    assert rules.missing_seqs([(0, 0), (5000, 5000)], limit=1000) == list(range(1, 1001))
    assert rules.missing_seqs([(0, 0), (3, 3), (10, 10)], limit=4) == [1, 2, 4, 5]


def test_every_flag_but_the_verified_ones_and_after_missed_needs_review():
    assert rules.QR_VERIFIED not in rules.REVIEW_FLAGS
    assert rules.DYNAMIC_CODE_VERIFIED not in rules.REVIEW_FLAGS
    assert rules.AFTER_MISSED not in rules.REVIEW_FLAGS and rules.AFTER_MISSED in rules.VISIT_FLAGS
    assert rules.OUTSIDE_GEOFENCE in rules.REVIEW_FLAGS and rules.LATE_UPLOAD in rules.REVIEW_FLAGS
    assert len(set(rules.FLAGS)) == len(rules.FLAGS)


def test_the_fingerprint_ignores_key_order_but_not_values():
    item = {"id": "u1", "seq": 3, "type": "note", "text": "老人精神好"}
    reordered = {"text": "老人精神好", "type": "note", "seq": 3, "id": "u1"}
    assert item_fingerprint(item) == item_fingerprint(reordered)
    assert item_fingerprint(item) != item_fingerprint({**item, "text": "老人精神差"})


class TestJudgeQr:
    plate_id = new_plate_id()

    def judge(self, qr, *, elder_id=1, revoked=False, known=True, at=T0):
        record = PlateRecord(self.plate_id, elder_id=1, is_revoked=revoked) if known else None
        return judge_qr({1: KEY}, qr, elder_id=elder_id, corrected_capture=at, lookup=lambda _: record).flag

    def test_a_genuine_plate_of_the_tasks_elder_is_verified(self):
        assert self.judge(make_payload(KEY, self.plate_id, 1)) == rules.QR_VERIFIED

    def test_no_scan_is_missing_and_a_forgery_invalid(self):
        assert self.judge(None) == rules.QR_MISSING
        assert self.judge(make_payload(b"z" * 32, self.plate_id, 1)) == rules.QR_INVALID

    def test_another_elders_plate_and_a_revoked_plate_are_flagged(self):
        assert self.judge(make_payload(KEY, self.plate_id, 1), elder_id=2) == rules.QR_WRONG_ELDER
        assert self.judge(make_payload(KEY, self.plate_id, 1), revoked=True) == rules.QR_REVOKED
        assert self.judge(make_payload(KEY, self.plate_id, 1), known=False) == rules.QR_INVALID

    def test_a_dynamic_code_counts_only_at_the_time_it_was_shown(self):
        code = make_dynamic_payload(KEY, self.plate_id, 1, T0)
        assert self.judge(code, at=T0 + timedelta(seconds=20)) == rules.DYNAMIC_CODE_VERIFIED
        assert self.judge(code, at=T0 + timedelta(hours=1)) == rules.QR_INVALID


def test_merge_ranges_folds_new_seqs_into_held_runs():
    assert rules.merge_ranges([(0, 2)], [3, 7]) == [(0, 3), (7, 7)]
    assert rules.merge_ranges([(5, 9), (0, 2)], [4, 3]) == [(0, 9)]
    assert rules.merge_ranges([], [2, 1, 1]) == [(1, 2)]
    assert rules.merge_ranges([(0, 10)], [4]) == [(0, 10)]
    assert rules.merge_ranges([[0, 1], [3, 3]]) == [(0, 1), (3, 3)]
