"""The console's page of reads of personal data: what the console itself records, who sees which
reads, the navigation, both languages and paging."""

from datetime import timedelta

from backend.audit import reads
from backend.clock import local_today
from backend.extensions import db


def _yesterday(clock) -> str:
    return (local_today(clock()) - timedelta(days=1)).isoformat()


def test_an_admin_opening_an_elder_is_listed_for_the_supervisor_of_that_street(ward, as_user):
    as_user(ward.admin).text(f"/console/elders/{ward.elder_a1.id}")
    html = as_user(ward.supervisor_a).text("/console/reads")
    assert "查看完整身份证号" in html and "共 1 条记录" in html
    assert f'href="/console/elders/{ward.elder_a1.id}">{ward.elder_a1.name}</a>' in html
    assert f"GET /console/elders/{ward.elder_a1.id}" in html
    assert "尚无完整身份证号查看或个人信息导出记录" in as_user(ward.supervisor_b).text("/console/reads")


def test_a_supervisor_opening_an_elder_reads_no_id_number(ward, as_user):
    as_user(ward.supervisor_a).text(f"/console/elders/{ward.elder_a1.id}")
    assert "共 0 条记录" in as_user(ward.admin).text("/console/reads")


def test_console_downloads_are_listed_with_their_rows(ward, as_user, clock):
    console = as_user(ward.supervisor_a)
    day = _yesterday(clock)
    export = console.get(f"/console/visits.csv?date_from={day}&date_to={day}")
    assert export.status_code == 200
    rows = len(export.get_data(as_text=True).splitlines()) - 1
    month = local_today(clock()).strftime("%Y-%m")
    assert console.get(f"/console/reports/monthly.pdf?region={ward.street_a.id}&month={month}").status_code == 200
    html = console.text("/console/reads")
    assert "导出服务记录（CSV）" in html and "导出月报（PDF）" in html and ward.street_a.name in html
    assert f'<td class="num">{rows}</td>' in html


def test_an_export_that_never_finished_says_so(ward, as_user, clock):
    console = as_user(ward.supervisor_a)
    day = _yesterday(clock)
    console.get(f"/console/visits.csv?date_from={day}&date_to={day}")  # the body is never read
    assert "未完成" in console.text("/console/reads")


def test_the_page_is_in_the_navigation_and_speaks_english_when_asked(ward, as_user):
    console = as_user(ward.supervisor_a)
    assert 'href="/console/reads"' in console.text("/console/")
    html = console.text("/console/reads?lang=en")
    assert "Data access" in html and "Nobody has seen ID numbers in full" in html and "个人信息查阅记录" not in html


def test_the_list_is_paged_newest_first(ward, as_user):
    for elder in (ward.elder_a1, ward.elder_a2) * 3:
        reads.id_cards_read([elder])
        db.session.commit()
    console = as_user(ward.admin)
    first = console.text("/console/reads?per_page=4")
    assert "共 6 条记录" in first and "第 1 页，共 2 页" in first and "per_page=4&amp;page=2" in first
    assert first.index(ward.elder_a2.name) < first.index(ward.elder_a1.name)
    second = console.text("/console/reads?per_page=4&page=2")
    assert second.count(f'href="/console/elders/{ward.elder_a1.id}"') + \
        second.count(f'href="/console/elders/{ward.elder_a2.id}"') == 2
    assert console.get("/console/reads?page=0").status_code == 422
