from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from accounts.login_throttle import ThrottledLoginFormMixin
from accounts.models import Store
from catalog.tags import tag_label
from frontend.seed_text import seed_description, stored_description
from gpu_worker.spec import LABEL_TEXTS

STORE_NAME_REQUIRED = _("Enter your store's name.")
LANGUAGE_REQUIRED = _("Choose a language.")
FACE_REQUIRED = _("Choose the model face to put into the photos.")


class SignupForm(forms.Form):
    email = forms.EmailField(label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email"}),
                             error_messages={"required": _("Enter your e-mail address.")})
    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters, not only numbers, not a common password."),
        error_messages={"required": _("Choose a password.")},
    )
    store_name = forms.CharField(label=_("Store name"), max_length=100,
                                 error_messages={"required": STORE_NAME_REQUIRED})
    locale = forms.ChoiceField(label=_("Language"), choices=Store.Locale.choices, initial=Store.Locale.KOREAN,
                               error_messages={"required": LANGUAGE_REQUIRED})

    def clean_password(self):
        password = self.cleaned_data["password"]
        password_validation.validate_password(password)
        return password


class LoginForm(ThrottledLoginFormMixin, AuthenticationForm):
    """The dashboard login: e-mail and password, refused with a clear message while throttled."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The e-mail address or the password is not right. Check both; capital and small "
                           "letters count."),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].error_messages["required"] = _("Enter the e-mail address you signed up with.")
        self.fields["password"].error_messages["required"] = _("Enter your password.")


class StoreForm(forms.Form):
    name = forms.CharField(label=_("Store name"), max_length=100, error_messages={"required": STORE_NAME_REQUIRED})
    locale = forms.ChoiceField(label=_("Language"), choices=Store.Locale.choices, initial=Store.Locale.KOREAN,
                               error_messages={"required": LANGUAGE_REQUIRED})


# ---- catalog -----------------------------------------------------------------------------------


def _split_tags(value: str) -> list[str]:
    return [t.strip() for t in value.replace("\n", ",").split(",") if t.strip()]


class PresetForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60, error_messages={"required": _("Give the preset a name.")})
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
        initial = {"name": preset.name, "name_en": preset.name_en, "description": seed_description(preset.description),
                   "face_tags": ", ".join(tag_label(t) for t in params.get("face_tags") or []),  # saved as keys
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
        return {"name": data["name"], "name_en": data["name_en"],
                "description": stored_description(data["description"]), "params": params}


class GenerateCandidatesForm(forms.Form):
    preset = forms.TypedChoiceField(label=_("Style preset"), coerce=int,
                                    error_messages={"required": _("Choose a style preset.")})
    count = forms.TypedChoiceField(label=_("How many candidates"), coerce=int, initial=4,
                                   choices=[(n, n) for n in (2, 4, 6)],
                                   error_messages={"required": _("Choose how many candidates to make.")})

    def __init__(self, *args, presets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preset"].choices = [(p.pk, p.name) for p in presets]


# ---- jobs --------------------------------------------------------------------------------------


class BatchForm(forms.Form):
    face = forms.TypedChoiceField(label=_("Model face"), coerce=int, error_messages={"required": FACE_REQUIRED})
    product_shots = forms.TypedMultipleChoiceField(label=_("Product shots"), coerce=int,
                                                   widget=forms.CheckboxSelectMultiple,
                                                   error_messages={"required": _("Choose at least one product shot.")})
    preset = forms.TypedChoiceField(label=_("Style preset"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, faces=(), shots=(), presets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["face"].choices = [(f.pk, f.name or _("Face %(id)s") % {"id": f.pk}) for f in faces]
        self.fields["product_shots"].choices = [(s.pk, str(s)) for s in shots]
        self.fields["preset"].choices = [("", _("None (engine defaults)")), *[(p.pk, p.name) for p in presets]]


class ShotJobForm(forms.Form):
    face_index = forms.IntegerField(label=_("Face to replace"), min_value=0,
                                    error_messages={"required": _("Choose which face in the photo to replace.")})
    face = forms.TypedChoiceField(label=_("Model face"), coerce=int, error_messages={"required": FACE_REQUIRED})

    def __init__(self, *args, faces=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["face"].choices = [(f.pk, f.name or _("Face %(id)s") % {"id": f.pk}) for f in faces]


CONSENT_REQUIRED = _("Tick this box to confirm the person agreed. Without consent we cannot use the photo.")
RELATIONS = [("mother", _("Mother")), ("father", _("Father")), ("parent", _("Parent"))]
RELATION_REQUIRED = _("Choose how this parent is related to the child.")


def _photo_input() -> forms.ClearableFileInput:
    return forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"})


class SecondGenerationForm(forms.Form):
    """Two parents, each uploaded here (or a gallery face instead) with a consent record, and the child wanted."""

    parent_a_photo = forms.ImageField(label=_("First parent photo"), required=False,
                                      widget=_photo_input())
    parent_a = forms.TypedChoiceField(label=_("…or a gallery face as the first parent"), coerce=int,
                                      required=False, empty_value=None)
    parent_a_relation = forms.ChoiceField(label=_("The first parent is the child's"), choices=RELATIONS,
                                          initial="mother", error_messages={"required": RELATION_REQUIRED})
    parent_a_consent_by = forms.CharField(label=_("Who confirms the first parent agreed (name)"), max_length=200,
                                          required=False)
    consent_a = forms.BooleanField(label=_("The person in the first photo agreed to this use of their face."),
                                   error_messages={"required": CONSENT_REQUIRED})
    parent_b_photo = forms.ImageField(label=_("Second parent photo"), required=False,
                                      widget=_photo_input())
    parent_b = forms.TypedChoiceField(label=_("…or a gallery face as the second parent"), coerce=int,
                                      required=False, empty_value=None)
    parent_b_relation = forms.ChoiceField(label=_("The second parent is the child's"), choices=RELATIONS,
                                          initial="father", error_messages={"required": RELATION_REQUIRED})
    parent_b_consent_by = forms.CharField(label=_("Who confirms the second parent agreed (name)"), max_length=200,
                                          required=False)
    consent_b = forms.BooleanField(label=_("The person in the second photo agreed to this use of their face."),
                                   error_messages={"required": CONSENT_REQUIRED})
    consent_purpose = forms.CharField(label=_("What the parents agreed to"), max_length=300,
                                      initial=_("A virtual child portrait for our store"),
                                      error_messages={"required": _("Say what the parents agreed to.")})
    sex = forms.ChoiceField(label=_("Child's sex"), required=False,
                            choices=[("girl", _("Girl")), ("boy", _("Boy")), ("", _("Let the engine decide"))],
                            initial="girl")
    age_band = forms.ChoiceField(label=_("Age"), choices=[("3-6", _("3–6 years")), ("7-12", _("7–12 years"))],
                                 initial="3-6", error_messages={"required": _("Choose the child's age.")})
    weight_a = forms.FloatField(label=_("First parent's share of the child's face (0–1)"), min_value=0, max_value=1,
                                initial=0.5, widget=forms.NumberInput(attrs={"step": "0.05", "type": "range",
                                                                             "min": "0", "max": "1"}),
                                help_text=_("0.5 takes after both parents equally; more leans to the first parent."),
                                error_messages={"required": _("Set the first parent's share of the child's face.")})

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
                           help_text=_("Where it is used, e.g. “Smart store sync”."),
                           error_messages={"required": _("Give the token a name, e.g. where it is used.")})
    scopes = forms.MultipleChoiceField(label=_("Permissions"), widget=forms.CheckboxSelectMultiple,
                                       choices=[("read", _("Read")), ("write", _("Write"))], initial=["read"],
                                       error_messages={"required": _("Choose at least one permission.")})


class WebhookForm(forms.Form):
    url = forms.URLField(label=_("Endpoint URL"), max_length=500, assume_scheme="https",
                         error_messages={"required": _("Enter the URL that should receive the events.")})
    events = forms.MultipleChoiceField(label=_("Events"), required=False, widget=forms.CheckboxSelectMultiple,
                                       help_text=_("Leave all unticked to receive every event."))

    def __init__(self, *args, **kwargs):
        from generation.models import WebhookEndpoint

        super().__init__(*args, **kwargs)
        self.fields["events"].choices = WebhookEndpoint.Event.choices


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"), error_messages={"required": _("Enter the e-mail address to invite.")})
    role = forms.ChoiceField(label=_("Role"), error_messages={"required": _("Choose a role.")})

    def __init__(self, *args, **kwargs):
        from accounts.models import Role

        super().__init__(*args, **kwargs)
        self.fields["role"].choices = Role.choices
        self.fields["role"].initial = Role.EDITOR


class StoreOptionsForm(forms.Form):
    name = forms.CharField(label=_("Store name"), max_length=100, error_messages={"required": STORE_NAME_REQUIRED})
    locale = forms.ChoiceField(label=_("Language"), choices=Store.Locale.choices,
                               error_messages={"required": LANGUAGE_REQUIRED})
    visible_ai_label = forms.BooleanField(
        label=_("Show a visible “AI 생성” mark on results"), required=False,
        help_text=_("Every result already carries an invisible AI-provenance record; this adds a mark people can see."),
    )
    label_text = forms.ChoiceField(label=_("Wording of the mark"), choices=(), required=False)
    label_position = forms.ChoiceField(label=_("Corner of the mark"), required=False, choices=[
        ("bottom-right", _("Bottom right")), ("bottom-left", _("Bottom left")),
        ("top-right", _("Top right")), ("top-left", _("Top left"))])
    label_size = forms.ChoiceField(label=_("Size of the mark"), required=False, choices=[
        ("small", _("Small (the legal minimum)")), ("medium", _("Medium")), ("large", _("Large"))])
    output_format = forms.ChoiceField(label=_("File format of results"), required=False, choices=[
        ("png", _("PNG: every pixel kept, larger files")),
        ("jpeg", _("JPEG: smaller files, what most shop platforms ask for"))],
        help_text=_("Both carry the signed content credential. A JPEG result is usually 5 to 10 times smaller "
                    "than the PNG."),
        error_messages={"invalid_choice": _("Choose PNG or JPEG.")})

    def __init__(self, *args, mandatory_label: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        korean = self.initial.get("locale", "ko") == "ko" or mandatory_label
        self.fields["label_text"].choices = [(key, texts[0] if korean else texts[1])
                                             for key, texts in LABEL_TEXTS.items()]
        if mandatory_label:
            field = self.fields["visible_ai_label"]
            field.disabled, self.initial["visible_ai_label"] = True, True
            field.help_text = _("Korean stores always carry the mark: realistic AI-made images that leave the service "
                                "must be clearly marked (AI Basic Act, Art. 31(3)). Choose its wording, corner and "
                                "size below.")


# ---- face upload -------------------------------------------------------------------------------


class FaceUploadForm(forms.Form):
    """The consent attestation sent with every face photo of the upload page (who, for what, since when)."""

    consent_given_by = forms.CharField(
        label=_("Who gave consent (the person's name)"), max_length=200,
        error_messages={"required": _("Enter the name of the person in the photo who gave consent.")})
    consent_purpose = forms.CharField(
        label=_("What they agreed to"), max_length=300,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. virtual model for our store photos")}),
        error_messages={"required": _("Say what the person agreed their face may be used for.")})
    consent_given_on = forms.DateField(
        label=_("Date consent was given"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("Enter the date the person gave consent."),
                        "invalid": _("Enter the consent date as year-month-day, e.g. 2026-03-01.")})
    consent_confirmed = forms.BooleanField(
        label=_("I confirm this person agreed to have their face used for the purpose above."),
        error_messages={"required": CONSENT_REQUIRED})
    name = forms.CharField(label=_("Face name (optional)"), max_length=100, required=False)
    tags = forms.CharField(label=_("Style tags (optional)"), required=False,
                           help_text=_("Comma-separated, e.g. elegant, natural."))

    def clean_consent_given_on(self):
        from django.utils import timezone

        day = self.cleaned_data["consent_given_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("The consent date cannot be in the future. Enter the day the person "
                                          "agreed."))
        return day

    def service_fields(self) -> dict:
        """The cleaned form as ``catalog.faces.face_upload`` keyword arguments (all but the file).

        Consent given today is recorded as now; an earlier day as its midnight in the current (store) time zone.
        """
        import datetime

        from django.utils import timezone

        data = self.cleaned_data
        day = data["consent_given_on"]
        given_at = None
        if day != timezone.localdate():
            given_at = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
        return {"consent_given_by": data["consent_given_by"], "consent_purpose": data["consent_purpose"],
                "consent_given_at": given_at, "name": data["name"], "tags": _split_tags(data["tags"])}
