# The ledger's REST API under /api/v1/ (units, users, inspections, problems, tasks).
from django.urls import path
from rest_framework.routers import SimpleRouter

from tracker.api import comments, scoring, views
from tracker.api.ledger import LedgerJobViewSet
from tracker.api.notices import NoticeViewSet
from tracker.api.rechecks import RecheckViewSet

router = SimpleRouter()
router.register("units", views.UnitViewSet, basename="unit")
router.register("users", views.UserViewSet, basename="user")
router.register("inspections", views.InspectionViewSet, basename="inspection")
router.register("problems", views.ProblemViewSet, basename="problem")
router.register("tasks", views.TaskViewSet, basename="task")
router.register("evidence", views.EvidenceViewSet, basename="evidence")
router.register("extensions", views.ExtensionViewSet, basename="extension")
router.register("ledger-jobs", LedgerJobViewSet, basename="ledger-job")
router.register("notices", NoticeViewSet, basename="notice")
router.register("rechecks", RecheckViewSet, basename="recheck")

urlpatterns = [
    path("auth/login/", views.LoginView.as_view(), name="api-login"),
    path("auth/logout/", views.LogoutView.as_view(), name="api-logout"),
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    *comments.urlpatterns,
    *scoring.urlpatterns,
    *router.urls,
]
