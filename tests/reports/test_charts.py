"""The monthly report's charts: every value inside the axis, every provider named in full."""

from datetime import date, timedelta

import pytest

from backend.reports.charts import daily_chart, nice_step, verification_chart

WIDTH = 500.0


def days(*planned: int) -> list[dict]:
    first = date(2026, 11, 1)
    return [{"date": first + timedelta(days=n), "planned": p, "completed": p // 2} for n, p in enumerate(planned)]


@pytest.mark.parametrize(("highest", "step"), [(0, 1), (3, 1), (7, 2), (23, 5), (137, 50), (1234, 500)])
def test_gridline_steps_are_one_two_or_five_times_a_power_of_ten(highest, step):
    assert nice_step(highest) == step


@pytest.mark.parametrize("first_day", [0, 4, 23, 137, 999])
def test_a_busy_first_day_stays_inside_the_daily_chart(first_day):
    chart = daily_chart(days(first_day, 3, 2, 5), WIDTH).contents[0]
    axis = chart.valueAxis
    highest = max(first_day, 5)
    assert axis.valueMax >= highest and axis.valueMax % axis.valueStep == 0
    assert axis.valueMax < highest + axis.valueStep  # and no empty band above the busiest day


def test_providers_are_named_in_full_on_their_bars_first_on_top():
    names = ["暖阳养老服务有限公司", "清河区长青街道社区居家养老综合服务中心有限公司"]
    providers = [{"name": name, "verification_rate": rate} for name, rate in zip(names, (0.5, None), strict=True)]
    chart = verification_chart(providers, 0.9, WIDTH).contents[0]
    shown = [label.replace("\n", "") for label in chart.categoryAxis.categoryNames]
    assert shown == names[::-1]  # reportlab draws the first category at the bottom
    assert chart.data == [[0, 50.0]]
    assert chart.x > 0 and chart.x + chart.width <= WIDTH


def test_a_district_of_many_providers_keeps_its_chart_on_one_page():
    providers = [{"name": f"第{n}养老服务有限公司", "verification_rate": n / 80} for n in range(80)]
    assert verification_chart(providers, 0.9, WIDTH).height < 230 * 72 / 25.4
