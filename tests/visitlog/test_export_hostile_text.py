"""Names people typed cannot break an export: control characters and formulas are made inert."""

import io

from openpyxl import load_workbook

from backend.extensions import db
from backend.visitlog.export import COLUMNS


def test_an_elder_name_with_a_control_character_still_exports_as_a_whole_workbook(log, city, audit):
    city.elder_b1.name = "王德\x07福"
    db.session.commit()
    response = audit(city.admin, "/api/v1/audit/visits.xlsx", codes=1)
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.get_data())).active.iter_rows(values_only=True))
    names = {dict(zip(COLUMNS, row, strict=True))["elder_name"] for row in rows[1:]}
    assert "王德福" in names


def test_a_provider_name_like_a_formula_is_text_in_the_monthly_workbook():
    from backend.visitlog.export import spreadsheet_text

    assert spreadsheet_text("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert spreadsheet_text("暖阳\x0b养老") == "暖阳养老"
    assert spreadsheet_text(5) == 5
