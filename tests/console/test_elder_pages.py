"""Elder pages: the scoped list and search, one elder's page, and the door plate image."""


def test_the_list_searches_within_scope(ward, as_user):
    console = as_user(ward.supervisor_a)
    html = console.text("/console/elders")
    assert ward.elder_a1.name in html and ward.elder_a2.name in html and ward.elder_b1.name not in html
    assert "共 0 位老人" in console.text(f"/console/elders?q={ward.elder_b1.name}")
    html = console.text(f"/console/elders?q={ward.elder_a1.name[:1]}")
    assert ward.elder_a1.name in html and ward.elder_a2.name not in html


def test_an_admin_sees_the_id_number_and_a_supervisor_a_masked_one(ward, as_user):
    number = ward.elder_a1.id_card_no
    assert number in as_user(ward.admin).text(f"/console/elders/{ward.elder_a1.id}")
    html = as_user(ward.supervisor_a).text(f"/console/elders/{ward.elder_a1.id}")
    assert number not in html and number[:4] + "*" * 10 + number[-4:] in html


def test_the_page_shows_assessments_plates_plans_and_visits(ward, as_user):
    html = as_user(ward.supervisor_a).text(f"/console/elders/{ward.elder_a1.id}")
    assert "中度失能" in html and ward.plate.serial in html and "独居" in html
    assert ward.provider.name in html and f'/console/visits/{ward.a1_unverified.id}"' in html
    assert f'src="/console/elders/{ward.elder_a1.id}/plate.png"' in html and 'alt="门牌' in html


def test_another_streets_elder_and_plate_are_not_found(ward, as_user):
    console = as_user(ward.supervisor_b)
    assert console.get(f"/console/elders/{ward.elder_a1.id}").status_code == 404
    assert console.get(f"/console/elders/{ward.elder_a1.id}/plate.png").status_code == 404


def test_the_plate_image_is_a_png_for_users_in_scope(ward, as_user):
    response = as_user(ward.supervisor_a).get(f"/console/elders/{ward.elder_a1.id}/plate.png")
    assert response.status_code == 200 and response.content_type == "image/png"
    assert response.get_data().startswith(b"\x89PNG")
    assert as_user(ward.supervisor_a).get(f"/console/elders/{ward.elder_a2.id}/plate.png").status_code == 404
