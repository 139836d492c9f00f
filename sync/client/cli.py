"""`carerounds phone`: act out a field worker's day with the reference client, recording offline.

Only login, pull, push and plate talk to the server; everything else reads or writes the local
store, so a whole day can be recorded with the network off and pushed when it comes back.
"""

import hashlib
import json
import os
import socket
import time
import unicodedata
from contextlib import contextmanager
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import click

from schemas.sync import CARE_RISK_EVENTS, PATROL_OUTCOMES, SERVICE_OUTCOMES, SIGNERS
from sync.client.api import ApiError, HttpRequest, NetworkError, UrllibTransport
from sync.client.client import AuthRequired, DigestMismatch, PhoneClient
from sync.client.store import Store

CARE_TZ = ZoneInfo("Asia/Shanghai")  # the protocol's care time zone (docs/sync-protocol.md, 1)
DEFAULT_STORE = "~/.carerounds-phone.sqlite3"
OBSERVATIONS = ("health", "mental_state", "hygiene", "living_conditions", "needs")

# Seams for tests and drills: how to reach a server URL, the device clock, and how to wait.
make_transport = UrllibTransport
sleep = time.sleep


def device_clock() -> datetime:
    return datetime.now(UTC)


class Phone:
    """The store at --store, and a PhoneClient on it once a command needs one."""

    def __init__(self, path: str):
        self.path = os.path.abspath(os.path.expanduser(path))
        self.store = Store(self.path)

    def client(self, server: str | None = None) -> PhoneClient:
        server = server or self.store.get("server")
        if not server:
            raise click.ClickException("not signed in: run `carerounds phone login --server URL ...` first")
        # Few attempts: a person at a terminal would rather hear "offline" now than in a minute.
        return PhoneClient(self.store, make_transport(server), clock=lambda: device_clock(),
                           sleep=lambda seconds: sleep(seconds), max_attempts=3)

    def recorder(self) -> PhoneClient:
        """A client for recording: it needs the device id, never the network."""
        if not self.store.get("device_id"):
            raise click.ClickException("this phone has never signed in: run `carerounds phone login` first")
        return PhoneClient(self.store, _unreachable, clock=lambda: device_clock())

    def task(self, task_id: int, kind: str | None = None) -> dict:
        task = next((t for t in self.store.rows("tasks") if t["id"] == task_id), None)
        if task is None:
            raise click.ClickException(f"task {task_id} is not on this phone: run `carerounds phone pull`, "
                                       "then `carerounds phone tasks`")
        if kind and task["kind"] != kind:
            other = "patrol" if task["kind"] == "patrol" else "check-in / check-out"
            raise click.ClickException(f"task {task_id} is a {task['kind']} task: use `carerounds phone {other}`")
        return task

    def elder(self, elder_id: int) -> dict:
        return next((e for e in self.store.rows("elders") if e["id"] == elder_id), {})


def _unreachable(request: HttpRequest):
    raise NetworkError("recording never uses the network")


@contextmanager
def talking_to_server(phone: Phone):
    """Turn what can go wrong on the wire into one clear line for the person at the terminal."""
    try:
        yield
    except AuthRequired as error:
        raise click.ClickException(f"not signed in ({error}): run `carerounds phone login`") from None
    except NetworkError as error:
        pending = len(phone.store.pending(10_000))
        raise click.ClickException(f"cannot reach {phone.store.get('server')} ({error}); "
                                   f"{pending} recorded items stay safe in the outbox") from None
    except ApiError as error:
        detail = error.problem.get("detail") or error.problem.get("title") or ""
        raise click.ClickException(f"the server answered {error.status} {error.code}: {detail}".rstrip(": ")) \
            from None
    except DigestMismatch as error:
        raise click.ClickException(f"{error}; please report this to support") from None


pass_phone = click.make_pass_decorator(Phone)


@click.group()
@click.option("--store", "store_path", envvar="CARE_PHONE_STORE", default=DEFAULT_STORE, show_default=True,
              type=click.Path(dir_okay=False), help="the phone's local SQLite store (env CARE_PHONE_STORE)")
@click.pass_context
def phone(ctx, store_path):
    """Act out a caregiver's or community worker's day with the reference phone client.

    Record check-ins, check-outs, patrols and notes with the network off; push them later.
    """
    ctx.obj = Phone(store_path)
    ctx.call_on_close(ctx.obj.store.close)


