"""A number in a filter beyond the database's integer range is a 400 naming the field, never an
overflow in the database driver (a 500, found by the schema fuzzing on SQLite)."""

import pytest

pytestmark = pytest.mark.django_db
HUGE = "-1.6459232075031554e+207"


@pytest.mark.parametrize(("url", "field"), [
    ("/api/v1/evidence/", "task"),
    ("/api/v1/tasks/", "inspection"),
    ("/api/v1/tasks/", "problem"),
    ("/api/v1/tasks/", "unit"),
    ("/api/v1/reports/", "inspection"),
    ("/api/v1/reports/", "year"),
])
def test_an_out_of_range_number_is_a_400_naming_the_field(client_for, root_admin, url, field):
    response = client_for(root_admin).get(url, {field: HUGE})
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]


@pytest.mark.parametrize("field", ["unit", "lead_unit", "inspection"])
def test_a_whole_number_beyond_64_bits_is_a_400_too(client_for, root_admin, field):
    response = client_for(root_admin).get("/api/v1/tasks/", {field: "9" * 30})
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]


def test_numbers_in_range_still_filter(client_for, root_admin, bureau_task):
    response = client_for(root_admin).get("/api/v1/tasks/",
                                          {"inspection": bureau_task.inspection_id})
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [bureau_task.pk]


def test_an_administrator_created_without_a_unit_is_a_201_not_a_500(client_for, root_admin):
    """Found by the schema fuzzing on PostgreSQL: the unit was left out of the service call."""
    response = client_for(root_admin).post("/api/v1/users/", {
        "username": "admin2", "password": "Zq8!vR3#pL6@", "role": "admin",
    }, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["unit"] is None
