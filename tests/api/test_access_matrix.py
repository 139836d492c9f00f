"""Every endpoint × every role: who may do what, and lists never show another scope's rows.

Statuses: 2xx allowed, 401 anonymous, 403 forbidden by role, 404 outside the caller's scope.
Supervisor A oversees street A (elders a1, a2); supervisor B street B (elder b1). The caregiver
serves a1 and b1 (care plans on both); the community worker covers community a1 only.
"""

import hashlib
from datetime import timedelta

import pytest

from backend.clock import local_today
from backend.extensions import db
from backend.media import storage
from backend.media.models import Media, MediaTask
from backend.rectifications import services as rectifications
from backend.register.services import report_status
from backend.tasks.models import Task

ROLES = ("admin", "supervisor_in_scope", "supervisor_out_of_scope", "caregiver", "community_worker", "anonymous")
LUNCH = {"freq": "daily", "start": "11:00", "end": "12:00"}


def expect(admin, sup_in, sup_out, caregiver, worker):
    return dict(zip(ROLES, (admin, sup_in, sup_out, caregiver, worker, 401), strict=True))


EVERYONE = expect(200, 200, 200, 200, 200)
ADMIN_ONLY = expect(200, 403, 403, 403, 403)
ADMIN_CREATES = expect(201, 403, 403, 403, 403)
OFFICE_READS = expect(200, 200, 200, 403, 403)
OFFICE_READS_IN_SCOPE = expect(200, 200, 404, 403, 403)
SCOPED_READ = expect(200, 200, 404, 200, 200)

