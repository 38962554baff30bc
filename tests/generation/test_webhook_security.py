"""Webhooks cannot be turned against Gasang's own network (SSRF), their secrets are not readable from a database
dump, and "no events" means every event. Deliveries go to real receivers on loopback."""

from __future__ import annotations

import importlib
import io

import pytest
from django.apps import apps
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from core import events
from generation import webhook_http, webhooks
from generation.models import WebhookDelivery, WebhookEndpoint
from tests.accounts.factories import MembershipFactory
from tests.generation.factories import queued_job
from tests.generation.receivers import Receiver
from tests.generation.test_events_and_webhooks import event, verify_standard_webhook

pytestmark = pytest.mark.django_db
NO_LOOPBACK = override_settings(WEBHOOK_ALLOW_LOOPBACK=False)


@pytest.fixture
def owner(client):
    membership = MembershipFactory()
    client.force_login(membership.user)
    return membership


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.close()


def register(client, url, events=("job.completed",)):
    return client.post("/api/v1/webhooks/", {"url": url, "events": list(events)}, content_type="application/json")


def stored_endpoint(store, url):
    """An endpoint saved before today's checks existed (straight into the table)."""
    return WebhookEndpoint.objects.create(store=store, url=url, secret=webhooks.new_secret())


def pending_delivery(endpoint):
    return WebhookDelivery.objects.create(
        store=endpoint.store, endpoint=endpoint, event_type="job.completed", payload={"type": "job.completed"}
    )


# ---- SSRF: registration -------------------------------------------------------------------------------------


@NO_LOOPBACK
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hooks",
        "http://127.8.9.10/hooks",
        "http://localhost:6379/",
        "http://api.localhost/",
        "http://[::1]:5432/",
        "http://0.0.0.0:8000/",
        "http://10.1.2.3/hooks",
        "http://172.16.5.5/hooks",
        "http://172.31.255.1/hooks",
        "http://192.168.1.1/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/hooks",
        "http://224.0.0.1/hooks",
        "http://[fc00::1]/hooks",
        "http://[fd12:3456::1]/hooks",
        "http://[fe80::1]/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "http://[::ffff:10.0.0.1]/hooks",
        "http://[::]/hooks",
    ],
)
def test_registration_refuses_loopback_private_and_link_local_addresses(client, owner, url):
    response = register(client, url)

    assert response.status_code == 400, response.content
    assert "public internet addresses" in " ".join(response.json()["errors"]["url"])
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://user:pass@hooks.shop.example/in", "user name or password"),
        ("https://token@hooks.shop.example/in", "user name or password"),
        ("ftp://hooks.shop.example/in", "http(s)"),
        ("file:///etc/passwd", "URL"),
    ],
)
def test_registration_refuses_credentials_in_the_url_and_other_schemes(client, owner, url, message):
    response = register(client, url)

    assert response.status_code == 400 and message in " ".join(response.json()["errors"]["url"])


@override_settings(WEBHOOK_ALLOW_HTTP=False)
def test_where_http_is_not_allowed_only_https_urls_register(client, owner):
    refused = register(client, "http://hooks.shop.example/in")
    accepted = register(client, "https://hooks.shop.example/in")

    assert refused.status_code == 400 and "https://" in refused.json()["errors"]["url"][0]
    assert accepted.status_code == 201


@NO_LOOPBACK
def test_loopback_receiver_gets_nothing_when_loopback_is_not_allowed(client, owner, receiver):
    refused = register(client, receiver.url, events=["job.started"])
    dashboard = client.post(reverse("settings-webhooks"), {"url": receiver.url, "events": ["job.started"]})
    job = queued_job(owner.store)
    events.event_apply(event(job, "started"))
    for delivery in WebhookDelivery.objects.all():
        webhooks.deliver(delivery.pk)

    assert refused.status_code == 400 and dashboard.status_code == 200
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()
    assert receiver.requests == []


# ---- SSRF: delivery time ------------------------------------------------------------------------------------


@NO_LOOPBACK
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "2130706433"])
def test_endpoint_stored_earlier_for_a_loopback_host_is_refused_when_delivering(owner, receiver, host):
    endpoint = stored_endpoint(owner.store, f"http://{host}:{receiver.port}/hooks")
    delivery = pending_delivery(endpoint)

    outcome = webhooks.deliver(delivery.pk)

    delivery.refresh_from_db()
    assert outcome is False and receiver.requests == []
    assert delivery.last_error == "refused: address not allowed" and delivery.last_status_code is None


