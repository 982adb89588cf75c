# The ledger's REST API under /api/v1/ (units, users, inspections, problems, tasks).
urlpatterns: list = []
