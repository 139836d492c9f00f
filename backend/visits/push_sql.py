"""Every statement of a sync push, in the order a push runs them.

Plain SQL in psycopg's placeholders, run straight through the driver (extensions.driver_execute),
each written out once. Rows go in as one JSON parameter (`json_populate_recordset`,
`json_to_recordset`): a multi-row VALUES list of a 100-item batch has ~2,000 parameters, and
psycopg re-parses a query of more than 50 parameters on every call. Lists of ids go in as one
array. `id = ANY(…)` beside a join keeps a statement on the primary key whatever the planner
guesses. tests/visits/test_push_sql.py holds the column lists to the tables.

tasks, visits, visit_items and task_events are partitioned by month of the task's window_start_at
(migration 0016). A lookup by id alone would probe every month's index, so each statement names
the partition key too: read from the narrow key tables (task_keys, visit_item_ids) by id, or
carried in the rows (TaskRow, VisitRow and ItemRow hold the task's window_start_at).
"""

# Keeps the batch's statements (and the foreign-key checks its inserts fire) on their indexes,
# for this transaction only: see store.plan_for_key_lookups.
PLAN_FOR_KEY_LOOKUPS = "SELECT set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true)"

# The batch's tasks with their elder's home, locked in id order (two batches never deadlock), and
# whether a removal says the task left this user's phone. Columns in TaskRow's order.
LOCK_TASKS = """
SELECT t.id, t.kind, t.status, t.version, t.assignee_id, t.elder_id, t.care_plan_id, t.created_at,
       t.window_start_at, t.window_end_at, t.min_duration_minutes, e.lat, e.lon,
       EXISTS (SELECT 1 FROM task_removals r WHERE r.task_id = t.id AND r.user_id = %(user_id)s)
FROM task_keys k
JOIN tasks t ON t.id = k.id AND t.window_start_at = k.window_start_at
JOIN elders e ON e.id = t.elder_id
WHERE k.id = ANY(%(ids)s::int[])
ORDER BY t.id
FOR UPDATE OF t
"""

# Every plate (active or revoked) of the batch's elders, in store.PlateRow's order.
PLATES_OF = "SELECT plate_id, id, elder_id, kind, status FROM door_plates WHERE elder_id = ANY(%(ids)s::int[])"

# Stored items by id, in HeldItem's order: what a duplicate answer and a visit's recompute read.
HELD_ITEMS = """
SELECT i.id, i.user_id, i.fingerprint, i.flags, i.device_id, i.captured_at, i.captured_at_corrected,
       i.distance_m, i.qr_flag
FROM visit_item_ids k JOIN visit_items i ON i.id = k.id AND i.window_start_at = k.window_start_at
WHERE k.id = ANY(%(ids)s::varchar[])
"""

# The tasks' visits in VisitRow's order, each followed by its check-in and check-out items in
# HeldItem's order (NULLs when it has none). A visit's items are its task's: the same month.
VISITS = """
SELECT v.task_id, v.user_id, v.window_start_at, v.id, v.check_in_item_id, v.check_out_item_id, v.report_item_id,
       v.started_at, v.ended_at, v.duration_seconds, v.is_verified, v.max_distance_m, v.satisfaction,
       v.patrol_outcome, v.patrol_mode, v.is_late_sync, v.flags, v.needs_review, v.crosschecked_at,
       i.id, i.user_id, i.fingerprint, i.flags, i.device_id, i.captured_at, i.captured_at_corrected,
       i.distance_m, i.qr_flag,
       o.id, o.user_id, o.fingerprint, o.flags, o.device_id, o.captured_at, o.captured_at_corrected,
       o.distance_m, o.qr_flag
FROM task_keys k
JOIN visits v ON v.task_id = k.id AND v.window_start_at = k.window_start_at
LEFT JOIN visit_items i ON i.id = v.check_in_item_id AND i.window_start_at = v.window_start_at
LEFT JOIN visit_items o ON o.id = v.check_out_item_id AND o.window_start_at = v.window_start_at
WHERE k.id = ANY(%(ids)s::int[])
"""

