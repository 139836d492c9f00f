"""`carerounds plates issue` and `carerounds plates print`."""

from backend.extensions import db
from backend.plates.models import DoorPlate
from backend.plates.services import issue_plate


def test_issue_gives_every_active_elder_without_a_plate_a_static_plate(app, city, make_elder, now):
    issue_plate(city.elder_a1, by=city.admin, at=now)
    make_elder(city.community_a2, "赵淑珍", is_active=False)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["plates", "issue"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2 plates issued"
    assert db.session.query(DoorPlate).filter_by(status="active").count() == 3
    assert app.test_cli_runner().invoke(args=["plates", "issue"]).output.strip() == "0 plates issued"


def test_issue_can_be_limited_to_one_community(app, city):
    result = app.test_cli_runner().invoke(args=["plates", "issue", "--community", str(city.community_b1.id)])
    assert result.output.strip() == "1 plates issued"
    assert [p.elder_id for p in db.session.query(DoorPlate)] == [city.elder_b1.id]


def test_print_writes_the_community_sheet(app, city, now, tmp_path):
    issue_plate(city.elder_a1, by=city.admin, at=now)
    db.session.commit()
    out = tmp_path / "plates.pdf"
    result = app.test_cli_runner().invoke(args=["plates", "print", "--community", str(city.community_a1.id),
                                                "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")


def test_an_unknown_community_is_a_clear_error(app, city, tmp_path):
    runner = app.test_cli_runner()
    for args in (["print", "--community", "999999", "--out", str(tmp_path / "x.pdf")],
                 ["print", "--community", str(city.street_a.id), "--out", str(tmp_path / "x.pdf")],
                 ["issue", "--community", "999999"]):
        result = runner.invoke(args=["plates", *args])
        assert result.exit_code == 1
        assert "no region with id" in result.output or "not a community" in result.output
    assert not (tmp_path / "x.pdf").exists()


def test_every_plates_command_has_help(app):
    runner = app.test_cli_runner()
    for args in (["plates", "--help"], ["plates", "issue", "--help"], ["plates", "print", "--help"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0 and "Usage:" in result.output
