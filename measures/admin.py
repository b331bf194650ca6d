from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Measure, Measurement, ProgrammeMeasure


@admin.register(Measure)
class MeasureAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "unit", "direction", "comparator", "standard"]
    list_filter = ["unit", "direction"]
    search_fields = ["code", "name"]


@admin.register(ProgrammeMeasure)
class ProgrammeMeasureAdmin(SimpleHistoryAdmin):
    list_display = ["programme", "measure", "target", "agreed_on"]
    list_filter = ["measure", "agreed_by"]
    list_select_related = ["programme", "measure"]
    search_fields = ["programme__title", "measure__name"]
    autocomplete_fields = ["programme"]
    filter_horizontal = ["agreed_by"]


@admin.register(Measurement)
class MeasurementAdmin(SimpleHistoryAdmin):
    list_display = ["measure", "region", "month", "value", "source"]
    list_filter = ["source", "measure", "region"]
    list_select_related = ["measure", "region"]
    search_fields = ["measure__code", "measure__name"]
    date_hierarchy = "month"
