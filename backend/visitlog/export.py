"""The visit log as CSV and XLSX bytes, produced piece by piece from a stream of rows.

CSV goes out in chunks as rows arrive, UTF-8 with a BOM so Excel reads Chinese. XLSX is written by
openpyxl in write-only mode into a temporary file (a zip cannot be streamed before it is complete),
then sent in chunks: memory stays flat either way, but a big workbook's first byte waits for its
last row (about 1,700 rows a second without lxml). Cells never start a formula.

People read headers and coded values in their language (任务状态: 已完成, 是/否, local times);
integrations ask for ?codes=1 and get the machine codes, ISO times and true/false. openpyxl is
imported by the first XLSX export, so that workers that never write one stay 25 MB smaller.
"""

import csv
import io
import re
import tempfile
from collections.abc import Iterable, Iterator
from operator import itemgetter
from typing import NamedTuple

from flask_babel import gettext

from backend.clock import care_tz
from backend.console.display import LABELS
from backend.i18n import N_, is_english


class Column(NamedTuple):
    """One column of the export: its machine code (the header of ?codes=1, and the row's key),
    the header people read (a catalogue msgid), and what its values are (how they become cells)."""

    code: str
    label: str
    value: str  # PLAIN, TIME, BOOLEAN, TEXT (names people typed), FLAGS, FOLLOWUPS, or a LABELS group


PLAIN, TIME, BOOLEAN, TEXT, FLAGS, FOLLOWUPS = "plain", "time", "boolean", "text", "flags", "followups"

# The export's columns, in order. A new column is one line here (and its key in the row).
TABLE = (
    Column("id", N_("Task ID"), PLAIN),
    Column("kind", N_("Kind"), "task_kind"),
    Column("service_type", N_("Service code"), PLAIN),
    Column("service_name", N_("Service"), TEXT),
    Column("elder_id", N_("Elder ID"), PLAIN),
    Column("elder_name", N_("Elder"), TEXT),
    Column("caregiver_id", N_("Assignee ID"), PLAIN),
    Column("caregiver_name", N_("Assignee"), TEXT),
    Column("performed_by_id", N_("Performed by (ID)"), PLAIN),
    Column("provider_id", N_("Provider ID"), PLAIN),
    Column("provider_name", N_("Provider"), TEXT),
    Column("community_id", N_("Community ID"), PLAIN),
    Column("community_name", N_("Community"), TEXT),
    Column("street_name", N_("Street"), TEXT),
    Column("window_start_at", N_("Window start"), TIME),
    Column("window_end_at", N_("Window end"), TIME),
    Column("status", N_("Status"), "task_status"),
    Column("check_in_at", N_("Check-in time"), TIME),
    Column("check_in_at_corrected", N_("Check-in time (corrected)"), TIME),
    Column("check_out_at", N_("Check-out time"), TIME),
    Column("check_out_at_corrected", N_("Check-out time (corrected)"), TIME),
    Column("duration_seconds", N_("Duration (seconds)"), PLAIN),
    Column("is_verified", N_("Verified"), BOOLEAN),
    Column("check_in_qr", N_("Check-in QR"), "flag"),
    Column("check_out_qr", N_("Check-out QR"), "flag"),
    Column("distance_m", N_("Distance from home (m)"), PLAIN),
    Column("flags", N_("Flags"), FLAGS),
    Column("is_late_sync", N_("Uploaded late"), BOOLEAN),
    Column("satisfaction", N_("Satisfaction"), PLAIN),
    Column("patrol_outcome", N_("Patrol outcome"), "patrol_outcome"),
    Column("patrol_mode", N_("Patrol mode"), "patrol_mode"),
    Column("needs_review", N_("Needs review"), BOOLEAN),
    Column("verification_state", N_("Verification state"), "verification_state"),
    Column("followups", N_("Follow-ups"), FOLLOWUPS),
)
COLUMNS = tuple(column.code for column in TABLE)
CHUNK_ROWS = 500
CHUNK_BYTES = 64 * 1024
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Control characters XML 1.0 cannot hold: openpyxl refuses a cell holding one, and the export,
# already answered 200, broke off mid-file.
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def headers(codes: bool) -> list[str]:
    """The header row: machine codes for integrations, else the reader's words."""
    return list(COLUMNS) if codes else [gettext(column.label) for column in TABLE]


