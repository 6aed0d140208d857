from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("service", "0009_sms_delivery")]

    operations = []
