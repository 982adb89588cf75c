"""The test database as a DATABASE_URL, for processes a test starts (workers, commands)."""

from django.db import connection


def database_url_of_test_db() -> str:
    data = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{data['NAME']}"
    user = data.get("USER") or ""
    password = f":{data['PASSWORD']}" if data.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = f"{data.get('HOST') or '127.0.0.1'}:{data.get('PORT') or 5432}"
    return f"postgres://{auth}{host}/{data['NAME']}"
