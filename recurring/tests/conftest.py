import datetime

import pytest

from recurring import services
from tests.factories import ClientFactory, line


@pytest.fixture
def maple(business):
    """A client with an address to e-mail invoices to."""
    return ClientFactory(
        name="Maple Leaf Property", contact_person="Ann Smith", email="ann@maple.example.com"
    )


def schedule_for(client, start, **kwargs):
    """A monthly schedule of one 500.00 line for ``client`` from ``start``."""
    return services.create_schedule(
        client=client,
        acting_user=None,
        name=kwargs.pop("name", "Hosting"),
        start_date=start,
        lines=kwargs.pop("lines", [line("1", "500.00", description="Hosting, {month} {year}")]),
        **kwargs,
    )


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)
