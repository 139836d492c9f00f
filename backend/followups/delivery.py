"""Delivery of notifications beyond the API: a pluggable sender chosen by NOTIFICATION_SENDER.

The API and sync pull always carry every notification; a sender only pushes a copy out (SMS,
WeChat, …). The default writes one log line per notification; nothing pretends to send a message.
A real channel is a class with `name` and `send(notification) -> str` added to SENDERS.

Delivery runs in its own job, after the transactions that created the notifications committed,
so nobody is told about work that was rolled back. A crash between sending and recording means
a notification may go out twice, never that it is lost.
"""

import logging
from typing import Protocol

from flask import current_app
from sqlalchemy import select, update

from backend.clock import utcnow
from backend.extensions import db
from backend.followups.models import Notification
from backend.users.models import User

log = logging.getLogger(__name__)


class Sender(Protocol):
    name: str

    def send(self, notification: Notification) -> str:
        """Send one notification; return the channel it went out on."""


class LoggingSender:
    name = "log"

    def send(self, notification: Notification) -> str:
        username = db.session.get(User, notification.user_id).username
        log.info("notification %d to %s: %s: %s", notification.id, username, notification.event, notification.title)
        return self.name


SENDERS: dict[str, type] = {"log": LoggingSender}


def configured_sender() -> Sender:
    name = current_app.config["NOTIFICATION_SENDER"]
    if name not in SENDERS:
        raise ValueError(f"NOTIFICATION_SENDER: unknown sender {name!r} (known: {', '.join(SENDERS)})")
    return SENDERS[name]()


def deliver_pending(limit: int = 500, sender: Sender | None = None) -> int:
    """Send up to `limit` undelivered notifications, oldest first; returns how many went out.

    A notification whose sending fails stays undelivered and is tried again on the next run."""
    sender = sender or configured_sender()
    pending = db.session.execute(
        select(Notification).where(Notification.delivered_at.is_(None)).order_by(Notification.id).limit(limit)
        .with_for_update(skip_locked=True)
    ).scalars().all()
    sent = 0
    for notification in pending:
        try:
            via = sender.send(notification)
        except Exception:
            log.exception("notification %d: sending by %s failed; will retry", notification.id, sender.name)
            continue
        # A plain UPDATE, not an ORM change: delivery is not news for phones, so the row keeps
        # its change number and is not pulled again.
        db.session.execute(update(Notification).where(Notification.id == notification.id)
                           .values(delivered_at=utcnow(), delivered_via=via)
                           .execution_options(synchronize_session=False))
        sent += 1
    return sent
