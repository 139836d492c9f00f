"""A visit's verification state (evidence and review decisions together) in the log, its filter and
its exports: a rejected visit reads rejected_on_review everywhere, and an unlocked decision changed
later changes it back.

In `log` (see conftest): a1_after_midnight is verified with nothing to review; a2_too_short,
b1_outside and a1_patrol are flagged for review; the rest have no visit.
"""

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from backend.extensions import db
from backend.reviews import services as reviews
from backend.reviews import verification
from backend.visitlog.export import COLUMNS
from backend.visits.models import Visit
from schemas.visitlog import VERIFICATION_STATES
from tests.visitlog.conftest import ids, newest_first


def states(response) -> dict[int, str | None]:
    assert response.status_code == 200, response.get_json()
    return {row["id"]: row["verification_state"] for row in response.get_json()["items"]}


@pytest.fixture
def decided(log, city, clock):
    """a2_too_short approved, b1_outside rejected, a1_patrol asked to explain (still awaiting)."""
    for task, decision, reason in ((log.a2_too_short, "approved", "evidence_sufficient"),
                                   (log.b1_outside, "rejected", "no_presence_evidence"),
                                   (log.a1_patrol, "explanation_requested", "missing_qr")):
        reviews.decide(task, decision, reason, None, by=city.supervisor_a if task is not log.b1_outside
                       else city.admin, at=clock())
    db.session.commit()
    return log


def test_the_vocabulary_is_the_schemas():
    assert verification.STATES == VERIFICATION_STATES


def test_each_row_shows_the_state_its_evidence_and_current_decision_make(decided, city, audit):
    log = decided
    assert states(audit(city.admin)) == {
        log.a1_after_midnight.id: "verified_automatically", log.a2_too_short.id: "verified_on_review",
        log.b1_outside.id: "rejected_on_review", log.a1_patrol.id: "awaiting_review",
        log.a1_missed.id: None, log.a1_due_now.id: None, log.b1_cancelled.id: None}


def test_a_visit_with_nothing_to_review_and_no_presence_proof_is_unverified(log, city, audit):
    visit = db.session.query(Visit).filter_by(task_id=log.a1_patrol.id).one()
    visit.needs_review, visit.is_verified = False, False  # a phone patrol: no flag, no proof
    db.session.commit()
    assert states(audit(city.admin))[log.a1_patrol.id] == "unverified"
    assert ids(audit(city.admin, verification_state="unverified")) == [log.a1_patrol.id]


def test_the_state_filter_finds_exactly_the_rows_showing_it(decided, city, audit):
    log = decided
    assert ids(audit(city.admin, verification_state="rejected_on_review")) == [log.b1_outside.id]
    assert ids(audit(city.admin, verification_state="verified_on_review")) == [log.a2_too_short.id]
    assert ids(audit(city.admin, verification_state="verified_automatically")) == [log.a1_after_midnight.id]
    assert ids(audit(city.admin, verification_state="awaiting_review")) == [log.a1_patrol.id]
    assert ids(audit(city.admin, verification_state="unverified")) == []
    # Scope still applies: street A's supervisor never sees street B's rejected visit.
    assert ids(audit(city.supervisor_a, verification_state="rejected_on_review")) == []


def test_a_bad_state_is_refused_naming_the_field(log, city, audit):
    response = audit(city.admin, verification_state="maybe")
    assert response.status_code == 422
    assert "verification_state" in response.get_json()["errors"]


def test_the_csv_and_xlsx_carry_the_state_column(decided, city, audit):
    log = decided
    text = audit(city.admin, "/api/v1/audit/visits.csv", codes=1).get_data().decode("utf-8-sig")
    rows = {int(row["id"]): row["verification_state"] for row in csv.DictReader(io.StringIO(text))}
    assert rows[log.b1_outside.id] == "rejected_on_review" and rows[log.a1_missed.id] == ""
    sheet = load_workbook(io.BytesIO(audit(city.admin, "/api/v1/audit/visits.xlsx",
                                           verification_state="rejected_on_review").get_data())).active
    header, *body = list(sheet.iter_rows(values_only=True))
    assert len(header) == len(COLUMNS) and header[COLUMNS.index("verification_state")] == "核验状态"
    assert [(row[0], row[COLUMNS.index("verification_state")]) for row in body] == \
        [(log.b1_outside.id, "审核不通过")]


def test_an_unlocked_decision_changed_later_changes_the_state(decided, city, audit, clock):
    log = decided
    rejection = reviews.current_review(log.b1_outside.id)
    later = clock.advance(days=100)  # past the 95-day window: locked until an admin unlocks it
    reviews.unlock(rejection, "复核发现定位误差", by=city.admin, at=later)
    reviews.decide(log.b1_outside, "approved", "device_problem_verified", None, by=city.admin,
                   at=later + timedelta(minutes=1))
    db.session.commit()
    assert states(audit(city.admin))[log.b1_outside.id] == "verified_on_review"
    assert ids(audit(city.admin, verification_state="rejected_on_review")) == []
    assert newest_first([log.a2_too_short, log.b1_outside]) == \
        ids(audit(city.admin, verification_state="verified_on_review"))
