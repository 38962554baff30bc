"""Template helpers: short-lived image URLs and face boxes as percentages of the image."""

from __future__ import annotations

from django import template

from core import objectstore

register = template.Library()


@register.filter
def image_url(key: str) -> str:
    """A short-lived URL for a storage key ('' when there is none)."""
    return objectstore.download_url(key) if key else ""


@register.simple_tag
def face_box_style(box, width, height) -> str:
    """``left/top/width/height`` in percent for an [x, y, w, h] pixel box on a width×height image."""
    if not (box and width and height):
        return "display:none"
    x, y, w, h = box
    return (f"left:{100 * x / width:.2f}%;top:{100 * y / height:.2f}%;"
            f"width:{100 * w / width:.2f}%;height:{100 * h / height:.2f}%")


@register.filter
def ratio(width, height) -> str:
    """CSS aspect-ratio for known dimensions, so the page does not shift when the image arrives."""
    return f"{int(width)} / {int(height)}" if width and height else "1 / 1"


@register.filter
def job_error(job) -> str:
    """A failed or canceled job's reason in plain words."""
    from frontend.job_text import job_error_text

    return job_error_text(job)


@register.filter
def get_item(mapping: dict, key):
    return mapping.get(key)


@register.filter
def event_labels(events) -> str:
    """Webhook event types as their translated labels."""
    from generation.models import WebhookEndpoint

    labels = dict(WebhookEndpoint.Event.choices)
    events = [events] if isinstance(events, str) else events or []
    return ", ".join(str(labels.get(e, e)) for e in events)


@register.filter
def seed_text(description: str) -> str:
    """A seeded preset's English description in the page's language; a store's own text is left alone."""
    from frontend.seed_text import seed_description

    return seed_description(description)


@register.filter
def tag_label(tag: str) -> str:
    """A stored style tag ("elegant") in the page's language ("우아한")."""
    from catalog.tags import tag_label as label

    return label(tag)


@register.filter
def tag_labels(tags) -> str:
    """Stored style tags as one comma-separated line in the page's language (the tag inputs save them back as
    keys: catalog.tags.clean_tags)."""
    from catalog.tags import tag_label as label

    return ", ".join(label(t) for t in tags or [])
