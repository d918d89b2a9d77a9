"""Findings as rows: one per fingerprint and election, never deleted, with a human status.

Recording (``recording.py``) writes the computed columns and presence; people change only the
status (``lifecycle.py``), and each change leaves a FindingDecision. A finding that new data no
longer produces is resolved (``present`` false), not deleted: it may have been confirmed, and a
complaint may rest on it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pollwatch.registry.models import Commission, Election, PollingStation


class FindingKind(models.TextChoices):
    """The cross-check's kinds by their fingerprint slugs, and room for other detectors."""

    RELATION_BROKEN_ON_COPY = "relation-broken-on-copy", _("Control relation broken on a copy")
    RELATION_BROKEN_ON_OFFICIAL = (
        "relation-broken-on-official",
        _("Control relation broken in official figures"),
    )
    COPIES_DISAGREE = "copies-disagree", _("Observers' copies disagree")
    COPY_DIFFERS_FROM_OFFICIAL = "copy-differs-from-official", _("Copy differs from official")
    CONSENSUS_DIFFERS_FROM_OFFICIAL = (
        "consensus-differs-from-official",
        _("Observers' consensus differs from official"),
    )
    TOTAL_DIFFERS_FROM_CHILDREN = (
        "total-differs-from-children",
        _("Commission total differs from the sum below it"),
    )
    MISSING_OFFICIAL_RESULT = "missing-official-result", _("Official result missing")
    MISSING_COPY = "missing-copy", _("Protocol copy missing")
    SILENT_CHANGE = "silent-change", _("Published figures changed silently")
    STATISTICAL_ANOMALY = "statistical-anomaly", _("Statistical anomaly")


class Severity(models.TextChoices):
    ERROR = "error", _("Error")
    WARNING = "warning", _("Warning")


class FindingStatus(models.TextChoices):
    OPEN = "open", _("Open")
    UNDER_VERIFICATION = "under_verification", _("Under verification")
    CONFIRMED = "confirmed", _("Confirmed")
    DISMISSED = "dismissed", _("Dismissed")
    COMPLAINT_FILED = "complaint_filed", _("Complaint filed")


class Finding(models.Model):
    Kind = FindingKind
    Status = FindingStatus

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="findings")
    # kind|place|lines, built from stable ids and line keys: recomputation finds the same row.
    fingerprint = models.TextField(_("fingerprint"))
    kind = models.CharField(_("kind"), max_length=50, choices=FindingKind.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    station = models.ForeignKey(
        PollingStation,
        verbose_name=_("polling station"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="findings",
    )
    commission = models.ForeignKey(
        Commission,
        verbose_name=_("commission"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="findings",
    )
    lines = models.JSONField(_("protocol lines"), default=list)  # line keys
    relation = models.TextField(_("control relation"), blank=True)
    # The two sides and their difference, as the kind defines them (see core Findings).
    left_value = models.BigIntegerField(_("left side"), default=0)
    right_value = models.BigIntegerField(_("right side"), default=0)
    delta = models.BigIntegerField(_("difference"), default=0)
    magnitude = models.BigIntegerField(_("size of the difference"), default=0)  # |delta|
    detail = models.JSONField(_("detail"), default=dict)
    status = models.CharField(
        _("status"), max_length=20, choices=FindingStatus.choices, default=FindingStatus.OPEN
    )
    present = models.BooleanField(_("present in the latest recomputation"), default=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    first_seen = models.DateTimeField(_("first seen"))
    # When the values or the presence last changed; a present finding is, by definition,
    # seen by its scope's latest recording, so a per-row "last seen" would rewrite every row
    # on every recomputation for nothing.
    last_changed = models.DateTimeField(_("last changed"))

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        constraints = [
            models.UniqueConstraint(
                fields=["election", "fingerprint"], name="finding_fingerprint_unique"
            )
        ]
        # The queue: an election's present findings of a status, largest difference first,
        # of every kind or of one; resolved ones have their own index for the queue that
        # includes them. The station page uses the station's foreign-key index.
        # The id last: the queue breaks ties by it, and without it PostgreSQL sorts every
        # finding of equal size (150,000 missing copies, all of size 0) before one page.
        indexes = [
            models.Index(
                fields=["election", "status", "-magnitude", "-id"],
                condition=models.Q(present=True),
                name="finding_queue",
            ),
            models.Index(
                fields=["election", "kind", "status", "-magnitude", "-id"],
                condition=models.Q(present=True),
                name="finding_queue_by_kind",
            ),
            models.Index(
                fields=["election", "-magnitude", "-id"],
                condition=models.Q(present=False),
                name="finding_queue_resolved",
            ),
        ]

    def __str__(self) -> str:
        return self.fingerprint


class FindingDecision(models.Model):
    """One change of a finding's status, by whom, when and why. Append-only."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="decisions")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        related_name="finding_decisions",
    )
    decided_at = models.DateTimeField(_("decided at"))
    from_status = models.CharField(_("from"), max_length=20, choices=FindingStatus.choices)
    to_status = models.CharField(_("to"), max_length=20, choices=FindingStatus.choices)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("finding decision")
        verbose_name_plural = _("finding decisions")
        ordering = ["finding", "decided_at", "id"]

    def __str__(self) -> str:
        return f"{self.finding_id}: {self.from_status} → {self.to_status}"
