"""What a job costs in credits: the admins' price list, read once a minute per process.

Every job creation needs its price, and the list changes only when an admin edits it, so each process keeps the
whole list for ``PRICE_LIST_SECONDS``. A save or delete in this process forgets it at once; other processes
charge the new price at the latest that many seconds later (a price is fixed when a job reserves its credits).
"""

from __future__ import annotations

import threading
import time

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from billing.models import CreditPrice
from gpu_worker.spec import JOB_KINDS

# One credit per job kind of gpu_worker.spec, two for the kinds that run two engines or more.
DEFAULT_CREDIT_PRICES = {**dict.fromkeys(JOB_KINDS, 1), "pipeline": 2, "second_generation": 2}
PRICE_LIST_SECONDS = 60.0

_lock = threading.Lock()
_listed: dict[str, int] | None = None
_read_at = 0.0


def credit_price(kind: str) -> int:
    """Credits a job of ``kind`` costs: the price list's entry, else the default."""
    global _listed, _read_at
    with _lock:
        if _listed is None or time.monotonic() - _read_at > PRICE_LIST_SECONDS:
            _listed = dict(CreditPrice.objects.values_list("kind", "credits"))
            _read_at = time.monotonic()
        listed = _listed.get(kind)
    return listed if listed is not None else DEFAULT_CREDIT_PRICES.get(kind, 1)


@receiver([post_save, post_delete], sender=CreditPrice, dispatch_uid="billing.prices.forget")
def forget_price_list(**_kwargs) -> None:
    global _listed
    with _lock:
        _listed = None
