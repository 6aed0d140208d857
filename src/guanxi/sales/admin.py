"""Back office: pipelines and their stages are configured here; leads and deals change only through services."""

from django.contrib import admin

from guanxi.sales.models import Pipeline, Stage


class StageInline(admin.TabularInline):
    model = Stage
    fields = ["position", "code", "name", "name_en", "probability", "outcome"]
    extra = 0


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "position", "active"]
    list_editable = ["position", "active"]
    inlines = [StageInline]
