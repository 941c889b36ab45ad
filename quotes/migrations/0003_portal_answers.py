# Answers through the client portal: their channel and the address signed in.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("quotes", "0002_quote_number_counter"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="quoteanswer",
            name="quote_link_answer_by_client",
        ),
        migrations.AddField(
            model_name="quoteanswer",
            name="email",
            field=models.EmailField(blank=True, max_length=254, verbose_name="signed in as"),
        ),
        migrations.AlterField(
            model_name="quoteanswer",
            name="channel",
            field=models.CharField(
                choices=[
                    ("link", "The quote's link, by the client"),
                    ("portal", "The client portal, by a contact signed in"),
                    ("phone", "Phone"),
                    ("email", "E-mail"),
                    ("in_person", "In person"),
                    ("conversion", "Converted by staff without an answer"),
                ],
                max_length=10,
                verbose_name="channel",
            ),
        ),
        migrations.AddConstraint(
            model_name="quoteanswer",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("channel__in", ("link", "portal")), _negated=True),
                    ("recorded_by__isnull", True),
                    _connector="OR",
                ),
                name="quote_answer_by_client_not_user",
            ),
        ),
        migrations.AddConstraint(
            model_name="quoteanswer",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("channel", "portal"), ("email__gt", "")),
                    models.Q(models.Q(("channel", "portal"), _negated=True), ("email", "")),
                    _connector="OR",
                ),
                name="quote_portal_answer_has_email",
            ),
        ),
    ]
