"""Issue 21: a client has other contacts beside its own e-mail. Each address is on file for
the client, and which addresses are on file (who may sign in to the client's portal) is one
rule, ``billing.selectors.clients_for_address``."""

import datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from audit.models import Action, AuditRecord
from billing import services
from billing.forms.clients import ClientForm
from billing.models import Client, ClientContact
from billing.selectors import addresses_on_file, clients_for_address, has_address_on_file
from billing.services.clients import MAX_CONTACTS
from otb.operations import InvalidInput
from tests.api import refused, token_client
from tests.factories import ClientFactory

from .admin_forms import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(business):
    """ACME, books@acme.example, with Sandra at sandra@acme.example."""
    return services.create_client(
        acting_user=None,
        code="ACME",
        name="Acme Inc.",
        country="CA",
        email="books@acme.example",
        contacts=[{"name": "Sandra Okafor", "email": "sandra@acme.example"}],
    )


def contacts_of(client):
    return [(contact.name, contact.email) for contact in client.contacts.all()]


# --- The operation --------------------------------------------------------------------------
def test_a_client_is_made_with_its_other_contacts_stripped(business):
    client = services.create_client(
        acting_user=None,
        code="ACME",
        name="Acme Inc.",
        country="CA",
        contacts=[
            {"name": "  Sandra Okafor ", "email": " sandra@acme.example "},
            {"email": "ap@acme.example"},
        ],
    )
    assert contacts_of(client) == [
        ("", "ap@acme.example"),
        ("Sandra Okafor", "sandra@acme.example"),
    ]


def test_contacts_given_are_all_of_them_and_left_out_keeps_them(acme):
    sandra = acme.contacts.get()
    services.update_client(
        client=acme,
        acting_user=None,
        contacts=[
            {"name": "Sandra O.", "email": "SANDRA@acme.example"},
            {"name": "Payables", "email": "ap@acme.example"},
        ],
    )
    assert contacts_of(acme) == [
        ("Payables", "ap@acme.example"),
        ("Sandra O.", "SANDRA@acme.example"),
    ]
    assert acme.contacts.get(name="Sandra O.").pk == sandra.pk  # the same address: kept
    services.update_client(client=acme, acting_user=None, name="Acme Ltd")
    assert len(contacts_of(acme)) == 2
    services.update_client(client=acme, acting_user=None, contacts=[{"email": "ap@acme.example"}])
    assert contacts_of(acme) == [("", "ap@acme.example")]
    services.update_client(client=acme, acting_user=None, contacts=[])
    assert contacts_of(acme) == []


def test_the_audit_trail_shows_the_contacts_before_and_after(acme):
    created = AuditRecord.objects.get(action=Action.CREATED, object_type="billing.client")
    assert [(c["name"], c["email"]) for c in created.after["contacts"]] == [
        ("Sandra Okafor", "sandra@acme.example")
    ]

    services.update_client(client=acme, acting_user=None, contacts=[{"email": "ap@acme.example"}])
    changed = AuditRecord.objects.get(action=Action.CHANGED, object_type="billing.client")
    assert changed.operation.endswith("update_client")
    assert [c["email"] for c in changed.before["contacts"]] == ["sandra@acme.example"]
    assert [c["email"] for c in changed.after["contacts"]] == ["ap@acme.example"]


def test_contacts_given_unchanged_write_no_change(acme):
    services.update_client(
        client=acme,
        acting_user=None,
        contacts=[{"name": "Sandra Okafor", "email": "sandra@acme.example"}],
    )
    assert not AuditRecord.objects.filter(action=Action.CHANGED).exists()


