"""Demo data: a small Ontario contractor with a few months of history.

Everything is made through the domain operations, as a user would make it, so the demo shows
what the app really produces (numbers, statuses, ledger entries). Dates are relative to the
business's today. One transaction: if anything fails, nothing is left behind.
"""

from __future__ import annotations

import datetime
from collections import Counter
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from billing import services
from billing.models import (
    Client,
    CreditNote,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Service,
)
from billing.selectors import clients_breaking_invariant
from billing.services import LineData, post_manual_credit, post_manual_debit
from otb.operations import DomainError, operation
from rates.importing import BUNDLED_HISTORY, import_rates
from settings_app.models import Tax
from settings_app.selectors import business_today
from settings_app.services import (
    SettingsChanges,
    TaxFields,
    create_tax,
    update_business_settings,
    update_tax,
)

D = Decimal

BUSINESS: SettingsChanges = {
    "business_name": "Northwind Contracting Ltd.",
    "slogan": "Renovation and repair, done right",
    "email": "office@northwind-contracting.example.com",
    "phone": "+1 416 555 0142",
    "address": "120 Front Street East, Suite 400\nToronto ON  M5A 4L9\nCanada",
    "website": "https://northwind-contracting.example.com",
    "registration_number": "Ontario Corporation No. 2754391",
    "local_country": "CA",
    # Clients abroad are billed without HST (exported services are zero-rated).
    "tax_local_clients_only": True,
    "invoice_number_prefix": "INV-",
    "payment_terms_days": 30,
    "payment_terms_text": "Payment due within 30 days. We accept e-transfer to "
    "pay@northwind-contracting.example.com, cheque or bank transfer.",
    "invoice_footer": "Thank you for your business. HST 812345678 RT0001.",
    "default_currency": "CAD",
    # The demo edits an issued invoice, as the office may.
    "lock_issued_invoices": False,
    "time_zone": "America/Toronto",
    # A local mail sink (manage.py mailsink, or any SMTP server on port 1025) receives what
    # the demo sends; the README says how to set up a real server.
    "smtp_host": "127.0.0.1",
    "smtp_port": 1025,
    "smtp_use_tls": False,
    "smtp_use_ssl": False,
    "smtp_from_email": "billing@northwind-contracting.example.com",
    "smtp_from_name": "Northwind Contracting",
}

# HST for Ontario (the default set); GST and QST for the client in Quebec, which has them as
# its own set. GST and HST are filed under the same business number.
TAXES: list[TaxFields] = [
    {"label": "HST", "rate": D("13.0000"), "number": "812345678 RT0001"},
    {"label": "GST", "rate": D("5.0000"), "number": "812345678 RT0001", "in_default_set": False},
    {"label": "QST", "rate": D("9.9750"), "number": "1234567890 TQ0001", "in_default_set": False},
]
# The client whose own tax set is GST + QST.
QUEBEC_CODE = "LAURIER"

