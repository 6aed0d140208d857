# Reserved for: notification preferences (J4).
# Empty until that work adds its operations (one chained migration per parallel workstream).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("activities", "0004_subject_bigrams")]

    operations = []
