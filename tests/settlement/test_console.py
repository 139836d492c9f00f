"""The console's statement pages, in Chinese: the month's draft, issuing, the lines, dispute and approval."""

import re

import pytest

from tests.console.conftest import ConsoleClient
from tests.settlement.conftest import month_of


@pytest.fixture
def as_user(app):
    def sign_in(user):
        client = ConsoleClient(app.test_client())
        assert client.sign_in(user).status_code == 302
        return client
    return sign_in


def test_a_supervisor_issues_and_approves_a_month_and_an_admin_disputes_a_line(
        as_user, city, months, make_price, make_plan, make_visit, into_next_month, eligible):
    make_price("meal", price_fen=1500)
    eligible(city.elder_a1)
    plan = make_plan(funding="copay")
    make_visit(plan, day=3)
    make_visit(plan, day=4, flags=["no_qr"])
    into_next_month()
    month = month_of(months[0])
    supervisor = as_user(city.supervisor_a)
    page = supervisor.text(f"/console/statements?provider_id={city.provider.id}&month={month}")
    assert "草稿" in page and "15.00" in page and "暂缓" in page and "应付" in page
    assert "12.00" in page and "3.00" in page  # 低保: 80 % government, 20 % the elder
    issued = supervisor.post("/console/statements/issue", {"provider_id": city.provider.id, "month": month})
    assert issued.status_code == 302
    statement_id = int(re.search(r"/statements/(\d+)", issued.headers["Location"]).group(1))
    page = supervisor.text(f"/console/statements/{statement_id}")
    assert page.count("<td>应付</td>") == 1 and page.count("<td>暂缓</td>") == 1
    held = supervisor.text(f"/console/statements/{statement_id}?state=held")
    assert held.count("<td>应付</td>") == 0 and held.count("<td>暂缓</td>") == 1

    admin = as_user(city.admin)
    page = admin.text(f"/console/statements/{statement_id}")
    line_id = re.search(r'name="line_ids" value="(\d+)"', page).group(1)
    answer = admin.post(f"/console/statements/{statement_id}/dispute", {"line_ids": line_id, "reason": "重复计费"})
    assert answer.status_code == 302
    assert "重复计费" in admin.text(f"/console/statements/{statement_id}")
    approved = supervisor.post(f"/console/statements/{statement_id}/approve")
    assert approved.status_code == 302
    assert "已审批锁定" in supervisor.text(f"/console/statements/{statement_id}")
    for ext, head in (("csv", b"statement_id"), ("xlsx", b"PK"), ("pdf", b"%PDF")):
        download = supervisor.get(f"/console/statements/{statement_id}.{ext}")
        assert download.status_code == 200 and download.data.startswith(head)


def test_a_statement_of_another_scope_is_not_found(as_user, city, months, make_price, make_plan, make_visit,
                                                   into_next_month):
    supervisor = as_user(city.supervisor_a)
    supervisor.text("/console/statements/999999", status=404)