# The first code also marks the demo as present.
CLIENTS: list[dict[str, Any]] = [
    {
        "code": "MAPLE",
        "name": "Maple Leaf Property Management",
        "contact_person": "Sandra Okafor",
        "email": "accounts@mapleleaf-pm.example.com",
        "phone": "+1 416 555 0110",
        "address": "55 Bloor Street West, Suite 1200\nToronto ON  M4W 1A5",
        "country": "CA",
    },
    {
        "code": "BIRCH",
        "name": "Birchwood Dental Clinic",
        "contact_person": "Dr. Priya Raman",
        "email": "office@birchwooddental.example.com",
        "phone": "+1 905 555 0121",
        "address": "2150 Dundas Street East\nMississauga ON  L4X 1L9",
        "country": "CA",
    },
    {
        "code": "HARBOUR",
        "name": "Harbourfront Condominium Corp. No. 1147",
        "contact_person": "Martin Leclerc",
        "email": "board@hcc1147.example.com",
        # A second address on file: the property manager's accounts payable, who may also
        # sign in to the client's portal.
        "contacts": [{"name": "Accounts payable", "email": "accounts@hcc1147.example.com"}],
        "address": "8 York Street\nToronto ON  M5J 2Y2",
        "country": "CA",
    },
    {
        "code": "CONSUL",
        "name": "Consulate General of Iceland",
        "contact_person": "Helga Jónsdóttir",
        "email": "admin@consulate-is.example.com",
        "address": "100 King Street West, Suite 5700\nToronto ON  M5X 1C7",
        "country": "CA",
        "tax_exempt": True,
        "notes": "Diplomatic tax exemption; certificate on file.",
    },
    {
        "code": "LAKESHORE",
        "name": "Lakeshore Holdings LLC",
        "contact_person": "Dana Whitfield",
        "email": "ap@lakeshoreholdings.example.com",
        "address": "300 Delaware Avenue\nBuffalo NY 14202\nUSA",
        "country": "US",
        "default_currency": "USD",
        "notes": "Billed in USD, without HST (client abroad).",
    },
    {
        "code": "RHEINWERK",
        "name": "Rheinwerk Ingenieure GmbH",
        "contact_person": "Katrin Vogel",
        "email": "buchhaltung@rheinwerk-ingenieure.example.com",
        "address": "Agrippinawerft 12\n50678 Köln\nGermany",
        "country": "DE",
        "tax_number": "DE 298 765 432",
        "default_currency": "EUR",
        "notes": "Billed in EUR, without HST (client abroad).",
    },
    {
        "code": "OLDMILL",
        "name": "Old Mill Bakery",
        "contact_person": "Tom Brennan",
        "email": "tom@oldmillbakery.example.com",
        "address": "21 Old Mill Road\nToronto ON  M8X 1G5",
        "country": "CA",
        "notes": "Closed in the spring; kept for its history.",
    },
    {
        "code": "ROSEDALE",
        "name": "Rosedale Family Practice",
        "contact_person": "Dr. Alan Cho",
        "email": "manager@rosedalefp.example.com",
        "address": "1 Crescent Road\nToronto ON  M4W 1S9",
        "country": "CA",
    },
    {
        "code": "OAKRIDGE",
        "name": "Oakridge Builders Inc.",
        "contact_person": "Frank Russo",
        "email": "frank@oakridgebuilders.example.com",
        "phone": "+1 905 555 0177",
        "address": "480 Industrial Parkway\nAurora ON  L4G 3V7",
        "country": "CA",
    },
    {
        "code": "CEDARLANE",
        "name": "Cedar Lane Apartments",
        "contact_person": "Irene Kowalski",
        "email": "super@cedarlane.example.com",
        "address": "77 Cedar Lane\nEtobicoke ON  M9B 2K4",
        "country": "CA",
    },
    {
        "code": "SUMMIT",
        "name": "Summit Fitness Studio",
        "contact_person": "Jess Tremblay",
        "email": "jess@summitfitness.example.com",
        "address": "915 Queen Street East\nToronto ON  M4M 1J6",
        "country": "CA",
    },
    {
        "code": "QUAY",
        "name": "Queen's Quay Café",
        "contact_person": "Luca Bianchi",
        "email": "luca@queensquaycafe.example.com",
        "address": "207 Queens Quay West\nToronto ON  M5J 1A7",
        "country": "CA",
    },
    {
        "code": "TRILLIUM",
        "name": "Trillium Veterinary Hospital",
        "contact_person": "Dr. Nora Evans",
        "email": "nora@trilliumvet.example.com",
        "address": "3300 Yonge Street\nToronto ON  M4N 2L6",
        "country": "CA",
    },
    {
        "code": QUEBEC_CODE,
        "name": "Atelier Laurier inc.",
        "contact_person": "Geneviève Roy",
        "email": "comptes@atelierlaurier.example.com",
        "address": "4200 avenue Laurier Est\nMontréal QC  H1X 1T2",
        "country": "CA",
        "tax_number": "1219876543 TQ0001",
        "uses_default_taxes": False,
        "notes": "Quebec: charged GST and QST, its own tax set.",
    },
]
DEMO_MARKER_CODE = CLIENTS[0]["code"]

