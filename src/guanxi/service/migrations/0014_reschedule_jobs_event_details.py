# Deadline rescheduling jobs as rows (a job lost with its worker is resumed by the sweep), and the structured details of
# a ticket event (a deadline move's old and new deadlines and reason). Schema only; nothing to backfill.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('service', '0013_survey_invitation_delivery'),
    ]

    operations = [
        migrations.AddField(
            model_name='ticketevent',
            name='details',
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='ticketevent',
            name='kind',
            field=models.CharField(choices=[('created', 'Created'), ('accepted', 'Accepted'), ('started', 'Work started'), ('waiting', 'Waiting for customer'), ('resolved', 'Resolved'), ('closed', 'Closed'), ('reopened', 'Reopened'), ('updated', 'Updated'), ('handover_requested', 'Hand-over requested'), ('handover_accepted', 'Hand-over accepted'), ('handover_declined', 'Hand-over declined'), ('handover_expired', 'Hand-over expired'), ('sla_warning', 'SLA warning'), ('sla_breach', 'SLA breached'), ('escalated', 'Escalated'), ('merged', 'Merged into another ticket'), ('merged_from', 'Duplicate merged in'), ('assigned', 'Assigned from the team queue'), ('deadline_moved', 'SLA deadlines moved')], max_length=32, verbose_name='event'),
        ),
        migrations.CreateModel(
            name='RescheduleJob',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('scope', models.JSONField(verbose_name='scope')),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('done', 'Done')], default='pending', max_length=8, verbose_name='status')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                ('claimed_at', models.DateTimeField(blank=True, null=True)),
                ('last_ticket_id', models.BigIntegerField(default=0)),
                ('checked', models.PositiveIntegerField(default=0, verbose_name='tickets checked')),
                ('moved', models.PositiveIntegerField(default=0, verbose_name='tickets moved')),
                ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished')),
            ],
            options={
                'verbose_name': 'deadline rescheduling',
                'verbose_name_plural': 'deadline reschedulings',
                'ordering': ['id'],
                'indexes': [models.Index(condition=models.Q(('status', 'pending')), fields=['id'], name='reschedule_pending_idx')],
            },
        ),
    ]
