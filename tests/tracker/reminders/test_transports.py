"""The channel registry: one transport class per channel, chosen by what a recipient set up."""

from tests.tracker.factories import UnitFactory, UserFactory
from tracker.models import Channel
from tracker.reminders.transports import (
    TRANSPORTS,
    DingTalk,
    Email,
    Transport,
    WeCom,
    transports_for,
)


def test_every_channel_has_exactly_one_transport_class():
    """A channel added to the model without a transport (or the reverse) fails here."""
    assert set(TRANSPORTS) == set(Channel.values)
    assert all(issubclass(t, Transport) and TRANSPORTS[t.code] is t for t in TRANSPORTS.values())
    assert transports_for("recipient_user") == [Email]
    assert transports_for("recipient_unit") == [WeCom, DingTalk]


def test_a_transport_is_a_noop_for_a_recipient_who_has_not_set_the_channel_up(db):
    unit = UnitFactory()
    unit.dingtalk_webhook_url = "https://robot.test/d"
    assert WeCom(unit).is_noop()
    assert not DingTalk(unit).is_noop()
    assert Email(UserFactory(email="")).is_noop()
    assert not Email(UserFactory(email="a@example.test")).is_noop()
