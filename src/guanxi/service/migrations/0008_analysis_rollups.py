from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("service", "0007_assignment_hours_sms")]

    operations = []
