# Rescheduling jobs get a lease (a claim token per claim, an attempt count) so a chunk commits only for the runner
# holding the job, when they started, and an index for the purge of old finished jobs. Schema only; existing jobs get
# an empty claim (a pending one is claimed anew by its message or the sweep).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('service', '0014_reschedule_jobs_event_details'),
    ]

    operations = [
        migrations.AddField(
            model_name='reschedulejob',
            name='attempts',
            field=models.PositiveSmallIntegerField(default=0, verbose_name='attempts'),
        ),
        migrations.AddField(
            model_name='reschedulejob',
            name='claim',
            field=models.CharField(blank=True, default='', max_length=32),
        ),
        migrations.AddField(
            model_name='reschedulejob',
            name='started_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='started at'),
        ),
        migrations.AlterField(
            model_name='reschedulejob',
            name='claimed_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='last sign of life'),
        ),
        migrations.AddIndex(
            model_name='reschedulejob',
            index=models.Index(condition=models.Q(('status', 'done')), fields=['finished_at'], name='reschedule_done_idx'),
        ),
    ]