# The new items, in id order (two pushes sharing ids never deadlock); returns the ids this
# transaction inserted. Exactly-once is visit_item_ids' primary key: the statement claims the ids
# there first (ON CONFLICT waits for a concurrent push holding one, as a unique index does) and
# stores only the items it claimed; the partitioned visit_items cannot hold a global unique id.
# The rows but their payloads are one JSON array of records; the payloads come beside it as a
# text array (zipped back by ROWS FROM), each cast to json. Inside the records' JSON a payload
# would go through PostgreSQL's JSON reader twice, and a \u0000 (allowed in a json column) has no
# text form there, so a nested payload holding one would fail; as text it is read once, by the cast.
INSERT_ITEMS = """
WITH r AS MATERIALIZED (
    SELECT * FROM ROWS FROM (
        json_to_recordset(%(rows)s::json) AS (
            id varchar, user_id int, device_id varchar, seq bigint, type varchar, task_id int,
            captured_at timestamptz, captured_at_corrected timestamptz, received_at timestamptz,
            clock_offset_seconds float8, qr_flag varchar, plate_id int, lat float8, lon float8,
            accuracy_m float8, distance_m float8, flags json, fingerprint varchar, window_start_at timestamptz),
        unnest(%(payloads)b::text[])
    ) AS r(id, user_id, device_id, seq, type, task_id, captured_at, captured_at_corrected, received_at,
           clock_offset_seconds, qr_flag, plate_id, lat, lon, accuracy_m, distance_m, flags, fingerprint,
           window_start_at, payload)
), claimed AS (
    INSERT INTO visit_item_ids (id, window_start_at)
    SELECT id, window_start_at FROM r ORDER BY id
    ON CONFLICT (id) DO NOTHING
    RETURNING id
)
INSERT INTO visit_items (id, user_id, device_id, seq, type, task_id, captured_at, captured_at_corrected,
                         received_at, clock_offset_seconds, qr_flag, plate_id, lat, lon, accuracy_m,
                         distance_m, flags, fingerprint, window_start_at, payload)
SELECT r.id, r.user_id, r.device_id, r.seq, r.type, r.task_id, r.captured_at, r.captured_at_corrected,
       r.received_at, r.clock_offset_seconds, r.qr_flag, r.plate_id, r.lat, r.lon, r.accuracy_m,
       r.distance_m, r.flags, r.fingerprint, r.window_start_at, r.payload::json
FROM r JOIN claimed c ON c.id = r.id
RETURNING id
"""

# Takes back rows this transaction inserted (another push took some of the batch's ids: the
# round is redone): the claims, and with them (ON DELETE CASCADE) the items.
DELETE_ITEMS = "DELETE FROM visit_item_ids WHERE id = ANY(%(ids)s::varchar[])"

# New visits (their tasks are locked: no one else writes them).
INSERT_VISITS = """
INSERT INTO visits (task_id, user_id, check_in_item_id, check_out_item_id, report_item_id, started_at,
                    ended_at, duration_seconds, is_verified, max_distance_m, satisfaction, patrol_outcome,
                    patrol_mode, is_late_sync, flags, needs_review, crosschecked_at, window_start_at,
                    created_at, updated_at)
SELECT task_id, user_id, check_in_item_id, check_out_item_id, report_item_id, started_at,
       ended_at, duration_seconds, is_verified, max_distance_m, satisfaction, patrol_outcome,
       patrol_mode, is_late_sync, flags, needs_review, crosschecked_at, window_start_at, %(at)s, %(at)s
FROM json_populate_recordset(NULL::visits, %(rows)s::json)
"""

