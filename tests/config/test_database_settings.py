"""PostgreSQL's JIT is off for the tracker's connections unless asked for (issue #13): it made
the scoped rollups several times slower than their plain plans."""

import pytest
from django.db import connection

from config.settings import base


@pytest.mark.postgres
@pytest.mark.django_db
def test_connections_run_without_jit():
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def _postgres(options=None) -> dict:
    database = {"ENGINE": "django.db.backends.postgresql", "NAME": "tracker"}
    if options is not None:
        database["OPTIONS"] = options
    return database


def test_jit_is_off_by_default_and_keeps_options_given_in_the_url(monkeypatch):
    monkeypatch.delenv("POSTGRES_JIT", raising=False)
    assert base.postgres_session_options(_postgres())["OPTIONS"]["options"] == "-c jit=off"
    kept = base.postgres_session_options(_postgres({"options": "-c statement_timeout=5000"}))
    assert kept["OPTIONS"]["options"] == "-c statement_timeout=5000 -c jit=off"


def test_an_operator_may_turn_jit_back_on(monkeypatch):
    monkeypatch.setenv("POSTGRES_JIT", "on")
    assert base.postgres_session_options(_postgres())["OPTIONS"]["options"] == "-c jit=on"


def test_sqlite_is_left_alone():
    database = {"ENGINE": "django.db.backends.sqlite3", "NAME": "x.sqlite3"}
    assert "OPTIONS" not in base.postgres_session_options(database)
