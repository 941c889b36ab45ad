"""Credit notes (their own gapless series, CN-0001) and refunds; an invoice's amount
credited, and its check: amount paid + amount credited <= total (SPEC: Credit notes)."""

from decimal import Decimal

import django.core.validators
import django.db.models.deletion
import django.db.models.expressions
from django.conf import settings
from django.db import migrations, models


def create_counter(apps, schema_editor):
    Counter = apps.get_model("billing", "InvoiceNumberCounter")
    Counter.objects.get_or_create(name="credit_note", defaults={"last_number": 0})


def remove_counter(apps, schema_editor):
    apps.get_model("billing", "InvoiceNumberCounter").objects.filter(name="credit_note").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0014_tax_sets"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CreditNote",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "number",
                    models.CharField(
                        blank=True, editable=False, max_length=32, null=True, verbose_name="number"
                    ),
                ),
                ("sequence", models.PositiveIntegerField(blank=True, editable=False, null=True)),
                (
                    "currency",
                    models.CharField(
                        choices=[
                            ("AUD", "AUD – Australian dollar"),
                            ("BRL", "BRL – Brazilian real"),
                            ("CAD", "CAD – Canadian dollar"),
                            ("CHF", "CHF – Swiss franc"),
                            ("CNY", "CNY – Chinese yuan"),
                            ("CZK", "CZK – Czech koruna"),
                            ("DKK", "DKK – Danish krone"),
                            ("EUR", "EUR – Euro"),
                            ("GBP", "GBP – Pound sterling"),
                            ("HKD", "HKD – Hong Kong dollar"),
                            ("HUF", "HUF – Hungarian forint"),
                            ("INR", "INR – Indian rupee"),
                            ("ISK", "ISK – Icelandic króna"),
                            ("JPY", "JPY – Japanese yen"),
                            ("KRW", "KRW – South Korean won"),
                            ("MXN", "MXN – Mexican peso"),
                            ("NOK", "NOK – Norwegian krone"),
                            ("NZD", "NZD – New Zealand dollar"),
                            ("PLN", "PLN – Polish złoty"),
                            ("RON", "RON – Romanian leu"),
                            ("SEK", "SEK – Swedish krona"),
                            ("SGD", "SGD – Singapore dollar"),
                            ("USD", "USD – US dollar"),
                            ("ZAR", "ZAR – South African rand"),
                        ],
                        max_length=3,
                        verbose_name="currency",
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("full", "All that remains"),
                            ("lines", "Some lines or quantities"),
                            ("amount", "An amount"),
                        ],
                        max_length=10,
                        verbose_name="credits",
                    ),
                ),
                (
                    "amount_asked",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        default=None,
                        max_digits=14,
                        null=True,
                        verbose_name="amount to credit",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[("draft", "Draft"), ("issued", "Issued")],
                        default="draft",
                        editable=False,
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                ("issue_date", models.DateField(blank=True, null=True, verbose_name="issue date")),
                ("reason", models.TextField(blank=True, verbose_name="reason")),
                (
                    "tax_basis",
                    models.CharField(
                        choices=[
                            ("default", "Default taxes"),
                            ("client", "Client's own taxes"),
                            ("exempt", "Tax-exempt"),
                            ("foreign", "Client abroad"),
                        ],
                        editable=False,
                        max_length=10,
                        verbose_name="tax basis",
                    ),
                ),
                (
                    "subtotal",
                    models.DecimalField(
                        decimal_places=2,
                        default=Decimal("0.00"),
                        editable=False,
                        max_digits=14,
                        verbose_name="subtotal",
                    ),
                ),
                (
                    "discount_total",
                    models.DecimalField(
                        decimal_places=2,
                        default=Decimal("0.00"),
                        editable=False,
                        max_digits=14,
                        verbose_name="discount",
                    ),
                ),
                (
                    "tax_total",
                    models.DecimalField(
                        decimal_places=2,
                        default=Decimal("0.00"),
                        editable=False,
                        max_digits=14,
                        verbose_name="tax",
                    ),
                ),
                (
                    "total",
                    models.DecimalField(
                        decimal_places=2,
                        default=Decimal("0.00"),
                        editable=False,
                        max_digits=14,
                        verbose_name="total",
                    ),
                ),
                ("issued_at", models.DateTimeField(blank=True, editable=False, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "verbose_name": "credit note",
                "verbose_name_plural": "credit notes",
                "ordering": ["-created_at", "-id"],
                "permissions": [("issue_creditnote", "Can issue credit notes")],
            },
        ),
        migrations.CreateModel(
            name="CreditNoteLine",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("position", models.PositiveIntegerField(default=0)),
                ("description", models.CharField(max_length=500, verbose_name="description")),
                (
                    "quantity",
                    models.DecimalField(
                        decimal_places=3,
                        default=Decimal("1"),
                        max_digits=14,
                        validators=[django.core.validators.MinValueValidator(0)],
                        verbose_name="quantity",
                    ),
                ),
                ("unit", models.CharField(blank=True, max_length=20, verbose_name="unit")),
                (
                    "unit_price",
                    models.DecimalField(
                        decimal_places=4,
                        max_digits=14,
                        validators=[django.core.validators.MinValueValidator(0)],
                        verbose_name="unit price",
                    ),
                ),
                (
                    "discount_percent",
                    models.DecimalField(
                        decimal_places=3,
                        default=Decimal("0"),
                        max_digits=6,
                        verbose_name="discount %",
                    ),
                ),
                ("taxable", models.BooleanField(default=True, verbose_name="taxable")),
                (
                    "taxes",
                    models.JSONField(blank=True, default=None, null=True, verbose_name="taxes"),
                ),
                (
                    "amount",
                    models.DecimalField(
                        decimal_places=2,
                        default=Decimal("0.00"),
                        editable=False,
                        max_digits=14,
                        verbose_name="amount",
                    ),
                ),
            ],
            options={
                "verbose_name": "credit note line",
                "verbose_name_plural": "credit note lines",
                "ordering": ["position", "id"],
            },
        ),
        migrations.CreateModel(
            name="CreditNoteTax",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("position", models.PositiveIntegerField(default=0)),
                ("label", models.CharField(max_length=50, verbose_name="label")),
                (
                    "rate",
                    models.DecimalField(decimal_places=4, max_digits=7, verbose_name="rate (%)"),
                ),
                (
                    "number",
                    models.CharField(
                        blank=True, max_length=100, verbose_name="registration number"
                    ),
                ),
                (
                    "base",
                    models.DecimalField(
                        decimal_places=2,
                        default=Decimal("0.00"),
                        max_digits=14,
                        verbose_name="taxable base",
                    ),
                ),
                (
                    "amount",
                    models.DecimalField(
                        decimal_places=2,
                        default=Decimal("0.00"),
                        max_digits=14,
                        verbose_name="amount",
                    ),
                ),
            ],
            options={
                "verbose_name": "credit note tax",
                "verbose_name_plural": "credit note taxes",
                "ordering": ["position", "id"],
            },
        ),
        migrations.CreateModel(
            name="Refund",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "currency",
                    models.CharField(
                        choices=[
                            ("AUD", "AUD – Australian dollar"),
                            ("BRL", "BRL – Brazilian real"),
                            ("CAD", "CAD – Canadian dollar"),
                            ("CHF", "CHF – Swiss franc"),
                            ("CNY", "CNY – Chinese yuan"),
                            ("CZK", "CZK – Czech koruna"),
                            ("DKK", "DKK – Danish krone"),
                            ("EUR", "EUR – Euro"),
                            ("GBP", "GBP – Pound sterling"),
                            ("HKD", "HKD – Hong Kong dollar"),
                            ("HUF", "HUF – Hungarian forint"),
                            ("INR", "INR – Indian rupee"),
                            ("ISK", "ISK – Icelandic króna"),
                            ("JPY", "JPY – Japanese yen"),
                            ("KRW", "KRW – South Korean won"),
                            ("MXN", "MXN – Mexican peso"),
                            ("NOK", "NOK – Norwegian krone"),
                            ("NZD", "NZD – New Zealand dollar"),
                            ("PLN", "PLN – Polish złoty"),
                            ("RON", "RON – Romanian leu"),
                            ("SEK", "SEK – Swedish krona"),
                            ("SGD", "SGD – Singapore dollar"),
                            ("USD", "USD – US dollar"),
                            ("ZAR", "ZAR – South African rand"),
                        ],
                        max_length=3,
                        verbose_name="currency",
                    ),
                ),
                (
                    "amount",
                    models.DecimalField(
                        decimal_places=2,
                        default=Decimal("0.00"),
                        max_digits=14,
                        validators=[django.core.validators.MinValueValidator(Decimal("0.01"))],
                        verbose_name="amount",
                    ),
                ),
                ("date", models.DateField(verbose_name="date")),
                (
                    "method",
                    models.CharField(
                        choices=[
                            ("cash", "Cash"),
                            ("cheque", "Cheque"),
                            ("e_transfer", "E-transfer"),
                            ("bank_transfer", "Bank transfer"),
                            ("card", "Card"),
                            ("client_credit", "Client credit"),
                            ("other", "Other"),
                        ],
                        max_length=20,
                        verbose_name="method",
                    ),
                ),
                (
                    "reference",
                    models.CharField(blank=True, max_length=200, verbose_name="reference"),
                ),
                ("note", models.TextField(blank=True, verbose_name="note")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("reversed_at", models.DateTimeField(blank=True, editable=False, null=True)),
                (
                    "reversal_reason",
                    models.TextField(blank=True, editable=False, verbose_name="reversal reason"),
                ),
            ],
            options={
                "verbose_name": "refund",
                "verbose_name_plural": "refunds",
                "ordering": ["-date", "-id"],
                "permissions": [("reverse_refund", "Can reverse refunds")],
            },
        ),
        migrations.RemoveConstraint(
            model_name="invoice",
            name="invoice_paid_within_total",
        ),
        migrations.RemoveIndex(
            model_name="invoice",
            name="invoice_status_due",
        ),
        migrations.AddField(
            model_name="invoice",
            name="amount_credited",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal("0.00"),
                editable=False,
                max_digits=14,
                verbose_name="amount credited",
            ),
        ),
        migrations.AlterField(
            model_name="invoice",
            name="status",
            field=models.CharField(
                choices=[
                    ("draft", "Draft"),
                    ("pending", "Pending"),
                    ("partial", "Partially paid"),
                    ("paid", "Paid"),
                    ("overdue", "Overdue"),
                    ("cancelled", "Cancelled"),
                    ("credited", "Credited"),
                ],
                default="draft",
                editable=False,
                max_length=10,
                verbose_name="status",
            ),
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(
                fields=[
                    "status",
                    "due_date",
                    "currency",
                    "total",
                    "amount_paid",
                    "amount_credited",
                ],
                name="invoice_status_due",
            ),
        ),
        migrations.AddConstraint(
            model_name="invoice",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("amount_credited__gte", 0),
                    ("amount_paid__gte", 0),
                    (
                        "total__gte",
                        django.db.models.expressions.CombinedExpression(
                            django.db.models.expressions.CombinedExpression(
                                models.F("amount_paid"), "+", models.F("amount_credited")
                            ),
                            "-",
                            models.Value(
                                Decimal("0.005"),
                                output_field=models.DecimalField(decimal_places=3, max_digits=4),
                            ),
                        ),
                    ),
                ),
                name="invoice_paid_and_credited_within_total",
            ),
        ),
        migrations.AddField(
            model_name="creditnote",
            name="client",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="credit_notes",
                to="billing.client",
                verbose_name="client",
            ),
        ),
        migrations.AddField(
            model_name="creditnote",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="creditnote",
            name="invoice",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="credit_notes",
                to="billing.invoice",
                verbose_name="invoice credited",
            ),
        ),
        migrations.AddField(
            model_name="creditnote",
            name="issued_by",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="creditnoteline",
            name="credit_note",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="lines",
                to="billing.creditnote",
            ),
        ),
        migrations.AddField(
            model_name="creditnoteline",
            name="invoice_line",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="credits",
                to="billing.invoiceline",
            ),
        ),
        migrations.AddField(
            model_name="creditnotetax",
            name="credit_note",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="taxes",
                to="billing.creditnote",
            ),
        ),
        migrations.AddField(
            model_name="refund",
            name="client",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="refunds",
                to="billing.client",
                verbose_name="client",
            ),
        ),
        migrations.AddField(
            model_name="refund",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="refund",
            name="reversed_by",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddIndex(
            model_name="creditnote",
            index=models.Index(fields=["invoice", "status"], name="credit_note_invoice"),
        ),
        migrations.AddIndex(
            model_name="creditnote",
            index=models.Index(fields=["client", "created_at", "id"], name="credit_note_client"),
        ),
        migrations.AddIndex(
            model_name="creditnote",
            index=models.Index(
                fields=["issue_date", "status", "currency", "client", "total", "tax_total"],
                name="credit_note_issued_figures",
            ),
        ),
        migrations.AddIndex(
            model_name="creditnote",
            index=models.Index(fields=["created_at", "id"], name="credit_note_created"),
        ),
        migrations.AddConstraint(
            model_name="creditnote",
            constraint=models.UniqueConstraint(
                fields=("number",), name="credit_note_number_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="creditnote",
            constraint=models.UniqueConstraint(
                fields=("sequence",), name="credit_note_sequence_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="creditnote",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("number__isnull", True), ("sequence__isnull", True), ("status", "draft")
                    ),
                    models.Q(
                        ("issue_date__isnull", False),
                        ("number__isnull", False),
                        ("sequence__isnull", False),
                        ("status", "issued"),
                        ("total__gt", 0),
                    ),
                    _connector="OR",
                ),
                name="credit_note_issued_has_number",
            ),
        ),
        migrations.AddConstraint(
            model_name="creditnote",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("discount_total__gte", 0),
                    ("subtotal__gte", 0),
                    ("tax_total__gte", 0),
                    ("total__gte", 0),
                ),
                name="credit_note_amounts_gte_0",
            ),
        ),
        migrations.AddConstraint(
            model_name="creditnote",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "amount"), _negated=True),
                    ("amount_asked__gt", 0),
                    _connector="OR",
                ),
                name="credit_note_amount_asked",
            ),
        ),
        migrations.AddConstraint(
            model_name="creditnoteline",
            constraint=models.CheckConstraint(
                condition=models.Q(("quantity__gte", 0)), name="cn_line_quantity_gte_0"
            ),
        ),
        migrations.AddConstraint(
            model_name="creditnoteline",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gte", 0)), name="cn_line_amount_gte_0"
            ),
        ),
        migrations.AddConstraint(
            model_name="creditnotetax",
            constraint=models.UniqueConstraint(
                fields=("credit_note", "label"), name="credit_note_tax_label_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="creditnotetax",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gte", 0), ("base__gte", 0)),
                name="credit_note_tax_gte_0",
            ),
        ),
        migrations.AddIndex(
            model_name="refund",
            index=models.Index(fields=["client", "date", "id"], name="refund_client_date"),
        ),
        migrations.AddIndex(
            model_name="refund",
            index=models.Index(fields=["date", "id"], name="refund_date"),
        ),
        migrations.AddConstraint(
            model_name="refund",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gt", 0)), name="refund_amount_gt_0"
            ),
        ),
        migrations.AddConstraint(
            model_name="refund",
            constraint=models.CheckConstraint(
                condition=models.Q(("method", "client_credit"), _negated=True),
                name="refund_moves_money",
            ),
        ),
        migrations.AddConstraint(
            model_name="refund",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("reversed_at__isnull", True),
                    models.Q(("reversal_reason", ""), _negated=True),
                    _connector="OR",
                ),
                name="refund_reversal_has_reason",
            ),
        ),
        migrations.RunPython(create_counter, remove_counter),
    ]
