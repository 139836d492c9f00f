"""A browser-like console client: it reads the CSRF token from each form it is shown."""

import re

import pytest

from tests.conftest import PASSWORD

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class ConsoleClient:
    def __init__(self, client):
        self.client = client
        self.token = None

    def get(self, path, **kwargs):
        response = self.client.get(path, **kwargs)
        found = TOKEN.search(response.get_data(as_text=True))
        if found:
            self.token = found.group(1)
        return response

    def post(self, path, data=None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token)
        return self.client.post(path, data=data, **kwargs)

    def sign_in(self, user, password=PASSWORD):
        self.get("/console/login")
        return self.post("/console/login", {"username": user.username, "password": password})


@pytest.fixture
def console(app):
    return ConsoleClient(app.test_client())
