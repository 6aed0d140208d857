"""Every validation rule with good and bad values; a 422 names the field, speaks the user's language, writes nothing."""

import re

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from guanxi.core.models import AuditLog
from guanxi.customers import services
from guanxi.customers.models import Contact, Customer, CustomerSequence
from guanxi.customers.validators import validate_credit_code
from tests.conftest import credit_code, errors_by_field, fresh, id_number, make_contact, make_customer

CJK = re.compile(r"[\u4e00-\u9fff]")
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _snapshot():
    """What a rejected request must leave untouched."""
    return (
        Customer.objects.count(),
        Contact.objects.count(),
        AuditLog.objects.count(),
        list(CustomerSequence.objects.order_by("branch_code").values_list("branch_code", "last")),
        list(Customer.objects.order_by("id").values_list("id", "version", "name", "credit_code")),
        list(Contact.objects.order_by("id").values_list("id", "version", "mobile", "primary")),
    )


@pytest.fixture
def unchanged(db):
    """Call unchanged() after a rejected request: asserts nothing was written since the test started."""
    marks = []

    def check():
        assert _snapshot() == marks[0]

    def start():
        marks.append(_snapshot())
        return check

    return start


def _create(api, user, **fields):
    return api(user).post("/customers", {"name": "校验客户", "kind": "organisation", **fields})


def assert_422(response, field):
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["detail"]
    assert field in errors_by_field(response), body
    assert all(message for messages in errors_by_field(response).values() for message in messages)


# --- credit code (统一社会信用代码, GB 32100) -----------------------------------------------------------------


@pytest.mark.parametrize(
    "spell",
    [str, str.lower, lambda code: f" {code[:6]} {code[6:12]}-{code[12:]} "],
    ids=["as-is", "lower-case", "spaced"],
)
def test_it_accepts_and_normalises_valid_credit_codes(users, api, spell):
    code = credit_code()

    response = _create(api, users.am1, credit_code=spell(code))

    assert response.status_code == 201, response.json()
    assert response.json()["credit_code"] == code


@pytest.mark.parametrize(
    "bad",
    [
        "91110105000000011",  # 17 characters
        "9111010500000001XXX",  # 19 characters
        "ABCDEFGH000000011X",  # letters where the registration code and region must be digits
        "911101050000000I1X",  # I is not in the GB 32100 alphabet
        "911101050000000O1X",  # nor is O
        "91110105中文字符0001X",
        "not a code",
    ],
)
def test_it_rejects_malformed_credit_codes(users, api, unchanged, bad):
    check = unchanged()

    response = _create(api, users.am1, credit_code=bad)

    assert_422(response, "credit_code")
    check()


def test_it_rejects_a_credit_code_with_a_wrong_check_character(users, api, unchanged):
    code = credit_code()
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    check = unchanged()

    response = _create(api, users.am1, credit_code=wrong)

    assert_422(response, "credit_code")
    check()


_bodies = st.tuples(
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9),
).map("".join)


@given(body=_bodies)
def test_it_accepts_every_code_with_the_right_check_character(body):
    validate_credit_code(body + uscc.calc_check_digit(body))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_bodies, data=st.data())
def test_it_rejects_every_wrong_check_character(users, body, data):
    right = uscc.calc_check_digit(body)
    wrong = data.draw(st.sampled_from([c for c in USCC_ALPHABET if c != right]))
    before = (Customer.objects.count(), AuditLog.objects.count())

    with pytest.raises(ValidationError) as excinfo:
        services.customer_create(
            actor=fresh(users.am1), data={"name": "x", "kind": "organisation", "credit_code": body + wrong}
        )

    assert "credit_code" in excinfo.value.message_dict
    assert (Customer.objects.count(), AuditLog.objects.count()) == before


def test_it_keeps_credit_codes_unique(users, api, unchanged):
    code = credit_code()
    make_customer(users.am1, credit_code=code)
    other = make_customer(users.am1)
    check = unchanged()

    assert_422(_create(api, users.am1, credit_code=code.lower()), "credit_code")
    assert_422(_create(api, users.am2, credit_code=code), "credit_code")  # also across owners
    assert_422(api(users.am1).patch(f"/customers/{other.pk}", {"version": 1, "credit_code": code}), "credit_code")
    check()


# --- ID number (居民身份证号码, GB 11643) ----------------------------------------------------------------------


