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
from functools import cached_property

import click

from sync.client.api import ApiError, HttpRequest, NetworkError, UrllibTransport
from sync.client.cli_followups import announce_followups, followups
from sync.client.cli_record import CARE_TZ, RECORDING
from sync.client.client import AuthRequired, DigestMismatch, PhoneClient
from sync.client.store import Store
from sync.rules import DYNAMIC_CODE_VERIFIED, QR_VERIFIED

DEFAULT_STORE = "~/.carerounds-phone.sqlite3"
VERIFIED = {QR_VERIFIED, DYNAMIC_CODE_VERIFIED}

# Seams for tests and drills: how to reach a server URL, the device clock, and how to wait.
make_transport = UrllibTransport
sleep = time.sleep


def device_clock() -> datetime:
    return datetime.now(UTC)


class Phone:
    """The store at --store, and a PhoneClient on it once a command needs one."""

    def __init__(self, path: str):
        self.path = os.path.abspath(os.path.expanduser(path))

    @cached_property
    def store(self) -> Store:  # opened on first use, so `--help` creates no file
        return Store(self.path)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()

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
            other = "`carerounds phone patrol`" if task["kind"] == "patrol" else \
                "`carerounds phone check-in` and `check-out`"
            raise click.ClickException(f"task {task_id} is a {task['kind']} task: use {other}")
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
        pending = len(phone.store.pending(100_000))
        raise click.ClickException(f"cannot reach {phone.store.get('server')} ({error}); "
                                   f"{pending} recorded items stay safe in the outbox") from None
    except ApiError as error:
        detail = error.problem.get("detail") or error.problem.get("title") or ""
        signed_out = ("invalid_token", "token_revoked", "unauthorized", "refresh_token_reused")
        hint = "; run `carerounds phone login`" if error.code in signed_out else ""
        raise click.ClickException(f"the server answered {error.status} {error.code}: {detail}".rstrip(": ")
                                   + hint) from None
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
    ctx.call_on_close(ctx.obj.close)


@phone.command()
@click.option("--server", help="base URL, e.g. http://127.0.0.1:8000 (default: the last one used)")
@click.option("--username", required=True)
@click.option("--password", prompt=True, hide_input=True)
@click.option("--device-id", help="default: made from this host and the store path, then kept")
@pass_phone
def login(phone, server, username, password, device_id):
    """Sign in; the tokens are kept in the store."""
    store = phone.store
    server = server or store.get("server")
    if not server:
        raise click.UsageError("--server is required the first time")
    held = store.get("device_id")
    if device_id and held and device_id != held and store.get("next_seq"):
        raise click.ClickException(f"this store belongs to device {held}, which has recorded items; "
                                   "use another --store for another device")
    pending = len(store.pending(100_000))
    if pending and store.get("username") not in (None, username):
        raise click.ClickException(f"{pending} items recorded by {store.get('username')} are not pushed yet: "
                                   "push them first, or use another --store")
    if device_id or not held:
        store.put("device_id", device_id or _default_device_id(phone.path))
    client = phone.client(server)
    with talking_to_server(phone):
        user = client.login(username, password)["user"]
    for key, value in (("server", server), ("username", username), ("role", user["role"])):
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
    announce_followups(phone)


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
        cells = (cell + " " * (width - _width(cell)) for cell, width in zip(row, widths, strict=True))
        click.echo("  ".join(cells).rstrip())


def _width(text: str) -> int:
    """Columns on a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


@phone.command()
@pass_phone
def push(phone):
    """Send the outbox; each item is stored on the server exactly once. Shows what it flagged."""
    sending = {item["id"]: item for item in phone.store.pending(100_000)}
    with talking_to_server(phone):
        summary = phone.client().push()
    line = f"{summary.accepted} accepted, {summary.duplicate} duplicate, {summary.rejected} rejected"
    phone.store.put("last_push", json.dumps({"at": device_clock().isoformat(), "summary": line}))
    click.echo(f"Pushed: {line}" + (f"; {summary.requeued} resent at the server's request" if summary.requeued else ""))
    for row in phone.store.outbox():
        item, result = sending.get(row["id"]), row["result"] or {}
        what = f"{item['type']} on task {item['task_id']}" if item else ""
        if item and result.get("status") == "rejected":
            click.echo(f"  rejected {what}: {result['code']} {result.get('message') or ''}".rstrip())
        elif item and set(result.get("flags") or ()) - VERIFIED:  # a supervisor will look at these
            click.echo(f"  flagged  {what}: {', '.join(result['flags'])}")


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
        ("follow-ups", f"{len(store.rows('followups'))} open"),
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

    with talking_to_server(phone):
        try:
            body = client._authorized(fetch)
        except ApiError as error:
            if error.status != 403:
                raise
            raise click.ClickException(
                f"signed in as a {phone.store.get('role')}: only administrators and supervisors may read door "
                "plates; sign in as one with another --store (demo: admin), or ask one for the payload") from None
    if not body.get("payload"):
        raise click.ClickException(f"elder {elder_id}'s plate is dynamic: its code changes on the in-home device")
    click.echo(body["payload"])


for _command in (*RECORDING, followups):
    phone.add_command(_command)
