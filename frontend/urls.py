from django.contrib.auth import views as auth_views
from django.urls import include, path

from frontend import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("stores/new/", views.store_create, name="store-create"),
    path("stores/switch/", views.store_switch, name="store-switch"),
    path("invite/<str:secret>/", views.invitation_accept, name="invitation-accept"),
]
