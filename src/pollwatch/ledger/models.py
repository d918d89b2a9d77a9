"""The transparency log's rows: one entry per logged record, one state row per election's log.

An entry is written with a PendingEntry row in the transaction that accepts the record, so the
submission is acknowledged at once; the single integrator (`integration.py`) later gives
pending entries contiguous indexes (sequencing: a LogIndex row each, the PendingEntry row
deleted) and then extends the tiles and signs a new checkpoint (integration). Entries sequenced
but not yet in a checkpoint have an index at or above `LogState.size` and below
`LogState.sequenced`. Every published checkpoint is kept (LogCheckpoint).
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pollwatch.registry.models import Election


class LogEntry(models.Model):
    """One logged record, as published: never updated once written."""

    election = models.ForeignKey(
        Election, on_delete=models.PROTECT, related_name="log_entries", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=50)
    # The leaf: the record as RFC 8785 canonical JSON, exactly the bytes published.
    canonical = models.BinaryField(_("canonical bytes"))
    leaf_hash = models.BinaryField(_("leaf hash"), max_length=32)
    # The row the record was built from, so `pollwatch verify database` can rebuild it.
    source_type = models.ForeignKey(
        ContentType,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # log_entry_source covers it
    )
    source_pk = models.CharField(_("source row"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("log entry")
        verbose_name_plural = _("log entries")
        indexes = [
            models.Index(fields=["election", "id"], name="log_entry_election"),
            models.Index(fields=["source_type", "source_pk"], name="log_entry_source"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk}"


class PendingEntry(models.Model):
    """An entry waiting for the integrator: a narrow row, deleted when the entry is sequenced
    (cheaper than updating the wide entry row)."""

    # No database-level foreign keys here or in LogIndex: PostgreSQL would lock the entry row
    # (FOR KEY SHARE) for each of a batch's rows at commit, which costs more than the insert;
    # only the ledger writes these rows, and `pollwatch verify database` checks them.
    election = models.ForeignKey(
        Election, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    entry = models.OneToOneField(
        LogEntry, on_delete=models.CASCADE, related_name="pending", db_constraint=False
    )

    class Meta:
        verbose_name = _("pending log entry")
        verbose_name_plural = _("pending log entries")
        indexes = [models.Index(fields=["election", "entry"], name="pending_entry_queue")]

    def __str__(self) -> str:
        return f"pending {self.entry_id}"


class LogIndex(models.Model):
    """An entry's position in its election's log, given once by the integrator."""

    entry = models.OneToOneField(
        LogEntry,
        primary_key=True,
        on_delete=models.PROTECT,
        related_name="log_index",
        db_constraint=False,
    )
    election = models.ForeignKey(
        Election, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    index = models.BigIntegerField(_("index"))

    class Meta:
        verbose_name = _("log index")
        verbose_name_plural = _("log indexes")
        constraints = [
            models.UniqueConstraint(fields=["election", "index"], name="log_index_unique"),
        ]

    def __str__(self) -> str:
        return f"#{self.index}"


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


class LogCheckpoint(models.Model):
    """Every checkpoint the log published, with when: the log's history (and, for an entry,
    when its receipt became available: the first checkpoint larger than its index)."""

    election = models.ForeignKey(
        Election, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    size = models.BigIntegerField(_("tree size"))
    root = models.BinaryField(_("root hash"), max_length=32)
    checkpoint = models.TextField(_("signed checkpoint"))
    published_at = models.DateTimeField(_("published at"))

    class Meta:
        verbose_name = _("log checkpoint")
        verbose_name_plural = _("log checkpoints")
        constraints = [
            models.UniqueConstraint(fields=["election", "size"], name="log_checkpoint_unique"),
        ]

    def __str__(self) -> str:
        return f"size {self.size}"
