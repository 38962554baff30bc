"""Settings pages: API tokens, webhooks, members and roles, store options, billing."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors as accounts_selectors
from accounts import services as accounts
from accounts.models import Role
from catalog import selectors as catalog
from catalog import services as catalog_services
from frontend.access import store_page
from frontend.errors import add_service_errors, service_error_text
from frontend.forms import InviteForm, StoreOptionsForm, TokenForm, WebhookForm
from generation import selectors as generation_selectors
from generation import webhooks as webhook_services

OWNER = {"read_role": Role.OWNER, "write_role": Role.OWNER}
_ONCE_KEY = "frontend_show_once"


def show_once(request, what: str, value: dict) -> None:
    """Keep a secret for the very next page view only (post → redirect → get; a reload never re-posts)."""
    request.session[_ONCE_KEY] = {"what": what, **value}


def pop_once(request, what: str) -> dict | None:
    value = request.session.get(_ONCE_KEY)
    if value and value.get("what") == what:
        del request.session[_ONCE_KEY]
        return value
    return None


@store_page()
def settings_index(request):
    return render(request, "frontend/settings.html")


# ---- API tokens --------------------------------------------------------------------------------


@store_page(read_role=Role.EDITOR)
def tokens(request):
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            issued = accounts.api_token_create(store=request.store, created_by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            show_once(request, "token", {"plaintext": issued.plaintext})
            return redirect("settings-tokens")
    issued = pop_once(request, "token")
    listed = accounts_selectors.store_api_tokens(store=request.store).select_related("created_by") \
        .order_by("-created_at")
    return render(request, "frontend/settings_tokens.html", {"form": form, "issued": issued, "tokens": listed})


@require_POST
@store_page(read_role=Role.EDITOR)
def token_revoke(request, pk: int):
    token = get_object_or_404(accounts_selectors.store_api_tokens(store=request.store), pk=pk)
    accounts.api_token_revoke(token=token)
    messages.success(request, _("Token “%(name)s” revoked. Integrations using it stop working now.")
                     % {"name": token.name})
    return redirect("settings-tokens")


# ---- webhooks ----------------------------------------------------------------------------------


@store_page(read_role=Role.EDITOR)
def webhooks(request):
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = webhook_services.webhook_endpoint_create(store=request.store, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            show_once(request, "webhook", {"url": endpoint.url, "secret": endpoint.secret})
            return redirect("settings-webhooks")
    secret_for = pop_once(request, "webhook")
    return render(request, "frontend/settings_webhooks.html", {
        "form": form, "endpoints": generation_selectors.store_webhook_endpoints(store=request.store),
        "deliveries": generation_selectors.store_webhook_deliveries(store=request.store)[:30], "secret_for": secret_for,
    })


@require_POST
@store_page(read_role=Role.EDITOR)
def webhook_action(request, pk: int, action: str):
    endpoint = get_object_or_404(generation_selectors.store_webhook_endpoints(store=request.store), pk=pk)
    if action == "rotate":
        endpoint = webhook_services.webhook_endpoint_rotate_secret(endpoint=endpoint)
        show_once(request, "webhook", {"url": endpoint.url, "secret": endpoint.secret})
    elif action == "toggle":
        try:
            webhook_services.webhook_endpoint_update(endpoint=endpoint, is_active=not endpoint.is_active)
        except ValidationError as exc:  # an endpoint saved before the checks existed (e.g. an ftp:// URL)
            messages.error(request, service_error_text(exc))
    elif action == "delete":
        webhook_services.webhook_endpoint_delete(endpoint=endpoint)
        messages.success(request, _("Webhook endpoint deleted."))
    return redirect("settings-webhooks")


# ---- members -----------------------------------------------------------------------------------


@store_page(**OWNER)
def members(request):
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            issued = accounts.invitation_create(store=request.store, invited_by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            url = request.build_absolute_uri(reverse("invitation-accept", args=[issued.plaintext]))
            show_once(request, "invite", {"url": url})
            return redirect("settings-members")
    invite = pop_once(request, "invite")
    invite_url = invite["url"] if invite else None
    return render(request, "frontend/settings_members.html", {
        "form": form, "invite_url": invite_url, "roles": Role.choices,
        "members": accounts_selectors.store_memberships(store=request.store).order_by("created_at"),
        "invitations": accounts_selectors.pending_invitations(store=request.store).order_by("-created_at"),
    })


@require_POST
@store_page(**OWNER)
def member_action(request, pk: int):
    membership = get_object_or_404(accounts_selectors.store_memberships(store=request.store), pk=pk)
    try:
        if request.POST.get("action") == "remove":
            accounts.membership_remove(membership=membership)
            messages.success(request, _("%(email)s was removed from the store.") % {"email": membership.user.email})
        else:
            accounts.membership_update_role(membership=membership, role=request.POST.get("role", ""))
            messages.success(request, _("%(email)s is now %(role)s.")
                             % {"email": membership.user.email, "role": membership.get_role_display()})
    except ValidationError as exc:
        messages.error(request, service_error_text(exc))
    return redirect("settings-members")


# ---- store options -----------------------------------------------------------------------------


@store_page(**OWNER)
def store_options(request):
    options = catalog.store_options(store=request.store)
    label = catalog.store_visible_label(store=request.store)
    initial = {"name": request.store.name, "locale": request.store.locale,
               "visible_ai_label": bool(options and options.visible_ai_label),
               "label_text": label.get("text", "ai"), "label_position": label.get("position", "bottom-right"),
               "label_size": label.get("size", "small"),
               "output_format": catalog.store_output_format(store=request.store)}
    form = StoreOptionsForm(request.POST or None, initial=initial,
                            mandatory_label=catalog.label_is_mandatory(store=request.store))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            accounts.store_update(store=request.store, name=data["name"], locale=data["locale"])
            catalog_services.store_options_update(
                store=request.store, visible_ai_label=data["visible_ai_label"],
                label_text=data["label_text"] or None, label_position=data["label_position"] or None,
                label_size=data["label_size"] or None, output_format=data["output_format"] or None)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Store settings saved."))
            return redirect("settings-store")
    return render(request, "frontend/settings_store.html", {"form": form})


# ---- billing ----------------------------------------------------------------------------------


@store_page(**OWNER)
def billing(request):
    context = billing_context(request.store)
    checkout = request.GET.get("checkout")
    if checkout == "success":
        messages.success(request, _("Thank you! Your plan changes as soon as Stripe confirms the payment."))
    elif checkout == "canceled":
        messages.info(request, _("Checkout was canceled; nothing was charged."))
    return render(request, "frontend/settings_billing.html", context)


@require_POST
@store_page(**OWNER)
def billing_checkout(request):
    from billing import stripe_api, subscriptions

    page = request.build_absolute_uri(reverse("settings-billing"))
    try:
        url = subscriptions.checkout_start(
            store=request.store, plan_code=request.POST.get("plan", ""), email=request.user.email,
            success_url=f"{page}?checkout=success", cancel_url=f"{page}?checkout=canceled",
        )
    except ValidationError as exc:
        messages.error(request, service_error_text(exc))
    except stripe_api.StripeError:
        messages.error(request, _("The payment service did not answer. Nothing was charged; try again in a minute."))
    else:
        return redirect(url)
    return redirect("settings-billing")


@require_POST
@store_page(**OWNER)
def billing_portal(request):
    from billing import stripe_api, subscriptions

    try:
        url = subscriptions.portal_url(store=request.store,
                                       return_url=request.build_absolute_uri(reverse("settings-billing")))
    except ValidationError:
        messages.error(request, _("There is no payment account yet. Choose a paid plan first."))
    except stripe_api.StripeError:
        messages.error(request, _("The payment service did not answer. Try again in a minute."))
    else:
        return redirect(url)
    return redirect("settings-billing")


def billing_context(store) -> dict:
    """Plan, credits, recent periods, usage by day (in the store's time zone) and kind, plans to upgrade to and
    invoices (billing.selectors)."""
    from billing import selectors as billing_selectors
    from billing.models import Plan

    balance = billing_selectors.balance(store=store)
    rows = billing_selectors.usage_by_day(store=store, days=30)
    return {
        "billing_ready": True,
        "balance": balance,
        "plan_heading": plan_heading(balance.account.plan),
        "credits_left": balance.remaining,
        "time_zone": store.time_zone,  # the page renders in it (frontend.access.store_page), like the ledger's days
        "periods": billing_selectors.period_list(store=store, limit=6),
        "usage": usage_chart(rows),
        "plans": Plan.objects.filter(is_public=True).exclude(stripe_price_id="").order_by("monthly_credits"),
        "invoices": billing_selectors.invoice_list(store=store).order_by("-created_at")[:12],
    }


def plan_heading(plan) -> str:
    """ "무료 요금제" / "Free plan": the plan's translated name with the word for plan, once (a name that already
    ends with it, e.g. a plan staff named "Pro 요금제", is not given it twice)."""
    name = plan.display_name
    heading = _("%(plan)s plan") % {"plan": name}
    word = heading.replace(name, "", 1).strip()
    return name if word and name.casefold().endswith(word.casefold()) else heading


def usage_chart(rows: list[dict]) -> dict:
    """Rows of {day, kind, jobs, credits} as bars per day: segments per kind, widths in % of the busiest day."""
    from generation.models import JobKind

    days: dict = {}
    for row in rows:
        days.setdefault(row["day"], []).append(row)
    peak = max((sum(r["credits"] for r in day) for day in days.values()), default=0)
    labels = dict(JobKind.choices)
    bars = [
        {"day": day, "total": sum(r["credits"] for r in day_rows),
         "segments": [{"kind": r["kind"], "label": labels.get(r["kind"], r["kind"]), "credits": r["credits"],
                       "jobs": r["jobs"], "width": round(100 * r["credits"] / peak, 2) if peak else 0}
                      for r in day_rows]}
        for day, day_rows in sorted(days.items())
    ]
    kinds = sorted({r["kind"] for r in rows})
    return {"bars": bars, "legend": [(k, labels.get(k, k)) for k in kinds],
            "total": sum(r["credits"] for r in rows)}
