"""Template tags for pages outside this app that link to the findings queue."""

from __future__ import annotations

from django import template
from django.contrib.auth.models import AnonymousUser, User

from pollwatch.findings.selectors import may_see_queue

register = template.Library()


@register.simple_tag
def may_see_findings(user: User | AnonymousUser) -> bool:
    """Whether to offer `user` a link to the findings queue."""
    return may_see_queue(user)
