from django.db import migrations, models

import settings_app.models

SENTENCE = "please find attached invoice {invoice_number} for {total}, due on {due_date}.\n"


def name_the_taxes(apps, schema_editor):
    """An invoice e-mail whose text still has the default sentence says the taxes after it
    ({taxes}: each with its rate, base, amount and registration number)."""
    for settings in apps.get_model("settings_app", "BusinessSettings").objects.all():
        body = settings.invoice_email_body
        if SENTENCE in body and "{taxes}" not in body:
            settings.invoice_email_body = body.replace(SENTENCE, SENTENCE + "\n{taxes}\n", 1)
            settings.save(update_fields=["invoice_email_body"])


def unname_the_taxes(apps, schema_editor):
    for settings in apps.get_model("settings_app", "BusinessSettings").objects.all():
        body = settings.invoice_email_body.replace(SENTENCE + "\n{taxes}\n", SENTENCE, 1)
        if body != settings.invoice_email_body:
            settings.invoice_email_body = body
            settings.save(update_fields=["invoice_email_body"])


class Migration(migrations.Migration):
    dependencies = [
        ("settings_app", "0009_remove_the_single_tax"),
    ]

    operations = [
        migrations.AlterField(
            model_name="businesssettings",
            name="invoice_email_body",
            field=models.TextField(
                default="Dear {contact_person},\n\nplease find attached invoice {invoice_number} for {total}, due on {due_date}.\n\n{taxes}\n\nThank you for your business.\n\n{business_name}\n",
                help_text="The invoice PDF is attached. Same placeholders as the subject.",
                verbose_name="invoice e-mail text",
            ),
        ),
        migrations.AlterField(
            model_name="businesssettings",
            name="invoice_email_subject",
            field=models.CharField(
                default="Invoice {invoice_number} from {business_name}",
                help_text="Placeholders: {invoice_number}, {client_name}, {contact_person}, {total}, {taxes}, {balance_due}, {issue_date}, {due_date}, {business_name}, {business_email}, {business_phone}",
                max_length=200,
                validators=[settings_app.models.validate_one_line],
                verbose_name="invoice e-mail subject",
            ),
        ),
        migrations.AlterField(
            model_name="reminderstage",
            name="subject",
            field=models.CharField(
                help_text="Placeholders: {invoice_number}, {client_name}, {contact_person}, {total}, {taxes}, {balance_due}, {issue_date}, {due_date}, {business_name}, {business_email}, {business_phone}, {days_until_due}, {days_overdue}",
                max_length=200,
                validators=[settings_app.models.validate_one_line],
                verbose_name="subject",
            ),
        ),
        migrations.RunPython(name_the_taxes, unname_the_taxes),
    ]
