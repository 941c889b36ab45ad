from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/verify/", views.verify, name="second_factor_verify"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("login/forgot/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "login/forgot/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "login/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "login/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("account/second-factor/", views.second_factor_page, name="second_factor"),
]
