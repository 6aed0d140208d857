"""core.names.full_name: the name a list shows for a user joined into a values() row."""

import pytest
from django.contrib.auth import get_user_model

from guanxi.core.names import full_name


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [("三", "张", "三 张"), ("三", "", "三"), ("", "张", "张"), ("", "", "zhangsan"), (" ", " ", "zhangsan")],
)
def test_it_gives_what_get_full_name_gives_else_the_username(first, last, expected):
    user = get_user_model()(username="zhangsan", first_name=first, last_name=last)
    assert full_name("zhangsan", first, last) == expected
    assert full_name("zhangsan", first, last) == (user.get_full_name() or user.username)


def test_a_row_without_a_user_has_no_name():
    assert full_name(None, None, None) is None
