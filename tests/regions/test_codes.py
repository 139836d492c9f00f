"""统计用区划代码: each level's shape, and a child's code extending its parent's."""

import pytest

from backend.regions.codes import code_problem


@pytest.mark.parametrize("level, code", [
    ("city", "210500000000"), ("district", "210502000000"), ("street", "210502001000"),
    ("community", "210502001001"), ("district", "110101000000"), ("community", "130402100201"),
])
def test_codes_of_the_right_shape_for_their_level_pass(app, level, code):
    assert code_problem(level, code) is None


@pytest.mark.parametrize("level, code", [
    ("city", "21050000000"),      # 11 digits
    ("city", "2105000000001"),    # 13
    ("city", "21050000000x"),
    ("city", "２１０５００００００００"),  # full-width digits are not ASCII digits
    ("city", "210000000000"),     # a province, not a city
    ("city", "210501000000"),     # a district's code
    ("district", "210500000000"),  # a city's
    ("district", "210502001000"),  # a street's
    ("street", "210502000000"),
    ("street", "210502001001"),
    ("community", "210502001000"),
    ("community", "210500001001"),  # no district digits
    ("district", "000502000000"),  # no province
])
def test_codes_of_the_wrong_shape_are_refused(app, level, code):
    assert code_problem(level, code)


def test_a_childs_code_must_begin_with_its_parents_digits(app):
    assert code_problem("district", "210502000000", "city", "210500000000") is None
    assert code_problem("district", "210602000000", "city", "210500000000")
    assert code_problem("street", "210502001000", "district", "210502000000") is None
    assert code_problem("street", "210503001000", "district", "210502000000")
    assert code_problem("community", "210502001007", "street", "210502001000") is None
    assert code_problem("community", "210502002007", "street", "210502001000")
    assert code_problem("community", "210502002007", "street", None) is None  # a parent without a code


def test_the_reason_is_chinese_by_default(app):
    with app.test_request_context():
        reason = code_problem("community", "210502002007", "street", "210502001000")
    assert reason == "须以上级区域的代码 210502001 开头"
