# A survey invitation may be answered once it reached the customer (surveys.answer_refusal), not only once the whole
# survey is `sent`: the field says when it did. Schema, then the backfill of the invitations that exist.

from django.db import migrations, models

BATCH = 1000


def backfill(apps, schema_editor):
    """By phone, WeChat or email an invitation is the agents' to-do list: delivered when created. By text message:
    when its message was sent (the first one, if the job ran twice)."""
    SurveyInvitation = apps.get_model("service", "SurveyInvitation")
    SmsMessage = apps.get_model("service", "SmsMessage")
    SurveyInvitation.objects.exclude(channel="sms").update(delivered_at=models.F("invited_at"))
    sent = (
        SmsMessage.objects.filter(purpose="survey", status="sent", object_id__isnull=False, sent_at__isnull=False)
        .order_by("object_id", "sent_at")
        .values_list("object_id", "sent_at")
    )
    first: dict[int, object] = {}
    previous = None
    for object_id, sent_at in sent.iterator(chunk_size=BATCH):
        if object_id == previous:
            continue  # a later message of the same invitation
        previous = object_id
        first[object_id] = sent_at
        if len(first) >= BATCH:
            _save(SurveyInvitation, first)
            first = {}
    _save(SurveyInvitation, first)


def _save(SurveyInvitation, first: dict) -> None:
    # Only invitations that exist (a message may outlive its survey) and are by text message.
    rows = SurveyInvitation.objects.filter(pk__in=list(first), channel="sms").only("pk")
    rows = [SurveyInvitation(pk=row.pk, delivered_at=first[row.pk]) for row in rows]
    SurveyInvitation.objects.bulk_update(rows, ["delivered_at"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("service", "0012_ticket_subject_bigrams"),
    ]

    operations = [
        migrations.AddField(
            model_name="surveyinvitation",
            name="delivered_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="delivered at"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
