"""The unit tree: paths make a unit's descendants one prefix match; moves carry the subtree."""

import pytest

from tests.tracker.factories import UnitFactory
from tracker.errors import InvalidInput
from tracker.models import Unit, UnitKind
from tracker.services.units import unit_move

pytestmark = pytest.mark.django_db


def test_paths_and_depths_follow_the_tree(city, county, town):
    assert city.path == f"/{city.pk}/"
    assert town.path == f"/{city.pk}/{county.pk}/{town.pk}/"
    assert (city.depth, county.depth, town.depth) == (0, 1, 2)


def test_subtree_is_the_unit_and_everything_below_it(city, county, town, bureau):
    assert set(Unit.objects.subtree_of(county)) == {county, town}
    assert set(Unit.objects.subtree_of(city)) == {city, county, town, bureau}
    assert town.is_within(county)
    assert not county.is_within(town)


def test_subtree_does_not_confuse_ids_sharing_a_prefix(city):
    # /1/ must not match /12/: the trailing slash in the path keeps ids apart.
    units = [UnitFactory(parent=city) for _ in range(12)]
    first = units[0]
    assert list(Unit.objects.subtree_of(first)) == [first]


def test_moving_a_unit_moves_its_whole_subtree(city, county, town, bureau):
    village = UnitFactory(name="湖滨社区", kind=UnitKind.VILLAGE, parent=town)
    unit_move(unit=town, new_parent=bureau)
    village.refresh_from_db()
    town.refresh_from_db()
    assert town.path == f"{bureau.path}{town.pk}/"
    assert village.path == f"{town.path}{village.pk}/"
    assert (town.depth, village.depth) == (2, 3)
    assert set(Unit.objects.subtree_of(county)) == {county}


def test_a_unit_cannot_move_below_itself(county, town):
    with pytest.raises(InvalidInput, match="不能把单位移到它自己或其下级单位之下"):
        unit_move(unit=county, new_parent=town)
