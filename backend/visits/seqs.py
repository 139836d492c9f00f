"""Each device's delivered sequence numbers, kept as runs in one row, and the gaps they leave.

A push folds the seqs it stored (evidence and quarantine alike) into the device's row, locked
after the batch's items are in, and reports the seqs still missing below the highest one. The
row is built once from the device's history on its first push since the row existed.
"""

import json
from collections.abc import Iterable

from sqlalchemy import select, text, update

from backend.extensions import db, driver_execute, insert_for_dialect, on_postgres
from backend.visits.models import DeviceSeqState
from sync import rules

_state = DeviceSeqState.__table__
SKIP = {"audit_skip": True}  # derived bookkeeping: the items themselves are in the audit entry


def record_and_report(device_id: str, seqs: Iterable[int]) -> list[int]:
    """Fold this push's stored seqs into the device's runs; returns the device's missing seqs."""
    seqs = list(seqs)
    runs = _locked_runs(device_id)
    if runs is None:
        runs = _history_runs(device_id)  # sees this transaction's own rows: the batch is in
        created = db.session.execute(
            insert_for_dialect(_state).values(device_id=device_id, runs=[list(r) for r in runs])
            .on_conflict_do_nothing(index_elements=["device_id"]).returning(_state.c.device_id)
            .execution_options(**SKIP)).first()
        if created is not None:
            return rules.missing_seqs(runs)
        runs = _locked_runs(device_id)  # another push of this device created it meanwhile
    merged = rules.merge_ranges(runs, seqs)
    if merged != runs:
        if on_postgres():  # straight through the driver, as the rest of a push (driver_execute)
            driver_execute("UPDATE device_seq_states SET runs = %(runs)s::json WHERE device_id = %(device_id)s",
                           {"runs": json.dumps(merged), "device_id": device_id})
        else:
            db.session.execute(update(_state).where(_state.c.device_id == device_id)
                               .values(runs=[list(r) for r in merged]).execution_options(**SKIP))
    return rules.missing_seqs(merged)


def _locked_runs(device_id: str) -> list[tuple[int, int]] | None:
    if on_postgres():
        row = driver_execute("SELECT runs FROM device_seq_states WHERE device_id = %(device_id)s FOR UPDATE",
                             {"device_id": device_id}).fetchone()
    else:
        row = db.session.execute(select(_state.c.runs).where(_state.c.device_id == device_id).with_for_update()).first()
    return None if row is None else [(low, high) for low, high in row[0]]


def _history_runs(device_id: str) -> list[tuple[int, int]]:
    """The held seqs folded into runs in SQL (seq - row_number is constant along a run)."""
    runs = db.session.execute(text("""
        WITH held AS (
            SELECT seq FROM visit_items WHERE device_id = :device
            UNION
            SELECT seq FROM quarantined_items WHERE device_id = :device AND seq IS NOT NULL
        )
        SELECT MIN(seq), MAX(seq) FROM (
            SELECT seq, seq - ROW_NUMBER() OVER (ORDER BY seq) AS run FROM held
        ) numbered GROUP BY run ORDER BY 1
    """), {"device": device_id}).all()
    return rules.merge_ranges((low, high) for low, high in runs)