@phone.command()
@click.option("--server", help="base URL, e.g. http://127.0.0.1:8000 (default: the last one used)")
@click.option("--username", required=True)
@click.option("--password", prompt=True, hide_input=True)
@click.option("--device-id", help="default: made from this host and the store path, then kept")
@pass_phone
def login(phone, server, username, password, device_id):
    """Sign in; the tokens are kept in the store."""
    store = phone.store
    held = store.get("device_id")
    if device_id and held and device_id != held and store.get("next_seq"):
        raise click.ClickException(f"this store belongs to device {held}, which has recorded items; "
                                   "use another --store for another device")
    pending = len(store.pending(10_000))
    if pending and store.get("username") not in (None, username):
        raise click.ClickException(f"{pending} items recorded by {store.get('username')} are not pushed yet: "
                                   "push them first, or use another --store")
    if device_id or not held:
        store.put("device_id", device_id or _default_device_id(phone.path))
    client = phone.client(server)
    with talking_to_server(phone):
        user = client.login(username, password)["user"]
    for key, value in (("server", server or store.get("server")), ("username", username), ("role", user["role"])):
        store.put(key, value)
    click.echo(f"Signed in as {user['display_name'] or username} ({user['role']}) on device {client.device_id}.")


def _default_device_id(path: str) -> str:
    return f"{socket.gethostname()[:80]}-{hashlib.sha256(path.encode()).hexdigest()[:12]}"


@phone.command()
@pass_phone
def pull(phone):
    """Bring this phone's tasks and elders up to date."""
    with talking_to_server(phone):
        phone.client().pull()
    phone.store.put("pulled_at", device_clock().isoformat())
    click.echo(f"Holding {len(phone.store.rows('tasks'))} tasks of {len(phone.store.rows('elders'))} elders.")


@phone.command()
@click.option("--today", is_flag=True, help="only tasks whose window touches today")
@pass_phone
def tasks(phone, today):
    """List the tasks on this phone, in local time, with what is recorded for each."""
    recorded: dict[int, list[str]] = {}
    for body, status in phone.store.db.execute("SELECT body, status FROM outbox ORDER BY seq"):
        item = json.loads(body)
        recorded.setdefault(item["task_id"], []).append(item["type"] + ("*" if status == "pending" else ""))
    day = device_clock().astimezone(CARE_TZ).date()
    rows = [("ID", "WINDOW (Asia/Shanghai)", "KIND", "ELDER", "STATUS", "ON PHONE (* = not pushed)")]
    for task in sorted(phone.store.rows("tasks"), key=lambda t: (t["window_start_at"], t["id"])):
        start, end = (datetime.fromisoformat(task[k]).astimezone(CARE_TZ) for k in ("window_start_at", "window_end_at"))
        if today and not start.date() <= day <= end.date():
            continue
        window = f"{start:%m-%d %H:%M}–{end:%H:%M}" if start.date() == end.date() else \
            f"{start:%m-%d %H:%M} → {end:%m-%d %H:%M}"
        rows.append((str(task["id"]), window, task["service_type"] or task["kind"],
                     phone.elder(task["elder_id"]).get("name", f"#{task['elder_id']}"), task["status"],
                     " ".join(recorded.get(task["id"], []))))
    if len(rows) == 1:
        raise click.ClickException("no tasks on this phone" + (" for today" if today else "") +
                                   ": run `carerounds phone pull`")
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell + " " * (width - _width(cell)) for cell, width in zip(row, widths)).rstrip())


def _width(text: str) -> int:
    """Columns on a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def location_options(command):
    for name, helptext in (("--accuracy", "GPS accuracy radius in metres"), ("--lon", "GPS longitude"),
                           ("--lat", "GPS latitude")):
        command = click.option(name, type=float, default=10.0 if name == "--accuracy" else None,
                               show_default=name == "--accuracy", help=helptext)(command)
    return command


def _location(lat, lon, accuracy) -> dict | None:
    if (lat is None) != (lon is None):
        raise click.UsageError("give --lat and --lon together")
    return None if lat is None else {"lat": lat, "lon": lon, "accuracy_m": accuracy}


def _check_qr(phone: Phone, task: dict, qr: str | None) -> None:
    """Warn, never block, when the scan is missing or is not this elder's plate (protocol 7.4)."""
    if not qr:
        click.echo("warning: no plate scanned; the server will flag this visit qr_missing", err=True)
        return
    plate_ids = phone.elder(task["elder_id"]).get("plate_ids") or []
    parts = qr.strip().split(".")
    if len(parts) < 2 or parts[1] not in plate_ids:
        click.echo(f"warning: that code is not a plate of this elder (their plates: {', '.join(plate_ids) or 'none'}); "
                   "recorded anyway, the server decides", err=True)


