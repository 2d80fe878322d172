"""`{% relief_tips %}`: the quick relief tips for a sore back, on any page that helps."""

from django import template

from programs.default_program import RELIEF_TIPS

register = template.Library()


@register.inclusion_tag("programs/guide_relief_tips.html")
def relief_tips():
    return {"tips": RELIEF_TIPS}
