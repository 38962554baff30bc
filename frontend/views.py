"""Dashboard pages: signup, home, store switching and invitation links. Thin: forms in, services out."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts import services
from accounts.selectors import invitation_by_secret, user_memberships
from accounts.tenancy import SESSION_STORE_KEY
from billing import selectors as billing_selectors
from catalog import selectors as catalog
from frontend.access import store_page
from frontend.forms import LoginForm, SignupForm, StoreForm
from generation import selectors as generation_selectors


def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            store = services.user_signup(**form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            user = store.memberships.get().user
            login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
            request.session[SESSION_STORE_KEY] = store.pk
            messages.success(request, _("Welcome to Gasang! Your store “%(store)s” is ready.") % {"store": store.name})
            return redirect("home")
    return render(request, "registration/signup.html", {"form": form})


@store_page()
def home(request):
    store = request.store
    options = catalog.store_options(store=store)
    shots = catalog.store_product_shots(store=store)
    jobs = generation_selectors.store_jobs(store=store)
    model_face = options.model_face if options else None
    context = {
        "recent_jobs": jobs[:8],
        "shot_count": shots.count(),
        "model_face": model_face,
        "credits": billing_selectors.balance(store=store).remaining,
        # First steps: a face to swap in (uploaded, or a gallery face chosen as the store model), a product
        # shot, a first job. The list stays until all three are done.
        "steps_done": {
            "face": model_face is not None or catalog.store_faces(store=store).exists(),
            "shot": shots.exists(),
            "job": jobs.exists(),
        },
        "gallery_has_faces": catalog.published_gallery().exists(),
    }
    context["onboarding"] = not all(context["steps_done"].values())
    return render(request, "frontend/home.html", context)


class LoginView(auth_views.LoginView):
    """Django's login page; a throttled account or address gets 429 with ``Retry-After`` and a clear message."""

    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.throttled_for:
            response.status_code = 429
            response["Retry-After"] = str(form.throttled_for)
        return response


@login_required
def store_create(request):
    form = StoreForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        store = services.store_create(owner=request.user, **form.cleaned_data)
        request.session[SESSION_STORE_KEY] = store.pk
        return redirect("home")
    return render(request, "frontend/store_create.html", {"form": form})


@login_required
def store_switch(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    membership = user_memberships(user=request.user).filter(store_id=request.POST.get("store")).first()
    if membership is None:
        messages.error(request, _("You are not a member of that store."))
    else:
        request.session[SESSION_STORE_KEY] = membership.store_id
    return redirect("home")


def invitation_accept(request, secret: str):
    """The link is bound to the invited e-mail: another account sees a refusal (403), never a join button."""
    invitation = invitation_by_secret(secret=secret)
    if invitation is None or not invitation.is_pending:
        return render(request, "frontend/invitation_invalid.html", status=404)
    context = {"invitation": invitation}
    if not request.user.is_authenticated:
        return render(request, "frontend/invitation.html", {**context, "needs_login": True})
    if not invitation.is_for(request.user):
        context["wrong_account"] = True
        return render(request, "frontend/invitation.html", context, status=403)
    if request.method == "POST":
        try:
            membership = services.invitation_accept(secret=secret, user=request.user)
        except ValidationError:  # used or expired between the page and the click
            return render(request, "frontend/invitation_invalid.html", status=404)
        request.session[SESSION_STORE_KEY] = membership.store_id
        messages.success(request, _("You joined “%(store)s”.") % {"store": membership.store.name})
        return redirect("home")
    return render(request, "frontend/invitation.html", context)
