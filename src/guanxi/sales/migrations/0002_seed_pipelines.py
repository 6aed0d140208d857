"""The two pipelines users start with (新装增容, 增值服务), with stages and probabilities; admins edit them later."""

from django.db import migrations

PIPELINES = [
    (
        "new-connection",
        "新装增容",
        "New connection / capacity increase",
        [
            ("enquiry", "需求受理", "Enquiry", 10, "open"),
            ("survey", "现场勘查", "Site survey", 25, "open"),
            ("proposal", "供电方案", "Supply proposal", 50, "open"),
            ("negotiation", "商务洽谈", "Negotiation", 75, "open"),
            ("contract", "签订合同", "Contract signing", 90, "open"),
            ("won", "赢单", "Won", 100, "won"),
            ("lost", "输单", "Lost", 0, "lost"),
        ],
    ),
    (
        "value-added",
        "增值服务",
        "Value-added services",
        [
            ("prospect", "意向沟通", "First talk", 10, "open"),
            ("needs", "需求分析", "Needs analysis", 30, "open"),
            ("quote", "方案报价", "Quote", 60, "open"),
            ("negotiation", "商务谈判", "Negotiation", 80, "open"),
            ("won", "赢单", "Won", 100, "won"),
            ("lost", "输单", "Lost", 0, "lost"),
        ],
    ),
]


def seed(apps, schema_editor):
    Pipeline = apps.get_model("sales", "Pipeline")
    Stage = apps.get_model("sales", "Stage")
    for position, (code, name, name_en, stages) in enumerate(PIPELINES):
        pipeline, _created = Pipeline.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "position": position}
        )
        for stage_position, (stage_code, stage_name, stage_en, probability, outcome) in enumerate(stages):
            Stage.objects.get_or_create(
                pipeline=pipeline,
                code=stage_code,
                defaults={
                    "name": stage_name,
                    "name_en": stage_en,
                    "position": stage_position,
                    "probability": probability,
                    "outcome": outcome,
                },
            )


def unseed(apps, schema_editor):
    Pipeline = apps.get_model("sales", "Pipeline")
    Opportunity = apps.get_model("sales", "Opportunity")
    codes = [code for code, *_rest in PIPELINES]
    used = set(Opportunity.objects.values_list("pipeline__code", flat=True).distinct())
    Pipeline.objects.filter(code__in=[c for c in codes if c not in used]).delete()


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_pipeline")]

    operations = [migrations.RunPython(seed, unseed)]