def csv_chunks(rows: Iterable[dict], *, codes: bool = False) -> Iterator[bytes]:
    tz = care_tz()
    values_of = itemgetter(*COLUMNS)
    if codes:
        time, boolean = (lambda v: v.astimezone(tz).isoformat()), (lambda v: "true" if v else "false")
    else:
        yes, no = gettext("Yes"), gettext("No")
        time, boolean = (lambda v: f"{v.astimezone(tz):%Y-%m-%d %H:%M:%S}"), (lambda v: yes if v else no)
    # Half the columns go out as they are; only the others pay for a call per row.
    converters = [(index, _converter(column, time, boolean, codes))
                  for index, column in enumerate(TABLE) if column.value != PLAIN]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(headers(codes))
    yield _drain(buffer)  # the client sees the download start at once
    for n, row in enumerate(rows, 1):
        values = list(values_of(row))
        for index, convert in converters:
            values[index] = convert(values[index])
        writer.writerow(values)
        if n % CHUNK_ROWS == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def xlsx_chunks(rows: Iterable[dict], *, codes: bool = False) -> Iterator[bytes]:
    from openpyxl import Workbook

    tz = care_tz()
    # Excel has no time zones: cells hold the local wall-clock time.
    converters = [(column.code, _converter(column, lambda v: v.astimezone(tz).replace(tzinfo=None),
                                           bool if codes else _yes_no(), codes))
                  for column in TABLE]
    yield b""  # sends the headers: a big workbook takes a while before its first byte
    with tempfile.TemporaryFile() as spool:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("visits" if codes else gettext("Visits"))
        sheet.append(headers(codes))
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


def _yes_no():
    yes, no = gettext("Yes"), gettext("No")
    return lambda v: yes if v else no


def _separator() -> str:
    return "; " if is_english() else "；"


def _names(group: str) -> dict[str, str]:
    """A coded group's names in the reader's language, translated once per export, not per cell."""
    return {code: gettext(msgid) for code, msgid in LABELS[group].items()}


def _converter(column: Column, time, boolean, codes: bool):
    """How one column's values become cells; None stays None (an empty cell)."""
    kind = column.value
    if kind == TIME:
        return lambda v: None if v is None else time(v)
    if kind == BOOLEAN:
        return lambda v: None if v is None else boolean(v)
    if kind == TEXT:
        return spreadsheet_text
    if kind == FLAGS:
        if codes:
            return lambda v: ";".join(v or ())
        flags, sep = _names("flag"), _separator()
        return lambda v: sep.join(flags.get(flag, flag) for flag in v or ())
    if kind == FOLLOWUPS:
        if codes:
            return lambda v: ";".join(f"{f['id']}:{f['kind']}:{f['status']}" for f in v or ())
        kinds, statuses, sep = _names("followup_kind"), _names("followup_status"), _separator()
        one = gettext("#%(id)s %(kind)s (%(status)s)")
        return lambda v: sep.join(one % {"id": f["id"], "kind": kinds.get(f["kind"], f["kind"]),
                                         "status": statuses.get(f["status"], f["status"])} for f in v or ())
    if kind == PLAIN or codes:
        return lambda v: v
    names = _names(kind)
    return lambda v: None if v is None else names.get(str(v), v)


def printable(text: str) -> str:
    """Text without the control characters an XML document (a workbook, a PDF's text) cannot hold."""
    return _NOT_IN_XML.sub("", text)


def spreadsheet_text(value):
    """Text people typed, made safe for a spreadsheet: no formula (a leading apostrophe), no
    control character a workbook cannot hold."""
    if isinstance(value, str):
        value = printable(value)
        if value.startswith(_FORMULA_STARTS):
            return "'" + value
    return value


# format → (content type, chunk writer)
FORMATS = {"csv": ("text/csv; charset=utf-8", csv_chunks), "xlsx": (XLSX, xlsx_chunks)}
