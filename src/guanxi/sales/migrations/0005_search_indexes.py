# Reserved for: lead and deal search indexes.
# Empty until that work adds its operations (one chained migration per parallel workstream).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("sales", "0004_seed_tariffs")]

    operations = []
