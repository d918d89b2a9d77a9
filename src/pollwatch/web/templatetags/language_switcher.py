"""Template tags for the language switcher."""

from django import template
from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url

register = template.Library()


@register.simple_tag
def site_languages() -> list[tuple[str, str]]:
    """(code, name) of each language, named in itself as settings spell it.

    Django's get_available_languages translates the names ("English" becomes "Ағылшын" on a
    Kazakh page); a reader looking for their language must find it in their language.
    """
    return list(settings.LANGUAGES)


@register.simple_tag(takes_context=True)
def default_language_path(context: template.Context) -> str:
    """The current page's address without a language prefix, for set_language's `next`.

    set_language translates `next` into the chosen language, but resolves it in the default
    language: with prefix_default_language=False the un-prefixed /i18n/setlang/ always runs in
    English, so a /ru/… address would not resolve and the page would stay in Russian.
    """
    request: HttpRequest = context["request"]
    return translate_url(request.get_full_path(), settings.LANGUAGE_CODE)
