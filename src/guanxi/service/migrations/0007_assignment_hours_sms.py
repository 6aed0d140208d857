from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("service", "0006_agent_tools")]

    operations = []
