"""The visit log as CSV and XLSX bytes, produced piece by piece from a stream of rows.

CSV goes out in chunks as rows arrive, UTF-8 with a BOM so Excel reads Chinese. XLSX is written by
openpyxl in write-only mode into a temporary file (a zip cannot be streamed before it is complete),
then sent in chunks: memory stays flat either way, but a big workbook's first byte waits for its
last row (about 1,700 rows a second without lxml). Cells never start a formula. openpyxl is
imported by the first XLSX export, so that workers that never write one stay 25 MB smaller.
"""

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from operator import itemgetter

from backend.clock import care_tz

COLUMNS = (
    "id", "kind", "service_type", "service_name", "elder_id", "elder_name", "caregiver_id", "caregiver_name",
    "performed_by_id", "provider_id", "provider_name", "community_id", "community_name", "street_name",
    "window_start_at", "window_end_at", "status", "check_in_at", "check_in_at_corrected", "check_out_at",
    "check_out_at_corrected", "duration_seconds", "is_verified", "check_in_qr", "check_out_qr", "distance_m",
    "flags", "is_late_sync", "satisfaction", "patrol_outcome", "patrol_mode", "needs_review", "followups",
)
TIMES = frozenset({"window_start_at", "window_end_at", "check_in_at", "check_in_at_corrected", "check_out_at",
                   "check_out_at_corrected"})
BOOLEANS = frozenset({"is_verified", "is_late_sync", "needs_review"})
# Names people typed (everything else is a number, a time or a code from our vocabulary).
TEXTS = frozenset({"service_name", "elder_name", "caregiver_name", "provider_name", "community_name", "street_name"})
CHUNK_ROWS = 500
CHUNK_BYTES = 64 * 1024
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_chunks(rows: Iterable[dict]) -> Iterator[bytes]:
    tz = care_tz()
    values_of = itemgetter(*COLUMNS)
    # Half the columns go out as they are; only the others pay for a call per row.
    converters = [(index, _converter(name, lambda v: v.astimezone(tz).isoformat(),
                                     lambda v: "true" if v else "false"))
                  for index, name in enumerate(COLUMNS) if _needs_converting(name)]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(COLUMNS)
    yield _drain(buffer)  # the client sees the download start at once
    for n, row in enumerate(rows, 1):
        values = list(values_of(row))
        for index, convert in converters:
            values[index] = convert(values[index])
        writer.writerow(values)
        if n % CHUNK_ROWS == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def xlsx_chunks(rows: Iterable[dict]) -> Iterator[bytes]:
    from openpyxl import Workbook

    tz = care_tz()
    # Excel has no time zones: cells hold the local wall-clock time.
    converters = [(name, _converter(name, lambda v: v.astimezone(tz).replace(tzinfo=None), bool))
                  for name in COLUMNS]
    yield b""  # sends the headers: a big workbook takes a while before its first byte
    with tempfile.TemporaryFile() as spool:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("visits")
        sheet.append(COLUMNS)
        for row in rows:
            sheet.append([convert(row[name]) for name, convert in converters])
        workbook.save(spool)
        spool.seek(0)
        while chunk := spool.read(CHUNK_BYTES):
            yield chunk


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return data


def _needs_converting(name: str) -> bool:
    return name in TIMES or name in BOOLEANS or name in TEXTS or name in ("flags", "followups")


def _converter(name: str, time, boolean):
    """How one column's values become cells; None stays None (an empty cell)."""
    if name in TIMES:
        return lambda v: None if v is None else time(v)
    if name in BOOLEANS:
        return lambda v: None if v is None else boolean(v)
    if name in TEXTS:
        return _inert
    if name == "flags":
        return lambda v: ";".join(v or ())
    if name == "followups":
        return lambda v: ";".join(f"{f['id']}:{f['kind']}:{f['status']}" for f in v or ())
    return lambda v: v


def _inert(value):
    """Text that a spreadsheet would take for a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


# format → (content type, chunk writer)
FORMATS = {"csv": ("text/csv; charset=utf-8", csv_chunks), "xlsx": (XLSX, xlsx_chunks)}
