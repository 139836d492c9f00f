"""`carerounds phone followups`: what a pull brought for the user to act on — their open follow-ups,
urgent welfare checks first, and their unread notifications. Read from the local store, offline.
"""

from datetime import datetime
from typing import TYPE_CHECKING

import click

from sync.client.cli_record import CARE_TZ

if TYPE_CHECKING:
    from sync.client.cli import Phone

PRIORITY_RANK = {"urgent": 0, "high": 1}


def announce_followups(phone: "Phone") -> None:
    """After a pull: each urgent welfare check in full before anything else, then a count of the rest."""
    held = by_urgency(phone.store.rows("followups"))
    for followup in (f for f in held if is_urgent_welfare_check(f)):
        click.echo("URGENT " + _line(phone, followup))
    unread = sum(n.get("read_at") is None for n in phone.store.rows("notifications"))
    if held or unread:
        click.echo(f"{len(held)} open follow-ups, {unread} unread notifications: run `carerounds phone followups`.")


def is_urgent_welfare_check(followup: dict) -> bool:
    return followup["kind"] == "welfare_check" and followup["priority"] == "urgent"


def by_urgency(followups: list[dict]) -> list[dict]:
    """Urgent welfare checks first (an elder alone may be lying on the floor), then by priority and due time."""
    return sorted(followups, key=lambda f: (not is_urgent_welfare_check(f), PRIORITY_RANK.get(f["priority"], 2),
                                            f.get("due_at") or "~", f["id"]))


def _local(at: str | None) -> str:
    return datetime.fromisoformat(at).astimezone(CARE_TZ).strftime("%m-%d %H:%M") if at else "-"


def _line(phone: "Phone", followup: dict) -> str:
    elder = phone.elder(followup["elder_id"]) if followup.get("elder_id") else {}
    where = f" · {elder['address']}" if elder.get("address") else ""
    task = f" · task {followup['task_id']}" if followup.get("task_id") else ""
    return (f"#{followup['id']} {followup['kind']} ({followup['priority']}), due {_local(followup.get('due_at'))}"
            f"{task}: {followup['summary']}{where}")


@click.command()
@click.pass_obj
def followups(phone: "Phone"):
    """The open follow-ups this phone's user owns, urgent welfare checks first, and unread notifications.

    They come with `carerounds phone pull` and read offline; act on them in the console or the API.
    """
    held = by_urgency(phone.store.rows("followups"))
    for followup in held:
        click.echo(("URGENT " if is_urgent_welfare_check(followup) else "") + _line(phone, followup))
        for contact in (followup.get("details") or {}).get("emergency_contacts") or []:
            click.echo(f"    emergency contact: {contact.get('name') or ''} {contact.get('relation') or ''} "
                       f"{contact.get('phone') or ''}".rstrip())
    if not held:
        pulled = phone.store.get("pulled_at")
        click.echo("No open follow-ups on this phone" + ("." if pulled else ": run `carerounds phone pull`."))
    unread = [n for n in phone.store.rows("notifications") if n.get("read_at") is None]
    if unread:
        click.echo(f"{len(unread)} unread notifications:")
        for note in sorted(unread, key=lambda n: (n.get("created_at") or "", n["id"])):
            body = f": {note['body']}" if note.get("body") else ""
            click.echo(f"  {_local(note.get('created_at'))} {note['title']}{body}")
