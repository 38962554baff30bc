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


CONSENT_REQUIRED = _("Tick this box to confirm the person agreed. Without consent we cannot use the photo.")
RELATIONS = [("mother", _("Mother")), ("father", _("Father")), ("parent", _("Parent"))]


def _photo_input() -> forms.ClearableFileInput:
    return forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"})


class SecondGenerationForm(forms.Form):
    """Two parents, each uploaded here (or a gallery face instead) with a consent record, and the child wanted."""

    parent_a_photo = forms.ImageField(label=_("First parent photo"), required=False,
                                      widget=_photo_input())
    parent_a = forms.TypedChoiceField(label=_("…or a gallery face as the first parent"), coerce=int,
                                      required=False, empty_value=None)
    parent_a_relation = forms.ChoiceField(label=_("The first parent is the child's"), choices=RELATIONS,
                                          initial="mother")
    parent_a_consent_by = forms.CharField(label=_("Who confirms the first parent agreed (name)"), max_length=200,
                                          required=False)
    consent_a = forms.BooleanField(label=_("The person in the first photo agreed to this use of their face."),
                                   error_messages={"required": CONSENT_REQUIRED})
    parent_b_photo = forms.ImageField(label=_("Second parent photo"), required=False,
                                      widget=_photo_input())
    parent_b = forms.TypedChoiceField(label=_("…or a gallery face as the second parent"), coerce=int,
                                      required=False, empty_value=None)
    parent_b_relation = forms.ChoiceField(label=_("The second parent is the child's"), choices=RELATIONS,
                                          initial="father")
    parent_b_consent_by = forms.CharField(label=_("Who confirms the second parent agreed (name)"), max_length=200,
                                          required=False)
    consent_b = forms.BooleanField(label=_("The person in the second photo agreed to this use of their face."),
                                   error_messages={"required": CONSENT_REQUIRED})
    consent_purpose = forms.CharField(label=_("What the parents agreed to"), max_length=300,
                                      initial=_("A virtual child portrait for our store"))
    sex = forms.ChoiceField(label=_("Child's sex"), required=False,
                            choices=[("girl", _("Girl")), ("boy", _("Boy")), ("", _("Let the engine decide"))],
                            initial="girl")
    age_band = forms.ChoiceField(label=_("Age"), choices=[("3-6", _("3–6 years")), ("7-12", _("7–12 years"))],
                                 initial="3-6")
    weight_a = forms.FloatField(label=_("First parent's share of the child's face (0–1)"), min_value=0, max_value=1,
                                initial=0.5, widget=forms.NumberInput(attrs={"step": "0.05", "type": "range",
                                                                             "min": "0", "max": "1"}),
                                help_text=_("0.5 takes after both parents equally; more leans to the first parent."))

    def __init__(self, *args, faces=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("— upload a photo instead —")),
                   *[(f.pk, f.name or _("Face %(id)s") % {"id": f.pk}) for f in faces]]
        self.fields["parent_a"].choices = choices
        self.fields["parent_b"].choices = choices

    def clean(self):
        data = super().clean()
        missing = {"parent_a": _("Upload the first parent's photo, or choose a gallery face."),
                   "parent_b": _("Upload the second parent's photo, or choose a gallery face.")}
        for role, message in missing.items():
            photo, face = data.get(f"{role}_photo"), data.get(role)
            if not photo and face is None and f"{role}_photo" not in self.errors:
                self.add_error(f"{role}_photo", message)
            elif photo and face is not None:
                self.add_error(role, _("Upload a photo or choose a gallery face, not both."))
            if not (data.get(f"{role}_consent_by") or "").strip():
                self.add_error(f"{role}_consent_by", _("Say who confirmed that this parent agreed (your name or "
                                                      "theirs)."))
        if data.get("parent_a") is not None and data.get("parent_a") == data.get("parent_b"):
            self.add_error("parent_b", _("Choose two different photos."))
        return data

    def parents(self) -> dict:
        """Each parent as ``generation.parents.ParentInput`` keyword arguments, by role."""
        data = self.cleaned_data
        return {role: {"file": data.get(f"{role}_photo"), "face_id": data.get(role),
                       "relation": data[f"{role}_relation"], "consent_given_by": data[f"{role}_consent_by"],
                       "consent_purpose": data["consent_purpose"]} for role in ("parent_a", "parent_b")}

    def params(self) -> dict:
        data = self.cleaned_data
        params = {"age_band": data["age_band"], "weight_a": data["weight_a"]}
        if data.get("sex"):
            params["sex"] = data["sex"]
        return params


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
