from django.urls import include, path

from users.api import LoginView, LogoutView, MeView, RegisterView, UserViewSet
from wemoov.routers import ApiRouter

router = ApiRouter()
router.register("", UserViewSet, basename="user")

urlpatterns = [
    path(
        "auth/",
        include(
            [
                path("register/", RegisterView.as_view(), name="auth-register"),
                path("token/", LoginView.as_view(), name="auth-token"),
                path("logout/", LogoutView.as_view(), name="auth-logout"),
            ]
        ),
    ),
    # "me" before the router, so that it is not read as a user id.
    path("users/", include([path("me/", MeView.as_view(), name="user-me"), *router.urls])),
]
