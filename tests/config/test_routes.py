"""config.routes: a route's address is reversed once per URLconf and script prefix, and is
always what reverse() answers there."""

import pytest
from django.template import Context, Template
from django.test import override_settings
from django.urls import NoReverseMatch, path, reverse, set_script_prefix

from config.routes import address


@pytest.fixture
def prefixed():
    set_script_prefix("/zhenggai/")
    yield
    set_script_prefix("/")


def test_the_address_is_reverses_answer():
    assert address("web:task_list") == reverse("web:task_list") == "/tasks/"
    assert address("web:no_such_page") is None


def test_the_address_follows_the_script_prefix(prefixed):
    assert address("web:task_list") == "/zhenggai/tasks/"


# Only the home page routed: the other names are not there.
urlpatterns = [path("start/", lambda request: None, name="home")]


@override_settings(ROOT_URLCONF=__name__)
def test_the_address_follows_the_urlconf():
    assert address("home") == "/start/"
    assert address("web:task_list") is None


def test_the_tag_writes_the_address_and_refuses_an_unknown_name(prefixed):
    template = Template("{% load routes %}<a href=\"{% address 'web:task_list' %}\">")
    assert template.render(Context()) == '<a href="/zhenggai/tasks/">'
    with pytest.raises(NoReverseMatch):
        Template("{% load routes %}{% address 'web:no_such_page' %}").render(Context())
