"""Protocol copies and photos in the admin: to look at, never to edit.

A copy is evidence as submitted (a correction is a new copy) and a photo is named by its
content's hash; an edit here would falsify both and bypass the log, so every field is read-only
and nothing is added or deleted by hand.
"""

from django.contrib import admin

from pollwatch.findings.admin import ReadOnlyAdmin
from pollwatch.protocols.models import Photo, ProtocolCopy


@admin.register(ProtocolCopy)
class ProtocolCopyAdmin(ReadOnlyAdmin):
    list_display = ["id", "station", "organisation", "observer", "received_at", "election"]
    list_filter = ["election", "organisation", "certified", "all_members_signed"]
    search_fields = ["=id", "=station__code"]
    ordering = ["-received_at"]
    list_select_related = ["station", "organisation", "observer", "election"]
    raw_id_fields = ["station", "observer", "supersedes", "submitted_by"]
    show_full_result_count = False  # millions of copies on election night


@admin.register(Photo)
class PhotoAdmin(ReadOnlyAdmin):
    list_display = ["sha256", "content_type", "size", "width", "height", "uploaded_at"]
    list_filter = ["content_type"]
    search_fields = ["=sha256"]
    ordering = ["-uploaded_at"]
    raw_id_fields = ["uploaded_by"]
    show_full_result_count = False
