"""The contract between the web tier and the GPU fleet: queues, job specs and events.

Plain Python only (no torch, no Django): both sides import it.
"""

from __future__ import annotations

QUEUE_GPU = "gpu"  # gpu_worker consumes; one job spec per message
QUEUE_EVENTS = "events"  # events worker (Django side) consumes job events
QUEUE_DEFAULT = "default"  # everything else on the Django side (webhooks, billing, outbox relay)
QUEUES = (QUEUE_GPU, QUEUE_EVENTS, QUEUE_DEFAULT)


def broker_transport_options(broker_url: str, var_dir: str) -> dict:
    """Transport options both sides must agree on.

    The embedded ``filesystem://`` broker exchanges messages through folders under
    ``var_dir``; it needs no server process, which is what ``make run`` relies on.
    """
    if not broker_url.startswith("filesystem://"):
        return {}
    folder = f"{var_dir}/broker"
    return {
        "data_folder_in": f"{folder}/messages",
        "data_folder_out": f"{folder}/messages",
        "control_folder": f"{folder}/control",
        "processed_folder": f"{folder}/processed",
        "store_processed": False,
    }
