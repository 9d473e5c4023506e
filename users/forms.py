"""Browser forms for accounts. Passwords are checked and hashed by Django (validators,
set_password) inside users.services; these forms collect and compare the fields, and the log-in
forms count each attempt against the log-in limits (core.ratelimit) before Django checks
the password."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.views.decorators.debug import sensitive_variables

from core import ratelimit


class RegisterForm(forms.Form):
    username = forms.RegexField(
        regex=r"^[\w.@+-]+\Z",
        max_length=150,
        error_messages={"invalid": "Use letters, digits and @/./+/-/_ only."},
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    email = forms.EmailField(
        required=False,
        help_text="Optional.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        return data


class _LimitedLogin:
    """Counts the attempt against the "login" limits (per address and per account, the API's
    budget too) before Django's clean() checks the password; over a limit the form is refused
    with the wait in ``retry_after`` and the password is not checked."""

    retry_after: int | None = None

    @sensitive_variables()
    def clean(self):
        username = self.cleaned_data.get("username")
        self.retry_after = ratelimit.attempt(self.request, "login", account=username)
        if self.retry_after is not None:
            raise forms.ValidationError(
                ratelimit.refusal("log-in attempts", self.retry_after), code="rate_limited"
            )
        return super().clean()


class LoginForm(_LimitedLogin, AuthenticationForm):
    pass


class AdminLoginForm(_LimitedLogin, AdminAuthenticationForm):
    pass
