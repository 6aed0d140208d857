# Reserved for: return visits, satisfaction surveys.
# Empty until that work adds its operations (one chained migration per parallel workstream).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("service", "0003_complaints_email")]

    operations = []
