"""Each device's delivered sequence numbers, kept as runs in one row, and the gaps they leave.

A push folds the seqs it stored (evidence and quarantine alike) into the device's row, locked
after the batch's items are in, and reports the seqs still missing below the highest one. The
row is built once from the device's history on its first push since the row existed.
"""

from collections.abc import Iterable

from backend.extensions import driver_execute
from backend.visits import push_sql, store
from sync import rules


def record_and_report(device_id: str, seqs: Iterable[int]) -> list[int]:
    """Fold this push's stored seqs into the device's runs; returns the device's missing seqs."""
    seqs = list(seqs)
    runs = _locked_runs(device_id)
    if runs is None:
        runs = _history_runs(device_id)  # sees this transaction's own rows: the batch is in
        if store.write_device_runs(device_id, runs, new=True):
            return rules.missing_seqs(runs)
        runs = _locked_runs(device_id)  # another push of this device created it meanwhile
    merged = rules.merge_ranges(runs, seqs)
    if merged != runs:
        store.write_device_runs(device_id, merged, new=False)
    return rules.missing_seqs(merged)


def _locked_runs(device_id: str) -> list[tuple[int, int]] | None:
    row = driver_execute(push_sql.LOCK_DEVICE_RUNS, {"device_id": device_id}).fetchone()
    return None if row is None else [(low, high) for low, high in row[0]]


def _history_runs(device_id: str) -> list[tuple[int, int]]:
    runs = driver_execute(push_sql.DEVICE_HISTORY_RUNS, {"device_id": device_id}).fetchall()
    return rules.merge_ranges((low, high) for low, high in runs)