def _recorded(phone: Phone, record, what: str) -> None:
    try:
        item_id = record(phone.recorder())
    except ValueError as error:
        raise click.ClickException(f"not recorded: {error}") from None
    pending = len(phone.store.pending(10_000))
    click.echo(f"Recorded {what} ({item_id}); {pending} items waiting for `carerounds phone push`.")


@phone.command("check-in")
@click.argument("task_id", type=int)
@click.option("--qr", help="the string scanned from the door plate")
@location_options
@pass_phone
def check_in(phone, task_id, qr, lat, lon, accuracy):
    """Record arriving at the elder's home (works offline)."""
    task = phone.task(task_id, "service")
    _check_qr(phone, task, qr)
    location = _location(lat, lon, accuracy)
    _recorded(phone, lambda c: c.record_check_in(task_id, qr=qr, location=location), f"check-in on task {task_id}")


def _service_line(text: str) -> dict:
    service_type, _, rest = text.partition(":")
    outcome, _, reason = rest.partition(":")
    if not service_type or outcome not in SERVICE_OUTCOMES:
        raise click.BadParameter(f"{text!r}: expected TYPE:OUTCOME[:REASON], OUTCOME one of "
                                 f"{', '.join(SERVICE_OUTCOMES)}", param_hint="--service")
    if outcome != "done" and not reason:
        raise click.BadParameter(f"{text!r}: say why the service was {outcome}", param_hint="--service")
    return {"service_type": service_type, "outcome": outcome, "reason": reason or None}


@phone.command("check-out")
@click.argument("task_id", type=int)
@click.option("--qr", help="the string scanned from the door plate")
@click.option("--satisfaction", type=click.IntRange(1, 5), help="the elder's rating, 1–5")
@click.option("--service", "services", multiple=True, metavar="TYPE:OUTCOME[:REASON]",
              help="what was done, e.g. meal:done or bathing:refused:不想洗 (default: the task's service, done)")
@click.option("--signer", type=click.Choice(SIGNERS), help="who confirmed the visit")
@location_options
@pass_phone
def check_out(phone, task_id, qr, satisfaction, services, signer, lat, lon, accuracy):
    """Record leaving, with the services done (works offline)."""
    task = phone.task(task_id, "service")
    lines = [_service_line(s) for s in services] or [
        {"service_type": task["service_type"], "outcome": "done", "reason": None}]
    _check_qr(phone, task, qr)
    signature = {"signer": signer, "confirmed": signer != "none", "image_sha256": None} if signer else None
    location = _location(lat, lon, accuracy)
    _recorded(phone, lambda c: c.record_check_out(task_id, services=lines, satisfaction=satisfaction,
                                                  signature=signature, qr=qr, location=location),
              f"check-out on task {task_id}")


@phone.command()
@click.argument("task_id", type=int)
@click.option("--outcome", required=True, type=click.Choice(PATROL_OUTCOMES))
@click.option("--mode", required=True, type=click.Choice(("door", "phone")))
@click.option("--qr", help="door visits: the string scanned from the door plate")
@click.option("--health")
@click.option("--mental-state")
@click.option("--hygiene")
@click.option("--living-conditions")
@click.option("--needs")
@click.option("--safety", metavar="GAS,WATER,ELECTRICITY", help="door visits: e.g. ok,ok,hazard")
@click.option("--risk-event", "risk_events", multiple=True, metavar="KIND[:NOTE]",
              help=f"a care-risk event seen, KIND one of {', '.join(CARE_RISK_EVENTS)}")
