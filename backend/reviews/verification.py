"""A visit's verification state, as one SQL expression the visit log, its exports, its filter and
the monthly report all use, so that a review decision means the same thing in each of them.

The state reads the visit's evidence (visits.is_verified, visits.needs_review) and its current
final decision (the latest review no later one supersedes, approved or rejected; an explanation
request decides nothing). A decision outranks the evidence: an approved visit is verified on
review whatever its flags, a rejected one is rejected however good its QR scan. Nothing is stored:
a decision unlocked and changed within its window changes the state, and every figure, at once.
"""

from sqlalchemy import and_, case
from sqlalchemy.orm import aliased

from backend.reviews.models import Review
from backend.visits.models import Visit

VERIFIED_AUTOMATICALLY = "verified_automatically"  # presence proven by a valid scan, nothing to review
VERIFIED_ON_REVIEW = "verified_on_review"  # a supervisor approved it
REJECTED_ON_REVIEW = "rejected_on_review"  # a supervisor rejected it (不通过): not done, not payable
AWAITING_REVIEW = "awaiting_review"  # flagged for review, no approval or rejection yet
UNVERIFIED = "unverified"  # no flag to review, but no presence proof either (e.g. a phone patrol)
# Kept equal to schemas.visitlog.VERIFICATION_STATES by a test.
STATES = (VERIFIED_AUTOMATICALLY, VERIFIED_ON_REVIEW, REJECTED_ON_REVIEW, AWAITING_REVIEW, UNVERIFIED)
# Decisions that take a visit out of the review queue; an explanation request keeps it there.
FINAL = ("approved", "rejected")

# The current final decision, for queries that join it (at most one row per task).
CURRENT = aliased(Review, name="current_decision")


def joins_current(task_id_column):
    """ON clause of an outer join of CURRENT to the task whose id is `task_id_column`."""
    return and_(CURRENT.task_id == task_id_column, CURRENT.superseded_by_id.is_(None), CURRENT.decision.in_(FINAL))


def is_rejected(decision, visit=Visit):
    """SQL: the state is REJECTED_ON_REVIEW. The decision's own test comes first, spelled out so
    that a query driven from the reviews reads only the rejections instead of every decision."""
    return and_(decision == "rejected", state(decision, visit) == REJECTED_ON_REVIEW)


def state(decision, visit=Visit):
    """SQL: the verification state of the visit `visit` (an entity or alias of Visit, NULL for a
    task without one) whose current final decision is `decision` (CURRENT.decision, outer-joined
    by joins_current)."""
    return case(
        (visit.id.is_(None), None),
        (decision == "rejected", REJECTED_ON_REVIEW),
        (decision == "approved", VERIFIED_ON_REVIEW),
        (visit.needs_review.is_(True), AWAITING_REVIEW),
        (visit.is_verified.is_(True), VERIFIED_AUTOMATICALLY),
        else_=UNVERIFIED,
    )
