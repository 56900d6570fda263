from django.urls import path

from users.api import LoginView, LogoutView, MeView, RegisterView, UserViewSet
from wemoov.routers import ApiRouter

router = ApiRouter()
router.register("users", UserViewSet, basename="user")

urlpatterns = [
    path("auth/register/", RegisterView.as_view(), name="auth-register"),
    path("auth/token/", LoginView.as_view(), name="auth-token"),
    path("auth/logout/", LogoutView.as_view(), name="auth-logout"),
    # Before the router, so that "me" is not read as a user id.
    path("users/me/", MeView.as_view(), name="user-me"),
    *router.urls,
]
