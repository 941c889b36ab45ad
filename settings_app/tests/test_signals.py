"""business_settings_changed: the apps built on the settings hear what changed, inside the
transaction that saved it."""

import pytest

from settings_app.selectors import get_business_settings
from settings_app.services import update_business_settings
from settings_app.signals import business_settings_changed

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    """The ``changed`` of every signal sent while the test runs."""
    sets = []

    def receiver(sender, *, changed, **kwargs):
        sets.append(changed)

    business_settings_changed.connect(receiver)
    yield sets
    business_settings_changed.disconnect(receiver)


def test_the_signal_names_the_fields_whose_value_changed(business, heard):
    update_business_settings(
        acting_user=None,
        time_zone="UTC",
        business_name=business.business_name,  # given, but the same
        smtp_port="587",  # 587 already: the same number
        payment_terms_days=14,
    )

    assert heard == [{"time_zone", "payment_terms_days"}]


def test_no_signal_when_nothing_changed(business, heard):
    update_business_settings(acting_user=None, time_zone=business.time_zone)

    assert heard == []


def test_a_receiver_that_fails_refuses_the_change(business):
    def failing_receiver(sender, **kwargs):
        raise RuntimeError("could not derive what depends on the setting")

    business_settings_changed.connect(failing_receiver)
    try:
        with pytest.raises(RuntimeError):
            update_business_settings(acting_user=None, time_zone="UTC")
    finally:
        business_settings_changed.disconnect(failing_receiver)

    assert get_business_settings().time_zone == "America/Toronto"
