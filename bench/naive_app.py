"""The naive ingest endpoint the push benchmark compares against: parse the batch, one insert.

POST /push with the same envelope the real server takes. No auth, no validation, no rules: each
item becomes one row of bench_naive_items (shaped like visit_items) in a single multi-row
INSERT … ON CONFLICT (id) DO NOTHING, committed once. Run under the same gunicorn settings as the
real server: `gunicorn -w 4 -k sync --pythonpath bench 'naive_app:create()'`, DATABASE_URL set.
"""

import json
import os

import psycopg
from flask import Flask, jsonify, request

COLUMNS = ("id", "user_id", "device_id", "seq", "type", "task_id", "captured_at", "captured_at_corrected",
           "received_at", "clock_offset_seconds", "qr_flag", "plate_id", "lat", "lon", "accuracy_m",
           "distance_m", "flags", "fingerprint", "payload")
ROW = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"


def insert_sql(rows: int, table: str) -> str:
    return (f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES "
            + ", ".join([ROW] * rows) + " ON CONFLICT (id) DO NOTHING")


def create() -> Flask:
    app = Flask("naive")
    url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    state = {}

    def connection() -> psycopg.Connection:
        if "conn" not in state:
            state["conn"] = psycopg.connect(url)
        return state["conn"]

    @app.get("/ready")
    def ready():
        return {"ok": True}

    @app.post("/push")
    def push():
        envelope = request.get_json()
        device_id = envelope["device_id"]
        received = envelope["device_time"]
        params = []
        for item in envelope["items"]:
            location = item.get("location") or {}
            params += (item["id"], 0, device_id, item["seq"], item["type"], item["task_id"], item["captured_at"],
                       item["captured_at"], received, 0.0, None, None, location.get("lat"), location.get("lon"),
                       location.get("accuracy_m"), None, "[]", "", json.dumps(item, ensure_ascii=False))
        conn = connection()
        with conn.cursor() as cur:
            cur.execute(insert_sql(len(envelope["items"]), "bench_naive_items"), params)
            inserted = cur.rowcount
        conn.commit()
        return jsonify(inserted=inserted, items=len(envelope["items"]))

    return app