SERVICES: list[dict[str, Any]] = [
    {"code": "LABOUR", "name": "General labour", "unit": "h", "unit_price": D("65.00")},
    {"code": "CARPENTRY", "name": "Carpentry", "unit": "h", "unit_price": D("85.00")},
    {
        "code": "ELECTRICAL",
        "name": "Electrical work (licensed)",
        "unit": "h",
        "unit_price": D("110.00"),
    },
    {
        "code": "INSPECT",
        "name": "Site inspection and written estimate",
        "unit": "job",
        "unit_price": D("250.00"),
        # Priced for the clients abroad: their invoices take these.
        "prices": {"USD": D("325.00"), "EUR": D("290.00")},
    },
    {
        "code": "DECK",
        "name": "Cedar deck, supply and build (fixed price)",
        "unit": "job",
        "unit_price": D("6400.00"),
    },
    {
        "code": "MATERIALS",
        "name": "Materials at cost",
        "description": "Passed on at cost, receipts attached.",
        "unit": "lot",
        "unit_price": D("0"),
        "taxable": False,
    },
    {"code": "TRAVEL", "name": "Travel", "unit": "km", "unit_price": D("0.6125")},
    {"code": "DISPOSAL", "name": "Waste disposal (bin)", "unit": "bin", "unit_price": D("180.00")},
    {
        "code": "SNOW",
        "name": "Snow removal (seasonal)",
        "unit": "visit",
        "unit_price": D("95.00"),
        "is_active": False,
    },
]


CHEQUE = PaymentMethod.CHEQUE
BANK_TRANSFER = PaymentMethod.BANK_TRANSFER
CARD = PaymentMethod.CARD


class DemoAlreadyPresent(Exception):
    pass


class DatabaseNotEmpty(DomainError):
    code = "database_not_empty"


