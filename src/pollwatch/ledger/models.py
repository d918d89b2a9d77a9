"""The transparency log's rows: one entry per logged record, one state row per election's log.

An entry is written *pending* (no index) in the transaction that accepts the record, so the
submission is acknowledged at once; the single integrator (`integration.py`) later gives
pending entries contiguous indexes (sequencing) and then extends the tiles and signs a new
checkpoint (integration). Entries sequenced but not yet in a checkpoint have an index at or
above `LogState.size` and below `LogState.sequenced`.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pollwatch.registry.models import Election


class LogEntry(models.Model):
    election = models.ForeignKey(Election, on_delete=models.PROTECT, related_name="log_entries")
    # The position in the log; null while the entry waits for the integrator.
    index = models.BigIntegerField(_("index"), null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=50)
    # The leaf: the record as RFC 8785 canonical JSON, exactly the bytes published.
    canonical = models.BinaryField(_("canonical bytes"))
    leaf_hash = models.BinaryField(_("leaf hash"), max_length=32)
    # The row the record was built from, so `pollwatch verify database` can rebuild it.
    source_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_pk = models.CharField(_("source row"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # When the entry's checkpoint was committed (latency is measured from created_at).
    integrated_at = models.DateTimeField(_("integrated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("log entry")
        verbose_name_plural = _("log entries")
        constraints = [
            models.UniqueConstraint(fields=["election", "index"], name="log_entry_index_unique"),
        ]
        indexes = [
            # The integrator's queue: pending entries in arrival order.
            models.Index(
                fields=["election", "id"],
                condition=models.Q(index__isnull=True),
                name="log_entry_pending",
            ),
            models.Index(fields=["source_type", "source_pk"], name="log_entry_source"),
        ]

    def __str__(self) -> str:
        where = "pending" if self.index is None else f"#{self.index}"
        return f"{self.kind} {where}"


class LogState(models.Model):
    """One election's log: its origin (fixed when the log starts), how far entries are
    sequenced, and the latest checkpoint (size, root, signed note with any cosignatures)."""

    election = models.OneToOneField(
        Election, primary_key=True, on_delete=models.PROTECT, related_name="log_state"
    )
    origin = models.CharField(_("origin"), max_length=300)
    # Entries with an index below `sequenced` have one; those below `size` are in the tree.
    sequenced = models.BigIntegerField(_("sequenced entries"), default=0)
    size = models.BigIntegerField(_("tree size"), default=0)
    root = models.BinaryField(_("root hash"), max_length=32)
    checkpoint = models.TextField(_("signed checkpoint"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("log state")
        verbose_name_plural = _("log states")

    def __str__(self) -> str:
        return f"{self.origin} at size {self.size}"
