"""Addresses of the named routes that take no arguments, reversed once.

reverse() reads nothing but the URLconf and the script prefix (the path the site is served
under, set per request from SCRIPT_NAME or FORCE_SCRIPT_NAME), so an address is kept per
(URLconf, prefix, name). The navigation bar and the links every page prints (home, 通知设置,
退出登录 …) cost a dozen reverse() calls per view otherwise. Routes with arguments keep
{% url %}.

    {% load routes %}<a href="{% address 'web:task_list' %}">
"""

import functools

from django import template
from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

register = template.Library()


@functools.lru_cache(maxsize=1024)
def _address(urlconf: str, script_prefix: str, name: str) -> str | None:
    try:
        return reverse(name, urlconf=urlconf)
    except NoReverseMatch:
        return None


def routing() -> tuple[str, str]:
    """Where this request's routes are: its URLconf and script prefix, all that reverse()
    reads (a key for anything kept that prints addresses)."""
    return get_urlconf() or settings.ROOT_URLCONF, get_script_prefix()


def address(name: str) -> str | None:
    """reverse(name), or None when no route has that name."""
    return _address(*routing(), name)


@register.simple_tag(name="address")
def address_tag(name: str) -> str:
    """{% url name %} for a route without arguments (an unknown name fails like {% url %})."""
    found = address(name)
    if found is None:
        raise NoReverseMatch(f"没有名为 {name!r} 的地址")
    return found