# (method, path, body, expected statuses). Paths and bodies are formatted/called with the world.
ENDPOINTS = [
    ("GET", "/api/v1/regions", None, EVERYONE),
    ("GET", "/api/v1/regions/{w.community_a1.id}", None, expect(200, 200, 404, 404, 200)),
    ("POST", "/api/v1/regions", lambda w: {"name": "新社区", "level": "community", "parent_id": w.street_a.id},
     ADMIN_CREATES),
    ("PATCH", "/api/v1/regions/{w.community_a1.id}", lambda w: {"name": "长青新村"}, ADMIN_ONLY),
    ("DELETE", "/api/v1/regions/{w.spare_community.id}", None, expect(204, 403, 403, 403, 403)),

    ("GET", "/api/v1/providers", None, OFFICE_READS),
    ("GET", "/api/v1/providers/{w.provider.id}", None, OFFICE_READS),
    ("POST", "/api/v1/providers", lambda w: {"name": "新服务站"}, ADMIN_CREATES),
    ("PATCH", "/api/v1/providers/{w.provider.id}", lambda w: {"contact_name": "周敏"}, ADMIN_ONLY),

    ("GET", "/api/v1/users", None, OFFICE_READS),
    ("GET", "/api/v1/users/me", None, EVERYONE),
    ("GET", "/api/v1/users/{w.worker_a.id}", None, OFFICE_READS_IN_SCOPE),
    ("POST", "/api/v1/users", lambda w: {"username": "wk_new", "password": "long-enough-1",
                                          "role": "community_worker", "community_ids": [w.community_a2.id]},
     ADMIN_CREATES),
    ("PATCH", "/api/v1/users/{w.worker_a.id}", lambda w: {"phone": "13600000000"}, ADMIN_ONLY),

    ("GET", "/api/v1/elders", None, EVERYONE),
    ("GET", "/api/v1/elders/{w.elder_a1.id}", None, SCOPED_READ),
    ("POST", "/api/v1/elders", lambda w: {"name": "孙玉兰", "gender": "female", "birth_on": "1938-03-08",
                                           "community_id": w.community_a1.id}, ADMIN_CREATES),
    ("PATCH", "/api/v1/elders/{w.elder_a1.id}", lambda w: {"phone": "13500000000", "version": 1}, ADMIN_ONLY),
    ("GET", "/api/v1/elders/{w.elder_a1.id}/assessments", None, SCOPED_READ),
    ("POST", "/api/v1/elders/{w.elder_a1.id}/assessments",
     lambda w: {"assessed_on": "2026-11-20", "self_care": 30, "motion": 14, "mental": 26, "perception": 14},
     expect(201, 201, 404, 403, 403)),

    ("GET", "/api/v1/elders/{w.elder_a1.id}/risk-tier", None, SCOPED_READ),
    ("PUT", "/api/v1/elders/{w.elder_a1.id}/risk-tier",
     lambda w: {"risk_tier": "key", "reason": "复核后调整"},
     expect(200, 200, 404, 403, 403)),

    ("GET", "/api/v1/service-types", None, EVERYONE),
    ("GET", "/api/v1/service-types/meal", None, EVERYONE),
    ("POST", "/api/v1/service-types", lambda w: {"code": "hair_cut", "name_zh": "理发", "name_en": "Haircut"},
     ADMIN_CREATES),
    ("PATCH", "/api/v1/service-types/meal", lambda w: {"late_start_minutes": 20}, ADMIN_ONLY),

    ("GET", "/api/v1/plans/care", None, OFFICE_READS),
    ("GET", "/api/v1/plans/care/{w.care_a.id}", None, OFFICE_READS_IN_SCOPE),
    ("POST", "/api/v1/plans/care", lambda w: {"elder_id": w.elder_a2.id, "provider_id": w.provider.id,
                                               "starts_on": "2026-11-23",
                                               "items": [{"service_type": "meal", "recurrence": LUNCH}]},
     ADMIN_CREATES),
    ("PATCH", "/api/v1/plans/care/{w.care_a.id}", lambda w: {"ends_on": "2027-11-22"}, ADMIN_ONLY),
    ("POST", "/api/v1/plans/care/{w.care_a.id}/end", lambda w: {"ends_on": "2026-11-30"}, ADMIN_ONLY),

    ("GET", "/api/v1/plans/patrol", None, OFFICE_READS),
    ("GET", "/api/v1/plans/patrol/{w.patrol_a.id}", None, OFFICE_READS_IN_SCOPE),
    ("POST", "/api/v1/plans/patrol", lambda w: {"elder_id": w.elder_a1.id, "worker_id": w.worker_a.id,
                                                 "tier": "high", "starts_on": "2026-11-23"}, ADMIN_CREATES),
    ("PATCH", "/api/v1/plans/patrol/{w.patrol_a.id}", lambda w: {"modes": ["phone"]}, ADMIN_ONLY),
    ("POST", "/api/v1/plans/patrol/{w.patrol_a.id}/end", lambda w: {"ends_on": "2026-12-31"}, ADMIN_ONLY),

    ("GET", "/api/v1/tasks", None, EVERYONE),
    ("GET", "/api/v1/tasks/{w.care_task_a.id}", None, expect(200, 200, 404, 200, 404)),

    # An image of care_task_a (elder a1, served by the caregiver).
    ("GET", "/api/v1/media/{w.media_sha256}", None, expect(200, 200, 404, 200, 404)),
    ("GET", "/api/v1/status-reports", None, EVERYONE),
    ("GET", "/api/v1/status-reports/{w.report_a.id}", None, SCOPED_READ),

    # Provider accountability (issue 13): workforce figures, task hand-over, rectification orders.
    ("GET", "/api/v1/providers/{w.provider.id}/workforce?month=2026-11", None, OFFICE_READS),
    ("POST", "/api/v1/tasks/{w.care_task_a.id}/reassign", lambda w: {"assignee_id": w.caregiver.id},
     expect(200, 200, 404, 403, 403)),
    ("GET", "/api/v1/rectifications", None, OFFICE_READS),
    ("GET", "/api/v1/rectifications/{w.order.id}", None, OFFICE_READS),
    ("POST", "/api/v1/rectifications", lambda w: {"provider_id": w.provider.id, "findings": "核验率偏低",
                                                  "due_on": "2027-01-15"}, expect(201, 201, 201, 403, 403)),
    ("POST", "/api/v1/rectifications/{w.order.id}/respond", lambda w: {"response": "已整改"},
     expect(403, 403, 403, 403, 403)),  # the provider's manager only
    ("POST", "/api/v1/rectifications/{w.order.id}/extend", lambda w: {"due_on": w.later()},
     expect(200, 200, 200, 403, 403)),
    ("GET", "/api/v1/prices", None, OFFICE_READS),
    ("POST", "/api/v1/prices", lambda w: {"service_type": "meal", "unit": "visit", "price_fen": 1500,
                                           "effective_on": "2026-11-01"}, ADMIN_CREATES),
    ("GET", "/api/v1/funding/{w.care_a.id}", None, OFFICE_READS_IN_SCOPE),
    ("PUT", "/api/v1/funding/{w.care_a.id}", lambda w: {"kind": "self_pay"}, ADMIN_ONLY),
    ("GET", "/api/v1/copay-shares", None, OFFICE_READS),
    ("PUT", "/api/v1/copay-shares", lambda w: {"shares": [{"government_percent": 50}]}, ADMIN_ONLY),
    ("GET", "/api/v1/statements?provider_id={w.provider.id}&month=2026-10", None, OFFICE_READS),
    ("GET", "/api/v1/statements/issued", None, OFFICE_READS),
    ("GET", "/api/v1/statements/{w.statement.id}", None, OFFICE_READS),
    ("GET", "/api/v1/statements/{w.statement.id}.csv", None, OFFICE_READS),
    ("GET", "/api/v1/statements/{w.statement.id}.xlsx", None, OFFICE_READS),
    ("GET", "/api/v1/statements/{w.statement.id}.pdf", None, OFFICE_READS),
    # Each allowed call issues another ended month (a month is issued once).
    ("POST", "/api/v1/statements", lambda w: {"provider_id": w.provider.id, "month": next(w.unissued_months)},
     expect(201, 201, 201, 403, 403)),
    # The provider answers (its manager; tests/settlement checks provider managers), the office approves: the
    # first supervisor to approve locks it, so the calls after it find it locked.
    ("POST", "/api/v1/statements/{w.statement.id}/confirm", None, ADMIN_ONLY),
    ("POST", "/api/v1/statements/{w.statement.id}/dispute",
     lambda w: {"line_ids": [w.statement_line_id], "reason": "重复计费"}, ADMIN_ONLY),
    ("POST", "/api/v1/statements/{w.statement.id}/approve", None, expect(409, 409, 200, 403, 403)),
    # A provider based in street A and serving no elder of street B: street B's supervisor neither reads nor
    # issues nor approves its statements (the district's would).
    ("GET", "/api/v1/statements?provider_id={w.other_provider.id}&month=2026-10", None, OFFICE_READS_IN_SCOPE),
    ("GET", "/api/v1/statements/{w.street_a_statement.id}", None, OFFICE_READS_IN_SCOPE),
    ("GET", "/api/v1/statements/{w.street_a_statement.id}.pdf", None, OFFICE_READS_IN_SCOPE),
    ("POST", "/api/v1/statements", lambda w: {"provider_id": w.other_provider.id, "month": next(w.unissued_months)},
     expect(201, 201, 404, 403, 403)),
    ("POST", "/api/v1/statements/{w.street_a_statement.id}/approve", None, expect(409, 200, 404, 403, 403)),
]


