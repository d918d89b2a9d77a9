"""Official results as the commissions publish them, one snapshot per import.

Every import is kept (an OfficialSnapshot with the file's SHA-256) with all its rows, so that
a figure the commission changed later can be shown beside what it published first. Of the rows
for one station or commission, the one from the latest snapshot that includes it is `current`;
cross-checking reads only current rows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pollwatch.registry.models import Commission, Election, PollingStation


class OfficialSnapshot(models.Model):
    election = models.ForeignKey(
        Election, on_delete=models.PROTECT, related_name="official_snapshots"
    )
    source = models.TextField(_("source"))  # where the publication came from: URL or file
    sha256 = models.CharField(_("file SHA-256"), max_length=64)
    imported_at = models.DateTimeField(_("imported at"))
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    station_rows = models.PositiveIntegerField(_("station results"), default=0)
    commission_rows = models.PositiveIntegerField(_("commission totals"), default=0)

    class Meta:
        verbose_name = _("official snapshot")
        verbose_name_plural = _("official snapshots")
        ordering = ["imported_at"]

    def __str__(self) -> str:
        return f"{self.source} ({self.imported_at:%Y-%m-%d %H:%M})"


class OfficialResult(models.Model):
    """One station's results or one commission's total, as one snapshot published it.

    The foreign keys have no database constraint: the import is the only writer, and it
    resolves every place from the registry in the transaction that writes the rows. A
    constraint would make PostgreSQL check and lock the referenced station for every row at
    commit — most of a million-row import's time. Deleting a referenced row is still refused
    (PROTECT is enforced by Django).
    """

    # Indexed only where reads need it: every row of an import shares its snapshot and
    # election (the (election, current) index serves the election), and commission totals
    # are few (their partial unique index serves them). Each index costs a million-row
    # import a tenth of its time.
    snapshot = models.ForeignKey(
        OfficialSnapshot,
        on_delete=models.PROTECT,
        related_name="rows",
        db_constraint=False,
        db_index=False,
    )
    election = models.ForeignKey(
        Election, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    station = models.ForeignKey(
        PollingStation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="official_results",
        db_constraint=False,
    )
    commission = models.ForeignKey(
        Commission,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="official_results",
        db_constraint=False,
        db_index=False,
    )
    figures = models.JSONField(_("figures"))  # line key -> integer
    current = models.BooleanField(_("current"), default=True)

    class Meta:
        verbose_name = _("official result")
        verbose_name_plural = _("official results")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(station__isnull=True) ^ models.Q(commission__isnull=True),
                name="official_result_one_place",
            ),
            models.UniqueConstraint(
                fields=["station"],
                condition=models.Q(current=True, station__isnull=False),
                name="official_result_one_current_per_station",
            ),
            models.UniqueConstraint(
                fields=["commission"],
                condition=models.Q(current=True, commission__isnull=False),
                name="official_result_one_current_per_commission",
            ),
        ]
        indexes = [models.Index(fields=["election", "current"])]

    def __str__(self) -> str:
        return f"{self.station or self.commission} in {self.snapshot}"


class OutcomeRuleSetting(models.Model):
    """The election's outcome rule as data (see ``official.outcome_rules`` for the format).

    Without one, the option with the most votes wins if it has more than half of the options'
    votes: the tabulation page says so.
    """

    election = models.OneToOneField(Election, on_delete=models.CASCADE, related_name="outcome_rule")
    rule = models.JSONField(_("outcome rule"))

    class Meta:
        verbose_name = _("outcome rule")
        verbose_name_plural = _("outcome rules")

    def __str__(self) -> str:
        return f"{self.election}: {self.rule.get('kind', '?')}"
