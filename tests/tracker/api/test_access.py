"""Acceptance: nothing is open to anonymous users beyond the allow-list,
and lists are scoped by queryset (object permissions do not filter lists)."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.tracker.factories import (
    DeadlineExtensionFactory,
    EvidenceFactory,
    InspectionFactory,
    ProblemFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db

# The only URLs an anonymous user may use. Everything else must refuse (401/403) or send them
# to a login page.
ALLOW_LIST = {
    "/health/",
    "/health/live/",
    "/health/ready/",  # for load balancers; names failing parts, never internals
    "/metrics/",  # the monitoring server's addresses only (METRICS_ALLOWED_ADDRESSES), else 404
    "/api/v1/auth/login/",
    "/api/v1/auth/token/",
    "/admin/login/",
    "/admin/logout/",  # logging out nobody reveals nothing
    "/login/",  # the pages' login (same lockout as the API's)
    "/login/otp/",  # its second step (动态验证码), only after the right password
    "/logout/",
}
LOGIN_PAGES = ("/login/", "/admin/login/")


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def _concrete(route: str) -> str:
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)  # regex groups
    route = re.sub(r"<(?:\w+:)?\w+>", "1", route)  # path converters
    route = route.replace("^", "").replace("$", "").replace("\\", "")
    return "/" + route.lstrip("/")


ALL_URLS = sorted({_concrete(route) for route in _walk(get_resolver().url_patterns)})


def test_the_walk_finds_the_api_and_the_allow_list():
    assert "/api/v1/tasks/1/close/" in ALL_URLS
    assert {"/api/v1/reports/", "/api/v1/reports/1/", "/api/v1/reports/figures/1/confirm/",
            "/api/v1/reports/items/1/confirm-as-task/",
            "/api/v1/rollups/reconciliation/"} <= set(ALL_URLS)
    assert set(ALL_URLS) >= ALLOW_LIST


@pytest.mark.parametrize("url", [u for u in ALL_URLS if u not in ALLOW_LIST])
@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
def test_anonymous_user_is_refused_everywhere_beyond_the_allow_list(client, url, method,
                                                                    bureau_task):
    response = getattr(client, method)(url)
    if response.status_code == 302:
        assert response["Location"].startswith(LOGIN_PAGES)
    else:
        assert response.status_code in (401, 403), (url, method, response.status_code)


def test_allow_list_login_and_health_answer_anonymous_users(client):
    assert client.get("/health/").status_code == 200
    assert client.post("/api/v1/auth/token/", {}).status_code == 400


# --- Lists are filtered by the queryset, not by object permissions -------------------------


@pytest.fixture
def ledger(bureau, town, county):
    """One task per unit, each with evidence and a pending extension."""
    tasks = {
        "bureau": TaskFactory(lead_unit=bureau),
        "town": TaskFactory(lead_unit=town),
        "county": TaskFactory(lead_unit=county),
        "town_supports_bureau": TaskFactory(lead_unit=bureau, supporting_units=[town]),
    }
    for task in tasks.values():
        EvidenceFactory(task=task)
        DeadlineExtensionFactory(task=task)
    return tasks


def _ids(client, url):
    return {row["id"] for row in client.get(url).json()["results"]}


@pytest.mark.parametrize(
    ("user", "visible"),
    [
        ("alice", {"bureau", "town_supports_bureau"}),
        ("bob", {"town", "town_supports_bureau"}),
        ("sam", {"town", "county", "town_supports_bureau"}),
        ("chief", {"bureau", "town", "county", "town_supports_bureau"}),
        ("root_admin", {"bureau", "town", "county", "town_supports_bureau"}),
    ],
)
def test_lists_show_exactly_the_tasks_in_scope(request, client_for, ledger, user, visible):
    client = client_for(request.getfixturevalue(user))
    expected = {ledger[name].pk for name in visible}
    assert _ids(client, "/api/v1/tasks/") == expected
    assert set(_ids(client, "/api/v1/evidence/")) == set(
        EvidenceFactory._meta.model.objects.filter(task__in=expected).values_list("id", flat=True)
    )
    assert _ids(client, "/api/v1/extensions/") == set(
        DeadlineExtensionFactory._meta.model.objects.filter(task__in=expected)
        .values_list("id", flat=True)
    )
    expected_inspections = {ledger[name].inspection_id for name in visible}
    assert _ids(client, "/api/v1/inspections/") >= expected_inspections


def test_detail_of_a_task_out_of_scope_is_404_not_403(client_for, alice, ledger):
    response = client_for(alice).get(f"/api/v1/tasks/{ledger['town'].pk}/")
    assert response.status_code == 404
    missing = client_for(alice).get("/api/v1/tasks/999999/")
    assert response.json() == missing.json()


def test_officer_sees_only_inspections_and_problems_behind_their_tasks(client_for, alice, bureau):
    mine = TaskFactory(lead_unit=bureau)
    other_problem = ProblemFactory(inspection=InspectionFactory())
    client = client_for(alice)
    assert _ids(client, "/api/v1/inspections/") == {mine.inspection_id}
    assert _ids(client, "/api/v1/problems/") == {mine.problem_id}
    assert client.get(f"/api/v1/problems/{other_problem.pk}/").status_code == 404


def test_filter_by_unit_includes_descendants(client_for, chief, county, ledger):
    ids = _ids(client_for(chief), f"/api/v1/tasks/?unit={county.pk}")
    assert ids == {ledger[n].pk for n in ("town", "county", "town_supports_bureau")}
    lead = _ids(client_for(chief), f"/api/v1/tasks/?lead_unit={county.pk}")
    assert lead == {ledger[n].pk for n in ("town", "county")}


def test_overdue_filter(client_for, chief, bureau):
    import datetime as dt

    late = TaskFactory(lead_unit=bureau, deadline=dt.date(2020, 1, 1))
    TaskFactory(lead_unit=bureau, deadline=dt.date(2020, 1, 1), status="completed")
    on_time = TaskFactory(lead_unit=bureau, deadline=dt.date(2099, 1, 1))
    client = client_for(chief)
    assert _ids(client, "/api/v1/tasks/?overdue=true") == {late.pk}
    assert on_time.pk in _ids(client, "/api/v1/tasks/?overdue=false")
    assert late.pk not in _ids(client, "/api/v1/tasks/?overdue=false")
