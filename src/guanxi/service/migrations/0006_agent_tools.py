# Reserved for: reply templates, ticket merge, queue indexes.
# Empty until that work adds its operations (one chained migration per parallel workstream).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("service", "0005_knowledge")]

    operations = []
