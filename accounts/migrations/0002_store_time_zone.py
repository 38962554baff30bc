"""Each store has a time zone (IANA name): its free credits reset on the 1st at 00:00 there, and the dashboard
shows usage by day there. Existing stores get Asia/Seoul, the product's home zone."""

from django.db import migrations, models

import accounts.time_zones


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="store",
            name="time_zone",
            field=models.CharField(
                default="Asia/Seoul",
                help_text="IANA name; free credits reset and usage is shown by day in this time zone",
                max_length=64,
                validators=[accounts.time_zones.validate_time_zone],
                verbose_name="time zone",
            ),
        ),
    ]