@pytest.mark.parametrize("birth", ["19491231", "20000229", "19800101"])
def test_it_accepts_valid_id_numbers(users, api, birth):
    number = id_number(birth=birth)

    response = _create(api, users.bm1, kind="individual", name="王五", id_number=number)

    assert response.status_code == 201, response.json()
    assert response.json()["id_number"] == number  # bm1 sees it unmasked


def test_it_accepts_an_id_number_whose_district_code_is_younger_than_its_holder(users, api):
    number = _with_check("11011419800101001")  # 昌平区 has had code 110114 since 1999; its holder was born in 1980

    response = _create(api, users.bm1, kind="individual", name="王五", id_number=number)

    assert response.status_code == 201, response.json()


def _with_check(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


def _with_wrong_check(body: str) -> str:
    right = ric.calc_check_digit(body + "0")
    return body + ("0" if right != "0" else "1")


@pytest.mark.parametrize(
    "bad",
    [
        _with_wrong_check("11010119800101001"),
        _with_check("11010119801301001"),  # month 13
        _with_check("11010119810229001"),  # 29 February of a common year
        _with_check("99999919800101001"),  # no such birth place
        "11010119800101001",  # 17 characters
        "1101011980010100123",  # 19 characters
        "11010119800101001A",  # only X may end it
    ],
)
def test_it_rejects_invalid_id_numbers(users, api, unchanged, bad):
    check = unchanged()

    response = _create(api, users.bm1, kind="individual", name="王五", id_number=bad)

    assert_422(response, "id_number")
    check()


def test_it_keeps_id_numbers_unique(users, api, unchanged):
    number = id_number()
    make_customer(users.am1, kind="individual", id_number=number)
    check = unchanged()

    assert_422(_create(api, users.am1, kind="individual", id_number=number), "id_number")
    check()


# --- contacts: mobile, landline, email -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sent, stored",
    [
        ("13800138000", "13800138000"),
        ("19912345678", "19912345678"),
        ("+8613800138000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("0086-138-0013-8000", "13800138000"),
        ("", ""),
    ],
)
def test_it_accepts_mainland_mobiles(users, api, customers, sent, stored):
    response = api(users.bm1).post(f"/customers/{customers.c1.pk}/contacts", {"name": "联系人", "mobile": sent})

    assert response.status_code == 201, response.json()
    assert response.json()["mobile"] == stored
    assert Contact.objects.get(pk=response.json()["id"]).mobile == stored


@pytest.mark.parametrize(
    "bad", ["12345678901", "1380013800", "138001380001", "1380013800a", "+1 415 555 2671", "23800138000", "电话"]
)
def test_it_rejects_other_mobiles(users, api, customers, unchanged, bad):
    check = unchanged()

    response = api(users.bm1).post(f"/customers/{customers.c1.pk}/contacts", {"name": "联系人", "mobile": bad})

    assert_422(response, "mobile")
    check()


@pytest.mark.parametrize(
    "good", ["0452-2345678", "010-12345678", "02112345678", "2345678", "95598", "0452-2345678-801"]
)
def test_it_accepts_landlines(users, api, customers, good):
    response = api(users.bm1).post(f"/customers/{customers.c1.pk}/contacts", {"name": "联系人", "landline": good})

    assert response.status_code == 201, response.json()
    assert response.json()["landline"] == good


@pytest.mark.parametrize("bad", ["123", "abc", "0452-23456", "0452-2345678-", "1234567890123"])
def test_it_rejects_other_landlines(users, api, customers, unchanged, bad):
    check = unchanged()

    response = api(users.bm1).post(f"/customers/{customers.c1.pk}/contacts", {"name": "联系人", "landline": bad})

    assert_422(response, "landline")
    check()


@pytest.mark.parametrize("good", ["a@example.com", "zhang.san+crm@gongsi.com.cn"])
def test_it_accepts_emails(users, api, customers, good):
    response = api(users.am1).post(f"/customers/{customers.c1.pk}/contacts", {"name": "联系人", "email": good})

    assert response.status_code == 201
    assert response.json()["email"] == good


@pytest.mark.parametrize("bad", ["a@", "not-an-email", "@example.com", "a b@example.com"])
def test_it_rejects_other_emails(users, api, customers, unchanged, bad):
    check = unchanged()

    response = api(users.am1).post(f"/customers/{customers.c1.pk}/contacts", {"name": "联系人", "email": bad})

    assert_422(response, "email")
    check()


def test_it_validates_a_contact_patch_and_keeps_the_contact(users, api, customers, unchanged):
    contact = make_contact(users.am1, customers.c1, mobile="13800138000")
    check = unchanged()

    for body, field in [
        ({"mobile": "123"}, "mobile"),
        ({"email": "x@"}, "email"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"primary": None}, "primary"),
        ({"opt_out_sms": None}, "opt_out_sms"),
        ({"birthday": "1980-02-30"}, "birthday"),
    ]:
        assert_422(api(users.am1).patch(f"/contacts/{contact.pk}", {"version": 1, **body}), field)
    check()