@pytest.mark.parametrize(
    ("contacts", "messages"),
    [
        pytest.param(
            [{"email": "ap@acme.example"}, {"email": "x@"}],
            ["Other contacts, line 2: “x@” is not an e-mail address."],
            id="not-an-address",
        ),
        pytest.param(
            [{"name": "Sandra", "email": "  "}],
            ["Other contacts, line 1: give an e-mail address."],
            id="blank",
        ),
        pytest.param(
            [{"email": "Sandra sandra@acme.example"}],
            ["Other contacts, line 1: “Sandra sandra@acme.example” is not an e-mail address."],
            id="name-without-brackets",
        ),
        pytest.param(
            [{"email": "a@acme.example\r\nBcc: x@evil.example"}],
            ["Other contacts, line 1: “a@acme.example  Bcc: x@evil.example” is not an e-mail"],
            id="header-injection",
        ),
        pytest.param(
            [{"email": "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".ca"}],
            ["Other contacts, line 1: “aaaa"],
            id="too-long",
        ),
        pytest.param(
            [{"name": "Sandra\nBcc: x@evil.example", "email": "ap@acme.example"}],
            ["Other contacts, line 1: the name must be one line of text."],
            id="name-on-two-lines",
        ),
        pytest.param(
            [{"name": "S" * 201, "email": "ap@acme.example"}],
            ["Other contacts, line 1: a name has at most 200 characters."],
            id="name-too-long",
        ),
        pytest.param(
            [{"email": "BOOKS@acme.example"}],
            ["Other contacts, line 1: BOOKS@acme.example is the client's own e-mail."],
            id="own-email",
        ),
        pytest.param(
            [{"email": "ap@acme.example"}, {"email": "AP@acme.example"}, {"email": "y@"}],
            [
                "Other contacts, line 2: AP@acme.example is given twice.",
                "Other contacts, line 3: “y@” is not an e-mail address.",
            ],
            id="twice-and-bad",
        ),
        pytest.param(
            "ap@acme.example",
            ["Other contacts: give an e-mail address, and maybe a name, for each."],
            id="text",
        ),
        pytest.param(
            ["ap@acme.example"],
            ["Other contacts, line 1: give an e-mail address, and maybe a name."],
            id="row",
        ),
        pytest.param(
            [{"email": f"c{n}@acme.example"} for n in range(MAX_CONTACTS + 1)],
            [f"Other contacts: at most {MAX_CONTACTS}."],
            id="too-many",
        ),
    ],
)
def test_bad_contacts_are_refused_naming_the_line(acme, contacts, messages):
    with pytest.raises(InvalidInput) as refusal:
        services.update_client(client=acme, acting_user=None, name="Renamed", contacts=contacts)
    assert list(refusal.value.errors) == ["contacts"]
    shown = refusal.value.errors["contacts"]
    assert len(shown) == len(messages)
    for message, expected in zip(shown, messages, strict=True):
        assert message.startswith(expected), message
    acme.refresh_from_db()
    assert (acme.name, contacts_of(acme)) == (
        "Acme Inc.",
        [("Sandra Okafor", "sandra@acme.example")],
    )


def test_the_clients_new_email_is_compared_with_the_contacts_given_with_it(acme):
    with pytest.raises(InvalidInput) as refusal:
        services.update_client(
            client=acme,
            acting_user=None,
            email="ap@acme.example",
            contacts=[{"email": "AP@acme.example"}],
        )
    assert refusal.value.errors == {
        "contacts": ["Other contacts, line 1: AP@acme.example is the client's own e-mail."]
    }
    # Moving an address from the contacts to the e-mail, in one change, is fine.
    services.update_client(
        client=acme,
        acting_user=None,
        email="sandra@acme.example",
        contacts=[{"email": "books@acme.example"}],
    )
    acme.refresh_from_db()
    assert addresses_on_file(acme) == ["sandra@acme.example", "books@acme.example"]


def test_an_email_changed_to_one_of_the_contacts_is_refused_naming_the_email(acme):
    with pytest.raises(InvalidInput) as refusal:
        services.update_client(client=acme, acting_user=None, email="Sandra@acme.example")
    assert refusal.value.errors == {
        "email": ["E-mail: Sandra@acme.example is one of the client's other contacts already."]
    }
    acme.refresh_from_db()
    assert acme.email == "books@acme.example"


def test_a_new_client_with_a_bad_contact_is_not_made(business):
    with pytest.raises(InvalidInput) as refusal:
        services.create_client(
            acting_user=None, code="NEW", name="New", country="CA", contacts=[{"email": "x@"}]
        )
    assert refusal.value.field == "contacts"
    assert not Client.objects.exists()
    assert not ClientContact.objects.exists()
    assert not AuditRecord.objects.exists()


def test_a_clients_contacts_go_with_it_when_it_is_deleted(acme):
    services.delete_client(client=acme, acting_user=None)
    assert not ClientContact.objects.exists()
    deleted = AuditRecord.objects.get(action=Action.DELETED, object_type="billing.client")
    assert [c["email"] for c in deleted.before["contacts"]] == ["sandra@acme.example"]


def test_the_database_holds_an_address_once_per_client_and_never_blank(acme):
    with pytest.raises(IntegrityError), transaction.atomic():
        ClientContact.objects.create(client=acme, email="sandra@acme.example")
    with pytest.raises(IntegrityError), transaction.atomic():
        ClientContact.objects.create(client=acme, email="")
    # Another client may have the same address (one person, two companies).
    other = ClientFactory()
    ClientContact.objects.create(client=other, email="sandra@acme.example")


# --- Which addresses are on file ------------------------------------------------------------
def test_the_addresses_on_file_are_the_email_then_each_contacts_once_in_any_case(acme):
    ClientContact.objects.create(client=acme, email="BOOKS@acme.example")  # past the operation
    ClientContact.objects.create(client=acme, name="Payables", email="ap@acme.example")
    assert addresses_on_file(acme) == [
        "books@acme.example",
        "ap@acme.example",
        "sandra@acme.example",
    ]


def test_a_client_without_an_email_has_its_contacts_on_file(business):
    client = ClientFactory(email="")
    ClientContact.objects.create(client=client, email="ap@acme.example")
    assert addresses_on_file(client) == ["ap@acme.example"]
    assert addresses_on_file(ClientFactory(email="")) == []


@pytest.mark.parametrize(
    "address", ["books@acme.example", "BOOKS@Acme.Example", " books@acme.example "]
)
def test_the_clients_email_is_on_file_in_any_case(acme, address):
    assert list(clients_for_address(address)) == [acme]
    assert has_address_on_file(acme, address)


@pytest.mark.parametrize("address", ["sandra@acme.example", "Sandra@ACME.example"])
def test_a_contacts_address_is_on_file_in_any_case(acme, address):
    assert list(clients_for_address(address)) == [acme]
    assert has_address_on_file(acme, address)


@pytest.mark.parametrize(
    "address",
    [
        "",
        "   ",
        "someone@acme.example",
        "books@acme",
        "books@",
        "books@acme.example\nBcc: x@evil.example",
        "%@acme.example",
        "b_oks@acme.example",
        "books@acme%",
    ],
)
def test_an_address_not_on_file_finds_no_client(acme, address):
    assert not clients_for_address(address).exists()
    assert not has_address_on_file(acme, address)


def test_the_wildcards_of_like_match_only_themselves(business):
    client = ClientFactory(email="a_b@acme.example")
    assert list(clients_for_address("a_b@acme.example")) == [client]
    assert not clients_for_address("axb@acme.example").exists()


def test_an_inactive_client_has_no_address_on_file(acme):
    services.update_client(client=acme, acting_user=None, is_active=False)
    assert not clients_for_address("books@acme.example").exists()
    assert not clients_for_address("sandra@acme.example").exists()
    assert not has_address_on_file(acme, "sandra@acme.example")
    assert addresses_on_file(acme) == ["books@acme.example", "sandra@acme.example"]


def test_an_address_shared_by_several_clients_finds_each_once_by_name(
    acme, django_assert_num_queries
):
    zenith = ClientFactory(code="ZEN", name="Zenith Ltd", email="sandra@acme.example")
    ClientContact.objects.create(client=zenith, email="SANDRA@acme.example")
    beta = ClientFactory(code="BETA", name="Beta Corp", email="")
    ClientContact.objects.create(client=beta, email="sandra@acme.example")
    ClientFactory(code="OTHER", name="Another", email="other@acme.example")
    with django_assert_num_queries(1):
        found = list(clients_for_address("sandra@acme.example"))
    assert found == [acme, beta, zenith]
    assert not has_address_on_file(ClientFactory(), "sandra@acme.example")


def test_the_clients_of_an_address_can_be_narrowed_further(acme):
    ClientFactory(code="ZEN", name="Zenith Ltd", email="sandra@acme.example")
    assert clients_for_address("sandra@acme.example").filter(pk=acme.pk).get() == acme
    assert clients_for_address("sandra@acme.example").count() == 2


# --- The office page ------------------------------------------------------------------------
@pytest.fixture
def office(client, bookkeeper, business):
    client.force_login(bookkeeper)
    return client


def client_data(**overrides):
    data = {
        "code": "ACME",
        "name": "Acme Inc.",
        "contact_person": "",
        "email": "books@acme.example",
        "contacts": "",
        "phone": "",
        "address": "",
        "country": "CA",
        "default_currency": "CAD",
        "uses_default_taxes": "on",
        "is_active": "on",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_the_other_contacts_come_right_after_the_email(business):
    names = list(ClientForm().fields)
    assert names.index("contacts") == names.index("email") + 1


def test_the_form_adds_a_client_with_its_contacts_one_a_line(office):
    typed = (
        'Sandra Okafor <sandra@acme.example>\n\n"Okafor, Sandra" <so@acme.example>\r\n'
        " ap@acme.example \n"
    )
    response = office.post(reverse("clients:create"), client_data(contacts=typed))
    assert response.status_code == 302, response.context["form"].errors
    assert contacts_of(Client.objects.get(code="ACME")) == [
        ("", "ap@acme.example"),
        ("Okafor, Sandra", "so@acme.example"),
        ("Sandra Okafor", "sandra@acme.example"),
    ]


def test_editing_shows_the_contacts_as_typed_and_saving_them_again_changes_nothing(office, acme):
    services.update_client(
        client=acme,
        acting_user=None,
        contacts=[
            {"name": "Sandra Okafor", "email": "sandra@acme.example"},
            {"name": "Okafor, Sandra", "email": "so@acme.example"},
            {"name": 'Bob "The" Builder', "email": "bob@acme.example"},
            {"name": "Geneviève Roy", "email": "gr@acme.example"},
            {"email": "ap@acme.example"},
        ],
    )
    changes = AuditRecord.objects.filter(action=Action.CHANGED).count()
    url = reverse("clients:edit", args=["ACME"])
    form = office.get(url).context["form"]
    assert form.initial["contacts"].splitlines() == [
        "ap@acme.example",
        '"Bob \\"The\\" Builder" <bob@acme.example>',
        "Geneviève Roy <gr@acme.example>",
        '"Okafor, Sandra" <so@acme.example>',
        "Sandra Okafor <sandra@acme.example>",
    ]
    before = contacts_of(acme)
    response = office.post(url, client_data(contacts=form.initial["contacts"]))
    assert response.status_code == 302, response.context["form"].errors
    assert contacts_of(acme) == before
    assert AuditRecord.objects.filter(action=Action.CHANGED).count() == changes


def test_the_form_replaces_the_contacts(office, acme):
    url = reverse("clients:edit", args=["ACME"])
    response = office.post(url, client_data(contacts="Payables <ap@acme.example>"))
    assert response.status_code == 302
    assert contacts_of(acme) == [("Payables", "ap@acme.example")]
    response = office.post(url, client_data(contacts=""))
    assert response.status_code == 302
    assert contacts_of(acme) == []


def test_the_form_shows_a_refused_line_on_the_field_and_saves_nothing(office, acme):
    url = reverse("clients:edit", args=["ACME"])
    typed = "ap@acme.example\nx@\nBooks <BOOKS@acme.example>"
    response = office.post(url, client_data(name="Renamed", contacts=typed))
    assert response.status_code == 200
    assert response.context["form"].errors["contacts"] == [
        "Other contacts, line 2: “x@” is not an e-mail address.",
        "Other contacts, line 3: BOOKS@acme.example is the client's own e-mail.",
    ]
    assert "Other contacts, line 2: “x@” is not an e-mail address." in response.text
    acme.refresh_from_db()
    assert (acme.name, contacts_of(acme)) == (
        "Acme Inc.",
        [("Sandra Okafor", "sandra@acme.example")],
    )


def test_the_clients_page_lists_its_contacts_under_the_email(office, acme):
    html = office.get(reverse("clients:detail", args=["ACME"])).text
    assert html.index("books@acme.example") < html.index('id="client-contacts"')
    assert 'Sandra Okafor <a href="mailto:sandra@acme.example">sandra@acme.example</a>' in html


def test_a_client_without_contacts_shows_none(office, business):
    ClientFactory(code="SOLO")
    html = office.get(reverse("clients:detail", args=["SOLO"])).text
    assert 'id="client-contacts"' not in html


# --- The back office ------------------------------------------------------------------------
@pytest.fixture
def back_office(client, administrator, business):
    client.force_login(administrator)
    return client


def test_the_back_office_adds_a_client_with_its_contacts(back_office):
    url = reverse("admin:billing_client_add")
    data = form_data(back_office.get(url))
    data.update(
        {
            "code": "ACME",
            "name": "Acme Inc.",
            "email": "books@acme.example",
            "contacts-0-name": "Sandra Okafor",
            "contacts-0-email": "sandra@acme.example",
        }
    )
    response = back_office.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    acme = Client.objects.get(code="ACME")
    assert contacts_of(acme) == [("Sandra Okafor", "sandra@acme.example")]
    created = AuditRecord.objects.get(action=Action.CREATED, object_type="billing.client")
    assert created.operation.endswith("create_client")
    assert [c["email"] for c in created.after["contacts"]] == ["sandra@acme.example"]


def test_the_back_office_changes_the_contacts_through_the_operation(back_office, acme):
    url = reverse("admin:billing_client_change", args=[acme.pk])
    data = form_data(back_office.get(url))
    data.update({"contacts-0-DELETE": "on", "contacts-1-email": "ap@acme.example"})
    response = back_office.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert contacts_of(acme) == [("", "ap@acme.example")]
    changed = AuditRecord.objects.get(action=Action.CHANGED, object_type="billing.client")
    assert changed.operation.endswith("update_client")


def test_the_back_office_shows_a_refused_contact_and_saves_nothing(back_office, acme):
    url = reverse("admin:billing_client_change", args=[acme.pk])
    data = form_data(back_office.get(url))
    data.update({"name": "Renamed", "contacts-1-email": "Books@acme.example"})
    response = back_office.post(url, data)
    assert response.status_code == 200
    assert "Books@acme.example is the client&#x27;s own e-mail." in response.content.decode()
    acme.refresh_from_db()
    assert (acme.name, contacts_of(acme)) == (
        "Acme Inc.",
        [("Sandra Okafor", "sandra@acme.example")],
    )


# --- The API --------------------------------------------------------------------------------
@pytest.fixture
def api(bookkeeper, business):
    return token_client(bookkeeper)


def test_the_api_reads_a_clients_contacts(api, acme):
    body = api.get("/api/v1/clients/ACME/").json()
    assert body["contacts"] == [{"name": "Sandra Okafor", "email": "sandra@acme.example"}]
    listed = api.get("/api/v1/clients/").json()["results"]
    assert listed[0]["contacts"] == body["contacts"]


def test_the_api_makes_a_client_with_its_contacts(api):
    response = api.post(
        "/api/v1/clients/",
        {
            "code": "ACME",
            "name": "Acme Inc.",
            "country": "CA",
            "contacts": [{"name": "Sandra", "email": "sandra@acme.example"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["contacts"] == [{"name": "Sandra", "email": "sandra@acme.example"}]


def test_api_contacts_given_replace_them_and_left_out_keep_them(api, acme):
    response = api.patch(
        "/api/v1/clients/ACME/", {"contacts": [{"email": "ap@acme.example"}]}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["contacts"] == [{"name": "", "email": "ap@acme.example"}]
    response = api.patch("/api/v1/clients/ACME/", {"name": "Acme Ltd"}, format="json")
    assert response.json()["contacts"] == [{"name": "", "email": "ap@acme.example"}]


@pytest.mark.parametrize(
    ("contacts", "field", "message"),
    [
        ([{"email": "x@"}], "contacts", "Other contacts, line 1: “x@” is not an e-mail address."),
        (
            [{"email": "books@ACME.example"}],
            "contacts",
            "Other contacts, line 1: books@ACME.example is the client's own e-mail.",
        ),
        ("ap@acme.example", "contacts.__all__", "Expected a list of items"),
        ([{"email": 5}], "contacts", "Other contacts, line 1: “5” is not an e-mail address."),
        # A PATCH's item is whole, as a POST's (api.serializers.ItemSerializer).
        ([{"name": "Sandra"}], "contacts.0.email", "required"),
        (
            [{"email": f"c{n}@acme.example"} for n in range(MAX_CONTACTS + 1)],
            "contacts",
            f"Other contacts: at most {MAX_CONTACTS}.",
        ),
    ],
)
def test_the_api_refuses_bad_contacts_naming_them(api, acme, contacts, field, message):
    response = api.patch("/api/v1/clients/ACME/", {"contacts": contacts}, format="json")
    assert message in refused(response, 400, field)
    assert contacts_of(acme) == [("Sandra Okafor", "sandra@acme.example")]


def test_a_new_client_from_the_api_needs_each_contacts_address(api):
    response = api.post(
        "/api/v1/clients/",
        {"code": "ACME", "name": "Acme Inc.", "country": "CA", "contacts": [{"name": "Sandra"}]},
        format="json",
    )
    assert "required" in refused(response, 400, "contacts.0.email")
    assert not Client.objects.exists()


def test_the_schema_describes_the_contacts(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]
    assert schema["Client"]["properties"]["contacts"]["readOnly"]
    request = schema["ClientInputRequest"]["properties"]["contacts"]
    assert request["type"] == "array"
    assert set(schema["ClientContactInputRequest"]["required"]) == {"email"}


# --- The demo -------------------------------------------------------------------------------
def test_the_demo_gives_a_client_a_second_address_and_runs_again(business):
    with time_machine.travel(datetime.datetime(2026, 3, 10, 17, 0, tzinfo=datetime.UTC)):
        call_command("seed_demo", stdout=StringIO())
        harbour = Client.objects.get(code="HARBOUR")
        assert addresses_on_file(harbour) == [
            "board@hcc1147.example.com",
            "accounts@hcc1147.example.com",
        ]
        out = StringIO()
        call_command("seed_demo", stdout=out)
    assert "already present" in out.getvalue()
    assert ClientContact.objects.count() == 1
