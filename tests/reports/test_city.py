"""The city level: 清河区 of conftest's November moved under 本溪市 beside a second district, 平山区,
whose figures were worked out by hand; the city's report has a row per district adding up to its
total, and each district's supervisor sees only their own district.

平山区 (one street, one community, one solitary elder under provider 颐康): Q1 completed on time,
verified, rated 4; Q2 missed; QP a patrol completed at the door (unverified); one follow-up opened
on 10 November, due the next day and never resolved.
"""

import csv
import io

import pytest
from openpyxl import load_workbook

from backend.extensions import db
from backend.regions import services as regions
from tests.poppler import pdf_text

COUNTS = ("planned", "completed", "completed_on_time", "late_synced", "missed", "cancelled", "verified",
          "satisfaction_rated", "satisfaction_low", "followups_opened", "followups_resolved", "followups_overdue",
          "in_scope_elders", "in_scope_elders_visited")
PINGSHAN = {"planned": 3, "completed": 2, "completed_on_time": 2, "late_synced": 0, "missed": 1, "cancelled": 0,
            "verified": 1, "verification_rate": 0.5, "satisfaction_rated": 1, "satisfaction_mean": 4.0,
            "satisfaction_low": 0, "followups_opened": 1, "followups_resolved": 0, "followups_overdue": 1,
            "in_scope_elders": 1, "in_scope_elders_visited": 1, "patrol_coverage": 1.0}


@pytest.fixture
def benxi(world, make_region, make_user, make_elder, make_care_plan):
    w = world
    w.city = make_region("本溪市", "city", code="210500000000")
    regions.update_region(w.district, {"parent_id": w.city.id}, by=w.admin)
    w.pingshan = make_region("平山区", "district", w.city, code="210502000000")
    street = make_region("千金街道", "street", w.pingshan, code="210502001000")
    w.community_p = make_region("千金社区", "community", street, code="210502001001")
    w.supervisor_city = make_user("sup_city", "supervisor", region_id=w.city.id)
    w.supervisor_p = make_user("sup_pingshan", "supervisor", region_id=w.pingshan.id)
    cg3 = make_user("cg3", "caregiver", provider_id=w.provider.id)
    worker = make_user("wk_p", "community_worker", community_ids=[w.community_p.id])
    w.elder_p = make_elder(w.community_p, "周桂芳", categories=["solitary"])
    plan = make_care_plan(w.elder_p, w.provider, [("meal", {"freq": "daily", "start": "10:00", "end": "11:00"},
                                                  20, cg3)])
    w.task("Q1", w.elder_p, cg3, "2026-11-09 10:00", plan=plan, started="2026-11-09 10:10", minutes=30,
           verified=True, satisfaction=4)
    w.task("Q2", w.elder_p, cg3, "2026-11-10 10:00", plan=plan, status="missed")
    w.task("QP", w.elder_p, worker, "2026-11-16 09:00", end="2026-11-16 17:00", kind="patrol",
           started="2026-11-16 09:40")
    w.followup(w.elder_p, w.provider, "2026-11-10 09:00", "2026-11-11 09:00")
    db.session.commit()
    return w


def test_the_city_report_has_a_row_per_district_and_its_total_is_their_sum(benxi, report):
    response = report(benxi.supervisor_city, benxi.city)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["region"] == {"id": benxi.city.id, "name": "本溪市", "level": "city"}
    rows = {row["name"]: row for row in body["regions"]}
    assert sorted(rows) == ["平山区", "清河区"] and {row["level"] for row in rows.values()} == {"district"}
    assert {key: rows["平山区"][key] for key in PINGSHAN} == PINGSHAN
    for key in COUNTS:
        assert body["total"][key] == rows["平山区"][key] + rows["清河区"][key], key
    # 清河区's row is its own report's total, as conftest worked it out.
    district = report(benxi.admin, benxi.district).get_json()["total"]
    assert {key: rows["清河区"][key] for key in district if key not in ("region_id", "name", "level")} == \
        {key: value for key, value in district.items() if key not in ("region_id", "name", "level")}
    assert body["total"]["verification_rate"] == round(body["total"]["verified"] / body["total"]["completed"], 4)


def test_a_district_supervisor_does_not_see_the_other_district(benxi, report, client, login):
    for region in (benxi.city, benxi.pingshan, benxi.community_p):
        assert report(benxi.supervisor_all, region).status_code == 404
        assert report(benxi.supervisor_p, region).status_code == (404 if region is benxi.city else 200)
    assert report(benxi.supervisor_p, benxi.district).status_code == 404
    h = login(benxi.supervisor_all)
    seen = {r["id"] for r in client.get("/api/v1/regions?per_page=100", headers=h).get_json()["items"]}
    assert benxi.city.id in seen and benxi.district.id in seen  # their district and its city above
    assert not seen & {benxi.pingshan.id, benxi.community_p.id}
    elders = {e["id"] for e in client.get("/api/v1/elders?per_page=100", headers=h).get_json()["items"]}
    assert benxi.elder_a1.id in elders and benxi.elder_p.id not in elders


def test_the_city_supervisor_sees_every_district(benxi, client, login):
    h = login(benxi.supervisor_city)
    elders = {e["id"] for e in client.get("/api/v1/elders?per_page=100", headers=h).get_json()["items"]}
    assert {benxi.elder_a1.id, benxi.elder_b1.id, benxi.elder_p.id} <= elders
    tasks = client.get("/api/v1/tasks?per_page=100", headers=h).get_json()["items"]
    assert {benxi.tasks["Q1"].id, benxi.tasks["T1"].id} <= {t["id"] for t in tasks}


def test_the_city_roll_up_in_csv_xlsx_and_pdf(benxi, report, tmp_path):
    rows = list(csv.reader(io.StringIO(report(benxi.supervisor_city, benxi.city, ext=".csv").data.decode("utf-8-sig"))))
    assert rows[0] == ["本溪市 2026年11月 居家养老上门服务月报"]
    assert ["层级", "市"] in rows
    heading, *body = rows[rows.index(["# 分区域"]) + 1:rows.index(["# 服务机构"]) - 1]
    assert [row[1:4] for row in body] == [["平山区", "区/县", "3"], ["清河区", "区/县", "11"],
                                         ["合计（本溪市）", "市", "14"]]
    book = load_workbook(io.BytesIO(report(benxi.supervisor_city, benxi.city, ext=".xlsx").data), read_only=True)
    sheet = [row[1:4] for row in book["分区域"].iter_rows(values_only=True)]
    assert sheet[1:] == [("平山区", "区/县", 3), ("清河区", "区/县", 11), ("合计（本溪市）", "市", 14)]
    book.close()
    text = pdf_text(report(benxi.supervisor_city, benxi.city, ext=".pdf").data, tmp_path)
    assert "本溪市 2026年11月 居家养老上门服务月报" in text and "平山区" in text and "清河区" in text
