"""Stores pay for what they use: a job reserves credits, success captures them once, failure or cancel gives
them back; a free store that runs out gets a clear 402 and nothing is queued."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from billing.models import CreditPrice, LedgerEntry
from billing.services import billing_account_for
from core.models import OutboxMessage
from generation.models import Job
from generation.services import job_cancel
from gpu_worker.spec import TASK_RUN_JOB
from tests.accounts.factories import MembershipFactory, token_for
from tests.billing.factories import plan_with, put_on_plan, restore_body, worker_event

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.fixture
def owner(client):
    membership = MembershipFactory()
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token_for(membership)}"
    return membership


def create(client, store):
    return client.post("/api/v1/jobs/", restore_body(store), content_type=JSON)


def entries(job, kind=None):
    rows = LedgerEntry.objects.filter(job=job)
    return list(rows.filter(kind=kind) if kind else rows)


def test_a_new_store_is_on_the_free_plan_and_its_outputs_are_labelled(client, owner):
    response = create(client, owner.store)

    assert response.status_code == 201
    account = billing_account_for(store=owner.store)
    assert account.plan.code == "free" and account.plan.watermark
    spec = OutboxMessage.objects.get(task=TASK_RUN_JOB).payload
    assert spec["label"]["visible"] is True


def test_free_store_runs_out_and_gets_a_clear_402_with_nothing_queued(client, owner):
    put_on_plan(owner.store, plan_with("free", 3, watermark=True))
    accepted = [create(client, owner.store) for _ in range(3)]

    refused = create(client, owner.store)

    assert [r.status_code for r in accepted] == [201, 201, 201]
    assert refused.status_code == 402, refused.content
    body = refused.json()
    assert body["code"] == "quota_exceeded"
    assert "0 of its 3 Free plan credits left" in body["detail"] and "checkout" in body["detail"]
    assert Job.objects.count() == 3 and OutboxMessage.objects.filter(task=TASK_RUN_JOB).count() == 3
    assert LedgerEntry.objects.filter(kind="reserve").count() == 3


def test_a_batch_over_quota_is_refused_whole(client, owner):
    from tests.generation.factories import public_face, shot_for

    put_on_plan(owner.store, plan_with("free", 3, watermark=True))  # pipeline jobs cost 2 each
    body = {"face": public_face().pk, "product_shots": [shot_for(owner.store).pk for _ in range(2)]}

    response = client.post("/api/v1/batches/", body, content_type=JSON)

    assert response.status_code == 402 and response.json()["code"] == "quota_exceeded"
    assert not Job.objects.exists() and not OutboxMessage.objects.exists()


def test_a_failed_job_costs_nothing_and_frees_its_credit(client, owner):
    put_on_plan(owner.store, plan_with("free", 1, watermark=True))
    job = Job.objects.get(pk=create(client, owner.store).json()["id"])
    assert create(client, owner.store).status_code == 402

    worker_event(job, "failed", error={"code": "no_face", "message": "No face found."})

    assert [e.kind for e in entries(job)] == ["reserve", "release"]
    assert create(client, owner.store).status_code == 201


def test_a_canceled_job_costs_nothing(client, owner):
    put_on_plan(owner.store, plan_with("free", 1, watermark=True))
    job_id = create(client, owner.store).json()["id"]

    client.post(f"/api/v1/jobs/{job_id}/cancel/")
    client.post(f"/api/v1/jobs/{job_id}/cancel/")

    assert [e.kind for e in entries(job_id)] == ["reserve", "release"]
    assert create(client, owner.store).status_code == 201


def test_success_redelivered_ten_times_captures_once(client, owner):
    job = Job.objects.get(pk=create(client, owner.store).json()["id"])
    done = {"outputs": {"image": "k"}}

    same_id = [worker_event(job, "succeeded", **done) for _ in range(10)]
    # a rerun after a crash reports success again under new event ids
    rerun = [worker_event(job, "succeeded", event_id=f"{job.pk}:{n}:succeeded", **done) for n in range(2, 12)]
    late_failure = worker_event(job, "failed", event_id=f"{job.pk}:9:failed", error={"code": "x"})

    assert same_id == ["applied"] + ["duplicate"] * 9
    assert all(outcome.startswith("ignored") for outcome in rerun) and late_failure.startswith("ignored")
    assert sorted(e.kind for e in entries(job)) == ["capture", "reserve"]


def test_settlement_is_once_even_when_called_directly():
    """The services are idempotent on their own, not only because terminal jobs ignore events."""
    from billing.services import credits_capture, credits_release
    from generation.services import job_create

    member = MembershipFactory()
    store = member.store
    job = job_create(store=store, created_by=member.user, **restore_body(store)).job

    first = credits_capture(job=job)
    again = [credits_capture(job=job), credits_release(job=job), credits_release(job=job)]

    assert first is not None and again == [None, None, None]
    assert sorted(e.kind for e in entries(job)) == ["capture", "reserve"]


def test_postgresql_refuses_a_second_settlement_and_any_ledger_rewrite():
    from generation.services import job_create

    member = MembershipFactory()
    store = member.store
    job = job_create(store=store, created_by=member.user, **restore_body(store)).job
    reserve = entries(job, "reserve")[0]
    job_cancel(job=job)

    with pytest.raises(IntegrityError), transaction.atomic():  # capture after release: the partial unique index
        LedgerEntry.objects.bulk_create([LedgerEntry(store=store, job=job, kind="capture", credits=1,
                                                     plan=reserve.plan, period=reserve.period)])
    with pytest.raises(TypeError):
        reserve.save()
    with pytest.raises(TypeError):
        reserve.delete()
    with pytest.raises(TypeError):
        LedgerEntry.objects.filter(pk=reserve.pk).update(credits=0)
    if connection.vendor == "postgresql":
        with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE billing_ledgerentry SET credits = 0 WHERE id = %s", [reserve.pk])
        with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM billing_ledgerentry WHERE id = %s", [reserve.pk])


def test_staff_can_put_a_store_on_the_internal_plan(client, owner):
    from django.core.management import call_command

    put_on_plan(owner.store, plan_with("free", 1, watermark=True))
    call_command("billing_assign_plan", owner.store.slug, "internal")

    assert [create(client, owner.store).status_code for _ in range(3)] == [201, 201, 201]
    assert billing_account_for(store=owner.store).plan.code == "internal"


def test_a_price_an_admin_sets_is_what_the_next_job_reserves(client, owner):
    from django.contrib.auth import get_user_model

    create(client, owner.store)  # reads (and keeps) the price list as it was
    admin = get_user_model().objects.create_superuser(email="ops@gasang.test", password="pw-for-ops-1")
    admin_client = type(client)()
    admin_client.force_login(admin)
    response = admin_client.post(
        f"/admin/billing/creditprice/{CreditPrice.objects.get(kind='restore').pk}/change/",
        {"kind": "restore", "credits": 3},
    )
    assert response.status_code == 302, response.content

    job = Job.objects.get(pk=create(client, owner.store).json()["id"])

    assert [entry.credits for entry in entries(job, "reserve")] == [3]


@pytest.mark.parametrize("caller", ["token", "dashboard session"])
def test_a_paid_store_gets_the_visible_label_from_its_next_job_once_it_asks(client, owner, caller):
    from catalog.services import store_options_update

    owner.store.locale = "en"  # a Korean store always carries the mark (next test)
    owner.store.save(update_fields=["locale"])
    put_on_plan(owner.store, plan_with("pro", 100, metered=True))
    if caller == "dashboard session":
        del client.defaults["HTTP_AUTHORIZATION"]
        client.force_login(owner.user)

    def label_of_a_new_job():
        job_id = create(client, owner.store).json()["id"]
        return OutboxMessage.objects.get(payload__job_id=job_id).payload["label"]

    unlabelled = label_of_a_new_job()
    store_options_update(store=owner.store, visible_ai_label=True)
    labelled = label_of_a_new_job()

    assert unlabelled == {"visible": False, "watermark": False}
    assert labelled == {"visible": True, "watermark": False, "text": "ai", "position": "bottom-right", "size": "small"}


def test_a_korean_store_always_marks_its_results_in_the_wording_corner_and_size_it_chose(client, owner):
    from catalog.services import store_options_update

    put_on_plan(owner.store, plan_with("pro", 100, metered=True))
    assert owner.store.locale == "ko"
    store_options_update(store=owner.store, visible_ai_label=False, label_text="virtual_model",
                         label_position="top-left", label_size="large")

    job_id = create(client, owner.store).json()["id"]

    label = OutboxMessage.objects.get(payload__job_id=job_id).payload["label"]
    assert label == {"visible": True, "watermark": False, "text": "virtual_model", "position": "top-left",
                     "size": "large"}  # switched off, still on: AI Basic Act, Art. 31(3)
