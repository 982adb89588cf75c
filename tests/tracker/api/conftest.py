import pytest

from tests.tracker.factories import TaskFactory


@pytest.fixture
def town_task(town, county):
    """A task led by bob's township: in sam's scope, not in sue's or alice's."""
    return TaskFactory(lead_unit=town)
