from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Expectation


@admin.register(Expectation)
class ExpectationAdmin(SimpleHistoryAdmin):
    list_display = ["programme", "measure", "audience", "region", "comparator", "target", "start_date", "due_date"]
    list_filter = ["audience", "issued_by", "region", "measure"]
    list_select_related = ["programme", "measure", "region", "issued_by"]
    search_fields = ["wording", "programme__title", "measure__name"]
    autocomplete_fields = ["programme"]