@pytest.fixture
def matrix_world(world, make_region, clock):
    world.spare_community = make_region("待撤社区", "community", world.street_a)
    world.care_task_a = db.session.query(Task).filter_by(care_plan_id=world.care_a.id).order_by(Task.id).first()
    image = b"\x89PNG\r\n\x1a\n" + b"matrix"
    world.media_sha256 = hashlib.sha256(image).hexdigest()
    storage.path_of(world.media_sha256).parent.mkdir(parents=True, exist_ok=True)
    storage.path_of(world.media_sha256).write_bytes(image)
    db.session.add(Media(sha256=world.media_sha256, content_type="image/png", size=len(image),
                         uploaded_by_id=world.caregiver.id, uploaded_at=world.now))
    db.session.flush()
    db.session.add(MediaTask(sha256=world.media_sha256, task_id=world.care_task_a.id, linked_by_id=world.caregiver.id,
                             linked_at=world.now))
    world.report_a = report_status(world.elder_a1, "in_hospital", by=world.worker_a, at=clock(),
                                   returns_on=local_today(clock()) + timedelta(days=7))
    world.order = rectifications.issue(provider_id=world.provider.id, findings="满意度偏低", by=world.admin,
                                       at=clock(), due_on=local_today(clock()) + timedelta(days=14))
    deadlines = iter(range(20, 40))
    world.later = lambda: (local_today(clock()) + timedelta(days=next(deadlines))).isoformat()
    _october_statement(world, clock)
    db.session.commit()
    return world


def _october_statement(world, clock):
    """An issued statement of October with one line: a verified visit of care_a."""
    from backend.settlement import lifecycle, services
    from backend.visits.models import Visit

    start = world.care_task_a.window_start_at - timedelta(days=40)
    task = Task(kind="service", service_type="meal", elder_id=world.elder_a1.id, assignee_id=world.caregiver.id,
                care_plan_id=world.care_a.id, source_key="test:october", window_start_at=start,
                window_end_at=start + timedelta(hours=1), status="completed",
                missed_after_at=start + timedelta(hours=3))
    db.session.add(task)
    db.session.flush()
    db.session.add(Visit(task_id=task.id, user_id=world.caregiver.id, started_at=start,
                         ended_at=start + timedelta(minutes=30), duration_seconds=1800, is_verified=True))
    db.session.flush()
    world.statement = lifecycle.issue(world.provider, f"{start:%Y-%m}", by=world.admin, at=clock())
    world.statement_line_id = services.present(world.statement)["lines"][0]["id"]
    world.other_provider.region_id = world.community_a2.id
    world.street_a_statement = lifecycle.issue(world.other_provider, f"{start:%Y-%m}", by=world.admin, at=clock())
    world.unissued_months = iter(f"2025-{month:02d}" for month in range(1, 13))


