"""Absolute links for emails, which have no request to build them from."""

from django import template
from django.urls import reverse

from programs import links

register = template.Library()


@register.simple_tag
def absolute_url(name: str, *args) -> str:
    """settings.SITE_URL plus the path of the named URL."""
    return links.absolute(reverse(name, args=args))
