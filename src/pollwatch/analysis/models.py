"""What the analysis pages keep: forensics reports per data state, and a PVT plan per election.

A forensics report (the Klimek fit alone takes up to a minute on a national election) is
computed once per state of the election's data and kept in the database, so every app process
serves the same report and none recomputes it per request. A PVT plan is drawn once and kept:
its sample must not change after observers have been sent to it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pollwatch.registry.models import Election, PollingStation


class FiguresSource(models.TextChoices):
    OFFICIAL = "official", _("official results")
    OBSERVED = "observed", _("observers' consensus")


class ForensicsReport(models.Model):
    """One computation of the forensic tests on one state of one election's figures."""

    class Status(models.TextChoices):
        COMPUTING = "computing", _("computing")
        READY = "ready", _("ready")
        FAILED = "failed", _("failed")

    election = models.ForeignKey(
        Election, on_delete=models.CASCADE, related_name="forensics_reports"
    )
    source = models.CharField(_("figures"), max_length=16, choices=FiguresSource.choices)
    # A digest of what the figures depend on (snapshots, copies, assignments, template).
    state = models.CharField(_("data state"), max_length=64)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    results = models.JSONField(_("results"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("forensics report")
        verbose_name_plural = _("forensics reports")
        constraints = [
            models.UniqueConstraint(
                fields=["election", "source", "state"], name="forensics_report_per_state"
            ),
            # At most one computation per election and source at a time, across processes.
            models.UniqueConstraint(
                fields=["election", "source"],
                condition=models.Q(status="computing"),
                name="forensics_one_computation",
            ),
        ]
        indexes = [models.Index(fields=["election", "source", "-finished_at"])]

    def __str__(self) -> str:
        return f"{self.election} {self.source} {self.status}"


class ForensicsFigure(models.Model):
    """One figure of a report, rendered once as PNG and SVG."""

    report = models.ForeignKey(ForensicsReport, on_delete=models.CASCADE, related_name="figures")
    name = models.SlugField(_("name"), max_length=40)
    png = models.BinaryField(_("PNG"))
    svg = models.BinaryField(_("SVG"))

    class Meta:
        verbose_name = _("forensics figure")
        verbose_name_plural = _("forensics figures")
        constraints = [
            models.UniqueConstraint(fields=["report", "name"], name="forensics_figure_unique")
        ]

    def __str__(self) -> str:
        return f"{self.report_id}/{self.name}"


class PvtPlan(models.Model):
    """A parallel vote tabulation's design and its drawn sample; one per election."""

    election = models.OneToOneField(Election, on_delete=models.CASCADE, related_name="pvt_plan")
    margin = models.FloatField(_("margin of error"))
    confidence = models.FloatField(_("confidence level"))
    z = models.FloatField(_("Z"))
    share = models.FloatField(_("expected share"))
    voters_needed = models.FloatField(_("voters needed (NDI formula)"))
    sample_size = models.PositiveIntegerField(_("sample stations"))
    seed = models.BigIntegerField(_("random seed"))
    frame_stations = models.PositiveIntegerField(_("stations in the frame"))
    frame_voters = models.PositiveBigIntegerField(_("registered voters in the frame"))
    drawn_at = models.DateTimeField(_("drawn at"))
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("PVT plan")
        verbose_name_plural = _("PVT plans")

    def __str__(self) -> str:
        return f"{self.election}: {self.sample_size} stations, seed {self.seed}"


class PvtStratum(models.Model):
    """A stratum of the frame (a region): its stations N_h and its share of the sample n_h."""

    plan = models.ForeignKey(PvtPlan, on_delete=models.CASCADE, related_name="strata")
    position = models.PositiveIntegerField(_("position"))
    name = models.CharField(_("name"), max_length=255)
    population = models.PositiveIntegerField(_("stations in the frame"))
    allocated = models.PositiveIntegerField(_("sample stations"))

    class Meta:
        verbose_name = _("PVT stratum")
        verbose_name_plural = _("PVT strata")
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="pvt_stratum_position")
        ]

    def __str__(self) -> str:
        return self.name


class PvtSampleStation(models.Model):
    plan = models.ForeignKey(PvtPlan, on_delete=models.CASCADE, related_name="stations")
    station = models.ForeignKey(PollingStation, on_delete=models.CASCADE, related_name="+")
    stratum = models.ForeignKey(PvtStratum, on_delete=models.CASCADE, related_name="stations")

    class Meta:
        verbose_name = _("PVT sample station")
        verbose_name_plural = _("PVT sample stations")
        constraints = [
            models.UniqueConstraint(fields=["plan", "station"], name="pvt_sample_station_unique")
        ]

    def __str__(self) -> str:
        return f"{self.plan_id}: {self.station_id}"