# --- enums, unknown fields, types -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, bad",
    [("kind", "company"), ("stage", "dead"), ("grade", "A"), ("area", "suburb"), ("kind", None), ("vip", "maybe")],
)
def test_it_rejects_values_outside_an_enum(users, api, unchanged, field, bad):
    check = unchanged()

    response = _create(api, users.am1, **{field: bad})

    assert_422(response, field)
    check()


@pytest.mark.parametrize(
    "field, good",
    [("kind", "individual"), ("stage", "at_risk"), ("grade", "potential"), ("area", "rural"), ("area", None)],
)
def test_it_accepts_every_enum_value(users, api, field, good):
    response = _create(api, users.am1, **{field: good})

    assert response.status_code == 201, response.json()
    assert response.json()[field] == (good or "")


@pytest.mark.parametrize("field, bad", [("role", "boss"), ("preferred_channel", "fax")])
def test_it_rejects_contact_values_outside_an_enum(users, api, customers, unchanged, field, bad):
    check = unchanged()

    response = api(users.am1).post(f"/customers/{customers.c1.pk}/contacts", {"name": "联系人", field: bad})

    assert_422(response, field)
    check()


def test_it_rejects_unknown_fields(users, api, customers, unchanged):
    contact = make_contact(users.am1, customers.c1)
    check = unchanged()

    assert_422(_create(api, users.am1, colour="red"), "colour")
    assert_422(_create(api, users.am1, number="C0000000001"), "number")  # generated, not settable
    assert_422(_create(api, users.am1, version=5), "version")
    assert_422(api(users.am1).patch(f"/customers/{customers.c1.pk}", {"version": 1, "org_unit_id": 1}), "org_unit_id")
    assert_422(api(users.am1).post(f"/customers/{customers.c1.pk}/contacts", {"name": "x", "fax": "1"}), "fax")
    assert_422(api(users.am1).patch(f"/contacts/{contact.pk}", {"version": 1, "customer_id": 1}), "customer_id")
    assert_422(
        api(users.bm1).post(
            "/customers/transfer", {"from_user_id": users.am1.pk, "to_user_id": users.am2.pk, "all": True}
        ),
        "all",
    )
    check()


def test_it_requires_name_kind_and_version(users, api, customers, unchanged):
    check = unchanged()

    response = api(users.am1).post("/customers", {})
    assert_422(response, "name")
    assert_422(response, "kind")
    assert_422(api(users.am1).patch(f"/customers/{customers.c1.pk}", {"name": "新"}), "version")
    assert_422(api(users.am1).patch(f"/customers/{customers.c1.pk}", {"version": "one"}), "version")
    assert_422(_create(api, users.am1, name=""), "name")
    assert_422(_create(api, users.am1, name="   "), "name")  # blank after trimming
    assert_422(_create(api, users.am1, name="长" * 201), "name")
    assert_422(_create(api, users.am1, name=123), "name")
    assert_422(_create(api, users.am1, tags="医院"), "tags")
    check()


@pytest.mark.parametrize(
    "params, field",
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"ordering": "owner"}, "ordering"),
        ({"grade": "x"}, "grade"),
        ({"vip": "perhaps"}, "vip"),
        ({"region": "beijing"}, "region"),
    ],
)
def test_it_rejects_bad_list_parameters(users, api, params, field):
    assert_422(api(users.am1).get("/customers", params), field)


# --- references -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["category_id", "region_id", "parent_id", "owner_id"])
def test_it_rejects_unknown_ids(users, api, customers, unchanged, field):
    check = unchanged()

    assert_422(_create(api, users.bm1, **{field: 987654}), field)
    assert_422(api(users.bm1).patch(f"/customers/{customers.c1.pk}", {"version": 1, field: 987654}), field)
    check()


