"""/followups: list, read, claim, comment, resolve, reopen; /notifications: mine, and their read state.

Scope as everywhere: admins all; supervisors their region subtree plus what they own; caregivers
and community workers only what they own. A follow-up out of scope answers 404.
"""

from flask import g
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from backend.api import Blueprint
from backend.clock import utcnow
from backend.extensions import db
from backend.followups import actions
from backend.followups.models import Followup, Notification
from backend.followups.services import followups_clause, listed, mark_all_read, mark_read
from backend.pagination import paginate
from backend.scope import scoped_or_404
from schemas.followups import (
    ClaimSchema,
    CommentSchema,
    FollowupDetailSchema,
    FollowupEventSchema,
    FollowupListArgs,
    FollowupPageSchema,
    NotificationListArgs,
    NotificationPageSchema,
    NotificationSchema,
    ReadAllSchema,
    ReopenSchema,
    ResolveSchema,
)

blp = Blueprint("followups", __name__, url_prefix="/api/v1/followups", description="Follow-ups")
notifications_blp = Blueprint("notifications", __name__, url_prefix="/api/v1/notifications",
                              description="Notifications for the people who must act")


def _followup(followup_id: int) -> Followup:
    """The follow-up if the caller may see it, locked for the rest of the request's transaction."""
    return scoped_or_404(Followup, followup_id, followups_clause(g.user), what="followup", for_update=True)


@blp.get("")
@blp.arguments(FollowupListArgs, location="query")
@blp.response(200, FollowupPageSchema)
def list_followups(args):
    """Most urgent first: by due time. `overdue=true`: unresolved and past due."""
    query = listed(g.user, args, now=utcnow()).options(selectinload(Followup.elder))
    return paginate(query, page=args["page"], per_page=args["per_page"])


@blp.get("/<int:followup_id>")
@blp.response(200, FollowupDetailSchema)
def get_followup(followup_id):
    """With its history, and for a welfare check the elder's emergency contacts."""
    return scoped_or_404(Followup, followup_id, followups_clause(g.user), what="followup")


@blp.post("/<int:followup_id>/claim")
@blp.arguments(ClaimSchema)
@blp.response(200, FollowupDetailSchema)
def claim_followup(body, followup_id):
    followup = actions.claim(_followup(followup_id), by=g.user, at=utcnow(), version=body["version"])
    db.session.commit()
    return followup


@blp.post("/<int:followup_id>/comments")
@blp.arguments(CommentSchema)
@blp.response(201, FollowupEventSchema)
def comment_followup(body, followup_id):
    event = actions.comment(_followup(followup_id), body["text"], by=g.user, at=utcnow(), version=body["version"])
    db.session.commit()
    return event


@blp.post("/<int:followup_id>/resolve")
@blp.arguments(ResolveSchema)
@blp.response(200, FollowupDetailSchema)
def resolve_followup(body, followup_id):
    """A reason code; `other` needs a note; `rescheduled` needs the make-up window, created here."""
    followup = actions.resolve(_followup(followup_id), body["code"], body["note"], by=g.user, at=utcnow(),
                               reschedule=body["reschedule"], version=body["version"])
    db.session.commit()
    return followup


@blp.post("/<int:followup_id>/reopen")
@blp.arguments(ReopenSchema)
@blp.response(200, FollowupDetailSchema)
def reopen_followup(body, followup_id):
    """Supervisors of its region and admins only, with a reason."""
    followup = actions.reopen(_followup(followup_id), body["reason"], by=g.user, at=utcnow(), version=body["version"])
    db.session.commit()
    return followup


@notifications_blp.get("")
@notifications_blp.arguments(NotificationListArgs, location="query")
@notifications_blp.response(200, NotificationPageSchema)
def list_notifications(args):
    """The caller's own, newest first."""
    query = select(Notification).where(Notification.user_id == g.user.id)
    if args.get("unread") is not None:
        query = query.where(Notification.read_at.is_(None) if args["unread"] else Notification.read_at.is_not(None))
    return paginate(query.order_by(Notification.id.desc()), page=args["page"], per_page=args["per_page"])


@notifications_blp.post("/<int:notification_id>/read")
@notifications_blp.response(200, NotificationSchema)
def read_notification(notification_id):
    notification = scoped_or_404(Notification, notification_id, Notification.user_id == g.user.id,
                                 what="notification")
    mark_read(notification, at=utcnow())
    db.session.commit()
    return notification


@notifications_blp.post("/read-all")
@notifications_blp.response(200, ReadAllSchema)
def read_all_notifications():
    marked = mark_all_read(g.user, at=utcnow())
    db.session.commit()
    return {"marked": marked}
