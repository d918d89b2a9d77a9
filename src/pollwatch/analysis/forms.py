"""The PVT design form: margin, confidence and expected share for the NDI formula; the sample's
size and seed to draw it. Percentages are typed as percentages (2 for 2 %)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

MAX_SEED = 2**63 - 1  # numpy's generator takes any non-negative integer; the column is 64-bit
CONFIDENCE_CHOICES = [("0.95", _("95 % (Z = 1.96)")), ("0.99", _("99 % (Z = 2.58)"))]


class PvtDesignForm(forms.Form):
    margin = forms.DecimalField(
        label=_("Margin of error, %"),
        min_value=Decimal("0.01"),
        max_value=Decimal("50"),
        decimal_places=2,
        initial=Decimal("1"),
        help_text=_("E in the formula: 1 means ± 1 percentage point."),
    )
    confidence = forms.ChoiceField(
        label=_("Confidence level"), choices=CONFIDENCE_CHOICES, initial="0.95"
    )
    share = forms.DecimalField(
        label=_("Expected share of the closest option, %"),
        min_value=Decimal("1"),
        max_value=Decimal("99"),
        decimal_places=2,
        initial=Decimal("50"),
        help_text=_("P in the formula; 50 is the worst case and the safe choice."),
    )


class PvtDrawForm(PvtDesignForm):
    size = forms.IntegerField(
        label=_("Sample stations"),
        min_value=1,
        required=False,
        help_text=_("Leave empty to draw the number of stations the formula gives."),
    )
    seed = forms.IntegerField(
        label=_("Random seed"),
        min_value=0,
        max_value=MAX_SEED,
        help_text=_("Write it down: the same seed draws the same sample from the same registry."),
    )


def design_values(form: PvtDesignForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "margin": float(data["margin"]) / 100,
        "confidence": data["confidence"],
        "share": float(data["share"]) / 100,
    }
