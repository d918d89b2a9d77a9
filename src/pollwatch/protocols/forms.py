"""The observer's protocol form: one figure field per template line, in the law's order.

The fields follow the election's protocol template, so the form is built per template rather
than declared. Whether a figure is plausible (not negative, not absurd) is decided once, by the
submission service; the form only parses what was typed into integers and files.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from pollwatch.core.protocol import ProtocolLine

FIGURE_PREFIX = "line_"
# What a phone's camera produces; the server sniffs the content whatever the name says.
PHOTO_TYPES = "image/jpeg,image/png,image/webp"
MAX_FEEDBACK_DIGITS = 15
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")


def figure_field_name(line_key: str) -> str:
    # Line keys are lowercase identifiers, so the prefix can never collide with another field.
    return FIGURE_PREFIX + line_key


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Any number of photos (none included): a list of uploaded files."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultiplePhotoInput(attrs={"accept": PHOTO_TYPES}))
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = data if isinstance(data, list | tuple) else [data]
        single = super().clean
        return [single(item, initial) for item in files if item]


class ProtocolCopyForm(forms.Form):
    # Generated when the form is rendered and sent back unchanged: a double submit or a retry
    # after a lost response carries the same id, and the server returns the copy it stored.
    client_id = forms.UUIDField(widget=forms.HiddenInput)
    # The copy this one corrects, when it is a correction.
    supersedes = forms.UUIDField(required=False, widget=forms.HiddenInput)
    # The device's detached signature, made in the browser by signing.js (signatures.py).
    device_key = forms.CharField(required=False, widget=forms.HiddenInput)
    signature = forms.CharField(required=False, widget=forms.HiddenInput)
    all_members_signed = forms.BooleanField(
        required=False, label=_("Signed by all commission members")
    )
    certified = forms.BooleanField(required=False, label=_("Certified with the commission's stamp"))
    # Photos already stored by an earlier attempt that was sent back (a figure to fix): a phone
    # on a slow line must not upload them again. Their SHA-256s, comma-separated.
    uploaded_photos = forms.CharField(required=False, widget=forms.HiddenInput)
    photos = PhotosField(
        required=False,
        label=_("Photos of the protocol"),
        help_text=_("JPEG, PNG or WebP, up to 15 MB each; several at once if needed."),
    )

    def __init__(
        self,
        *args: Any,
        lines: Sequence[ProtocolLine],
        language: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lines = tuple(lines)
        figures = {
            figure_field_name(line.key): forms.IntegerField(
                label=line.label(language),
                # What the paper prints beside the line, so the observer can follow it.
                label_suffix="",
                widget=forms.TextInput(
                    attrs={
                        "inputmode": "numeric",
                        "autocomplete": "off",
                        "data-line": line.key,
                    }
                ),
                error_messages={
                    "required": _("Type the figure written on line %(number)s.")
                    % {"number": line.number},
                    "invalid": _("Line %(number)s: type a whole number, digits only.")
                    % {"number": line.number},
                },
            )
            for line in self.lines
        }
        # Figures first, in the template's order; then the checkboxes and the photos.
        self.fields = {**figures, **self.fields}

    @classmethod
    def blank(
        cls,
        *,
        lines: Sequence[ProtocolLine],
        language: str,
        figures: Mapping[str, int] | None = None,
        supersedes: uuid.UUID | None = None,
        all_members_signed: bool = False,
        certified: bool = False,
    ) -> ProtocolCopyForm:
        """A form to fill in, with a fresh client id (and an earlier copy's figures to correct)."""
        initial: dict[str, Any] = {
            "client_id": uuid.uuid4(),
            "supersedes": supersedes,
            "all_members_signed": all_members_signed,
            "certified": certified,
        }
        for key, value in (figures or {}).items():
            initial[figure_field_name(key)] = value
        return cls(lines=lines, language=language, initial=initial)

    def clean_uploaded_photos(self) -> list[str]:
        raw = self.cleaned_data.get("uploaded_photos") or ""
        shas = [sha.strip() for sha in raw.split(",") if sha.strip()]
        if not all(_SHA256.match(sha) for sha in shas):
            raise forms.ValidationError(
                _("The photos uploaded earlier are not recognised; attach them again.")
            )
        return shas

    def top_errors(self) -> list[str]:
        """Errors about the whole form, and those of hidden fields (no place beside them)."""
        errors = [str(error) for error in self.non_field_errors()]
        for field in self.hidden_fields():
            errors += [str(error) for error in field.errors]
        return errors

    def keep_photos(self, shas: Sequence[str]) -> None:
        """Send these stored photos back with the form, to be attached when it is resubmitted."""
        data = QueryDict(mutable=True)
        data.update(self.data)  # a QueryDict keeps every value of a repeated key
        data["uploaded_photos"] = ",".join(dict.fromkeys(shas))
        self.data = data

    @property
    def kept_photos(self) -> list[str]:
        raw = str(self["uploaded_photos"].value() or "")
        return [sha for sha in raw.split(",") if _SHA256.match(sha)]

    def enable_live_feedback(self, url: str) -> None:
        """Have htmx post the typed figures to ``url`` a moment after each keystroke."""
        for line in self.lines:
            self.fields[figure_field_name(line.key)].widget.attrs.update(
                {
                    "hx-post": url,
                    "hx-trigger": "input changed delay:300ms",
                    # Only the figures: never the photos, nor the rest of the form.
                    "hx-include": "[data-line]",
                    "hx-params": ",".join(figure_field_name(ln.key) for ln in self.lines),
                    "hx-target": "#relation-feedback",
                    "hx-swap": "innerHTML",
                }
            )

    def figure_fields(self) -> Iterator[tuple[ProtocolLine, forms.BoundField]]:
        for line in self.lines:
            yield line, self[figure_field_name(line.key)]

    def figures(self) -> dict[str, int]:
        """The cleaned figures by line key (call after is_valid)."""
        return {line.key: self.cleaned_data[figure_field_name(line.key)] for line in self.lines}

    def field_for(self, name: str | None) -> str | None:
        """The form field that shows an error the submission service names ``name``."""
        if name is None:
            return None
        line_field = figure_field_name(name.removeprefix("figures."))
        if name.startswith("figures.") and line_field in self.fields:
            return line_field
        if name == "photos" or name.startswith("photos["):
            return "photos"
        # The signature and the device key: hidden, so shown at the top of the form.
        # The station, the copy's id, the copy corrected: about the whole form.
        return None


class DeviceKeyForm(forms.Form):
    """This browser's public key, generated and filled in by device-keys.js, and a name."""

    public_key = forms.CharField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(
        label=_("Name of this device"),
        max_length=100,
        help_text=_("For example: my phone. Shown in your list of keys."),
    )

    def clean_public_key(self) -> str:
        value = str(self.cleaned_data.get("public_key") or "")
        if not value:
            raise forms.ValidationError(
                _(
                    "No key was generated: this browser cannot make Ed25519 keys, or "
                    "JavaScript is off. Use a current Chromium, Firefox or Safari."
                )
            )
        return value

    def field_for(self, name: str | None) -> str | None:
        return "name" if name == "name" else None


def partial_figures(
    data: Mapping[str, Any], lines: Sequence[ProtocolLine]
) -> dict[str, int | None]:
    """The figures typed so far, for live feedback: a blank or unparsable line counts as empty.

    Only whole numbers of digits count; feedback must never turn half-typed text into a value.
    Longer numbers than any protocol holds count as empty too, so that summing a template's
    lines cannot overflow 64 bits; the submission refuses them with a precise error.
    """
    figures: dict[str, int | None] = {}
    for line in lines:
        raw = str(data.get(figure_field_name(line.key), "")).strip()
        digits = raw.isascii() and raw.isdigit() and len(raw) <= MAX_FEEDBACK_DIGITS
        figures[line.key] = int(raw) if digits else None
    return figures
