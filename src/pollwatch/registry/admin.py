from django.contrib import admin

from pollwatch.registry.models import (
    BallotOption,
    Commission,
    Election,
    PollingStation,
    ProtocolTemplate,
)


@admin.register(ProtocolTemplate)
class ProtocolTemplateAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "kind"]
    search_fields = ["key", "name"]


class BallotOptionInline(admin.TabularInline):
    model = BallotOption
    extra = 0


@admin.register(Election)
class ElectionAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "date", "time_zone", "template"]
    list_filter = ["kind"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [BallotOptionInline]


@admin.register(Commission)
class CommissionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "election", "station_count", "registered_voters"]
    list_filter = ["election", "level"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]
    readonly_fields = ["station_count", "registered_voters"]
    list_select_related = ["election"]


@admin.register(PollingStation)
class PollingStationAdmin(admin.ModelAdmin):
    list_display = ["number", "code", "commission", "registered_voters", "election"]
    list_filter = ["election"]
    search_fields = ["=number", "code", "address"]
    raw_id_fields = ["commission"]
    list_select_related = ["commission", "election"]
    show_full_result_count = False  # a count over a million stations on every page is slow
