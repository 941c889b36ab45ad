"""Business settings in the back office: one row, administrators only, SMTP password
write-only."""

import pytest
from django.urls import reverse

from billing.models import InvoiceTax
from billing.tests.admin_forms import form_data
from settings_app.models import Tax
from settings_app.selectors import get_business_settings
from tests.factories import issued

pytestmark = pytest.mark.django_db

SECRET = "s3cr3t-smtp-pa55"


@pytest.fixture
def office(client, administrator, business):
    client.force_login(administrator)
    return client


@pytest.fixture
def change_url(business):
    return reverse("admin:settings_app_businesssettings_change", args=[business.pk])


def test_settings_list_opens_the_one_row(office, change_url):
    response = office.get(reverse("admin:settings_app_businesssettings_changelist"))
    assert response.status_code == 302
    assert response["Location"] == change_url


def test_smtp_password_is_never_shown_and_kept_when_left_empty(office, change_url, business):
    business.smtp_password = SECRET
    business.save()
    page = office.get(change_url)
    assert SECRET not in page.content.decode()
    data = form_data(page)
    assert "smtp_password" not in data
    data["business_name"] = "Renamed Ltd"
    assert office.post(change_url, data).status_code == 302
    settings = get_business_settings()
    assert settings.business_name == "Renamed Ltd"
    assert settings.smtp_password == SECRET


def test_smtp_password_can_be_set_and_cleared(office, change_url):
    data = form_data(office.get(change_url))
    office.post(change_url, {**data, "smtp_password": "new-one"})
    assert get_business_settings().smtp_password == "new-one"
    data = form_data(office.get(change_url))
    office.post(change_url, {**data, "clear_smtp_password": "on"})
    assert get_business_settings().smtp_password == ""


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("time_zone", "Mars/Olympus", "Select a valid choice"),
        ("invoice_number_prefix", "INV 1", "not ending in a digit"),
        ("payment_terms_days", "-3", "greater than or equal to 0"),
        ("smtp_port", "70000", "less than or equal to 65535"),
        ("local_country", "c", "two-letter country code"),
        ("default_currency", "EURO", "not one of the available choices"),
    ],
)
def test_bad_settings_are_refused_on_the_form(office, change_url, field, value, message):
    data = form_data(office.get(change_url))
    data[field] = value
    before = get_business_settings()
    response = office.post(change_url, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    after = get_business_settings()
    assert getattr(after, field) == getattr(before, field)


def test_tls_and_ssl_together_are_refused(office, change_url):
    data = form_data(office.get(change_url))
    data.update(smtp_use_tls="on", smtp_use_ssl="on")
    response = office.post(change_url, data)
    assert response.status_code == 200
    assert "not both" in response.content.decode()


def test_changing_a_tax_leaves_existing_invoices_alone(office, business):
    invoice = issued()
    tax = Tax.objects.get(label="HST")
    url = reverse("admin:settings_app_tax_change", args=[tax.pk])
    data = form_data(office.get(url))
    data.update(rate="15", label="GST")
    assert office.post(url, data).status_code == 302
    copied = InvoiceTax.objects.get(invoice=invoice)
    assert (copied.label, str(copied.rate), str(copied.amount)) == ("HST", "13.0000", "13.00")
    assert issued().taxes.get().label == "GST"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("101", "must be at most 100"),
        ("-1", "must be at least 0"),
        ("abc", "is not a number"),
        ("1e1", "“1e1” is not a number"),
    ],
)
def test_bad_tax_rates_are_refused_in_the_back_office(office, business, value, message):
    tax = Tax.objects.get(label="HST")
    url = reverse("admin:settings_app_tax_change", args=[tax.pk])
    data = form_data(office.get(url))
    data["rate"] = value
    response = office.post(url, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Tax.objects.get(pk=tax.pk).rate == tax.rate


def test_a_tax_is_added_in_the_back_office_and_never_deleted(office, business):
    url = reverse("admin:settings_app_tax_add")
    data = form_data(office.get(url))
    data.update(label="QST", rate="9.975", number="1234567890 TQ0001", position="2")
    assert office.post(url, data).status_code == 302
    qst = Tax.objects.get(label="QST")
    assert (str(qst.rate), qst.number) == ("9.9750", "1234567890 TQ0001")
    delete = reverse("admin:settings_app_tax_delete", args=[qst.pk])
    assert office.post(delete, {"post": "yes"}).status_code == 403
    data["rate"] = "5"  # the same label again
    response = office.post(url, data)
    assert response.status_code == 200
    assert "already exists" in response.content.decode()


def test_settings_cannot_be_added_or_deleted(office, business):
    assert office.get(reverse("admin:settings_app_businesssettings_add")).status_code == 403
    delete = reverse("admin:settings_app_businesssettings_delete", args=[business.pk])
    assert office.post(delete, {"post": "yes"}).status_code == 403
