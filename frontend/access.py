"""Who may see and do what on a dashboard page: the page's store and the caller's role in it.

Pages mirror the API's roles: viewers read, editors write, owners manage members, store options and
billing. A page that needs a higher role answers 403 (never a silent redirect), so a viewer who
crafts a POST gets the same answer as from the API.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.selectors import membership_for
from accounts.tenancy import session_store
from accounts.time_zones import zone_of


def store_page(read_role: str = Role.VIEWER, write_role: str = Role.EDITOR):
    """Decorate a page view: sets ``request.store`` and ``request.membership``, and shows times in the
    store's time zone (``Store.time_zone``).

    GET/HEAD need ``read_role``; any other method needs ``write_role``. A user without a store is sent
    to onboarding (create the first store).
    """

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            store = session_store(request)
            if store is None:
                return redirect("store-create")
            membership = membership_for(user=request.user, store=store)
            needed = read_role if request.method in ("GET", "HEAD") else write_role
            if membership is None or not membership.has_role(needed):
                raise PermissionDenied(_("Your role in this store does not allow this."))
            request.store, request.membership = store, membership
            with timezone.override(zone_of(store.time_zone)):  # the store's dates, as in its billing
                return view(request, *args, **kwargs)

        return wrapped

    return decorate


def staff_page(view):
    """Staff only (gallery curation). Others get 403."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied(_("Only Gasang staff can curate the public gallery."))
        request.store = session_store(request)
        return view(request, *args, **kwargs)

    return wrapped


def role_flags(membership) -> dict:
    """Template flags: which write controls to show."""
    return {
        "can_edit": bool(membership and membership.has_role(Role.EDITOR)),
        "is_owner": bool(membership and membership.has_role(Role.OWNER)),
    }


def safe_next(request, default: str) -> str:
    """The POSTed ``next`` URL when it stays on this site, else ``default`` (a URL name)."""
    from django.shortcuts import resolve_url
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return resolve_url(default)