def test_it_rejects_a_parent_or_owner_outside_the_actors_scope(users, api, customers, unchanged):
    check = unchanged()

    assert_422(_create(api, users.am1, parent_id=customers.c3.pk), "parent_id")  # am3's customer
    assert_422(_create(api, users.am1, owner_id=users.am2.pk), "owner_id")  # an am assigns only to themself
    assert_422(_create(api, users.bm1, owner_id=users.am3.pk), "owner_id")  # another branch
    assert_422(_create(api, users.am1, parent_id=customers.sensitive.pk), "parent_id")  # hidden from am1
    check()


def test_it_rejects_parent_cycles(users, api, unchanged):
    group = make_customer(users.am1, name="集团")
    member = make_customer(users.am1, name="成员", parent_id=group.pk)
    grandchild = make_customer(users.am1, name="孙公司", parent_id=member.pk)
    check = unchanged()

    client = api(users.am1)
    assert_422(client.patch(f"/customers/{group.pk}", {"version": 1, "parent_id": group.pk}), "parent_id")
    assert_422(client.patch(f"/customers/{group.pk}", {"version": 1, "parent_id": member.pk}), "parent_id")
    assert_422(client.patch(f"/customers/{group.pk}", {"version": 1, "parent_id": grandchild.pk}), "parent_id")
    check()

    moved = client.patch(f"/customers/{grandchild.pk}", {"version": 1, "parent_id": group.pk})
    assert moved.status_code == 200 and moved.json()["parent_id"] == group.pk


def test_it_rejects_tags_that_are_too_long(users, api, unchanged):
    check = unchanged()

    assert_422(_create(api, users.am1, tags=["好" * 51]), "tags")
    check()


# --- robustness ----------------------------------------------------------------------------------------------


def test_it_answers_a_broken_body_with_a_4xx(users, api, unchanged):
    check = unchanged()
    client = api(users.am1)

    broken = client.client.post("/api/v1/customers", "{not json", content_type="application/json")
    not_an_object = client.client.post("/api/v1/customers", "[1, 2]", content_type="application/json")

    assert broken.status_code in (400, 422) and "detail" in broken.json()
    assert not_an_object.status_code == 422 and "detail" in not_an_object.json()
    check()


def test_it_answers_a_non_numeric_id_with_422(users, api):
    assert_422(api(users.am1).get("/customers/abc"), "customer_id")


# --- language -----------------------------------------------------------------------------------------------


def test_it_speaks_chinese_when_asked(users, api, customers):
    client = api(users.am1, lang="zh-hans")

    blank = client.post("/customers", {"name": "", "kind": "organisation"})
    email = client.post(f"/customers/{customers.c1.pk}/contacts", {"name": "x", "email": "bad"})
    code = client.post("/customers", {"name": "x", "kind": "organisation", "credit_code": "123"})
    extra = client.post("/customers", {"name": "x", "kind": "organisation", "colour": "red"})

    # Django's own catalog.
    assert errors_by_field(blank)["name"] == ["此字段不能为空。"]
    assert errors_by_field(email)["email"] == ["输入一个有效的 Email 地址。"]
    # Guanxi's catalog (src/guanxi/locale/zh_Hans): the project's own and the pydantic-mapped messages.
    assert CJK.search(blank.json()["detail"])
    assert CJK.search(errors_by_field(code)["credit_code"][0])
    assert CJK.search(errors_by_field(extra)["colour"][0])


def test_it_speaks_english_when_asked(users, api, customers):
    client = api(users.am1, lang="en")

    blank = client.post("/customers", {"name": "", "kind": "organisation"})
    email = client.post(f"/customers/{customers.c1.pk}/contacts", {"name": "x", "email": "bad"})
    code = client.post("/customers", {"name": "x", "kind": "organisation", "credit_code": "123"})
    extra = client.post("/customers", {"name": "x", "kind": "organisation", "colour": "red"})

    assert errors_by_field(blank)["name"] == ["This field cannot be blank."]
    assert errors_by_field(email)["email"] == ["Enter a valid email address."]
    assert blank.json()["detail"] == "Some fields are invalid."
    assert errors_by_field(code)["credit_code"] == [
        "Not a valid unified social credit code (18 characters with a check character)."
    ]
    assert errors_by_field(extra)["colour"] == ["Unknown field."]


def test_it_prefers_the_users_saved_language_to_the_browsers(users, api):
    profile = users.am2.profile
    profile.language = "en"
    profile.save()

    response = api(users.am2, lang="zh-hans").post("/customers", {"name": "", "kind": "organisation"})

    assert errors_by_field(response)["name"] == ["This field cannot be blank."]
