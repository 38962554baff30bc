"""Billing test helpers, and the Invoice entry of the cross-tenant route matrix."""

from __future__ import annotations

import time
import uuid

from django.utils import timezone

from billing.models import Invoice, Plan
from billing.services import billing_account_for
from core.events import event_apply
from tests.generation.factories import shot_for


def invoice_for(store, **fields) -> Invoice:
    return Invoice.objects.create(
        store=store,
        stripe_invoice_id=fields.pop("stripe_invoice_id", f"in_test_{uuid.uuid4().hex[:20]}"),
        status=fields.pop("status", "paid"),
        amount_due=2900,
        amount_paid=2900,
        currency="usd",
        created_at=timezone.now(),
        **fields,
    )


def plan_with(code: str, credits: int, *, metered: bool = False, watermark: bool = False) -> Plan:
    plan, _ = Plan.objects.update_or_create(
        code=code,
        defaults={"name": code.title(), "monthly_credits": credits, "metered_overage": metered, "watermark": watermark},
    )
    return plan


def put_on_plan(store, plan: Plan, **fields):
    account = billing_account_for(store=store)
    account.plan = plan
    for name, value in fields.items():
        setattr(account, name, value)
    account.save()
    return account


def restore_body(store) -> dict:
    return {"kind": "restore", "inputs": {"product_shot": shot_for(store).pk}, "params": {}}


def worker_event(job, kind: str, *, event_id: str | None = None, **fields) -> str:
    return event_apply({
        "event_id": event_id or f"{job.pk}:1:{kind}",
        "type": kind,
        "subject": str(job.pk),
        "attempt": 1,
        "at": time.time(),
        **fields,
    })


def _register() -> None:
    from tests.tenant_factories import register

    register(Invoice, lambda store, owner: invoice_for(store))


_register()
