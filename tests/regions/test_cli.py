"""`carerounds regions list` and the plate commands' answer for a region that is not a community."""


def test_regions_list_prints_the_tree_with_ids_levels_and_codes(app, city):
    city.district.code = "210105000000"
    from backend.extensions import db

    db.session.commit()
    out = app.test_cli_runner().invoke(args=["regions", "list"]).output
    lines = out.splitlines()
    assert lines[0].split() == [str(city.district.id), "清河区", "[区/县]", "210105000000"]
    street = next(line for line in lines if "长青街道" in line)
    community = next(line for line in lines if "长青社区" in line)
    assert street.startswith(f"{city.street_a.id:>6}    ") and "[街道/乡镇]" in street
    assert community.startswith(f"{city.community_a1.id:>6}      ") and "[社区/村]" in community


def test_printing_the_plates_of_a_street_names_its_communities(app, city, tmp_path):
    result = app.test_cli_runner().invoke(
        args=["plates", "print", "--community", str(city.street_a.id), "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code != 0
    assert "长青街道" in result.output and "street" in result.output
    assert f"{city.community_a1.id:>6}  长青社区" in result.output and "松柏社区" in result.output
    assert "东湖社区" not in result.output


def test_regions_list_shows_a_city_above_its_districts(app, city, make_region):
    from backend.regions import services

    benxi = make_region("本溪市", "city", code="210500000000")
    services.update_region(city.district, {"parent_id": benxi.id}, by=None)
    make_region("平山区", "district", benxi, code="210502000000")
    from backend.extensions import db

    db.session.commit()
    lines = app.test_cli_runner().invoke(args=["regions", "list"]).output.splitlines()
    assert lines[0].split() == [str(benxi.id), "本溪市", "[市]", "210500000000"]
    assert lines[1].split()[1:3] == ["平山区", "[区/县]"] and lines[1].startswith(f"{lines[1].split()[0]:>6}    ")
    qinghe = next(line for line in lines if "清河区" in line)
    community = next(line for line in lines if "长青社区" in line)
    assert qinghe.startswith(f"{city.district.id:>6}    ")
    assert community.startswith(f"{city.community_a1.id:>6}        ")
