"""Readable names for the commission tiers that import presets use.

A commission's `level` is a key from the structure file ("region", "territorial"). The usual
keys get a translated name; any other key is shown as the file spells it.
"""

from django import template
from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

register = template.Library()

LEVEL_NAMES: dict[str, Promise] = {
    "central": pgettext_lazy("commission level", "central commission"),
    "region": pgettext_lazy("commission level", "regional commission"),
    "regional": pgettext_lazy("commission level", "regional commission"),
    "district": pgettext_lazy("commission level", "district commission"),
    "territorial": pgettext_lazy("commission level", "territorial commission"),
}


@register.filter
def level_name(level: str) -> str:
    return str(LEVEL_NAMES.get(level, level))
