"""Subtrees (regions, categories, org units) are cached; a change to any tree is seen at once."""

from guanxi.core.models import OrgUnit
from guanxi.core.tree import subtree_ids
from guanxi.customers.models import Region


def test_a_subtree_is_read_once_then_served_from_the_cache(db, django_assert_num_queries):
    province = Region.objects.create(code="990000", name="测试省", level="province")
    city = Region.objects.create(code="990100", name="测试市", level="city", parent=province)
    with django_assert_num_queries(2):
        assert sorted(subtree_ids(Region, province.pk)) == sorted([province.pk, city.pk])
    with django_assert_num_queries(0):
        assert sorted(subtree_ids(Region, province.pk)) == sorted([province.pk, city.pk])


def test_a_new_moved_or_deleted_node_is_seen_at_once(db):
    province = Region.objects.create(code="990000", name="测试省", level="province")
    other = Region.objects.create(code="980000", name="另一省", level="province")
    city = Region.objects.create(code="990100", name="测试市", level="city", parent=province)
    assert set(subtree_ids(Region, province.pk)) == {province.pk, city.pk}
    district = Region.objects.create(code="990101", name="测试区", level="district", parent=city)
    assert set(subtree_ids(Region, province.pk)) == {province.pk, city.pk, district.pk}
    city.parent = other
    city.save()
    assert set(subtree_ids(Region, province.pk)) == {province.pk}
    assert set(subtree_ids(Region, other.pk)) == {other.pk, city.pk, district.pk}
    district.delete()
    assert set(subtree_ids(Region, other.pk)) == {other.pk, city.pk}


def test_trees_of_different_models_do_not_share_entries(db):
    region = Region.objects.create(code="990000", name="测试省", level="province")
    assert subtree_ids(Region, region.pk) == [region.pk]
    assert subtree_ids(OrgUnit, region.pk) == list(OrgUnit.objects.filter(pk=region.pk).values_list("id", flat=True))
    assert subtree_ids(Region, 10**9) == []
