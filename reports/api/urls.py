# Rollups and report reading under /api/v1/ (see the rollups and reports issues).
urlpatterns: list = []