@location_options
@pass_phone
def patrol(phone, task_id, outcome, mode, qr, safety, risk_events, lat, lon, accuracy, **observed):
    """Record a patrol visit, at the door or by phone (works offline)."""
    task = phone.task(task_id, "patrol")
    if mode == "phone" and (qr or lat is not None or safety):
        raise click.UsageError("a phone patrol carries no --qr, location or --safety")
    observations = {key: observed[key] for key in OBSERVATIONS}
    if safety:
        states = safety.split(",")
        if len(states) != 3 or not set(states) <= {"ok", "hazard"}:
            raise click.BadParameter("expected three of ok|hazard, e.g. ok,ok,hazard", param_hint="--safety")
        observations["safety"] = dict(zip(("gas", "water", "electricity"), states, strict=True))
    seen = any(observations.values())
    if outcome.startswith("seen_") and not seen:
        raise click.UsageError("the elder was seen: give at least one observation (--health, --needs, ...)")
    events = []
    for text in risk_events:
        kind, _, note = text.partition(":")
        if kind not in CARE_RISK_EVENTS:
            raise click.BadParameter(f"{kind!r} is not one of {', '.join(CARE_RISK_EVENTS)}", param_hint="--risk-event")
        events.append({"kind": kind, "occurred_on": None, "note": note or None})
    if mode == "door":
        _check_qr(phone, task, qr)
    location = _location(lat, lon, accuracy)
    _recorded(phone, lambda c: c.record_patrol_report(
        task_id, outcome=outcome, mode=mode, observations=observations if seen else None,
        care_risk_events=events or None, qr=qr, location=location), f"{mode} patrol on task {task_id}")


@phone.command()
@click.argument("task_id", type=int)
@click.argument("text")
@pass_phone
def note(phone, task_id, text):
    """Record a free-text note on a task (works offline)."""
    phone.task(task_id)
    _recorded(phone, lambda c: c.record_note(task_id, text), f"note on task {task_id}")


@phone.command()
@pass_phone
def push(phone):
    """Send the outbox; each item is stored on the server exactly once."""
    with talking_to_server(phone):
        summary = phone.client().push()
    line = f"{summary.accepted} accepted, {summary.duplicate} duplicate, {summary.rejected} rejected"
    phone.store.put("last_push", json.dumps({"at": device_clock().isoformat(), "summary": line}))
    click.echo(f"Pushed: {line}" + (f"; {summary.requeued} resent at the server's request" if summary.requeued else ""))
    for result in summary.rejections:
        click.echo(f"  rejected {result['id']}: {result['code']} {result.get('message') or ''}".rstrip())


@phone.command()
@pass_phone
def status(phone):
    """What is waiting to be pushed, and when this phone last talked to the server."""
    store = phone.store
    outbox = store.outbox()
    pending = sum(row["status"] == "pending" for row in outbox)
    rejected = sum(bool(row["result"]) and row["result"]["status"] == "rejected" for row in outbox)
    signed_in = f"{store.get('username')} ({store.get('role')})" if store.get("refresh_token") else "not signed in"
    last_push = json.loads(store.get("last_push") or "null")
    for label, value in (
        ("store", phone.path), ("device", store.get("device_id") or "-"), ("server", store.get("server") or "-"),
        ("user", signed_in),
        ("tasks", f"{len(store.rows('tasks'))} held, last pull {_ago(store.get('pulled_at'))}"),
        ("outbox", f"{pending} pending, {len(outbox) - pending} acked ({rejected} rejected)"),
        ("last push", f"{_ago(last_push['at'])}: {last_push['summary']}" if last_push else "never"),
    ):
        click.echo(f"{label:<10} {value}")


def _ago(at: str | None) -> str:
    if not at:
        return "never"
    minutes = int((device_clock() - datetime.fromisoformat(at)).total_seconds() // 60)
    return "just now" if minutes < 1 else f"{minutes} min ago" if minutes < 120 else f"{minutes // 60} h ago"


@phone.command()
@click.argument("elder_id", type=int)
@pass_phone
def plate(phone, elder_id):
    """Print an elder's door-plate payload, to pass as --qr (admins and supervisors only)."""
    client = phone.client()

    def fetch(token: str) -> dict:
        answer = client.api.transport(HttpRequest("GET", f"/api/v1/elders/{elder_id}/plate",
                                                  headers={"Authorization": f"Bearer {token}"}))
        if answer.status >= 400:
            raise ApiError(answer.status, answer.body, answer.headers)
        return answer.body or {}

    try:
        with talking_to_server(phone):
            body = client._authorized(fetch)
    except click.ClickException as error:
        if "403" in error.message:
            error.message = (f"signed in as a {phone.store.get('role')}: only administrators and supervisors "
                             "may read door plates; sign in as one with another --store (demo: admin)")
        raise
    if not body.get("payload"):
        raise click.ClickException(f"elder {elder_id}'s plate is dynamic: its code changes on the in-home device")
    click.echo(body["payload"])
