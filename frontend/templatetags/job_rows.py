"""The job list's rows: each job with its product shot (name and thumbnail) and the steps it runs."""

from __future__ import annotations

from django import template

from catalog import selectors as catalog
from frontend.job_text import job_steps_text

register = template.Library()


@register.simple_tag
def job_rows(jobs) -> list[dict]:
    """``{"job", "shot", "steps"}`` for each job; the shots of all the jobs are read in one query."""
    jobs = list(jobs or [])
    ids = {int(j.inputs["product_shot"]) for j in jobs if str((j.inputs or {}).get("product_shot", "")).isdigit()}
    shots = {}
    if ids:
        found = catalog.store_product_shots(store=jobs[0].store).filter(pk__in=ids)
        shots = {s.pk: s for s in found.only("pk", "image", "original_filename", "width", "height")}
    rows = []
    for job in jobs:
        shot_id = str((job.inputs or {}).get("product_shot", ""))
        rows.append({"job": job, "shot": shots.get(int(shot_id)) if shot_id.isdigit() else None,
                     "steps": job_steps_text(job)})
    return rows
