"""The default e-mail texts say where the client's own link goes ({link}; issue 21). Only
texts still exactly as shipped are changed: one the business edited keeps its words, and
gets the link on a line of its own at its end when it is sent."""

from django.db import migrations, models

OLD_INVOICE_BODY = (
    "Dear {contact_person},\n\nplease find attached invoice {invoice_number} for {total}, due on "
    "{due_date}.\n\n{taxes}\n\nThank you for your business.\n\n{business_name}\n"
)
NEW_INVOICE_BODY = OLD_INVOICE_BODY.replace(
    "{taxes}\n\n", "{taxes}\n\nYou can also read it and download it here:\n{link}\n\n", 1
)

# The three reminder stages of 0004, as 0007 left them.
OLD_REMINDER_BODIES = (
    "Dear {contact_person},\n\na friendly reminder that invoice {invoice_number} for {total} is "
    "due on {due_date}. Balance due: {balance_due}.\n\nIf you have already paid, thank "
    "you, and please ignore this message.\n\n{business_name}\n",
    "Dear {contact_person},\n\ninvoice {invoice_number} was due on {due_date} and "
    "{balance_due} is still open. Could you let us know when we can expect payment?\n\n"
    "{business_name}\n",
    "Dear {contact_person},\n\ninvoice {invoice_number} ({total}) was due on {due_date}, "
    "{days_overdue} days ago; {balance_due} is still open. Please arrange payment, or "
    "reply to this message if something is wrong with the invoice.\n\n{business_name}\n",
)
SIGNATURE = "\n\n{business_name}\n"
LINK_LINES = "\n\nYou can read the invoice here:\n{link}"


def _with_link(body: str) -> str:
    return body[: -len(SIGNATURE)] + LINK_LINES + SIGNATURE


def _change(apps, texts: dict[str, str]) -> None:
    for settings in apps.get_model("settings_app", "BusinessSettings").objects.all():
        if settings.invoice_email_body in texts:
            settings.invoice_email_body = texts[settings.invoice_email_body]
            settings.save(update_fields=["invoice_email_body"])
    for stage in apps.get_model("settings_app", "ReminderStage").objects.all():
        if stage.body in texts:
            stage.body = texts[stage.body]
            stage.save(update_fields=["body"])


def add_the_links(apps, schema_editor):
    texts = {OLD_INVOICE_BODY: NEW_INVOICE_BODY}
    texts.update({body: _with_link(body) for body in OLD_REMINDER_BODIES})
    _change(apps, texts)


def remove_the_links(apps, schema_editor):
    texts = {NEW_INVOICE_BODY: OLD_INVOICE_BODY}
    texts.update({_with_link(body): body for body in OLD_REMINDER_BODIES})
    _change(apps, texts)


class Migration(migrations.Migration):
    dependencies = [
        ("settings_app", "0013_quote_settings"),
    ]

    operations = [
        migrations.AlterField(
            model_name="businesssettings",
            name="invoice_email_body",
            field=models.TextField(
                default=NEW_INVOICE_BODY,
                help_text="The invoice PDF is attached; {link} is the client's own link to read "
                "it (added at the end when the text has none). Same placeholders as the subject.",
                verbose_name="invoice e-mail text",
            ),
        ),
        migrations.AlterField(
            model_name="reminderstage",
            name="body",
            field=models.TextField(
                help_text="Same placeholders as the subject, and {link}: the client's own link "
                "to the invoice (added at the end when the text has none).",
                verbose_name="text",
            ),
        ),
        migrations.RunPython(add_the_links, remove_the_links),
    ]
