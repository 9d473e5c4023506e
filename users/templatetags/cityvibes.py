"""Template filters for the server-rendered pages (the city page, a shared ranking)."""

from django import template

from photos import selectors as photo_selectors

register = template.Library()


@register.filter
def photo_url(photo) -> str:
    """Where the browser loads a deck photo: the copy this site re-encoded (never a remote URL)."""
    return photo_selectors.photo_image_url(photo=photo) if photo is not None else ""


@register.filter
def percent(value) -> str:
    return "" if value is None else f"{round(100 * value)} %"
