"""Acceptance: the admin answers each role like the API does, model by model.

Roles (the demo's, on the test tree of tests/conftest.py):
    admin     root  — administrator
    top       chief — top supervisor (江屿市委, the root)
    district  sam   — supervisor of 东湖区 (the demo's linjiang_db)
    officer   alice — officer of 市教育局
    covering  carl  — officer of 东湖区 covering its subunits

For each role × each admin model × {changelist, change page and history, POST change, add
page, POST add, delete page, POST delete, autocomplete, each action}: the user sees exactly the
objects of their scope, never changes, adds or deletes one outside it, and no response carries a
robot secret, a password hash, another user's phone number or an API token. Expectations are
written out by name below, not computed from tracker.access, so that the table can fail.

The world is built once per module (inside a transaction rolled back at the end); every test
runs in its own savepoint, so what one test changes is gone for the next.
"""

import datetime as dt

import pytest
from django.contrib import admin
from django.contrib.admin import RelatedFieldListFilter
from django.db import transaction
from django.urls import reverse

from reports.models import ExtractedFigure, ExtractedItem, ReviewState, SourceReport
from tests.reports.factories import (
    ExtractedFigureFactory,
    ExtractedItemFactory,
    SourceReportFactory,
)
from tests.tracker.admin_forms import form_data
from tests.tracker.factories import (
    ApiTokenFactory,
    AuditEntryFactory,
    DeadlineExtensionFactory,
    DeliveryFactory,
    DispatchRequestFactory,
    EvidenceFactory,
    HolidayOverrideFactory,
    InspectionFactory,
    LoginFailureFactory,
    NotificationFactory,
    ProblemFactory,
    ProgressReportFactory,
    ReminderFactory,
    ScoringSchemeFactory,
    TaskEventFactory,
    TaskFactory,
    TaskRecheckFactory,
    UnitFactory,
    UserFactory,
    WebhookDeliveryFactory,
    WebhookEndpointFactory,
)
from tracker import workdays
from tracker.models import (
    AuditEntry,
    DeadlineExtension,
    Delivery,
    DispatchRequest,
    Evidence,
    HolidayKind,
    HolidayOverride,
    Inspection,
    LoginFailure,
    Notification,
    Problem,
    ProgressReport,
    Reminder,
    Role,
    ScoringScheme,
    Task,
    TaskEvent,
    TaskRecheck,
    TaskStatus,
    Unit,
    UnitKind,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from tracker.services.auth import api_token_hash
from tracker.services.users import supervisor_group

pytestmark = pytest.mark.django_db

ROLES = ("admin", "top", "district", "officer", "covering")
OFFICERS = {"officer", "covering"}
ALL = {"admin", "top", "district"}  # everyone who may use the admin at all
TOP = {"admin", "top"}
ADMIN = {"admin"}
USERS = ("u_root", "u_chief", "u_sam", "u_alice", "u_carl", "u_bob")

ROBOT_SECRET = "SEC-planted-dingtalk-secret-7f3a"
ROBOT_TOKEN = "planted-robot-token-91c2"
PHONE = "13900765432"
API_TOKEN = "0123456789abcdef0123456789abcdef01234567"
WEBHOOK_SECRET = "whsec-planted-outbound-webhook-secret-5d1e"
# Never in any page: secrets, hashes and their summaries (Django's 算法/盐/哈希 widget).
FORBIDDEN = [ROBOT_SECRET, ROBOT_TOKEN, API_TOKEN, WEBHOOK_SECRET, "pbkdf2_sha256", "哈希",
             "盐值"]

# --- Who sees what (names of the world's objects → roles that see them in the admin) ---------

SEEN_BY = {
    # units
    "city": TOP, "bureau": TOP, "finance": TOP, "leaf_finance": TOP,
    "county": ALL, "town": ALL, "leaf_town": ALL,
    # users: administrators only
    **dict.fromkeys(USERS, ADMIN),
    # inspections: insp_city is seen by the district through t_mixed (a supporting unit)
    "insp_city": ALL, "insp_county": ALL, "insp_finance": TOP,
    "p_city": ALL, "p_county": ALL, "p_finance": TOP, "p_spare_city": TOP, "p_spare_county": ALL,
    # tasks: t_mixed is led by the bureau, supported by the town
    "t_bureau": TOP, "t_mixed": ALL, "t_town": ALL, "t_finance": TOP,
    # messages: addressed to a person or unit group in scope
    "n_bob": ALL, "n_alice": TOP, "n_county": ALL, "n_finance": TOP,
    "r_bob": ALL, "r_alice": TOP, "d_bob": ALL, "d_alice": TOP,
    "dr_town": ALL, "dr_bureau": TOP,
    # report documents: seen through their inspection
    "rep_county": ALL, "rep_city": ALL, "rep_finance": TOP,
    # holiday overrides (节假日安排): administrators only
    "h_2027": ADMIN,
    "lf_alice": ADMIN,
    # the audit log (审计日志): administrators only; the entries the unit services wrote while
    # the world was built are added by name in _build
    "audit_bob": ADMIN,
    # outbound webhooks (外部推送): administrators only
    "wh_endpoint": ADMIN, "wh_delivery": ADMIN,
    # scoring schemes (考评方案): administrators only
    "scheme": ADMIN,
}
TASK_RECORDS = ("event", "progress", "evidence", "extension", "recheck")
for _task in ("t_bureau", "t_mixed", "t_town", "t_finance"):
    SEEN_BY.update({f"{kind}:{_task}": SEEN_BY[_task] for kind in TASK_RECORDS})
for _report in ("rep_county", "rep_city", "rep_finance"):
    SEEN_BY.update({f"{kind}:{_report}": SEEN_BY[_report] for kind in ("figure", "item")})

# Who may change each object of a changeable model: who sees it, except that a supporting
# unit (the town on t_mixed) never makes a task, its problem, its inspection or the report
# filed under it the district's; and the unit tree is master data, edited by administrators.
CHANGEABLE = ("city", "bureau", "finance", "leaf_finance", "county", "town", "leaf_town", *USERS,
              "insp_city", "insp_county", "insp_finance", "p_city", "p_county", "p_finance",
              "p_spare_city", "p_spare_county", "t_bureau", "t_mixed", "t_town", "t_finance",
              "rep_county", "rep_city", "rep_finance", "h_2027", "wh_endpoint",
              "scheme")
UNITS = ("city", "bureau", "finance", "leaf_finance", "county", "town", "leaf_town")
CHANGED_BY = {name: SEEN_BY[name] for name in CHANGEABLE} | {
    "insp_city": TOP, "p_city": TOP, "t_mixed": TOP, "rep_city": TOP,
} | dict.fromkeys(UNITS, ADMIN)
for _report in ("rep_county", "rep_city", "rep_finance"):
    CHANGED_BY.update({f"{kind}:{_report}": CHANGED_BY[_report] for kind in ("figure", "item")})

# model → (field changed by the POST change case, its new value as posted, as stored)
CHANGE_FIELD = {
    Unit: ("short_name", "已改简称", "已改简称"),
    User: ("full_name", "已改姓名", "已改姓名"),
    Inspection: ("team", "已改巡察组", "已改巡察组"),
    Problem: ("aspect", "已改方面", "已改方面"),
    Task: ("measures", "已改整改措施", "已改整改措施"),
    SourceReport: ("report_date", "2026-06-30", dt.date(2026, 6, 30)),
    HolidayOverride: ("name", "已改节日", "已改节日"),
    WebhookEndpoint: ("name", "已改推送名称", "已改推送名称"),
    ScoringScheme: ("name", "已改方案名称", "已改方案名称"),
}
# through their services, when nothing refers to them
DELETABLE = {Unit, Inspection, Problem, HolidayOverride, ScoringScheme}
ADDABLE = {Unit: ADMIN, User: ADMIN, Inspection: ALL, Problem: ALL, Task: ALL,
           HolidayOverride: ADMIN, WebhookEndpoint: ADMIN, ScoringScheme: ADMIN}
# Models whose admin answers 403 (not 404) to everyone but the administrator.
ADMIN_ONLY = (User, HolidayOverride, LoginFailure, AuditEntry, WebhookEndpoint, WebhookDelivery,
              ScoringScheme)

MODELS = [Unit, User, Inspection, Problem, Task, TaskEvent, ProgressReport, Evidence,
          DeadlineExtension, Reminder, Notification, Delivery, DispatchRequest, SourceReport,
          ExtractedFigure, ExtractedItem, HolidayOverride, LoginFailure, AuditEntry,
          WebhookEndpoint, WebhookDelivery, TaskRecheck, ScoringScheme]


def test_every_tracker_and_reports_admin_model_is_in_the_table():
    registered = {m for m in admin.site._registry if m._meta.app_label in ("tracker", "reports")}
    assert registered == set(MODELS)


# --- The world --------------------------------------------------------------------------------


class World:
    def __init__(self):
        self.objects: dict[str, object] = {}
        self.users: dict[str, User] = {}
        self.forms: dict[str, dict] = {}  # admin form pages as the administrator fills them

    def __getitem__(self, name):
        return self.objects[name]

    def names(self, model) -> list[str]:
        return [n for n, o in self.objects.items() if type(o) is model]

    def pk_to_name(self, model) -> dict[int, str]:
        return {self.objects[n].pk: n for n in self.names(model)}


def _robots(unit: Unit) -> None:
    Unit.objects.filter(pk=unit.pk).update(
        dingtalk_secret=ROBOT_SECRET,
        dingtalk_webhook_url=f"https://oapi.dingtalk.com/robot/send?access_token={ROBOT_TOKEN}",
        wecom_webhook_url=f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={ROBOT_TOKEN}",
    )


def _build() -> World:
    w = World()
    o = w.objects
    o["city"] = city = UnitFactory(name="江屿市委", kind=UnitKind.PARTY_COMMITTEE)
    o["bureau"] = bureau = UnitFactory(name="市教育局", parent=city)
    o["finance"] = finance = UnitFactory(name="市财政局", parent=city)
    o["county"] = county = UnitFactory(name="东湖区", kind=UnitKind.COUNTY, parent=city)
    o["town"] = town = UnitFactory(name="湖滨街道", kind=UnitKind.TOWNSHIP, parent=county)
    o["leaf_town"] = UnitFactory(name="湖滨社区", kind=UnitKind.VILLAGE, parent=town)
    o["leaf_finance"] = UnitFactory(name="财政局下属中心", parent=finance)
    _robots(finance)
    _robots(county)

    root = UserFactory(username="root", admin=True)
    chief = UserFactory(username="chief", unit=city, supervisor=True)
    sam = UserFactory(username="sam", unit=county, supervisor=True)
    for supervisor in (chief, sam):
        supervisor.groups.add(supervisor_group())  # as the demo sets supervisors up
    alice = UserFactory(username="alice", unit=bureau, role=Role.OFFICER)
    carl = UserFactory(username="carl", unit=county, role=Role.OFFICER, covers_subunits=True)
    bob = UserFactory(username="bob", unit=town, role=Role.OFFICER, phone=PHONE)
    ApiTokenFactory(user=bob, key_hash=api_token_hash(API_TOKEN), prefix="脚本")
    w.users = {"admin": root, "top": chief, "district": sam, "officer": alice,
               "covering": carl}
    o.update({"u_root": root, "u_chief": chief, "u_sam": sam, "u_alice": alice,
              "u_carl": carl, "u_bob": bob})

    inspections = {"city": bureau, "county": county, "finance": finance}
    for key, target in inspections.items():
        o[f"insp_{key}"] = InspectionFactory(
            title=f"{target.name}巡察{mark(f'insp_{key}')}", target_unit=target,
            target=target.name,
        )
    for name, inspection, number in (("p_city", "insp_city", 1), ("p_county", "insp_county", 1),
                                     ("p_finance", "insp_finance", 1),
                                     ("p_spare_city", "insp_city", 2),
                                     ("p_spare_county", "insp_county", 2)):
        o[name] = ProblemFactory(inspection=o[inspection], number=number,
                                 text=f"反馈问题{mark(name)}")

    submitted = {"status": TaskStatus.SUBMITTED, "deadline": dt.date(2026, 12, 31)}
    for name, problem, lead in (("t_bureau", "p_city", bureau), ("t_mixed", "p_city", bureau),
                                ("t_town", "p_county", town), ("t_finance", "p_finance", finance)):
        o[name] = TaskFactory(problem=o[problem], lead_unit=lead, title=f"任务{mark(name)}",
                              **submitted)
    o["t_mixed"].supporting_units.add(town)
    for name in ("t_bureau", "t_mixed", "t_town", "t_finance"):
        task = o[name]
        o[f"event:{name}"] = TaskEventFactory(task=task, actor=chief)
        o[f"progress:{name}"] = ProgressReportFactory(task=task, author=bob)
        # A stored name only: nothing is written to the storage from a module fixture.
        o[f"evidence:{name}"] = EvidenceFactory(task=task, uploaded_by=bob,
                                                file=f"evidence/{task.pk}/planted.pdf")
        o[f"extension:{name}"] = DeadlineExtensionFactory(task=task, requested_by=bob)
        o[f"recheck:{name}"] = TaskRecheckFactory(task=task)

    for name, person, group in (("n_bob", bob, None), ("n_alice", alice, None),
                                ("n_county", None, county), ("n_finance", None, finance)):
        o[name] = NotificationFactory(recipient_user=person, recipient_unit=group,
                                      title=f"提醒{mark(name)}")
    o["r_bob"] = ReminderFactory(task=o["t_town"], recipient_user=bob, notification=o["n_bob"])
    o["r_alice"] = ReminderFactory(task=o["t_bureau"], recipient_user=alice,
                                   notification=o["n_alice"])
    o["d_bob"] = DeliveryFactory(notification=o["n_bob"], status="failed", attempts=3)
    o["d_alice"] = DeliveryFactory(notification=o["n_alice"], status="failed", attempts=3)
    o["dr_town"] = DispatchRequestFactory(unit=town)
    o["dr_bureau"] = DispatchRequestFactory(unit=bureau)

    for key in ("county", "city", "finance"):
        name = f"rep_{key}"
        report = SourceReportFactory(inspection=o[f"insp_{key}"], imported_by=root,
                                     file=f"reports/planted-{key}.txt", title=f"汇报{mark(name)}")
        o[name] = report
        o[f"figure:{name}"] = ExtractedFigureFactory(report=report,
                                                     quote=f"数据{mark(f'figure:{name}')}")
        o[f"item:{name}"] = ExtractedItemFactory(report=report, kind="problem",
                                                 text=f"条目{mark(f'item:{name}')}")
    o["lf_alice"] = LoginFailureFactory(key=f"account:{mark('lf_alice')}|10.0.0.1",
                                        failures=5)
    o["h_2027"] = HolidayOverrideFactory(date=dt.date(2027, 1, 1), kind=HolidayKind.HOLIDAY,
                                         name=f"元旦{mark('h_2027')}")
    o["scheme"] = ScoringSchemeFactory(name=f"方案{mark('scheme')}")
    o["wh_endpoint"] = WebhookEndpointFactory(
        name=f"推送{mark('wh_endpoint')}", secret=WEBHOOK_SECRET, scope_unit=county,
        url="http://oa.example.internal/hooks/tracker",
    )
    o["wh_delivery"] = WebhookDeliveryFactory(
        endpoint=o["wh_endpoint"], task_event=o["event:t_town"], status="failed", attempts=8,
        last_error=f"HTTP 503 {mark('wh_delivery')}",
    )
    o["audit_bob"] = AuditEntryFactory(actor=bob, target_label=f"登录{mark('audit_bob')}")
    # The units above were made through unit_create, which recorded each (as the system).
    for entry in AuditEntry.objects.exclude(pk=o["audit_bob"].pk):
        o[f"audit:{entry.pk}"] = entry
        SEEN_BY[f"audit:{entry.pk}"] = ADMIN
    return w


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        with transaction.atomic():
            yield _build()
            transaction.set_rollback(True)
        # Holiday overrides written here are gone: rebuild the working-day calendar now.
        workdays.invalidate()
        workdays.is_workday(dt.date(2026, 1, 1))


# --- Helpers ----------------------------------------------------------------------------------


def url(model, view, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def mark(name: str) -> str:
    """A distinctive string in the object's title or text: where it shows, the object shows."""
    return f"【{name}】"


def clean(response, role) -> None:
    """No secret, hash, token, nor (for anyone but the administrator) a phone number; and no
    object outside the user's scope, in any part of any page (lists, inlines, filters)."""
    assert response.status_code != 500
    body = response.content.decode()
    for secret in FORBIDDEN:
        assert secret not in body, f"{secret!r} rendered"
    if role != "admin":
        assert PHONE not in body
    unseen = [name for name, roles in SEEN_BY.items() if role not in roles]
    shown = [name for name in unseen if mark(name) in body]
    assert not shown, f"out of scope but shown to {role}: {shown}"


def signed_in(client, world, role):
    client.force_login(world.users[role])
    return client


def refused_to_officers(response) -> None:
    """Officers have no admin at all: sent to the admin's login page."""
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def admin_form(client, world, page_url, role, /, **overrides) -> dict:
    """The page's form as the administrator sees it (filled in), then the user signs in.

    Every test starts from the same database, so each page is read once per module."""
    if page_url not in world.forms:
        client.force_login(world.users["admin"])
        world.forms[page_url] = form_data(client.get(page_url).content.decode())
    client.force_login(world.users[role])
    return {**world.forms[page_url], **overrides}


def admitted(response, role, target) -> bool:
    """Whether the user got past the admin's doors for `target`: officers are sent to the
    login page, and only the administrator reaches users (403). Checked here either way."""
    if role in OFFICERS:
        refused_to_officers(response)
        return False
    clean(response, role)
    if target in ADMIN_ONLY and role != "admin":
        assert response.status_code == 403
        return False
    return True


def snapshot(model) -> list:
    return list(model.objects.order_by("pk").values())


def cases(models=MODELS):
    return [pytest.param(role, model, id=f"{model.__name__}-{role}")
            for model in models for role in ROLES]


# --- Reads ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "model"), cases())
def test_changelist_lists_exactly_the_scope(client, world, role, model):
    response = signed_in(client, world, role).get(url(model, "changelist"))
    if not admitted(response, role, model):
        return
    assert response.status_code == 200
    changelist = response.context["cl"]
    names = world.pk_to_name(model)
    listed = {names[pk] for pk in changelist.queryset.values_list("pk", flat=True)}
    assert listed == {n for n in world.names(model) if role in SEEN_BY[n]}
    # A related filter offers only what the scoped list refers to: no other name leaks.
    for spec in changelist.filter_specs:
        if isinstance(spec, RelatedFieldListFilter):
            offered = {pk for pk, _ in spec.lookup_choices}
            referred = set(changelist.root_queryset.values_list(f"{spec.field_path}__pk",
                                                                flat=True))
            assert offered <= referred, spec.field_path


@pytest.mark.parametrize(("role", "model"), cases())
def test_change_and_history_pages_show_only_the_scope(client, world, role, model):
    """Every change page; the history page (same lookup) once per expected answer."""
    signed_in(client, world, role)
    sampled = set()
    for name in world.names(model):
        pk = world[name].pk
        if model in ADMIN_ONLY and role != "admin":
            expected = 403
        else:
            expected = 200 if role in SEEN_BY[name] else 404
        views = ("change", "history") if expected not in sampled else ("change",)
        sampled.add(expected)
        for view in views:
            response = client.get(url(model, view, pk))
            if role in OFFICERS:
                refused_to_officers(response)
                continue
            clean(response, role)
            assert response.status_code == expected, (name, view)


# --- Writes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "model"), cases())
def test_post_change_changes_only_what_the_user_may_change(client, world, role, model):
    field, posted, stored = CHANGE_FIELD.get(model, (None, None, None))
    for name in world.names(model):
        obj = world[name]
        data = admin_form(client, world, url(model, "change", obj.pk), role,
                          **({field: posted} if field else {}))
        before = snapshot(model)
        response = client.post(url(model, "change", obj.pk), data)
        if role in OFFICERS:
            refused_to_officers(response)
        else:
            clean(response, role)
        may = field is not None and role in CHANGED_BY.get(name, set())
        if may:
            assert response.status_code == 302, (name, response.content.decode()[:3000])
            assert getattr(model.objects.get(pk=obj.pk), field) == stored, name
        else:
            expected = 403 if (role in SEEN_BY[name] or model in ADMIN_ONLY) else 404
            if role not in OFFICERS:
                assert response.status_code == expected, name
            assert snapshot(model) == before, f"{name} changed by {role}"


def _add_payloads(world) -> dict:
    """model → (a payload in the district's scope, one outside it)."""
    o = world.objects
    task = {"title": "后台新增任务", "task_type": "by_deadline", "deadline": "2026-10-31"}
    inspection = {"title": "后台新增巡察", "kind": "county_patrol", "mode": "regular",
                  "target": "被巡察单位", "feedback_date": "2026-04-01"}
    return {
        Unit: ({"name": "新设社区", "kind": "village", "parent": o["town"].pk},
               {"name": "新设中心", "kind": "other", "parent": o["bureau"].pk}),
        Inspection: ({**inspection, "target_unit": o["county"].pk},
                     {**inspection, "target_unit": o["bureau"].pk}),
        Problem: ({"inspection": o["insp_county"].pk, "number": 9, "text": "后台新增问题"},
                  {"inspection": o["insp_city"].pk, "number": 9, "text": "后台新增问题"}),
        Task: ({**task, "problem": o["p_county"].pk, "lead_unit": o["town"].pk},
               {**task, "problem": o["p_city"].pk, "lead_unit": o["bureau"].pk}),
        HolidayOverride: ({"date": "2027-10-01", "kind": "holiday", "name": "国庆节"}, None),
        WebhookEndpoint: ({"name": "后台新增推送", "url": "http://oa.example.internal/new"}, None),
        ScoringScheme: ({"name": "后台新增方案", "effective_from": "2027-01-01"}, None),
        User: ({"username": "newbie", "password1": "Rectify-2026-long",
                "password2": "Rectify-2026-long", "role": "officer", "unit": o["town"].pk},
               None),
    }


@pytest.mark.parametrize(("role", "model"), cases())
def test_add_is_open_only_in_scope_and_never_fails_with_500(client, world, role, model):
    signed_in(client, world, role)
    page = client.get(url(model, "add"))
    if role in OFFICERS:
        refused_to_officers(page)
        return
    clean(page, role)
    allowed = role in ADDABLE.get(model, set())
    assert page.status_code == (200 if allowed else 403)
    inside, outside = _add_payloads(world).get(model, ({"title": "x"}, None))
    for payload, lands in ((inside, allowed), (outside, allowed and role in TOP)):
        if payload is None:
            continue
        data = admin_form(client, world, url(model, "add"), role, **payload)
        count = model.objects.count()
        response = client.post(url(model, "add"), data)
        clean(response, role)
        if not allowed:
            assert response.status_code == 403
        assert model.objects.count() == count + (1 if lands else 0), (payload, role)


@pytest.mark.parametrize(("role", "model"), cases())
def test_delete_only_in_scope_through_the_services(client, world, role, model):
    """Every delete page; the POST wherever deleting is allowed, and once per refusal."""
    signed_in(client, world, role)
    refusals = set()
    for name in world.names(model):
        obj = world[name]
        page = client.get(url(model, "delete", obj.pk))
        if role in OFFICERS:
            refused_to_officers(page)
            continue
        clean(page, role)
        may = model in DELETABLE and role in CHANGED_BY[name]
        seen = role in SEEN_BY[name]
        expected = 200 if may else 403 if (seen or model in ADMIN_ONLY) else 404
        assert page.status_code == expected, name
        if not may:
            if expected in refusals:
                continue
            refusals.add(expected)
        response = client.post(url(model, "delete", obj.pk), {"post": "yes"})
        clean(response, role)
        gone = not model.objects.filter(pk=obj.pk).exists()
        # Only objects nothing refers to can go: a spare problem, a leaf unit.
        assert gone == (may and name in {"p_spare_city", "p_spare_county", "leaf_town",
                                         "leaf_finance", "h_2027", "scheme"}), name


# --- Autocompletes and actions ----------------------------------------------------------------

# Django's autocomplete view answers for any relation to a registered model (it checks only
# the target's admin), so a relation to User that no form offers is tried as well.
AUTOCOMPLETES = [
    *((source, field) for source in MODELS
      for field in admin.site._registry[source].autocomplete_fields),
    (TaskEvent, "actor"),
]


@pytest.mark.parametrize(("role", "source", "field"), [
    pytest.param(role, source, field, id=f"{source.__name__}.{field}-{role}")
    for source, field in AUTOCOMPLETES for role in ROLES
])
def test_autocomplete_offers_only_the_scope(client, world, role, source, field):
    target = source._meta.get_field(field).related_model
    response = signed_in(client, world, role).get(reverse("admin:autocomplete"), {
        "app_label": source._meta.app_label, "model_name": source._meta.model_name,
        "field_name": field,
    })
    if not admitted(response, role, target):
        return
    names = world.pk_to_name(target)
    offered = {names[int(r["id"])] for r in response.json()["results"]}
    assert offered == {n for n in world.names(target) if role in SEEN_BY[n]}


def _exists(obj) -> bool:
    return type(obj).objects.filter(pk=obj.pk).exists()


def _state(model, field):
    return lambda obj: getattr(type(obj).objects.get(pk=obj.pk), field)


# (model, action, how to read the effect, the value once acted on, who may act on what,
#  the objects selected if not all)
ACTIONS = [
    (Task, "close_selected", _state(Task, "status"), TaskStatus.COMPLETED, CHANGED_BY),
    (Delivery, "retry_failed", _state(Delivery, "status"), "pending", SEEN_BY),
    (ExtractedFigure, "confirm_selected", _state(ExtractedFigure, "review_state"),
     ReviewState.CONFIRMED, CHANGED_BY),
    (ExtractedFigure, "reject_selected", _state(ExtractedFigure, "review_state"),
     ReviewState.REJECTED, CHANGED_BY),
    # Confirming a problem item files a problem under the report's inspection: only where the
    # user may edit that inspection.
    (ExtractedItem, "confirm_problems_selected", _state(ExtractedItem, "review_state"),
     ReviewState.CONFIRMED,
     {"item:rep_county": ALL, "item:rep_city": TOP, "item:rep_finance": TOP}),
    (ExtractedItem, "reject_selected", _state(ExtractedItem, "review_state"),
     ReviewState.REJECTED, CHANGED_BY),
    # Django's bulk delete is not offered (objects are deleted one by one, through the
    # services): posting it anyway deletes nothing, not even what nothing refers to.
    (LoginFailure, "unlock_selected", _exists, False, {"lf_alice": ADMIN}),
    (WebhookDelivery, "resend_failed", _state(WebhookDelivery, "status"), "pending",
     {"wh_delivery": ADMIN}),
    (Unit, "delete_selected", _exists, False, {}, ("leaf_town", "leaf_finance")),
    (Problem, "delete_selected", _exists, False, {}, ("p_spare_city", "p_spare_county")),
]


@pytest.mark.parametrize(("role", "action"), [
    pytest.param(role, action, id=f"{action[0].__name__}.{action[1]}-{role}")
    for action in ACTIONS for role in ROLES
])
def test_actions_cover_only_the_scope(client, world, role, action):
    model, name, read, done, acts, *selected = action
    signed_in(client, world, role)
    names = list(selected[0]) if selected else world.names(model)
    before = {n: read(world[n]) for n in names}
    response = client.post(url(model, "changelist"), {
        "action": name, "_selected_action": [world[n].pk for n in names], "post": "yes",
        "index": 0,
    })
    if role in OFFICERS:
        refused_to_officers(response)
    else:
        clean(response, role)
    for n in names:
        expected = done if role in acts.get(n, set()) else before[n]
        assert read(world[n]) == expected, f"{name} on {n} by {role}"


def test_api_tokens_are_not_in_the_admin(client, world):
    """DRF's token admin listed every token's key to administrators: it is unregistered."""
    signed_in(client, world, "admin")
    response = client.get("/admin/authtoken/tokenproxy/")
    assert response.status_code == 404
    clean(client.get(reverse("admin:index")), "admin")
