"""Emoji are drawn, not boxes (issue 16, item 20): the setup installs a font that has them
(fonts-noto-color-emoji, scripts/lib.sh) and the invoice PDF embeds it."""

import subprocess

import pytest
from django.urls import reverse

from tests.factories import ClientFactory, issued, line

pytestmark = pytest.mark.django_db


def test_an_emoji_in_a_line_is_drawn_with_the_emoji_font(client, bookkeeper, business):
    invoice = issued(
        client=ClientFactory(name="Café ☕"), lines=[line(description="Party 🎉 set-up")]
    )
    client.force_login(bookkeeper)
    pdf = client.get(reverse("invoices:pdf", args=[invoice.number])).content
    fonts = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, check=True)
    assert "Noto-Color-Emoji" in fonts.stdout.decode(), fonts.stdout.decode()
