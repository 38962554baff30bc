"""A fake Stripe API: a real HTTP server on loopback that the real stripe SDK talks to.

It implements the endpoints billing/stripe_api.py calls, answers with JSON shaped like Stripe's (API version
2025-06-30.basil: subscription periods live on the items, an invoice's subscription under ``parent``),
replays the first answer for a repeated ``Idempotency-Key`` as Stripe does, and records every request
(method, path, form body, headers) so tests can check what was sent.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

API_VERSION = "2025-06-30.basil"


def new_id(prefix: str) -> str:
    return f"{prefix}_test_{uuid.uuid4().hex[:24]}"


@dataclass
class Recorded:
    method: str
    path: str
    form: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeStripeState:
    requests: list[Recorded] = field(default_factory=list)
    subscriptions: dict[str, dict] = field(default_factory=dict)
    invoices: dict[str, dict] = field(default_factory=dict)
    customers: dict[str, dict] = field(default_factory=dict)
    meter_events: dict[str, dict] = field(default_factory=dict)  # by identifier
    idempotent: dict[str, tuple[int, dict]] = field(default_factory=dict)
    fail_paths: set[str] = field(default_factory=set)  # answer 500 on these paths

    def calls(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path == path]


def subscription_object(
    *, sub_id: str, customer: str, prices: list[str], status: str = "active", start: int | None = None,
    store_id: int | None = None,
) -> dict:
    start = start or int(time.time()) - 60
    end = start + 30 * 86400
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "created": start,
        "start_date": start,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "collection_method": "charge_automatically",
        "currency": "usd",
        "livemode": False,
        "latest_invoice": None,
        "metadata": {"store_id": str(store_id)} if store_id else {},
        "items": {
            "object": "list",
            "has_more": False,
            "url": f"/v1/subscription_items?subscription={sub_id}",
            "data": [
                {
                    "id": new_id("si"),
                    "object": "subscription_item",
                    "subscription": sub_id,
                    "current_period_start": start,
                    "current_period_end": end,
                    "quantity": 1,
                    "price": {
                        "id": price,
                        "object": "price",
                        "active": True,
                        "currency": "usd",
                        "recurring": {"interval": "month", "interval_count": 1},
                    },
                }
                for price in prices
            ],
        },
    }


def invoice_object(*, inv_id: str, customer: str, subscription: str, status: str, amount: int = 2900) -> dict:
    now = int(time.time())
    return {
        "id": inv_id,
        "object": "invoice",
        "customer": customer,
        "status": status,
        "number": f"GSG-{inv_id[-6:].upper()}",
        "amount_due": amount,
        "amount_paid": amount if status == "paid" else 0,
        "amount_remaining": 0 if status == "paid" else amount,
        "currency": "usd",
        "created": now,
        "period_start": now - 30 * 86400,
        "period_end": now,
        "hosted_invoice_url": f"https://invoice.stripe.com/i/acct_test/{inv_id}",
        "livemode": False,
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"subscription": subscription, "metadata": {}},
        },
        "lines": {"object": "list", "has_more": False, "data": [
            {"id": new_id("il"), "object": "line_item", "period": {"start": now, "end": now + 30 * 86400}}
        ]},
    }


def _error(status: int, message: str, code: str = "resource_missing") -> tuple[int, dict]:
    return status, {"error": {"type": "invalid_request_error", "code": code, "message": message}}


class _Handler(BaseHTTPRequestHandler):
    state: FakeStripeState

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _record(self) -> Recorded:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        url = urlsplit(self.path)
        form = dict(parse_qsl(body or url.query, keep_blank_values=True))
        recorded = Recorded(self.command, url.path, form, {k.lower(): v for k, v in self.headers.items()})
        self.state.requests.append(recorded)
        return recorded

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", new_id("req"))
        self.send_header("Stripe-Version", API_VERSION)
        if status >= 500:
            self.send_header("Stripe-Should-Retry", "false")  # keep tests fast: no SDK retry sleeps
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        request = self._record()
        parts = request.path.strip("/").split("/")
        store = {"subscriptions": self.state.subscriptions, "invoices": self.state.invoices}
        if len(parts) == 3 and parts[1] in store:
            obj = store[parts[1]].get(parts[2])
            self._answer(*((200, obj) if obj else _error(404, f"No such {parts[1][:-1]}: '{parts[2]}'")))
            return
        self._answer(*_error(404, f"Unrecognized request URL (GET: {request.path})", "url_invalid"))

    def do_POST(self) -> None:
        request = self._record()
        if request.path in self.state.fail_paths:
            self._answer(500, {"error": {"type": "api_error", "message": "Something went wrong on Stripe's end."}})
            return
        key = request.headers.get("idempotency-key")
        if key and key in self.state.idempotent:
            self._answer(*self.state.idempotent[key])
            return
        status, body = self._route(request)
        if key and status < 500:
            self.state.idempotent[key] = (status, body)
        self._answer(status, body)

    def _route(self, request: Recorded) -> tuple[int, dict]:
        form, now = request.form, int(time.time())
        if request.path == "/v1/customers":
            customer = {
                "id": new_id("cus"),
                "object": "customer",
                "created": now,
                "email": form.get("email"),
                "name": form.get("name"),
                "livemode": False,
                "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
            }
            self.state.customers[customer["id"]] = customer
            return 200, customer
        if request.path == "/v1/checkout/sessions":
            session_id = new_id("cs")
            return 200, {
                "id": session_id,
                "object": "checkout.session",
                "mode": form.get("mode"),
                "status": "open",
                "customer": form.get("customer"),
                "client_reference_id": form.get("client_reference_id"),
                "subscription": None,
                "success_url": form.get("success_url"),
                "cancel_url": form.get("cancel_url"),
                "url": f"https://checkout.stripe.com/c/pay/{session_id}",
                "created": now,
                "expires_at": now + 86400,
                "livemode": False,
            }
        if request.path == "/v1/billing_portal/sessions":
            session_id = new_id("bps")
            return 200, {
                "id": session_id,
                "object": "billing_portal.session",
                "customer": form.get("customer"),
                "return_url": form.get("return_url"),
                "url": f"https://billing.stripe.com/p/session/{session_id}",
                "created": now,
                "livemode": False,
            }
        if request.path == "/v1/billing/meter_events":
            identifier = form.get("identifier")
            if identifier in self.state.meter_events:
                return _error(400, f"An event already exists with identifier {identifier}.", "duplicate_meter_event")
            event = {
                "object": "billing.meter_event",
                "created": now,
                "event_name": form.get("event_name"),
                "identifier": identifier,
                "livemode": False,
                "payload": {
                    "stripe_customer_id": form.get("payload[stripe_customer_id]"),
                    "value": form.get("payload[value]"),
                },
                "timestamp": int(form.get("timestamp") or now),
            }
            self.state.meter_events[identifier] = event
            return 200, event
        return _error(404, f"Unrecognized request URL (POST: {request.path})", "url_invalid")


@contextmanager
def running_fake_stripe() -> Iterator[tuple[str, FakeStripeState]]:
    state = FakeStripeState()
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()


def reset(state: FakeStripeState) -> None:
    fresh = FakeStripeState()
    for name in fresh.__dataclass_fields__:
        setattr(state, name, getattr(fresh, name))