def _visible(w, role):
    """What each role may see in lists: elder ids, region ids, user ids."""
    a_regions = {w.district.id, w.street_a.id, w.community_a1.id, w.community_a2.id, w.spare_community.id}
    return {
        "supervisor_in_scope": {"elders": {w.elder_a1.id, w.elder_a2.id}, "regions": a_regions,
                                "users": {w.supervisor_a.id, w.worker_a.id, w.caregiver.id}},
        "supervisor_out_of_scope": {"elders": {w.elder_b1.id},
                                    "regions": {w.district.id, w.street_b.id, w.community_b1.id},
                                    "users": {w.supervisor_b.id, w.worker_b.id, w.caregiver.id}},
        "caregiver": {"elders": {w.elder_a1.id, w.elder_b1.id}, "regions": set(), "users": set()},
        "community_worker": {"elders": {w.elder_a1.id}, "regions": {w.community_a1.id}, "users": set()},
    }.get(role)


def _foreign_rows(path, items, w, role):
    """Rows a list showed that lie outside the caller's scope."""
    visible = _visible(w, role)
    if visible is None:  # admins see everything
        return []
    me = getattr(w, {"caregiver": "caregiver", "community_worker": "worker_a"}.get(role, "admin")).id
    checks = {
        "/api/v1/regions": lambda r: r["id"] in visible["regions"],
        "/api/v1/elders": lambda e: e["id"] in visible["elders"],
        "/api/v1/users": lambda u: u["id"] in visible["users"],
        "/api/v1/plans/care": lambda p: p["elder_id"] in visible["elders"],
        "/api/v1/plans/patrol": lambda p: p["elder_id"] in visible["elders"],
        "/api/v1/status-reports": lambda r: r["elder_id"] in visible["elders"],
        "/api/v1/statements/issued": lambda st: role != "supervisor_out_of_scope" or st["provider_id"] == w.provider.id,
        "/api/v1/tasks": lambda t: t["elder_id"] in visible["elders"] and (
            role.startswith("supervisor") or t["assignee_id"] == me),
    }
    check = checks.get(path)
    return [item for item in items if check and not check(item)]


READS = [e for e in ENDPOINTS if e[0] == "GET"]
WRITES = [e for e in ENDPOINTS if e[0] != "GET"]


def _call_as_every_role(client, headers, w, method, path, body):
    """Status per role, and the foreign rows each list showed. The admin goes last, so writes
    allowed to others change nothing the admin's own call depends on."""
    url = path.format(w=w)
    statuses, leaks = {}, {}
    for role in reversed(ROLES):
        response = client.open(url, method=method, json=body(w) if body else None, headers=headers(role))
        response.close()  # a file sent (an image) is read from disk until then
        statuses[role] = response.status_code
        if response.status_code >= 400:
            assert response.mimetype == "application/problem+json", (role, response.data)
        elif method == "GET" and "items" in (response.get_json() or {}):
            items = response.get_json()["items"]
            if _foreign_rows(path, items, w, role):
                leaks[role] = _foreign_rows(path, items, w, role)
            if path == "/api/v1/elders" and role != "admin":
                assert {e["id"] for e in items} == _visible(w, role)["elders"], role
    return statuses, leaks


def test_every_read_answers_each_role_by_scope_and_lists_leak_nothing(client, matrix_world, headers, clock):
    """Reads change nothing, so one world serves them all; every mismatch is reported at once."""
    wrong, leaks = {}, {}
    for method, path, body, expected in READS:
        statuses, leaked = _call_as_every_role(client, headers, matrix_world, method, path, body)
        wrong.update({(path, role): (status, expected[role]) for role, status in statuses.items()
                      if status != expected[role]})
        leaks.update({(path, role): rows for role, rows in leaked.items()})
    assert wrong == {}, "(path, role): (status, expected)"
    assert leaks == {}


@pytest.mark.parametrize("method, path, body, expected", WRITES,
                         ids=[f"{m} {p.replace('/api/v1', '')}" for m, p, _, _ in WRITES])
def test_every_write_answers_each_role_as_allowed(client, matrix_world, headers, clock, method, path, body,
                                                  expected):
    statuses, _ = _call_as_every_role(client, headers, matrix_world, method, path, body)
    assert statuses == expected
