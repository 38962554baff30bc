from accounts.selectors import user_memberships
from accounts.tenancy import session_store


def current_store(request):
    """The dashboard's selected store and the user's other stores, for the header."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {"current_store": session_store(request), "memberships": user_memberships(user=request.user)}
