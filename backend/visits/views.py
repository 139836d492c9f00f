"""GET /sync/pull and POST /sync/push: the offline phones' only way in."""

from flask import g, jsonify, request
from flask_babel import lazy_gettext as _l

from backend.api import Blueprint
from backend.auth.access import account_checked_by_view, check_account, load_account, require_role, roles
from backend.clock import utcnow
from backend.errors import Problem
from backend.extensions import db
from backend.visits import pull as pulling
from backend.visits import push as pushing
from schemas.sync import MAX_ITEMS, EnvelopeSchema, PullArgsSchema, PullResponseSchema, PushResponseSchema

blp = Blueprint("sync", __name__, url_prefix="/api/v1/sync", description="Offline sync for phones")

FIELD_ROLES = ("caregiver", "community_worker")


@blp.before_request
def _refuse_oversized_batches():
    """More than MAX_ITEMS items is 413 with nothing written, before any parsing of the items."""
    if request.method == "POST" and request.endpoint == "sync.push":
        body = request.get_json(silent=True)
        if isinstance(body, dict) and isinstance(body.get("items"), list) and len(body["items"]) > MAX_ITEMS:
            raise Problem("payload_too_large", _l("at most %(MAX_ITEMS)s items per push", MAX_ITEMS=MAX_ITEMS),
                          max_items=MAX_ITEMS, max_bytes=request.max_content_length)


@blp.get("/pull")
@blp.arguments(PullArgsSchema(), location="query")  # an instance: webargs builds a class anew per request
@blp.response(200, PullResponseSchema)
@account_checked_by_view
def pull(args):
    """What this phone should hold: a snapshot, or the changes since `cursor`. See docs/sync-protocol.md."""
    claims = g.token_claims
    page = pulling.pull(user_id=int(claims["sub"]), device_id=args["device_id"], token_device_id=claims.get("did"),
                        family_id=claims["fam"], cursor=args["cursor"], limit=args["limit"], now=utcnow(),
                        check_account=_may_pull, load_account=_field_account)
    # Nothing was written, but a pull that read through the session ends with COMMIT rather than
    # the teardown's ROLLBACK, which keeps psycopg's prepared statements (a ROLLBACK drops them
    # all), so a worker's pulls stop paying PostgreSQL to plan the same statements again. The
    # empty pull never opened the session, and its commit hooks are skipped.
    if db.session().in_transaction():
        db.session.commit()
    # The page is built in its wire shape already (tests hold it to PullResponseSchema), so it
    # skips the schema's second pass over every row: the pull is the API's hottest read.
    return jsonify(page.wire())


def _field_account():
    """The gate's account check and @roles(*FIELD_ROLES), for a pull that reads more than the probe."""
    g.user = load_account(g.token_claims)
    require_role(g.user.role, FIELD_ROLES)
    return g.user


def _may_pull(found) -> None:
    """The gate's account check and @roles(*FIELD_ROLES), on the account row the probe read."""
    check_account(found is not None, found is not None and found.is_active,
                  found is not None and found.family_revoked)
    require_role(found.role, FIELD_ROLES)


@blp.post("/push")
@roles(*FIELD_ROLES)
@blp.arguments(EnvelopeSchema)
@blp.response(200, PushResponseSchema)
def push(envelope):
    """Record a batch of check-ins, check-outs, patrol reports and notes, each exactly once."""
    outcome = pushing.push_batch(user=g.user, device_id=envelope["device_id"],
                                 token_device_id=g.token_claims.get("did"), device_time=envelope["device_time"],
                                 items=envelope["items"], received_at=utcnow())
    db.session.commit()  # everything acknowledged is durable before the answer leaves
    return jsonify(outcome.wire())  # already in PushResponseSchema's shape (tests hold it to it)
