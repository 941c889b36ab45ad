from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from accounts.roles import ADMINISTRATOR, BOOKKEEPER, VIEWER
from settings_app.models import Tax
from settings_app.selectors import get_business_settings

# chromium, the office user and logging in, for the browser tests of every app; a real SMTP
# server on localhost for the e-mail tests of every app.
pytest_plugins = ["tests.browser", "tests.mail"]


@pytest.fixture
def business(db):
    """The settings row and a 13 % tax (the default set), as an Ontario firm has them, and
    a stored exchange rate of every other currency (``factories.TEST_RATES``)."""
    Tax.objects.create(label="HST", rate=Decimal("13.0000"), number="812345678 RT0001")
    settings = get_business_settings()
    settings.local_country = "CA"
    settings.default_currency = "CAD"
    settings.time_zone = "America/Toronto"
    settings.save()
    from tests.factories import store_test_rates

    store_test_rates()
    return settings


def _user(django_user_model, username, group_name):
    user = django_user_model.objects.create_user(
        username=username, password="pw-for-tests-1", is_staff=True
    )
    user.groups.add(Group.objects.get(name=group_name))
    return django_user_model.objects.get(pk=user.pk)  # fresh permission cache


@pytest.fixture
def administrator(db, django_user_model):
    return _user(django_user_model, "admin1", ADMINISTRATOR)


@pytest.fixture
def bookkeeper(db, django_user_model):
    return _user(django_user_model, "books1", BOOKKEEPER)


@pytest.fixture
def viewer(db, django_user_model):
    return _user(django_user_model, "viewer1", VIEWER)


@pytest.fixture
def migration_rows(db):
    """What the data migrations put in the database (role groups, the number counters),
    for transactional tests: the flush after each one empties every table."""
    from django.contrib.auth.models import Permission

    from accounts.roles import sync_roles
    from billing.models import InvoiceNumberCounter
    from billing.services import COUNTER_NAME
    from billing.services.credit_notes import COUNTER_NAME as CREDIT_NOTE_COUNTER
    from quotes.services import COUNTER_NAME as QUOTE_COUNTER

    sync_roles(Group, Permission)
    InvoiceNumberCounter.objects.get_or_create(name=COUNTER_NAME)
    InvoiceNumberCounter.objects.get_or_create(name=CREDIT_NOTE_COUNTER)
    InvoiceNumberCounter.objects.get_or_create(name=QUOTE_COUNTER)
