"""The ledger owns each client's balance, per currency (``Account``), and its sign rule is
written from the table of money events (ledger.events)."""

from decimal import Decimal

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Sum


def open_accounts(apps, schema_editor):
    """Each client's balance per currency: the sum of its entries in that currency."""
    Account = apps.get_model("ledger", "Account")
    LedgerEntry = apps.get_model("ledger", "LedgerEntry")
    sums = (
        LedgerEntry.objects.order_by()
        .values("client_id", "currency")
        .annotate(total=Sum("amount"))
        .values_list("client_id", "currency", "total")
    )
    Account.objects.bulk_create(
        (
            Account(client_id=client_id, currency=currency, balance=Decimal(total))
            for client_id, currency, total in sums
        ),
        batch_size=5000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0009_tax_decision_and_accounts"),
        ("ledger", "0003_entry_currency"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Account",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("currency", models.CharField(max_length=3, verbose_name="currency")),
                (
                    "balance",
                    models.DecimalField(
                        decimal_places=2,
                        default=Decimal("0.00"),
                        max_digits=14,
                        verbose_name="balance",
                    ),
                ),
            ],
            options={
                "verbose_name": "account",
                "verbose_name_plural": "accounts",
                "default_permissions": ("view",),
            },
        ),
        migrations.RemoveConstraint(
            model_name="ledgerentry",
            name="ledger_entry_sign_matches_kind",
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("kind__in", ["invoice_cancelled", "manual_credit", "payment_confirmed"]),
                        ("amount__gte", 0),
                    ),
                    models.Q(
                        ("kind__in", ["invoice_issued", "manual_debit", "payment_reversed"]),
                        ("amount__lte", 0),
                    ),
                    models.Q(
                        (
                            "kind__in",
                            [
                                "invoice_cancelled",
                                "manual_credit",
                                "payment_confirmed",
                                "invoice_issued",
                                "manual_debit",
                                "payment_reversed",
                            ],
                        ),
                        _negated=True,
                    ),
                    _connector="OR",
                ),
                name="ledger_entry_sign_matches_kind",
            ),
        ),
        migrations.AddField(
            model_name="account",
            name="client",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="accounts",
                to="billing.client",
            ),
        ),
        migrations.AddConstraint(
            model_name="account",
            constraint=models.UniqueConstraint(
                fields=("client", "currency"), name="account_client_currency"
            ),
        ),
        migrations.RunPython(open_accounts, migrations.RunPython.noop),
    ]
