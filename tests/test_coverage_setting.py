"""CARE_COVERAGE_CATEGORIES: patrol coverage's population, read from the environment at start."""

import pytest

from backend import create_app
from backend.reports.render import coverage_categories
from tests.pg import database_config


def _app(app, tmp_path):
    return create_app({key: app.config[key] for key in ("SECRET_KEY", "TOKEN_SECRET", "QR_SECRET")}
                      | {"INSTANCE_PATH": str(tmp_path)} | database_config(app))


def test_the_coverage_categories_come_from_the_environment(app, tmp_path, monkeypatch):
    monkeypatch.setenv("CARE_COVERAGE_CATEGORIES", " solitary, disabled ,")
    configured = _app(app, tmp_path)
    assert configured.config["COVERAGE_CATEGORIES"] == ("solitary", "disabled")
    with configured.test_request_context():
        assert coverage_categories({"coverage": {"categories": configured.config["COVERAGE_CATEGORIES"]}}) == \
            "独居、失能/半失能"


def test_without_the_variable_the_policy_groups_are_counted(app, tmp_path, monkeypatch):
    monkeypatch.delenv("CARE_COVERAGE_CATEGORIES", raising=False)
    assert _app(app, tmp_path).config["COVERAGE_CATEGORIES"] == ("solitary", "empty_nest", "left_behind",
                                                                 "special_family")


@pytest.mark.parametrize("value, named", [("solitary,widowed", "'widowed'"), ("Solitary", "'Solitary'"),
                                          ("", "names no elder category"), (" , ", "names no elder category")])
def test_an_unknown_or_empty_category_stops_the_app_naming_it(app, tmp_path, monkeypatch, value, named):
    monkeypatch.setenv("CARE_COVERAGE_CATEGORIES", value)
    with pytest.raises(RuntimeError, match="CARE_COVERAGE_CATEGORIES") as stopped:
        _app(app, tmp_path)
    assert named in str(stopped.value) and "special_family" in str(stopped.value)
