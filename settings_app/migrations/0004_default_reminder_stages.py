from django.db import migrations

# Three stages to start from; reminders stay off until "send payment reminders" is ticked.
STAGES = (
    (
        "Due soon",
        -3,
        "Invoice {invoice_number} is due in {days_until_due} days",
        "Dear {client_name},\n\na friendly reminder that invoice {invoice_number} for {total} is "
        "due on {due_date}. Balance due: {balance_due}.\n\nIf you have already paid, thank "
        "you, and please ignore this message.\n\n{business_name}\n",
    ),
    (
        "A week overdue",
        7,
        "Reminder: invoice {invoice_number} is overdue",
        "Dear {client_name},\n\ninvoice {invoice_number} was due on {due_date} and "
        "{balance_due} is still open. Could you let us know when we can expect payment?\n\n"
        "{business_name}\n",
    ),
    (
        "A month overdue",
        30,
        "Second reminder: invoice {invoice_number} is {days_overdue} days overdue",
        "Dear {client_name},\n\ninvoice {invoice_number} ({total}) was due on {due_date}, "
        "{days_overdue} days ago; {balance_due} is still open. Please arrange payment, or "
        "reply to this message if something is wrong with the invoice.\n\n{business_name}\n",
    ),
)


def create_stages(apps, schema_editor):
    ReminderStage = apps.get_model("settings_app", "ReminderStage")
    for name, days, subject, body in STAGES:
        ReminderStage.objects.get_or_create(
            days_from_due=days, defaults={"name": name, "subject": subject, "body": body}
        )


def remove_stages(apps, schema_editor):
    ReminderStage = apps.get_model("settings_app", "ReminderStage")
    ReminderStage.objects.filter(days_from_due__in=[days for _, days, _, _ in STAGES]).delete()


class Migration(migrations.Migration):
    dependencies = [("settings_app", "0003_email_templates_and_reminder_stages")]

    operations = [migrations.RunPython(create_stages, remove_stages)]
