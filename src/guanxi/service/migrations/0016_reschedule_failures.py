# Rescheduling jobs keep the error of their last failed run (class and message, when), and a job whose runs raised
# GUANXI_RESCHEDULE_MAX_ATTEMPTS times becomes `failed` (the sweep leaves it; an admin retries it). Schema only.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('service', '0015_reschedule_claims'),
    ]

    operations = [
        migrations.AddField(
            model_name='reschedulejob',
            name='error',
            field=models.TextField(blank=True, default='', verbose_name='last error'),
        ),
        migrations.AddField(
            model_name='reschedulejob',
            name='error_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='last error at'),
        ),
        migrations.AlterField(
            model_name='reschedulejob',
            name='status',
            field=models.CharField(choices=[('pending', 'Pending'), ('done', 'Done'), ('failed', 'Failed')], default='pending', max_length=8, verbose_name='status'),
        ),
    ]
