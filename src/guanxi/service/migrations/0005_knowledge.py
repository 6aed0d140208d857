# Reserved for: the knowledge base.
# Empty until that work adds its operations (one chained migration per parallel workstream).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("service", "0004_return_visits")]

    operations = []
