"""Who may read the visit log: admins everything, supervisors their region subtree, field roles nothing."""

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from backend.extensions import db
from backend.visitlog.models import ExportLog
from tests.visitlog.conftest import ids, newest_first

PATHS = ("/api/v1/audit/visits", "/api/v1/audit/visits/{id}", "/api/v1/audit/visits.csv",
         "/api/v1/audit/visits.xlsx")


def csv_ids(response):
    assert response.status_code == 200, response.get_json()
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    return [int(row["任务编号"]) for row in rows]


def xlsx_ids(response):
    assert response.status_code == 200, response.get_json()
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).active
    return [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_a_street_supervisor_sees_only_their_street(log, city, audit):
    assert ids(audit(city.supervisor_a)) == newest_first(log.street_a)
    assert ids(audit(city.supervisor_b)) == newest_first(log.street_b)
    assert ids(audit(city.supervisor_all)) == newest_first(log.visits)


def test_filters_never_widen_a_supervisors_scope(log, city, audit):
    assert ids(audit(city.supervisor_a, region_id=city.street_b.id)) == []
    assert ids(audit(city.supervisor_a, region_id=city.district.id)) == newest_first(log.street_a)
    assert ids(audit(city.supervisor_a, elder_id=city.elder_b1.id)) == []
    assert ids(audit(city.supervisor_a, provider_id=city.provider.id, status="cancelled")) == []


def test_a_visit_in_another_street_is_404_for_a_supervisor(log, city, audit):
    path = f"/api/v1/audit/visits/{log.b1_outside.id}"
    assert audit(city.supervisor_a, path).status_code == 404
    assert audit(city.supervisor_b, path).status_code == 200
    assert audit(city.admin, path).status_code == 200


def test_a_supervisor_exports_only_their_street_as_csv_and_xlsx(log, city, audit):
    expected = newest_first(log.street_a)
    assert csv_ids(audit(city.supervisor_a, "/api/v1/audit/visits.csv")) == expected
    assert xlsx_ids(audit(city.supervisor_a, "/api/v1/audit/visits.xlsx")) == expected
    assert csv_ids(audit(city.supervisor_a, "/api/v1/audit/visits.csv", region_id=city.community_b1.id)) == []
    assert xlsx_ids(audit(city.supervisor_a, "/api/v1/audit/visits.xlsx", elder_id=city.elder_b1.id)) == []


@pytest.mark.parametrize("role", ["caregiver", "worker_a"])
@pytest.mark.parametrize("path", PATHS)
def test_field_roles_may_not_read_the_visit_log(city, audit, role, path):
    response = audit(getattr(city, role), path.format(id=1))
    assert response.status_code == 403
    assert db.session.execute(select(func.count()).select_from(ExportLog)).scalar() == 0


@pytest.mark.parametrize("path", PATHS)
def test_the_visit_log_needs_a_token(client, path):
    assert client.get(path.format(id=1)).status_code == 401
