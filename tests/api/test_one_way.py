"""One way to do each thing: one row within scope or 404, one version policy, and a role check
that runs before any body or query is parsed (issue 17, item 13)."""

import ast
from pathlib import Path

import pytest
from sqlalchemy import update

from backend.elders.models import Elder
from backend.errors import Problem
from backend.extensions import db
from backend.scope import elders_clause, scoped_or_404
from backend.versions import check_version
from tests.api.conftest import assert_problem

ROOT = Path(__file__).resolve().parents[2]
VIEWS = sorted((ROOT / "backend").glob("*/views.py"))


# ------------------------------------------------------------------ scoped_or_404

def test_a_row_in_scope_is_loaded(city):
    assert scoped_or_404(Elder, city.elder_a1.id, elders_clause(city.supervisor_a), what="elder") is city.elder_a1


@pytest.mark.parametrize("whose", ["out_of_scope", "missing"])
def test_a_row_out_of_scope_answers_like_a_missing_one(city, whose):
    elder_id = city.elder_a1.id if whose == "out_of_scope" else 10**6
    with pytest.raises(Problem) as raised:
        scoped_or_404(Elder, elder_id, elders_clause(city.supervisor_b), what="elder")
    assert (raised.value.code, raised.value.problem_code, raised.value.extra) == (404, "not_found",
                                                                                  {"resource": "elder"})


def test_a_row_locked_for_an_edit_is_read_afresh(city):
    elder = city.elder_a1
    assert elder.phone != "13900000000"
    db.session.execute(update(Elder).where(Elder.id == elder.id).values(phone="13900000000")
                       .execution_options(synchronize_session=False))
    assert scoped_or_404(Elder, elder.id, elders_clause(city.admin), what="elder").phone != "13900000000"
    assert scoped_or_404(Elder, elder.id, elders_clause(city.admin), what="elder", for_update=True).phone \
        == "13900000000"


# ------------------------------------------------------------------ the version policy

def test_a_version_when_given_must_be_current(city):
    elder = city.elder_a1
    check_version(elder, None, what="elder")
    check_version(elder, elder.version, what="elder")
    with pytest.raises(Problem) as raised:
        check_version(elder, elder.version + 1, what="elder")
    assert (raised.value.code, raised.value.problem_code) == (409, "version_conflict")
    assert raised.value.extra == {"current_version": elder.version}


def test_endpoints_that_accept_a_version_still_work_without_one(client, world, headers):
    plan = client.patch(f"/api/v1/plans/patrol/{world.patrol_a.id}", json={"tier": "high"},
                        headers=headers("admin"))
    assert plan.status_code == 200, plan.get_json()
    user = client.patch(f"/api/v1/users/{world.worker_a.id}", json={"phone": "13600000001"}, headers=headers("admin"))
    assert user.status_code == 200, user.get_json()
    stale = client.patch(f"/api/v1/users/{world.worker_a.id}", json={"phone": "1", "version": 1},
                         headers=headers("admin"))
    assert assert_problem(stale, 409, "version_conflict")["current_version"] == user.get_json()["version"]


def test_an_elder_edit_still_requires_its_version(client, city, headers):
    response = client.patch(f"/api/v1/elders/{city.elder_a1.id}", json={"phone": "1"}, headers=headers("admin"))
    assert_problem(response, 422, "validation_failed", "version")


# ------------------------------------------------------------------ roles before arguments

def _decorator_names(function: ast.FunctionDef) -> list[str]:
    return [ast.unparse(d.func if isinstance(d, ast.Call) else d) for d in function.decorator_list]


@pytest.mark.parametrize("path", VIEWS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_view_checks_its_roles_before_it_parses_its_arguments(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef):
            names = _decorator_names(node)
            roles = [i for i, name in enumerate(names) if name == "roles"]
            arguments = [i for i, name in enumerate(names) if name.endswith(".arguments")]
            if roles and arguments:
                assert max(roles) < min(arguments), f"{node.name}: @roles must stand above @…arguments"


@pytest.mark.parametrize("role, method, path, body", [
    ("caregiver", "get", "/api/v1/audit/visits?limit=many", None),
    ("caregiver", "get", "/api/v1/audit/visits.csv?region_id=x", None),
    ("supervisor_in_scope", "post", "/api/v1/sync/push", {"items": "not a list"}),
    ("caregiver", "post", "/api/v1/elders", {"name": 5}),
    ("community_worker", "post", "/api/v1/callbacks/draws", {"month": "not a month"}),
])
def test_a_forbidden_caller_with_a_malformed_request_hears_403_not_422(client, city, headers, role, method, path,
                                                                        body):
    response = getattr(client, method)(path, json=body, headers=headers(role)) if body is not None \
        else getattr(client, method)(path, headers=headers(role))
    assert_problem(response, 403, "forbidden")
