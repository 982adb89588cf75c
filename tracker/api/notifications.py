# In-app notifications API under /api/v1/notifications/ (see the reminders issue).
urlpatterns: list = []
