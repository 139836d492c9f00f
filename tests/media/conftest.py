"""Images as a phone uploads them, and the visits fixtures they belong to."""

import hashlib

import pytest

from sync.plates import qr_png
from tests.visits.conftest import field  # noqa: F401  (a caregiver's tasks and phone)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(autouse=True)
def media_folder(app, tmp_path, monkeypatch):
    """A media folder of the test's own."""
    monkeypatch.setitem(app.config, "MEDIA_FOLDER", str(tmp_path / "media"))
    return tmp_path / "media"


@pytest.fixture
def png():
    return qr_png("签名 signature")


def jpeg(body: bytes = b"photo") -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + body


def webp(body: bytes = b"photo") -> bytes:
    return b"RIFF" + (len(body) + 4).to_bytes(4, "little") + b"WEBP" + body


def put(client, headers, data, task_id, content_type="image/png", digest=None, **kwargs):
    return client.put(f"/api/v1/media/{digest or sha(data)}", query_string={"task_id": task_id}, data=data,
                      headers={**headers, "Content-Type": content_type}, **kwargs)


from tests.console.conftest import as_user  # noqa: E402, F401  (a signed-in console client)
