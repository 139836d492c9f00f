"""The console and the API list elders, tasks and call-backs with one query function each, and
sign in through one boundary (issue 17, item 13)."""

import ast
from pathlib import Path

import pytest

from backend.elders import services as elders
from backend.reviews import sampling
from backend.tasks import services as tasks

ROOT = Path(__file__).resolve().parents[2]


def spy(monkeypatch, module) -> list[str]:
    """Record who calls `module.listed` (their usernames) and let each call through."""
    calls, original = [], module.listed

    def listed(user, args, **kwargs):
        calls.append(user.username)
        return original(user, args, **kwargs)
    monkeypatch.setattr(module, "listed", listed)
    return calls


def test_the_elders_page_and_the_api_list_elders_with_one_query(monkeypatch, city, login, client, as_user):
    calls = spy(monkeypatch, elders)
    listed = client.get("/api/v1/elders", headers=login(city.supervisor_a)).get_json()["items"]
    html = as_user(city.supervisor_a).text("/console/elders")
    assert calls == [city.supervisor_a.username] * 2
    assert listed and all(elder["name"] in html for elder in listed)
    assert city.elder_b1.name not in html


def test_the_call_backs_page_and_the_api_list_call_backs_with_one_query(monkeypatch, city, login, client, as_user):
    calls = spy(monkeypatch, sampling)
    assert client.get("/api/v1/callbacks", headers=login(city.supervisor_a)).status_code == 200
    as_user(city.supervisor_a).text("/console/callbacks")
    assert calls == [city.supervisor_a.username] * 2


def test_the_api_lists_tasks_with_the_tasks_query(monkeypatch, city, login, client):
    calls = spy(monkeypatch, tasks)
    assert client.get("/api/v1/tasks", headers=login(city.caregiver)).status_code == 200
    assert calls == [city.caregiver.username]


@pytest.mark.parametrize("path", ["backend/elders/views.py", "backend/tasks/views.py", "backend/reviews/views.py",
                                  "backend/console/pages_elders.py", "backend/console/pages_callbacks.py"])
def test_list_views_build_no_query_of_their_own(path):
    """A list's filters live in its query function; the view only pages what it returns."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    selects = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call)
               and ast.unparse(node.func) == "select" and node.args
               and ast.unparse(node.args[0]) in ("Elder", "Task", "Callback")]
    assert selects == [], f"{path} selects elders, tasks or call-backs itself at lines {selects}"


def test_wrong_console_passwords_count_like_the_api_s(console, city):
    for _ in range(5):
        assert console.sign_in(city.supervisor_a, password="not-the-password").status_code == 401
    assert console.sign_in(city.supervisor_a).status_code == 429  # the right one waits now
