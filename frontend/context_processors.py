from accounts.selectors import membership_for, user_memberships
from accounts.tenancy import session_store
from frontend.access import role_flags


def current_store(request):
    """The dashboard's selected store, the user's other stores and role flags, for the header and pages."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    store = session_store(request)
    membership = membership_for(user=request.user, store=store) if store else None
    return {
        "current_store": store,
        "memberships": user_memberships(user=request.user),
        "membership": membership,
        **role_flags(membership),
    }