class _Demo:
    """Builds the demo through the operations, as the office would have entered it."""

    def __init__(self):
        self.today = business_today()
        self.clients = {}
        self.services = {}

    def ago(self, days: int) -> datetime.date:
        return self.today - datetime.timedelta(days=days)

    def line(self, service: str, quantity, unit_price=None, description="", **kwargs):
        return LineData(
            service=self.services[service],
            quantity=D(str(quantity)),
            unit_price=None if unit_price is None else D(str(unit_price)),
            description=description,
            **kwargs,
        )

    def draft(self, client: str, lines, **kwargs) -> Invoice:
        return services.create_draft(
            client=self.clients[client], lines=lines, acting_user=None, **kwargs
        )

    def issue(self, client: str, lines, *, days_ago: int, **kwargs) -> Invoice:
        invoice = self.draft(client, lines, **kwargs)
        return services.issue_invoice(
            invoice=invoice, acting_user=None, issue_date=self.ago(days_ago)
        )

    def pay(self, invoice: Invoice | None, amount, *, days_ago: int, client=None, **kwargs):
        kwargs.setdefault("method", PaymentMethod.E_TRANSFER)
        return services.record_payment(
            invoice=invoice,
            client=self.clients[client] if client else None,
            amount=D(str(amount)),
            date=self.ago(days_ago),
            acting_user=None,
            **kwargs,
        )

    def credit(self, invoice: Invoice, **kwargs) -> None:
        note = services.create_credit_note(invoice=invoice, acting_user=None, **kwargs)
        services.issue_credit_note(credit_note=note, acting_user=None)

    def build(self) -> None:
        taxes = {}
        for tax_fields in TAXES:
            # The settings are the demo's; so are its taxes, whichever a test or an upgrade made.
            existing = Tax.objects.filter(label=tax_fields["label"]).first()
            taxes[tax_fields["label"]] = (
                update_tax(tax=existing, acting_user=None, **tax_fields)
                if existing
                else create_tax(acting_user=None, **tax_fields)
            )
        for fields in CLIENTS:
            if fields["code"] == QUEBEC_CODE:
                fields = {**fields, "taxes": [taxes["GST"], taxes["QST"]]}
            self.clients[fields["code"]] = services.create_client(acting_user=None, **fields)
        for fields in SERVICES:
            self.services[fields["code"]] = services.create_service(acting_user=None, **fields)
        # In the order it happened, so that invoice numbers follow the issue dates.
        line = self.line

        old_mill = self.issue(
            "OLDMILL",
            [
                line("ELECTRICAL", 6, description="Replace oven circuit and breaker"),
                line("MATERIALS", 1, "318.40", description="Breaker, cable, conduit"),
                line("TRAVEL", 28),
            ],
            days_ago=118,
        )
        maple_lobby_inspection = self.issue(
            "MAPLE",
            [
                line("INSPECT", 1, description="Inspection of 3 units, 55 Bloor St W"),
                line("LABOUR", D("14.5"), description="Drywall repair, units 804 and 1102"),
                line("MATERIALS", 1, "212.75", description="Drywall, compound, paint"),
                line("TRAVEL", D("36.8")),
            ],
            days_ago=110,
        )
        self.pay(old_mill, old_mill.total, days_ago=104, method=CHEQUE, reference="1182")
        # The bakery closed: kept, with its history, but no new invoices.
        services.update_client(client=self.clients["OLDMILL"], acting_user=None, is_active=False)
        self.pay(
            maple_lobby_inspection,
            maple_lobby_inspection.total,
            days_ago=96,
            method=BANK_TRANSFER,
            reference="MLPM-77120",
        )

        harbour_lighting = self.issue(
            "HARBOUR",
            [
                line("ELECTRICAL", 9, description="Parking garage lighting, level P2"),
                line("MATERIALS", 1, "640.00", description="LED fixtures (8)"),
            ],
            days_ago=72,
        )
        self.issue(
            "CEDARLANE",
            [
                line("CARPENTRY", 31, description="Rebuild rear stairs and landing"),
                line("MATERIALS", 1, "2140.60", description="Pressure-treated lumber"),
                line("DISPOSAL", 2),
            ],
            days_ago=64,
        )
        # Paid more than the invoice: the rest stays on the account as credit.
        self.pay(
            harbour_lighting,
            harbour_lighting.total + D("400.00"),
            days_ago=58,
            method=CHEQUE,
            reference="2231",
            note="The board paid a round amount; the rest stays on account.",
        )
        quay_circuits = self.issue(
            "QUAY",
            [
                line("ELECTRICAL", 7, description="Espresso machine circuit, patio outlets"),
                line("MATERIALS", 1, "389.90"),
                line("TRAVEL", D("12.4")),
            ],
            days_ago=52,
        )
        post_manual_credit(
            client=self.clients["CEDARLANE"],
            amount=D("150.00"),
            memo="Goodwill credit: stairs finished a week late",
            date=self.ago(50),
            acting_user=None,
        )
        maple_lobby = self.issue(
            "MAPLE",
            [
                line("CARPENTRY", 22, description="Replace lobby trim and doors"),
                line("DISPOSAL", 1),
                line("MATERIALS", 1, "1486.30", description="Oak trim, 2 solid-core doors"),
            ],
            days_ago=45,
        )
        lakeshore_inspections = self.issue(
            "LAKESHORE",
            [
                line("INSPECT", 2, description="Pre-purchase inspections, Fort Erie"),
                line("TRAVEL", 412),
            ],
            days_ago=41,
            notes="Amounts in US dollars; no HST (client outside Canada).",
        )
        rheinwerk_review = self.issue(
            "RHEINWERK",
            [
                line("INSPECT", 3, description="Review of structural survey (remote)"),
            ],
            days_ago=33,
            notes="Amounts in euros; no HST (client outside Canada).",
        )
        # Converted by the bank at a better rate than the invoice's: an exchange gain.
        self.pay(
            rheinwerk_review,
            "870.00",
            days_ago=12,
            method=PaymentMethod.BANK_TRANSFER,
            exchange_rate="1.6250",
            rate_source="Bank statement",
        )
        consulate_shelves = self.issue(
            "CONSUL",
            [
                line("CARPENTRY", 10, description="Built-in bookshelves, reception"),
                line("MATERIALS", 1, "865.00", description="Maple plywood, hardware"),
            ],
            days_ago=30,
            notes="Exempt from HST (diplomatic exemption).",
        )
        self.pay(quay_circuits, "500.00", days_ago=30, method=CARD, reference="VISA 4417")
        harbour_pavers = self.issue(
            "HARBOUR",
            [
                line("LABOUR", 16, description="Pressure-wash and seal entrance pavers"),
                line("DISPOSAL", 1),
            ],
            days_ago=22,
        )
        services.apply_client_credit(invoice=harbour_pavers, acting_user=None, date=self.ago(20))
        oakridge_deck = self.issue(
            "OAKRIDGE",
            [
                line("DECK", 1, description="Cedar deck 16×20 ft, 27 Maple Grove Ave"),
                line("ELECTRICAL", 3, description="Deck lighting", discount_percent=D("15")),
                line("MATERIALS", 1, "418.25", description="Lighting fixtures"),
            ],
            days_ago=18,
            discount_kind="fixed",
            discount_value=D("250.00"),
            notes="Trade discount of $250.00 on this job.",
        )
        self.pay(
            consulate_shelves,
            consulate_shelves.total,
            days_ago=16,
            method=BANK_TRANSFER,
            reference="ISL-2291",
        )
        self.pay(
            lakeshore_inspections,
            lakeshore_inspections.total,
            days_ago=13,
            method=BANK_TRANSFER,
            reference="WIRE 88213",
        )
        self.pay(oakridge_deck, "3000.00", days_ago=12, reference="OAK-5531")
        summit_floor = self.issue(
            "SUMMIT",
            [
                line("CARPENTRY", 14, description="Rubber floor base and mirror wall"),
                line("MATERIALS", 1, "1210.00"),
                line("TRAVEL", D("9.8")),
            ],
            days_ago=11,
            discount_kind="percent",
            discount_value=D("5"),
        )
        rosedale_lines = [
            line(
                "LABOUR",
                18,
                description="Repaint waiting room and two exam rooms",
                discount_percent=D("10"),
            ),
            line("MATERIALS", 1, "276.45", description="Paint and supplies"),
        ]
        rosedale_paint = self.issue("ROSEDALE", rosedale_lines, days_ago=8)
        maple_cheque = self.pay(
            maple_lobby, maple_lobby.total, days_ago=6, method=CHEQUE, reference="004512"
        )
        # Credit on account without an invoice: a deposit before the work starts.
        self.pay(
            None,
            "2000.00",
            client="BIRCH",
            days_ago=6,
            reference="BDC-DEPOSIT",
            note="Deposit for the reception renovation.",
        )
        wrong_client = self.issue(
            "ROSEDALE",
            [line("CARPENTRY", 12, description="Cabinets and reception desk, installation")],
            days_ago=3,
        )
        self.pay(
            summit_floor,
            summit_floor.total,
            days_ago=2,
            method=CHEQUE,
            reference="0318",
            confirmed=False,
            note="Cheque deposited; confirm once it has cleared.",
        )
        laurier = self.issue(
            QUEBEC_CODE,
            [
                line("INSPECT", 1, description="Inspection, 4200 av. Laurier Est"),
                line("CARPENTRY", D("18.5"), description="Workshop shelving and benches"),
                line("MATERIALS", 1, "864.20", description="Birch plywood, hardware"),
            ],
            days_ago=1,
            discount_kind="percent",
            discount_value=D("5"),
        )

        trillium_visit = self.issue(
            "TRILLIUM",
            [line("INSPECT", 1, description="Pre-renovation visit"), line("TRAVEL", 36)],
            days_ago=12,
        )

        # Today.
        # GST + QST, and a credit note for part of it: two benches were not built.
        shelving = laurier.lines.get(position=2)
        self.credit(
            laurier,
            kind="lines",
            lines=[services.CreditLineData(invoice_line=shelving, quantity=D("2.5"))],
            reason="Two benches not built, as agreed with Mme Gagnon.",
        )
        # Credited in full: the visit was booked twice.
        self.credit(
            trillium_visit, kind="full", reason="Visit booked twice; billed on the estimate."
        )
        services.reverse_payment(
            payment=maple_cheque,
            reason="Cheque 004512 returned by the bank (NSF).",
            acting_user=None,
        )
        post_manual_debit(
            client=self.clients["MAPLE"],
            amount=D("45.00"),
            memo="Returned cheque fee, cheque 004512",
            acting_user=None,
        )
        services.cancel_invoice(
            invoice=wrong_client,
            acting_user=None,
            reason="Issued to the wrong client: the cabinets are for Birchwood Dental.",
        )
        services.update_invoice(
            invoice=rosedale_paint,
            acting_user=None,
            lines=[*rosedale_lines, line("TRAVEL", D("22.6"))],
            notes="Travel added, as agreed by phone.",
        )
        self.draft(
            "BIRCH",
            [
                line("CARPENTRY", 26, description="Cabinets and reception desk"),
                line("ELECTRICAL", 5, description="Desk lighting and outlets"),
                line("MATERIALS", 1, "3120.80", description="Cabinets, countertop"),
                line("TRAVEL", D("48.6")),
            ],
            notes="Deposit of $2,000.00 received.",
        )
        self.draft(
            "TRILLIUM",
            [
                line("INSPECT", 1),
                line("LABOUR", 6, description="Kennel room: patch and repaint"),
            ],
            notes="Estimate.",
        )


