"""Elder data checked the way Chinese registers check it (issue 12, item 9): gender against the ID
number's 17th digit, ages the categories need, advanced_age derived, phone numbers, and identity
documents other than the resident ID card, masked the same way."""

from datetime import date, timedelta

import pytest

from schemas.identity import ID_CARD_CHECK_CHARS, ID_CARD_WEIGHTS, mask_id_card
from tests.api.conftest import assert_problem

EN = {"Accept-Language": "en"}


def gb11643(first17: str) -> str:
    """A number with its GB 11643 check character."""
    return first17 + ID_CARD_CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, ID_CARD_WEIGHTS, strict=True)) % 11]


def born(clock, years: int, days: int = 0) -> date:
    """The birth date of someone `years` old today, moved `days` later."""
    today = clock().date()
    return date(today.year - years, today.month, today.day) + timedelta(days=days)


@pytest.fixture
def body(city):
    def make(**changes):
        fields = {"name": "周桂芳", "gender": "female", "birth_on": "1948-03-08",
                  "id_card_no": gb11643("21050219480308004"), "community_id": city.community_a1.id,
                  "categories": ["solitary"], "phone": "13800000001"}
        return {**fields, **changes}
    return make


def post(client, headers, json, extra=None):
    return client.post("/api/v1/elders", json=json, headers={**headers("admin"), **(extra or {})})


def test_the_17th_digit_must_agree_with_the_gender(client, headers, body):
    odd = gb11643("21050219480308003")  # an odd 17th digit: a man
    zh = assert_problem(post(client, headers, body(id_card_no=odd)), 422, "validation_failed", "id_card_no")
    assert "第 17 位" in zh["errors"]["id_card_no"][0]
    en = assert_problem(post(client, headers, body(id_card_no=odd), EN), 422, "validation_failed", "id_card_no")
    assert "17th digit" in en["errors"]["id_card_no"][0]
    assert post(client, headers, body(id_card_no=odd, gender="male")).status_code == 201


def test_changing_only_the_gender_is_checked_against_the_card_and_named(client, headers, body):
    elder = post(client, headers, body()).get_json()
    response = client.patch(f"/api/v1/elders/{elder['id']}", json={"gender": "male", "version": 1},
                            headers=headers("admin"))
    assert_problem(response, 422, "validation_failed", "gender")


def test_a_category_for_elders_needs_sixty_years(client, clock, headers, body):
    young = born(clock, 60, days=1).isoformat()  # sixty tomorrow
    zh = assert_problem(post(client, headers, body(birth_on=young, id_card_no=None)), 422, "validation_failed",
                        "categories")
    assert "60" in zh["errors"]["categories"][0] and "周岁" in zh["errors"]["categories"][0]
    # Sixty today is enough; without a category that needs it, any age registers.
    assert post(client, headers, body(birth_on=born(clock, 60).isoformat(), id_card_no=None)).status_code == 201
    assert post(client, headers, body(name="周桂兰", birth_on=young, id_card_no=None,
                                      categories=["special_family"])).status_code == 201


def test_advanced_age_follows_the_birth_date_whatever_is_sent(client, clock, headers, body):
    eighty = post(client, headers, body(birth_on=born(clock, 80).isoformat(), id_card_no=None)).get_json()
    assert eighty["categories"] == ["advanced_age", "solitary"]
    younger = post(client, headers, body(name="周桂兰", birth_on=born(clock, 80, days=1).isoformat(), id_card_no=None,
                                         categories=["solitary", "advanced_age"])).get_json()
    assert younger["categories"] == ["solitary"]


def test_the_daily_job_gives_advanced_age_on_the_eightieth_birthday(app, client, clock, headers, body):
    from backend.elders.jobs import advanced_age_job

    elder = post(client, headers, body(birth_on=born(clock, 80, days=1).isoformat(), id_card_no=None)).get_json()
    advanced_age_job(now=clock())  # the fixtures' elders, made without the service, are set right
    assert advanced_age_job(now=clock()) == 0
    clock.advance(days=1)
    assert advanced_age_job(now=clock()) == 1
    again = client.get(f"/api/v1/elders/{elder['id']}", headers=headers("admin")).get_json()
    assert again["categories"] == ["advanced_age", "solitary"] and again["version"] == 2
    assert advanced_age_job(now=clock()) == 0


