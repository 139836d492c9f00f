"""The visit log as CSV and XLSX bytes, produced piece by piece from a stream of rows.

CSV goes out in chunks as rows arrive, UTF-8 with a BOM so Excel reads Chinese. XLSX is written by
openpyxl in write-only mode into a temporary file (a zip cannot be streamed before it is complete),
then sent in chunks: memory stays flat either way. Cells never start a formula.
"""

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime

from openpyxl import Workbook

from backend.clock import care_tz

COLUMNS = (
    "id", "kind", "service_type", "service_name", "elder_id", "elder_name", "caregiver_id", "caregiver_name",
    "performed_by_id", "provider_id", "provider_name", "community_id", "community_name", "street_name",
    "window_start_at", "window_end_at", "status", "check_in_at", "check_in_at_corrected", "check_out_at",
    "check_out_at_corrected", "duration_seconds", "is_verified", "check_in_qr", "check_out_qr", "distance_m",
    "flags", "is_late_sync", "satisfaction", "patrol_outcome", "patrol_mode", "needs_review", "followups",
)
CHUNK_ROWS = 500
CHUNK_BYTES = 64 * 1024
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_chunks(rows: Iterable[dict]) -> Iterator[bytes]:
    tz = care_tz()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(COLUMNS)
    for n, row in enumerate(rows, 1):
        writer.writerow([_csv_value(row, name, tz) for name in COLUMNS])
        if n % CHUNK_ROWS == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def xlsx_chunks(rows: Iterable[dict]) -> Iterator[bytes]:
    tz = care_tz()
    with tempfile.TemporaryFile() as spool:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("visits")
        sheet.append(COLUMNS)
        for row in rows:
            sheet.append([_xlsx_value(row, name, tz) for name in COLUMNS])
        workbook.save(spool)
        spool.seek(0)
        while chunk := spool.read(CHUNK_BYTES):
            yield chunk


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return data


def _csv_value(row: dict, name: str, tz):
    value = _common(row, name)
    if isinstance(value, datetime):
        return value.astimezone(tz).isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else _inert(value)


def _xlsx_value(row: dict, name: str, tz):
    value = _common(row, name)
    if isinstance(value, datetime):  # Excel has no time zones: local wall-clock time
        return value.astimezone(tz).replace(tzinfo=None)
    return _inert(value)


def _common(row: dict, name: str):
    value = row.get(name)
    if name == "flags":
        return ";".join(value or [])
    if name == "followups":
        return ";".join(f"{f['id']}:{f['kind']}:{f['status']}" for f in value or [])
    return value


def _inert(value):
    """Text that a spreadsheet would take for a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value
