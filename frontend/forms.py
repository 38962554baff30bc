from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from accounts.login_throttle import ThrottledLoginFormMixin
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


class LoginForm(ThrottledLoginFormMixin, AuthenticationForm):
    """The dashboard login: e-mail and password, refused with a clear message while throttled."""


class StoreForm(forms.Form):
    name = forms.CharField(label=_("Store name"), max_length=100)
    locale = forms.ChoiceField(label=_("Language"), choices=Store.Locale.choices, initial=Store.Locale.KOREAN)


# ---- catalog -----------------------------------------------------------------------------------


def _split_tags(value: str) -> list[str]:
    return [t.strip() for t in value.replace("\n", ",").split(",") if t.strip()]


class PresetForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    name_en = forms.CharField(label=_("English name"), max_length=60, required=False)
    description = forms.CharField(label=_("Description"), max_length=300, required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    face_tags = forms.CharField(label=_("Gallery tags"), required=False,
                                help_text=_("Comma-separated, e.g. elegant, natural. Faces with these tags shape "
                                            "new candidates."))
    makeup_strength = forms.FloatField(label=_("Makeup strength (0–1)"), min_value=0, max_value=1, required=False,
                                       widget=forms.NumberInput(attrs={"step": "0.1"}))
    restore_strength = forms.FloatField(label=_("Restore strength (0–1)"), min_value=0, max_value=1, required=False,
                                        widget=forms.NumberInput(attrs={"step": "0.1"}))

    @classmethod
    def for_preset(cls, preset, data=None):
        params = preset.params or {}
        initial = {"name": preset.name, "name_en": preset.name_en, "description": preset.description,
                   "face_tags": ", ".join(params.get("face_tags") or []),
                   "makeup_strength": params.get("makeup_strength"),
                   "restore_strength": params.get("restore_strength")}
        return cls(data, initial=initial)

    def service_fields(self, existing_params: dict | None = None) -> dict:
        """The cleaned form as ``preset_create``/``preset_update`` keyword arguments."""
        data = self.cleaned_data
        params = dict(existing_params or {})
        params["face_tags"] = _split_tags(data["face_tags"])
        for key in ("makeup_strength", "restore_strength"):
            if data[key] is None:
                params.pop(key, None)
            else:
                params[key] = data[key]
        return {"name": data["name"], "name_en": data["name_en"], "description": data["description"],
                "params": params}


class GenerateCandidatesForm(forms.Form):
    preset = forms.TypedChoiceField(label=_("Style preset"), coerce=int)
    count = forms.TypedChoiceField(label=_("How many candidates"), coerce=int, initial=4,
                                   choices=[(n, n) for n in (2, 4, 6)])

    def __init__(self, *args, presets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preset"].choices = [(p.pk, p.name) for p in presets]


# ---- jobs --------------------------------------------------------------------------------------


class BatchForm(forms.Form):
    face = forms.TypedChoiceField(label=_("Model face"), coerce=int)
    product_shots = forms.TypedMultipleChoiceField(label=_("Product shots"), coerce=int,
                                                   widget=forms.CheckboxSelectMultiple)
    preset = forms.TypedChoiceField(label=_("Style preset"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, faces=(), shots=(), presets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["face"].choices = [(f.pk, f.name or _("Face %(id)s") % {"id": f.pk}) for f in faces]
        self.fields["product_shots"].choices = [(s.pk, str(s)) for s in shots]
        self.fields["preset"].choices = [("", _("None (engine defaults)")), *[(p.pk, p.name) for p in presets]]


class ShotJobForm(forms.Form):
    face_index = forms.IntegerField(label=_("Face to replace"), min_value=0)
    face = forms.TypedChoiceField(label=_("Model face"), coerce=int)

    def __init__(self, *args, faces=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["face"].choices = [(f.pk, f.name or _("Face %(id)s") % {"id": f.pk}) for f in faces]


class SecondGenerationForm(forms.Form):
    parent_a = forms.TypedChoiceField(label=_("First parent photo"), coerce=int)
    parent_b = forms.TypedChoiceField(label=_("Second parent photo"), coerce=int)
    consent_a = forms.BooleanField(
        label=_("The person in the first photo agreed to this use of their face."),
        error_messages={"required": _("Tick this box to confirm the person agreed. Without consent we cannot use "
                                      "the photo.")})
    consent_b = forms.BooleanField(
        label=_("The person in the second photo agreed to this use of their face."),
        error_messages={"required": _("Tick this box to confirm the person agreed. Without consent we cannot use "
                                      "the photo.")})

    def __init__(self, *args, faces=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(f.pk, f.name or _("Face %(id)s") % {"id": f.pk}) for f in faces]
        self.fields["parent_a"].choices = choices
        self.fields["parent_b"].choices = choices

    def clean(self):
        data = super().clean()
        if data.get("parent_a") and data.get("parent_a") == data.get("parent_b"):
            raise forms.ValidationError(_("Choose two different photos."))
        return data


# ---- settings ----------------------------------------------------------------------------------


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=100,
                           help_text=_("Where it is used, e.g. “Smart store sync”."))
    scopes = forms.MultipleChoiceField(label=_("Permissions"), widget=forms.CheckboxSelectMultiple,
                                       choices=[("read", _("Read")), ("write", _("Write"))], initial=["read"])


class WebhookForm(forms.Form):
    url = forms.URLField(label=_("Endpoint URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(label=_("Events"), required=False, widget=forms.CheckboxSelectMultiple,
                                       help_text=_("Leave all unticked to receive every event."))

    def __init__(self, *args, **kwargs):
        from generation.models import WebhookEndpoint

        super().__init__(*args, **kwargs)
        self.fields["events"].choices = WebhookEndpoint.Event.choices


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, **kwargs):
        from accounts.models import Role

        super().__init__(*args, **kwargs)
        self.fields["role"].choices = Role.choices
        self.fields["role"].initial = Role.EDITOR


class StoreOptionsForm(forms.Form):
    name = forms.CharField(label=_("Store name"), max_length=100)
    locale = forms.ChoiceField(label=_("Language"), choices=Store.Locale.choices)
    visible_ai_label = forms.BooleanField(
        label=_("Show a visible “AI 생성” mark on results"), required=False,
        help_text=_("Every result already carries an invisible AI-provenance record; this adds a mark people can see."),
    )
