"""The `carerounds phone` commands that record a visit: check-in, check-out, patrol and note.

They write to the local outbox only and never touch the network, so they work all day offline;
`carerounds phone push` sends what they recorded.
"""

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from schemas.sync import CARE_RISK_EVENTS, PATROL_OUTCOMES, SERVICE_OUTCOMES, SIGNERS

if TYPE_CHECKING:
    from sync.client.cli import Phone

CARE_TZ = ZoneInfo("Asia/Shanghai")  # the protocol's care time zone (docs/sync-protocol.md, 1)
OBSERVATIONS = ("health", "mental_state", "hygiene", "living_conditions", "needs")


class IsoTime(click.ParamType):
    """An ISO-8601 time; without an offset it is read in the care time zone."""

    name = "ISO-8601"

    def convert(self, value, param, ctx):
        if isinstance(value, datetime):
            return value
        try:
            at = datetime.fromisoformat(value.strip())
        except ValueError:
            self.fail(f"{value!r} is not an ISO-8601 time, e.g. 2026-12-05T11:05 or 2026-12-05T03:05:00Z", param, ctx)
        return at.replace(tzinfo=CARE_TZ) if at.tzinfo is None else at


def at_option(command):
    """--at: when it happened, for drills acting out a real visit's times (default: now, by the device clock)."""
    return click.option("--at", type=IsoTime(), help="when it happened (ISO-8601; without an offset, "
                        "Asia/Shanghai time); default now. For drills acting out a visit's real times")(command)


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


def _check_qr(phone: "Phone", task: dict, qr: str | None) -> None:
    """Warn, never block, when the scan is missing or is not this elder's plate (protocol 7.4)."""
    if not qr:
        click.echo("warning: no plate scanned; the server will flag this visit qr_missing", err=True)
        return
    plate_ids = phone.elder(task["elder_id"]).get("plate_ids") or []
    parts = qr.strip().split(".")
    if len(parts) < 2 or parts[1] not in plate_ids:
        click.echo(f"warning: that code is not a plate of this elder (their plates: {', '.join(plate_ids) or 'none'}); "
                   "recorded anyway, the server decides", err=True)


def _recorded(phone: "Phone", record, what: str) -> None:
    try:
        item_id = record(phone.recorder())
    except ValueError as error:
        raise click.ClickException(f"not recorded: {error}") from None
    pending = len(phone.store.pending(100_000))
    click.echo(f"Recorded {what} ({item_id}); outbox: {pending} waiting for `carerounds phone push`.")


@click.command("check-in")
@click.argument("task_id", type=int)
@click.option("--qr", help="the string scanned from the door plate")
@location_options
@at_option
@click.pass_obj
def check_in(phone, task_id, qr, lat, lon, accuracy, at):
    """Record arriving at the elder's home (works offline)."""
    task = phone.task(task_id, "service")
    _check_qr(phone, task, qr)
    location = _location(lat, lon, accuracy)
    _recorded(phone, lambda c: c.record_check_in(task_id, qr=qr, location=location, at=at),
              f"check-in on task {task_id}")


def _service_line(text: str) -> dict:
    service_type, _, rest = text.partition(":")
    outcome, _, reason = rest.partition(":")
    if not service_type or outcome not in SERVICE_OUTCOMES:
        raise click.BadParameter(f"{text!r}: expected TYPE:OUTCOME[:REASON], OUTCOME one of "
                                 f"{', '.join(SERVICE_OUTCOMES)}", param_hint="--service")
    if outcome != "done" and not reason:
        raise click.BadParameter(f"{text!r}: say why the service was {outcome}", param_hint="--service")
    return {"service_type": service_type, "outcome": outcome, "reason": reason or None}


@click.command("check-out")
@click.argument("task_id", type=int)
@click.option("--qr", help="the string scanned from the door plate")
@click.option("--satisfaction", type=click.IntRange(1, 5), help="the elder's rating, 1–5")
@click.option("--service", "services", multiple=True, metavar="TYPE:OUTCOME[:REASON]",
              help="what was done, e.g. meal:done or bathing:refused:不想洗 (default: the task's service, done)")
@click.option("--signer", type=click.Choice(SIGNERS), help="who confirmed the visit")
@location_options
@at_option
@click.pass_obj
def check_out(phone, task_id, qr, satisfaction, services, signer, lat, lon, accuracy, at):
    """Record leaving, with the services done (works offline)."""
    task = phone.task(task_id, "service")
    lines = [_service_line(s) for s in services] or [
        {"service_type": task["service_type"], "outcome": "done", "reason": None}]
    _check_qr(phone, task, qr)
    signature = {"signer": signer, "confirmed": signer != "none", "image_sha256": None} if signer else None
    location = _location(lat, lon, accuracy)
    _recorded(phone, lambda c: c.record_check_out(task_id, services=lines, satisfaction=satisfaction,
                                                  signature=signature, qr=qr, location=location, at=at),
              f"check-out on task {task_id}")


@click.command()
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
@at_option
@click.pass_obj
def patrol(phone, task_id, outcome, mode, qr, safety, risk_events, lat, lon, accuracy, at, **observed):
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
        care_risk_events=events or None, qr=qr, location=location, at=at), f"{mode} patrol on task {task_id}")


@click.command()
@click.argument("task_id", type=int)
@click.argument("text")
@click.pass_obj
def note(phone, task_id, text):
    """Record a free-text note on a task (works offline)."""
    phone.task(task_id)
    _recorded(phone, lambda c: c.record_note(task_id, text), f"note on task {task_id}")


RECORDING = (check_in, check_out, patrol, note)
