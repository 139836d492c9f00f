"""Two `carerounds serve --no-scheduler` hosts on one database, a phone's requests dealt to them
in turn: pull and push stay exactly-once whichever host hears a request or its resend."""

import hashlib
import itertools
import threading
import uuid
from datetime import timedelta

import requests
from sqlalchemy import func, select

from backend.clock import utcnow
from backend.extensions import db
from backend.media.models import Media
from backend.tasks.generation import generate_tasks
from backend.tasks.models import Task
from backend.visits.models import VisitItem
from tests.conftest import PASSWORD

ALL_DAY = {"freq": "daily", "start": "00:00", "end": "23:59"}


class RoundRobinPhone:
    """A phone whose every request goes to the next host in turn."""

    def __init__(self, hosts, username, device_id):
        self.hosts, self.turn, self.device_id, self.seq = hosts, itertools.cycle(hosts), device_id, 0
        answer = requests.post(next(self.turn) + "/api/v1/auth/login", timeout=10, json={
            "username": username, "password": PASSWORD, "device_id": device_id})
        assert answer.status_code == 200, answer.text
        self.headers = {"Authorization": "Bearer " + answer.json()["access_token"]}

    def pull(self, cursor=None):
        query = {"device_id": self.device_id, **({"cursor": cursor} if cursor else {})}
        answer = requests.get(next(self.turn) + "/api/v1/sync/pull", params=query, headers=self.headers, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def note(self, task_id, text):
        self.seq += 1
        return {"id": str(uuid.uuid4()), "seq": self.seq, "type": "note", "task_id": task_id,
                "captured_at": utcnow().isoformat(), "qr": None, "location": None, "text": text}

    def push(self, items, host=None):
        envelope = {"device_id": self.device_id, "device_time": utcnow().isoformat(), "items": items}
        answer = requests.post((host or next(self.turn)) + "/api/v1/sync/push", json=envelope, headers=self.headers,
                               timeout=30)
        assert answer.status_code == 200, answer.text
        return [result["status"] for result in answer.json()["results"]]


def test_a_phone_syncs_exactly_once_through_two_hosts(processes, city, make_care_plan):
    # The hosts read the real clock, so the tasks are made around it (not the tests' stopped clock).
    now = utcnow()
    make_care_plan(city.elder_a1, city.provider, [("meal", ALL_DAY, 20, city.caregiver)],
                   revised_at=now - timedelta(days=2))
    generate_tasks(now=now - timedelta(days=1), horizon_days=3)
    db.session.commit()
    starting = [processes.start_serving(name, "--no-scheduler") for name in ("host-a", "host-b")]
    hosts = [processes.wait(*started) for started in starting]
    phone = RoundRobinPhone(hosts, city.caregiver.username, "phone-rr")

    page = phone.pull()
    task_ids = sorted(task["id"] for task in page["tasks"]["upserted"])
    assert task_ids, page
    while page["has_more"]:
        page = phone.pull(page["cursor"])
    cursor = page["cursor"]

    batches = [[phone.note(task_ids[n % len(task_ids)], f"第{b}批第{n}条") for n in range(20)] for b in range(4)]
    for batch in batches:
        assert phone.push(batch) == ["accepted"] * 20
        assert phone.push(batch) == ["duplicate"] * 20  # resent to the other host after a lost answer

    # The same new batch sent to both hosts at once: each item is taken by exactly one of them.
    racing = [phone.note(task_ids[0], f"同时{n}") for n in range(30)]
    answers = {}
    threads = [threading.Thread(target=lambda h=host: answers.__setitem__(h, phone.push(racing, host=h)))
               for host in hosts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 2
    for taken in zip(*answers.values(), strict=True):
        assert sorted(taken) == ["accepted", "duplicate"]

    db.session.expire_all()
    sent = [item["id"] for batch in [*batches, racing] for item in batch]
    stored = db.session.execute(select(VisitItem.id).where(VisitItem.id.in_(sent))).scalars().all()
    assert sorted(stored) == sorted(sent)  # each once
    assert db.session.execute(select(func.count()).select_from(VisitItem)).scalar() == len(sent)

    # An image sent to one host and resent to the other (the media folder is shared): stored once.
    image = b"\x89PNG\r\n\x1a\n" + b"two hosts" * 1000
    digest = hashlib.sha256(image).hexdigest()
    statuses = [requests.put(f"{host}/api/v1/media/{digest}", params={"task_id": task_ids[0]}, data=image, timeout=10,
                             headers={**phone.headers, "Content-Type": "image/png"}).status_code for host in hosts]
    assert statuses == [201, 200]
    assert db.session.execute(select(func.count()).select_from(Media)).scalar() == 1

    # Pulling on from the cursor through either host: the task set is unchanged, no reset.
    after = phone.pull(cursor)
    assert not after.get("reset") and after["digest"]["count"] == len(task_ids)
    assert db.session.execute(select(func.count()).select_from(Task)).scalar() >= len(task_ids)