# Visits already stored. A visit's user is the one whose item opened it: a later item of another
# caregiver (after a reassignment) does not take the visit over, so user_id (and task_id) stay.
# A changed visit waits for the cross-check again (crosschecked_at NULL, backend/visits/crosscheck.py).
UPDATE_VISITS = """
UPDATE visits SET check_in_item_id = v.check_in_item_id, check_out_item_id = v.check_out_item_id,
                  report_item_id = v.report_item_id, started_at = v.started_at, ended_at = v.ended_at,
                  duration_seconds = v.duration_seconds, is_verified = v.is_verified,
                  max_distance_m = v.max_distance_m, satisfaction = v.satisfaction,
                  patrol_outcome = v.patrol_outcome, patrol_mode = v.patrol_mode,
                  is_late_sync = v.is_late_sync, flags = v.flags, needs_review = v.needs_review,
                  crosschecked_at = NULL, updated_at = %(at)s
FROM json_populate_recordset(NULL::visits, %(rows)s::json) AS v
WHERE visits.id = v.id AND visits.window_start_at = v.window_start_at AND visits.id = ANY(%(ids)s::int[])
"""

INSERT_TASK_EVENTS = """
INSERT INTO task_events (task_id, window_start_at, at, from_status, to_status, by_user_id, by_system, reason)
SELECT task_id, window_start_at, at, from_status, to_status, by_user_id, by_system, reason
FROM json_populate_recordset(NULL::task_events, %(rows)s::json)
"""

# Rejected items, their payloads beside the records as INSERT_ITEMS takes them.
INSERT_QUARANTINE = """
INSERT INTO quarantined_items (item_uuid, user_id, device_id, seq, task_id, received_at, code, message, payload)
SELECT r.item_uuid, r.user_id, r.device_id, r.seq, r.task_id, r.received_at, r.code, r.message, r.payload::json
FROM ROWS FROM (
    json_to_recordset(%(rows)s::json) AS (
        item_uuid varchar, user_id int, device_id varchar, seq bigint, task_id int,
        received_at timestamptz, code varchar, message text),
    unnest(%(payloads)b::text[])
) AS r(item_uuid, user_id, device_id, seq, task_id, received_at, code, message, payload)
"""

# The device's delivered seqs (backend/visits/seqs.py): its row locked after the batch's items are in.
LOCK_DEVICE_RUNS = "SELECT runs FROM device_seq_states WHERE device_id = %(device_id)s FOR UPDATE"

# The device's held seqs folded into runs (seq - row_number is constant along a run), for its
# first push since the row existed; sees this transaction's own items.
DEVICE_HISTORY_RUNS = """
WITH held AS (
    SELECT seq FROM visit_items WHERE device_id = %(device_id)s
    UNION
    SELECT seq FROM quarantined_items WHERE device_id = %(device_id)s AND seq IS NOT NULL
)
SELECT MIN(seq), MAX(seq)
FROM (SELECT seq, seq - ROW_NUMBER() OVER (ORDER BY seq) AS run FROM held) numbered
GROUP BY run
ORDER BY 1
"""

# No row when another push of the device created it meanwhile.
INSERT_DEVICE_RUNS = """
INSERT INTO device_seq_states (device_id, runs) VALUES (%(device_id)s, %(runs)s::json)
ON CONFLICT (device_id) DO NOTHING
RETURNING device_id
"""

UPDATE_DEVICE_RUNS = "UPDATE device_seq_states SET runs = %(runs)s::json WHERE device_id = %(device_id)s"

INSERT_RECEIPT = """
INSERT INTO push_receipts (user_id, device_id, device_time, received_at, accepted, duplicates, rejected,
                           duplicate_ids, task_ids)
VALUES (%(user_id)s, %(device_id)s, %(device_time)s, %(received_at)s, %(accepted)s, %(duplicates)s,
        %(rejected)s, %(duplicate_ids)s::json, %(task_ids)s::json)
"""

# At commit, right after the change feed's counter is taken: the tasks' new status, one version
# step and their change-feed stamp in one statement, only where the version is still the one read
# under the batch's lock.
UPDATE_TASKS = """
UPDATE tasks SET status = v.status, status_changed_at = %(at)s, updated_at = %(now)s,
                 version = tasks.version + 1, change_seq = %(seq)s
FROM unnest(%(ids)s::int[], %(starts)s::timestamptz[], %(versions)s::int[], %(statuses)s::varchar[])
    AS v(id, window_start_at, version, status)
WHERE tasks.id = v.id AND tasks.window_start_at = v.window_start_at AND tasks.version = v.version
  AND tasks.id = ANY(%(ids)s::int[])
"""
