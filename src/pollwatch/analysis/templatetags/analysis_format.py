"""Fractions shown as percentages on the analysis pages."""

from __future__ import annotations

from django import template

from pollwatch.analysis.forensics_page import percent

register = template.Library()


@register.filter
def as_percent(value: float | None, digits: int = 1) -> str:
    """0.4567 → "45.7 %"; None → a dash."""
    return percent(value, int(digits))


@register.filter
def as_points(value: float | None, digits: int = 2) -> str:
    """A margin or difference of shares in percentage points: 0.0123 → "1.23"."""
    return "–" if value is None else f"{100 * value:.{int(digits)}f}"
