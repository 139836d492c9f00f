"""The demo city shows the register at work: a patrol's `deceased` report awaiting confirmation."""

from sqlalchemy import func, select

from backend.demo import seed_demo
from backend.elders.models import Elder
from backend.extensions import db
from backend.followups.models import Followup
from backend.plates.models import DoorPlate
from backend.register.models import StatusReport
from backend.tasks.models import Task


def test_the_demo_city_has_a_deceased_report_awaiting_confirmation(app, clock):
    seed_demo(now=clock())
    report = db.session.execute(select(StatusReport)).scalar_one()
    assert (report.kind, report.state) == ("deceased", "pending") and report.visit_item_id is not None
    assert report.note == "邻居告知老人已于昨夜去世，家属正在料理后事"
    followup = db.session.get(Followup, report.followup_id)
    assert (followup.kind, followup.status) == ("register_change", "open") and followup.owner_id is not None
    elder = db.session.get(Elder, report.elder_id)
    assert elder.status == "active"  # until the supervisor confirms it
    scheduled = db.session.execute(select(func.count()).select_from(Task).where(
        Task.elder_id == elder.id, Task.status == "scheduled", Task.kind == "service")).scalar()
    assert scheduled > 0
    plates = db.session.execute(select(func.count()).select_from(DoorPlate).where(
        DoorPlate.status == "active")).scalar()
    assert plates == db.session.execute(select(func.count()).select_from(Elder)).scalar()