@operation
def seed_demo_data() -> list[str]:
    """Create the demo business and return what the other apps added to it ("6 quotes").
    Raises DemoAlreadyPresent (nothing changed) if it exists already, DatabaseNotEmpty if
    the database holds other clients or invoices."""
    if Client.objects.filter(code=DEMO_MARKER_CODE).exists():
        raise DemoAlreadyPresent
    if Client.objects.exists() or Invoice.objects.exists():
        raise DatabaseNotEmpty(
            _(
                "This database already holds clients or invoices. Demo data goes only into a "
                "new, empty installation: it would overwrite the business settings and use up "
                "invoice numbers."
            )
        )
    update_business_settings(acting_user=None, **BUSINESS)
    # The ECB's reference rates bundled with the app, as `manage.py import_rates` stores them.
    import_rates(data=BUNDLED_HISTORY.read_bytes(), acting_user=None, origin=BUNDLED_HISTORY.name)
    demo = _Demo()
    demo.build()
    # The apps built on billing add their part (quotes in every state): each names it in
    # its AppConfig, as ``seed_demo(demo)`` returning what it made, so billing imports none
    # of them (no cycle between apps). In this transaction: all of the demo, or nothing.
    added = []
    for config in apps.get_app_configs():
        add_to_demo = getattr(config, "seed_demo", None)
        if add_to_demo is not None:
            added.append(str(add_to_demo(demo)))
    broken = clients_breaking_invariant()
    if broken:
        # Would be a bug in the operations; refuse to leave such data behind.
        raise DomainError(
            _("Demo data breaks the ledger invariant for %(clients)s.")
            % {"clients": ", ".join(client.code for client in broken)}
        )
    return added


class Command(BaseCommand):
    help = _(
        "Fill an empty installation with a demo business (Northwind Contracting): clients, "
        "services, quotes and invoices in every state, payments and ledger entries, and "
        "recurring schedules (their invoices are made by run_recurring). Safe to run twice."
    )

    def handle(self, *args, **options):
        try:
            added = seed_demo_data()
        except DemoAlreadyPresent:
            self.stdout.write(_("Demo data already present; nothing to do"))
            return
        except DomainError as exc:
            raise CommandError(str(exc)) from None

        statuses = Counter(Invoice.objects.values_list("status", flat=True))
        self.stdout.write(
            _(
                "Demo data created: %(clients)d clients, %(services)d services, "
                "%(payments)d payments, %(credit_notes)d credit notes%(added)s."
            )
            % {
                "clients": Client.objects.count(),
                "services": Service.objects.count(),
                "payments": Payment.objects.count(),
                "credit_notes": CreditNote.objects.count(),
                "added": "".join(f", {part}" for part in added),
            }
        )
        for status, label in InvoiceStatus.choices:
            self.stdout.write(
                _("  %(label)s: %(count)d") % {"label": label, "count": statuses[status]}
            )