def test_the_connection_goes_to_the_address_that_was_checked(owner, receiver, monkeypatch):
    """DNS rebinding: the host is resolved once, checked, and that very address is connected to; the request
    still names the host (Host header), so nothing resolves the name a second time."""
    lookups = []

    def resolve_once(host, port):
        lookups.append(host)
        return ["127.0.0.1"]

    monkeypatch.setattr(webhook_http, "resolve", resolve_once)
    endpoint = stored_endpoint(owner.store, f"http://hooks.shop.example:{receiver.port}/in")

    assert webhooks.deliver(pending_delivery(endpoint).pk) is True
    assert lookups == ["hooks.shop.example"]  # the name does not resolve anywhere: only the checked address works
    assert receiver.requests[0][0]["host"] == f"hooks.shop.example:{receiver.port}"


def self_signed(host: str, folder) -> tuple[str, str]:
    """(certificate file, key file) of a self-signed certificate for ``host``."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=365 * 50))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


def test_https_goes_to_the_checked_address_with_sni_and_the_certificate_checked_for_the_name(
    owner, monkeypatch, tmp_path
):
    import ssl

    cert, key = self_signed("hooks.shop.example", tmp_path)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    receiver = Receiver(tls=server_tls)
    monkeypatch.setattr(webhook_http, "resolve", lambda host, port: ["127.0.0.1"])
    monkeypatch.setattr(webhook_http, "tls_context", lambda: ssl.create_default_context(cafile=cert))
    try:
        good = pending_delivery(stored_endpoint(owner.store, f"https://hooks.shop.example:{receiver.port}/in"))
        wrong = pending_delivery(stored_endpoint(owner.store, f"https://other.shop.example:{receiver.port}/in"))

        outcomes = webhooks.deliver(good.pk), webhooks.deliver(wrong.pk)
    finally:
        receiver.close()

    wrong.refresh_from_db()
    assert outcomes == (True, False) and len(receiver.requests) == 1
    assert receiver.requests[0][0]["host"] == f"hooks.shop.example:{receiver.port}"
    assert receiver.server_names[0] == "hooks.shop.example"
    assert wrong.last_error == "TLS handshake failed"  # the certificate names another host


def test_a_redirect_is_not_followed(owner):
    target = Receiver()
    redirecting = Receiver(redirect_to=target.url)
    try:
        delivery = pending_delivery(stored_endpoint(owner.store, redirecting.url))

        outcome = webhooks.deliver(delivery.pk)

        delivery.refresh_from_db()
        assert outcome is False and len(redirecting.requests) == 1 and target.requests == []
        assert delivery.status == "pending" and delivery.last_status_code == 302
        assert delivery.last_error == "HTTP 302 (redirects are not followed)"
    finally:
        redirecting.close()
        target.close()


@override_settings(WEBHOOK_READ_TIMEOUT=1)
def test_the_delivery_log_tells_a_generic_reason_never_the_socket_error(client, owner):
    slow = Receiver(hold=True, hold_seconds=5)
    try:
        closed = pending_delivery(stored_endpoint(owner.store, "http://127.0.0.1:9/hooks"))  # discard port: closed
        silent = pending_delivery(stored_endpoint(owner.store, slow.url))
        failing = Receiver([500])
        erroring = pending_delivery(stored_endpoint(owner.store, failing.url))
        for delivery in (closed, silent, erroring):
            webhooks.deliver(delivery.pk)
        failing.close()
    finally:
        slow.close()

    log = {d["id"]: d for d in client.get("/api/v1/webhook-deliveries/").json()["results"]}
    assert log[str(closed.pk)]["last_error"] == "connection failed"
    assert log[str(silent.pk)]["last_error"] == "timeout"
    assert log[str(erroring.pk)]["last_error"] == "HTTP 500" and log[str(erroring.pk)]["last_status_code"] == 500


def test_production_refuses_loopback_and_http_receivers():
    from generation.checks import webhook_delivery_is_locked_down

    with override_settings(WEBHOOK_ALLOW_LOOPBACK=True, WEBHOOK_ALLOW_HTTP=True):
        refused = {message.id for message in webhook_delivery_is_locked_down(None)}
    with override_settings(WEBHOOK_ALLOW_LOOPBACK=False, WEBHOOK_ALLOW_HTTP=False):
        locked = webhook_delivery_is_locked_down(None)

    assert refused == {"generation.E001", "generation.E002"} and locked == []


# ---- secrets at rest ----------------------------------------------------------------------------------------


def test_a_database_dump_does_not_reveal_the_secret_and_signatures_still_verify(client, owner, receiver):
    created = register(client, receiver.url, events=["job.completed"]).json()
    secret = created["secret"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM generation_webhookendpoint WHERE id = %s", [created["id"]])
        row = " ".join(str(value) for value in cursor.fetchone())
    job = queued_job(owner.store)
    events.event_apply(event(job, "succeeded", outputs={"image": "k"}))

    assert webhooks.deliver(WebhookDelivery.objects.get().pk) is True
    assert secret.startswith("whsec_") and secret not in row and secret.removeprefix("whsec_") not in row
    headers, body = receiver.requests[0]
    assert verify_standard_webhook(secret, headers, body)


def test_the_migration_encrypts_secrets_stored_in_plaintext(owner):
    plaintext = webhooks.new_secret()
    endpoint = stored_endpoint(owner.store, "https://hooks.shop.example/in")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret_encrypted=plaintext)  # a row from before
    migration = importlib.import_module("generation.migrations.0005_webhook_hardening")

    migration.encrypt_existing_secrets(apps, None)
    migration.encrypt_existing_secrets(apps, None)  # running twice changes nothing more

    endpoint.refresh_from_db()
    assert plaintext not in endpoint.secret_encrypted and endpoint.secret == plaintext


# ---- "no events" means all events; caps ---------------------------------------------------------------------


def test_an_endpoint_with_no_events_is_accepted_and_receives_every_event(client, owner):
    empty = register(client, "https://hooks.shop.example/all", events=[])
    omitted = client.post("/api/v1/webhooks/", {"url": "https://hooks.shop.example/x"}, content_type="application/json")
    page = client.post(reverse("settings-webhooks"), {"url": "https://hooks.shop.example/page"})
    job = queued_job(owner.store)
    events.event_apply(event(job, "started"))
    events.event_apply(event(job, "failed", error={"code": "no_face", "message": "No face."}))

    assert empty.status_code == 201 and empty.json()["events"] == []
    assert omitted.status_code == 201 and omitted.json()["events"] == []
    assert page.status_code == 302 and WebhookEndpoint.objects.filter(events=[]).count() == 3
    sent = WebhookDelivery.objects.filter(endpoint_id=empty.json()["id"]).values_list("event_type", flat=True)
    assert sorted(sent) == ["job.failed", "job.started"]


@override_settings(WEBHOOK_MAX_ENDPOINTS=2)
def test_a_store_has_at_most_the_endpoint_cap(client, owner):
    answers = [register(client, f"https://hooks.shop.example/{n}") for n in range(3)]
    codes = [answer.status_code for answer in answers]
    other = MembershipFactory()
    client.force_login(other.user)

    assert "at most 2 webhook endpoints" in answers[2].json()["detail"]
    assert codes == [201, 201, 400] and WebhookEndpoint.objects.filter(store=owner.store).count() == 2
    assert register(client, "https://hooks.shop.example/other").status_code == 201  # the cap is per store


def test_pausing_an_endpoint_stored_with_a_refused_url_still_works(owner):
    endpoint = stored_endpoint(owner.store, "http://10.0.0.8/in")
    paused = webhooks.webhook_endpoint_update(endpoint=endpoint, is_active=False)
    assert paused.is_active is False
    with pytest.raises(Exception, match="public internet"):
        webhooks.webhook_endpoint_update(endpoint=endpoint, is_active=True)


def test_after_a_key_change_secrets_are_re_encrypted_and_stay_the_same(owner):
    from django.core.management import call_command

    with override_settings(WEBHOOK_SECRET_KEY="old-key-0123456789abcdef0123456789"):
        endpoint = stored_endpoint(owner.store, "https://hooks.shop.example/in")
        secret = endpoint.secret
    with override_settings(WEBHOOK_SECRET_KEY="new-key-0123456789abcdef0123456789,old-key-0123456789abcdef0123456789"):
        call_command("reencrypt_webhook_secrets", stdout=io.StringIO())
    with override_settings(WEBHOOK_SECRET_KEY="new-key-0123456789abcdef0123456789"):
        endpoint.refresh_from_db()
        assert endpoint.secret == secret


def test_a_secret_encrypted_with_a_key_no_longer_configured_fails_the_delivery_with_a_reason(owner, receiver):
    with override_settings(WEBHOOK_SECRET_KEY="lost-key-0123456789abcdef0123456789"):
        endpoint = stored_endpoint(owner.store, receiver.url)
    delivery = pending_delivery(endpoint)

    outcome = webhooks.deliver(delivery.pk)

    delivery.refresh_from_db()
    assert outcome is False and receiver.requests == [] and delivery.last_error == "signing secret unreadable"


@override_settings(WEBHOOK_CONNECT_TIMEOUT=1, WEBHOOK_READ_TIMEOUT=1)
def test_a_receiver_that_never_finishes_the_tls_handshake_is_cut_off_as_a_timeout():
    import socket
    import threading
    import time

    listener = socket.create_server(("127.0.0.1", 0))
    held = []
    threading.Thread(target=lambda: held.append(listener.accept()), daemon=True).start()
    try:
        started = time.monotonic()
        answer = webhook_http.post(f"https://127.0.0.1:{listener.getsockname()[1]}/hook", b"{}", {})
        elapsed = time.monotonic() - started
    finally:
        listener.close()
        for conn, _addr in held:
            conn.close()
    assert answer.status is None and answer.reason == "timeout"
    assert elapsed < 10  # bounded by the timeouts, not by the receiver
