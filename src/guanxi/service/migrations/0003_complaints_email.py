# Reserved for: complaint replies and email intake.
# Empty until that work adds its operations (one chained migration per parallel workstream).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("service", "0002_seed")]

    operations = []
