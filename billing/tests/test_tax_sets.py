"""Several taxes on real documents (SPEC: Several taxes): the business's taxes, a client's
default or own set, a service's taxes, the set a document copies, and every tax shown with
label, rate, registration number, base and amount on the page, the PDF, the e-mail, the API
and the tax report."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing import services
from billing.models import Client, TaxBasis
from billing.pdf import invoice_pdf
from billing.rules import no_tax_reason
from otb.operations import InvalidInput
from outbox import services as outbox
from reports import selectors as reports
from settings_app.models import Tax
from settings_app.services import create_tax, update_tax
from tests.api import token_client
from tests.factories import (
    GST_NO,
    QST_NO,
    ClientFactory,
    ServiceFactory,
    issued,
    line,
    quebec_client,
)
from tests.pdf import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(client, administrator, business):
    client.force_login(administrator)
    return client


D = Decimal


@pytest.fixture
def quebec(business):
    return quebec_client()


def quebec_invoice(client):
    """10 h × 85.00 and 250.00 less 10 %, less 5 % on the invoice: 1,021.25 taxed twice."""
    return issued(
        client=client,
        lines=[line("10", "85.00"), line("1", "250.00", discount_percent=D("10"))],
        discount_kind="percent",
        discount_value=D("5"),
    )


# The figures of quebec_invoice, from SPEC.md by hand: subtotal 1,075.00, discount 53.75,
# base 1,021.25 for both; GST 51.0625 -> 51.06; QST 101.8696875 -> 101.87.
EXPECTED = [
    ("GST", "5", GST_NO, "1,021.25", "51.06"),
    ("QST", "9.975", QST_NO, "1,021.25", "101.87"),
]


def test_a_client_with_its_own_set_gets_gst_and_qst_each_rounded_once(quebec):
    invoice = quebec_invoice(quebec)
    assert invoice.tax_basis == TaxBasis.CLIENT
    taxes = [(t.label, t.rate, t.number, t.base, t.amount) for t in invoice.taxes.all()]
    assert taxes == [
        ("GST", D("5.0000"), GST_NO, D("1021.25"), D("51.06")),
        ("QST", D("9.9750"), QST_NO, D("1021.25"), D("101.87")),
    ]
    assert (invoice.subtotal, invoice.discount_total) == (D("1075.00"), D("53.75"))
    assert invoice.total == D("1174.18")


def test_every_tax_is_shown_on_the_page_the_pdf_the_email_the_api_and_the_tax_report(
    quebec, office, bookkeeper, smtp, django_capture_on_commit_callbacks
):
    invoice = quebec_invoice(quebec)
    page = office.get(invoice.get_absolute_url()).content.decode()
    document = pdf_text(invoice_pdf(invoice))
    defaults = outbox.invoice_message_defaults(invoice)
    with django_capture_on_commit_callbacks(execute=True):
        outbox.send_invoice(
            invoice=invoice, acting_user=bookkeeper, base_url="http://testserver/", **defaults
        )
    [received] = smtp.received
    mail = received.text()
    [(_name, attached)] = received.attachments()
    attached_text = pdf_text(attached)
    for label, rate, number, base, amount in EXPECTED:
        for shown in (page, document, mail, attached_text):
            assert f"{label} {rate} %" in shown
            assert f"{label} no. {number}" in shown
            assert f"{base} CAD" in shown
            assert f"{amount} CAD" in shown

    body = token_client(bookkeeper).get(f"/api/v1/invoices/{invoice.number}/").json()
    assert body["tax_basis"] == "client"
    assert [
        (t["label"], t["rate"], t["number"], t["base"], t["amount"]) for t in body["taxes"]
    ] == [
        ("GST", "5.0000", GST_NO, "1021.25", "51.06"),
        ("QST", "9.9750", QST_NO, "1021.25", "101.87"),
    ]

    day = invoice.issue_date
    rows = reports.tax_report(day, day, period="month")
    assert [(r["label"], r["number"], r["base"], r["amount"]) for r in rows] == [
        ("GST", GST_NO, D("1021.25"), D("51.06")),
        ("QST", QST_NO, D("1021.25"), D("101.87")),
    ]
    csv = office.get(
        "/reports/tax/", {"start": day, "end": day, "period": "month", "format": "csv"}
    )
    assert f"QST,9.9750,{QST_NO},CAD,1021.25,101.87,1" in csv.content.decode()


def test_a_service_names_the_taxes_its_lines_carry_pst_on_materials_only(business):
    """British Columbia: GST on everything, PST 7 % on materials only."""
    Tax.objects.filter(label="HST").update(is_active=False)
    gst = create_tax(acting_user=None, label="GST", rate="5")
    pst = create_tax(acting_user=None, label="PST", rate="7")
    labour = ServiceFactory(code="LABOUR", unit_price=D("80.00"))
    labour.taxes.set([gst])
    materials = ServiceFactory(code="MATERIALS", unit_price=D("500.00"))
    invoice = issued(
        lines=[
            services.LineData(service=labour, quantity=D(10)),
            services.LineData(service=materials, quantity=D(1)),
        ]
    )
    assert [line.taxes for line in invoice.lines.all()] == [["GST"], None]
    assert [(t.label, t.base, t.amount) for t in invoice.taxes.all()] == [
        ("GST", D("1300.00"), D("65.00")),
        ("PST", D("500.00"), D("35.00")),
    ]
    assert invoice.total == D("1400.00")
    assert pst.pk  # the PST of the default set, carried by the materials


def test_a_line_may_name_its_taxes_and_an_unknown_one_is_refused_by_name(quebec):
    invoice = issued(
        client=quebec,
        lines=[line("1", "100.00"), line("1", "200.00", taxes=["GST"])],
    )
    assert [(t.label, t.base) for t in invoice.taxes.all()] == [
        ("GST", D("300.00")),
        ("QST", D("100.00")),
    ]
    with pytest.raises(InvalidInput) as refused:
        services.create_draft(client=quebec, acting_user=None, lines=[line(), line(taxes=["PST"])])
    assert refused.value.errors == {
        "lines.1.taxes": ["Line 2, taxes: “PST” is not a tax of this document (GST, QST)."]
    }


def test_exempt_and_foreign_clients_get_an_empty_set_and_their_own_set_is_never_overridden(
    business,
):
    business.tax_local_clients_only = True
    business.save()
    exempt = issued(client=ClientFactory(tax_exempt=True))
    abroad = issued(client=ClientFactory(country="US"))
    assert (exempt.tax_basis, exempt.tax_total, list(exempt.taxes.all())) == ("exempt", 0, [])
    assert (abroad.tax_basis, abroad.tax_total, list(abroad.taxes.all())) == ("foreign", 0, [])

    hst = Tax.objects.get(label="HST")
    own = ClientFactory(country="US", tax_exempt=True, uses_default_taxes=False)
    own.taxes.set([hst])
    taxed = issued(client=own)
    assert (taxed.tax_basis, taxed.tax_total) == ("client", D("13.00"))
    none = ClientFactory(uses_default_taxes=False)
    untaxed = issued(client=none)
    assert (untaxed.tax_total, no_tax_reason(untaxed)) == (0, "No tax")

    day = exempt.issue_date
    rows = reports.untaxed_sales(day, day, period="month")
    assert [(r["basis"], r["amount"], r["invoices"]) for r in rows] == [
        ("client", D("100.00"), 1),
        ("exempt", D("100.00"), 1),
        ("foreign", D("100.00"), 1),
    ]


def test_a_changed_or_inactive_tax_never_changes_a_document_already_made(quebec):
    before = quebec_invoice(quebec)
    qst = Tax.objects.get(label="QST")
    update_tax(tax=qst, acting_user=None, rate="10", number="NEW")
    before.refresh_from_db()
    assert [(t.rate, t.number) for t in before.taxes.all()][1] == (D("9.9750"), QST_NO)
    assert quebec_invoice(quebec).taxes.get(label="QST").rate == D("10.0000")
    update_tax(tax=qst, acting_user=None, is_active=False)
    assert [t.label for t in quebec_invoice(quebec).taxes.all()] == ["GST"]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"rate": "101"}, "rate", "at most 100"),
        ({"rate": "-1"}, "rate", "at least 0"),
        ({"rate": "abc"}, "rate", "not a number"),
        ({"label": ""}, "label", "cannot be blank"),
        ({"label": "HST"}, "label", "already exists"),
    ],
)
def test_bad_taxes_are_refused_by_name_and_nothing_is_saved(business, fields, field, message):
    values = {"label": "GST", "rate": "5", **fields}
    with pytest.raises(InvalidInput) as refused:
        create_tax(acting_user=None, **values)
    assert message in " ".join(refused.value.errors[field])
    assert list(Tax.objects.values_list("label", flat=True)) == ["HST"]


def test_taxes_are_edited_on_the_settings_page(office, business):
    page = office.get("/settings/").content.decode()
    assert "HST" in page and 'href="/settings/taxes/new/"' in page
    response = office.post(
        "/settings/taxes/new/",
        {"label": "QST", "rate": "9.975", "number": QST_NO, "is_active": "on", "position": "2"},
    )
    assert response.status_code == 302
    qst = Tax.objects.get(label="QST")
    assert (qst.rate, qst.in_default_set) == (D("9.9750"), False)
    response = office.post(f"/settings/taxes/{qst.pk}/", {"label": "QST", "rate": "1000"})
    assert response.status_code == 200
    assert "must be at most 100" in response.content.decode()
    assert Tax.objects.get(pk=qst.pk).rate == D("9.9750")


def test_a_bookkeeper_cannot_change_taxes(client, bookkeeper, business):
    client.force_login(bookkeeper)
    assert client.get("/settings/taxes/new/").status_code == 403


def test_the_api_lists_adds_and_changes_taxes_and_clients_name_them(
    administrator, bookkeeper, business
):
    admin_api = token_client(administrator)
    created = admin_api.post(
        "/api/v1/taxes/", {"label": "GST", "rate": "5", "number": GST_NO}, format="json"
    )
    assert created.status_code == 201, created.json()
    gst = created.json()
    assert (gst["rate"], gst["in_default_set"]) == ("5.0000", True)
    changed = admin_api.patch(f"/api/v1/taxes/{gst['id']}/", {"rate": "150"}, format="json")
    assert changed.status_code == 400 and "rate" in changed.json()["errors"]

    api = token_client(bookkeeper)
    assert [t["label"] for t in api.get("/api/v1/taxes/").json()["results"]] == ["HST", "GST"]
    assert api.post("/api/v1/taxes/", {"label": "X", "rate": "1"}, format="json").status_code == 403
    made = api.post(
        "/api/v1/clients/",
        {
            "code": "QC",
            "name": "Quebec client",
            "country": "CA",
            "uses_default_taxes": False,
            "taxes": ["GST"],
        },
        format="json",
    )
    assert made.status_code == 201, made.json()
    assert made.json()["taxes"] == ["GST"]
    unknown = api.patch("/api/v1/clients/QC/", {"taxes": ["NOPE"]}, format="json")
    assert unknown.status_code == 400 and "taxes" in unknown.json()["errors"]


def test_the_client_form_saves_its_own_set(office, business):
    gst = create_tax(acting_user=None, label="GST", rate="5", in_default_set=False)
    response = office.post(
        "/clients/new/",
        {
            "code": "QC",
            "name": "Quebec client",
            "country": "CA",
            "default_currency": "CAD",
            "taxes": [gst.pk],
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    client = Client.objects.get(code="QC")
    assert (client.uses_default_taxes, list(client.taxes.all())) == (False, [gst])
    assert [t.label for t in issued(client=client).taxes.all()] == ["GST"]


def test_a_draft_moved_to_another_client_takes_its_set_and_lines_keep_what_they_can(quebec):
    draft = services.create_draft(
        client=quebec, acting_user=None, lines=[line(), line(taxes=["QST"])]
    )
    moved = services.update_invoice(invoice=draft, acting_user=None, client=ClientFactory())
    assert [t.label for t in moved.taxes.all()] == ["HST"]
    assert [line.taxes for line in moved.lines.all()] == [None, []]
    assert moved.tax_total == D("13.00")


# --- Property: the stored figures equal a computation written here from SPEC.md -----------
def cents(x: Decimal) -> Decimal:
    return x.quantize(D("0.01"), rounding=ROUND_HALF_UP)


stored_line = st.tuples(
    st.decimals(min_value=0, max_value=1000, places=3),
    st.decimals(min_value=0, max_value=10000, places=4),
    st.decimals(min_value=0, max_value=100, places=3),
    st.sampled_from([None, ["GST"], ["QST"], []]),
)


# Each example writes a draft: at most 40 of them, within the CI bound for database tests.
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=st.lists(stored_line, min_size=1, max_size=6),
    percent=st.decimals(min_value=0, max_value=100, places=3),
)
def test_stored_gst_and_qst_match_the_spec_for_any_lines(quebec, lines, percent):
    draft = services.create_draft(
        client=quebec,
        acting_user=None,
        lines=[line(str(q), str(p), discount_percent=d, taxes=t) for q, p, d, t in lines],
        discount_kind="percent",
        discount_value=percent,
    )
    amounts = [cents(q * p * (100 - d) / 100) for q, p, d, _t in lines]
    subtotal = sum(amounts, D(0))
    discount = cents(subtotal * percent / 100)
    expected = []
    for label, rate in (("GST", D(5)), ("QST", D("9.975"))):
        carried = sum(
            (a for a, (*_x, t) in zip(amounts, lines, strict=True) if t is None or label in t),
            D(0),
        )
        base = carried - cents(discount * carried / subtotal) if subtotal else carried
        expected.append((label, base, cents(base * rate / 100)))
    assert [(t.label, t.base, t.amount) for t in draft.taxes.all()] == expected
    assert draft.total == subtotal - discount + sum((a for *_x, a in expected), D(0))
