"""Acceptance: every model of the project has a factory-boy factory, and
each builds a row the database accepts."""

import pytest
from django.apps import apps
from factory.django import DjangoModelFactory

import tests.reports.factories
import tests.tracker.factories

pytestmark = pytest.mark.django_db

FACTORIES = {
    factory._meta.model: factory
    for module in (tests.tracker.factories, tests.reports.factories)
    for factory in vars(module).values()
    if isinstance(factory, type) and issubclass(factory, DjangoModelFactory)
    and factory is not DjangoModelFactory
}
MODELS = [m for app in ("tracker", "reports") for m in apps.get_app_config(app).get_models()]


def test_every_model_has_a_factory():
    assert sorted(m.__name__ for m in MODELS if m not in FACTORIES) == []


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_each_factory_builds_a_row_the_database_accepts(model):
    row = FACTORIES[model]()
    assert model.objects.filter(pk=row.pk).exists()
