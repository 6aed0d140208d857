# Reserved for: indexes for overdue visits and calendar reads.
# Empty until that work adds its operations (one chained migration per parallel workstream).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("activities", "0005_notification_preferences")]

    operations = []
