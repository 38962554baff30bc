from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from accounts.models import Store


class SignupForm(forms.Form):
    email = forms.EmailField(label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters, not only numbers, not a common password."),
    )
    store_name = forms.CharField(label=_("Store name"), max_length=100)
    locale = forms.ChoiceField(label=_("Language"), choices=Store.Locale.choices, initial=Store.Locale.KOREAN)

    def clean_password(self):
        password = self.cleaned_data["password"]
        password_validation.validate_password(password)
        return password


class StoreForm(forms.Form):
    name = forms.CharField(label=_("Store name"), max_length=100)
    locale = forms.ChoiceField(label=_("Language"), choices=Store.Locale.choices, initial=Store.Locale.KOREAN)