@pytest.mark.parametrize("phone, stored", [
    ("13800000001", "13800000001"),
    ("+86 138 0000 0001", "13800000001"),
    ("0411-81234567", "0411-81234567"),
    ("021 6123 4567", "021-61234567"),
    ("01062345678", "010-62345678"),
    ("+852 9123 4567", "+85291234567"),
])
def test_mobiles_and_landlines_with_their_area_code_are_stored_as_registers_write_them(client, headers, body,
                                                                                      phone, stored):
    response = post(client, headers, body(phone=phone, emergency_contacts=[{"name": "周强", "phone": phone}]))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["phone"] == stored
    assert response.get_json()["emergency_contacts"][0]["phone"] == stored


@pytest.mark.parametrize("phone", ["12800000001", "1380000000", "81234567", "0411-8123456", "4001234567",
                                   "9123 4567", "电话"])
def test_a_number_that_is_no_mobile_nor_a_landline_answers_422_naming_the_field(client, headers, body, phone):
    zh = assert_problem(post(client, headers, body(phone=phone)), 422, "validation_failed", "phone")
    assert "11 位手机号码" in zh["errors"]["phone"][0]
    contact = body(emergency_contacts=[{"name": "周强", "phone": phone}])
    en = assert_problem(post(client, headers, contact, EN), 422, "validation_failed", "emergency_contacts.0.phone")
    assert "area code" in en["errors"]["emergency_contacts.0.phone"][0]


@pytest.mark.parametrize("document_type, number, stated_birth, gender", [
    ("hmt_residence_permit", gb11643("81000019480308004"), "1948-03-08", "female"),
    ("hmt_residence_permit", gb11643("83000019480308003"), "1948-03-08", "male"),
    ("foreign_permanent_residence", gb11643("93311019480308004"), "1948-03-08", "female"),
    ("foreign_permanent_residence", "USA310480308123", None, "female"),
    ("passport", "E12345678", None, "male"),
])
def test_other_identity_documents_are_registered_with_their_type(client, headers, body, document_type, number,
                                                                 stated_birth, gender):
    response = post(client, headers, body(id_document_type=document_type, id_card_no=number.lower(), gender=gender,
                                          birth_on=stated_birth or "1950-06-01"))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["id_document_type"] == document_type and response.get_json()["id_card_no"] == number
    if stated_birth:  # the birth date inside the number is checked as a resident ID's is
        wrong = post(client, headers, body(name="另一位", id_document_type=document_type, id_card_no=number,
                                           gender=gender, birth_on="1948-03-09"))
        assert_problem(wrong, 422, "validation_failed", "id_card_no")


@pytest.mark.parametrize("document_type, number", [
    ("hmt_residence_permit", gb11643("21050219480308004")),  # a resident ID's area
    ("foreign_permanent_residence", "US310480308123"),
    ("passport", "ABCDEFG"),  # no digit
    ("resident_id", "E12345678"),
])
def test_a_number_malformed_for_its_document_answers_422(client, headers, body, document_type, number):
    response = post(client, headers, body(id_document_type=document_type, id_card_no=number))
    assert_problem(response, 422, "validation_failed", "id_card_no")


def test_changing_only_the_document_type_is_checked_and_named(client, headers, body):
    elder = post(client, headers, body()).get_json()
    response = client.patch(f"/api/v1/elders/{elder['id']}", json={"id_document_type": "passport", "version": 1},
                            headers=headers("admin"))
    assert response.status_code == 200  # a resident ID number is a well-formed passport number too
    response = client.patch(f"/api/v1/elders/{elder['id']}",
                            json={"id_document_type": "hmt_residence_permit", "version": 2}, headers=headers("admin"))
    assert_problem(response, 422, "validation_failed", "id_document_type")


def test_a_short_passport_number_is_masked_never_shown_whole(client, headers, body):
    created = post(client, headers, body(id_document_type="passport", id_card_no="E12345678", birth_on="1950-06-01"))
    shown = client.get(f"/api/v1/elders/{created.get_json()['id']}", headers=headers("supervisor_in_scope")).get_json()
    assert shown["id_card_no"] == "E1*****78"
    assert [mask_id_card(n) for n in ("G1234", "AB123", "11010519491231002X")] == \
        ["G***4", "A***3", "1101**********002X"]
    for number in ("12345", "E1234567", "K12345678901"):
        masked = mask_id_card(number)
        assert len(masked) == len(number) and masked.count("*") >= len(number) / 2
