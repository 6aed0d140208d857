from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("service", "0008_analysis_rollups")]

    operations = []
