from django.urls import path

from nhs_joint.generic import register

from . import oidc, tokens, views

urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/login/nhs-identity/", oidc.SignInView.as_view(), name="nhs-identity-sign-in"),
    path("accounts/login/nhs-identity/callback/", oidc.CallbackView.as_view(), name="oidc-callback"),
    path("accounts/login/nhs-identity/refused/", oidc.RefusedView.as_view(), name="nhs-identity-refused"),
    path("accounts/tokens/", tokens.YourTokensView.as_view(), name="your-tokens"),
    path("accounts/tokens/<int:pk>/revoke/", tokens.RevokeYourTokenView.as_view(), name="your-token-revoke"),
    path("users/<int:pk>/tokens/revoke/", tokens.RevokeUserTokenView.as_view(), name="user-tokens-revoke"),
    path(
        "users/<int:pk>/tokens/<int:token_pk>/revoke/", tokens.RevokeUserTokenView.as_view(), name="user-token-revoke"
    ),
    *register(views.users),
]
