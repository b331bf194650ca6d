"""Form helpers: NHS-style dates and messages that name the field."""

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join

from .registry import registry
from .words import with_article


class DayMonthYearWidget(forms.Widget):
    """The NHS date input: three boxes (day, month, year) named ``<name>-day`` and so on."""

    parts = ("day", "month", "year")

    def value_from_datadict(self, data, files, name):
        values = [str(data.get(f"{name}-{part}", "")).strip() for part in self.parts]
        if not any(values):
            return data.get(name, "")  # the API and tests may post one ISO date
        return values

    def value_omitted_from_data(self, data, files, name):
        return name not in data and not any(f"{name}-{part}" in data for part in self.parts)

    def split(self, value):
        """The value as (day, month, year) strings, for rendering the three boxes."""
        if isinstance(value, (list, tuple)):
            return tuple(value) + ("",) * (3 - len(value))
        if isinstance(value, dt.date):
            return (str(value.day), str(value.month), str(value.year))
        if isinstance(value, str) and value:
            try:
                parsed = dt.date.fromisoformat(value)
                return (str(parsed.day), str(parsed.month), str(parsed.year))
            except ValueError:
                pass
        return ("", "", "")


class NHSDateField(forms.DateField):
    widget = DayMonthYearWidget

    def to_python(self, value):
        if isinstance(value, (list, tuple)):
            day, month, year = (list(value) + ["", "", ""])[:3]
            label = self.label.lower() if self.label else "date"
            missing = [part for part, v in zip(("day", "month", "year"), (day, month, year)) if not v]
            if len(missing) == 3:
                return None
            if missing:
                raise ValidationError(f"The {label} must include a {' and a '.join(missing)}.", code="incomplete")
            try:
                if len(year) != 4:
                    raise ValueError
                return dt.date(int(year), int(month), int(day))
            except ValueError:
                raise ValidationError(
                    f"The {label} must be a real date, for example 1 4 2018.", code="invalid"
                ) from None
        return super().to_python(value)


class MonthYearWidget(DayMonthYearWidget):
    """The NHS date input without the day: a month and a year box."""

    parts = ("month", "year")

    def split(self, value):
        if isinstance(value, (list, tuple)):
            return tuple(value) + ("",) * (2 - len(value))
        day, month, year = super().split(value)
        return (month, year)


class NHSMonthField(forms.DateField):
    """A calendar month, kept as its first day."""

    widget = MonthYearWidget

    def to_python(self, value):
        if isinstance(value, (list, tuple)):
            month, year = (list(value) + ["", ""])[:2]
            label = self.label.lower() if self.label else "month"
            if not month and not year:
                return None
            if not month or not year:
                raise ValidationError(
                    f"The {label} must include a {'month' if not month else 'year'}.", code="incomplete"
                )
            try:
                if len(year) != 4:
                    raise ValueError
                return dt.date(int(year), int(month), 1)
            except ValueError:
                raise ValidationError(
                    f"The {label} must be a real month, for example 4 2018.", code="invalid"
                ) from None
        value = super().to_python(value)
        return value.replace(day=1) if value else value


def _message_label(field, name):
    """The field's label as an error message names it: "start date"; a question label is no name."""
    label = str(field.label or name.replace("_", " "))
    if label.endswith("?"):
        return None
    # Lower case, except abbreviations and names: "ODS code" stays, "Start date" becomes "start date".
    first, space, rest = label.partition(" ")
    if not (len(first) > 1 and first.isupper()):
        first = first.lower()
    return first + space + rest


def _customised(field, key):
    """Whether the form gave the field its own message for ``key`` (kept, never replaced by the generic one)."""
    default = None
    for cls in reversed(type(field).__mro__):
        default = getattr(cls, "default_error_messages", {}).get(key, default)
    return key in field.error_messages and field.error_messages[key] != default


def name_the_field(form):
    """Give each field's messages its label, as the NHS.UK error message guidance asks: "Enter the title"."""
    for name, field in form.fields.items():
        if (
            isinstance(field, forms.ModelChoiceField)
            and type(field.widget) is forms.Select
            and field.queryset is not None  # a form may give the choices once it knows its record
            and field.queryset.model._meta.label_lower in registry.autocomplete_models
        ):
            field.widget.attrs["data-module"] = "autocomplete"  # type to narrow the list (static/portal)
        if getattr(field, "empty_label", None) == "---------":
            field.empty_label = "Not chosen"
        elif (
            isinstance(field, forms.ChoiceField)
            and not isinstance(field, forms.ModelChoiceField)
            and any(value == "" and text == "---------" for value, text in field.choices)
        ):
            # A model field's blank choice is Django's "---------": say it in words.
            field.choices = [("", "Not chosen") if value == "" else (value, text) for value, text in field.choices]
        label = _message_label(field, name)
        if label is None:  # "Why is this not a problem?": the form must say what to enter
            if not _customised(field, "required"):
                field.error_messages["required"] = "Enter your answer."
            label = "answer"
        elif isinstance(field, (forms.ChoiceField, forms.ModelChoiceField, forms.ModelMultipleChoiceField)):
            if not _customised(field, "required"):
                field.error_messages["required"] = f"Select the {label}."
            field.error_messages["invalid_choice"] = f"Select {with_article(label)} from the list."
        elif not _customised(field, "required"):
            field.error_messages["required"] = f"Enter the {label}."
        if getattr(field, "max_length", None) and not _customised(field, "max_length"):
            field.error_messages["max_length"] = f"The {label} must be {field.max_length:,} characters or fewer."
        if isinstance(field, forms.DecimalField):
            field.error_messages["invalid"] = f"The {label} must be a number."
        if isinstance(field, NHSMonthField):
            field.error_messages["invalid"] = f"The {label} must be a real month, for example 4 2018."
        if isinstance(field, NHSDateField):
            field.error_messages["invalid"] = f"The {label} must be a real date, for example 1 4 2018."


class PortalModelForm(forms.ModelForm):
    """The base of the portal's forms: knows its user, renders dates the NHS way, names fields in errors."""

    hints = {}  # field name -> its hint, in plain words, where the model gives none

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        for name, hint in self.hints.items():
            if name in self.fields and not self.fields[name].help_text:
                self.fields[name].help_text = hint
        for name, field in list(self.fields.items()):
            if isinstance(field, forms.DateField) and not isinstance(field, (NHSDateField, NHSMonthField)):
                hint = str(field.help_text or "")
                example = "For example, 1 4 2018"
                self.fields[name] = NHSDateField(
                    label=field.label,
                    required=field.required,
                    help_text=f"{hint} {example}".strip() if example not in hint else hint,
                )
                self.fields[name].initial = field.initial
        name_the_field(self)


class Form(forms.Form):
    """The base of forms that are not model forms (sign in, passwords, users)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        name_the_field(self)


def field_kind(field):
    """How a template draws a field: input, textarea, select, radios, checkboxes, checkbox, password, date, month or
    hidden (a value the page carries, never shown as a field people could edit)."""
    widget = field.widget
    if isinstance(widget, forms.HiddenInput):
        return "hidden"
    if isinstance(field, NHSMonthField):
        return "month"
    if isinstance(field, NHSDateField):
        return "date"
    if isinstance(widget, forms.FileInput):
        return "file"
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "checkboxes"
    if isinstance(widget, forms.RadioSelect):
        return "radios"
    if isinstance(widget, forms.Textarea):
        return "textarea"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, (forms.Select, forms.SelectMultiple)):
        return "select"
    if isinstance(widget, forms.PasswordInput):
        return "password"
    return "input"


def hint_html(field):
    """A hint with a list (``field.help_items``, such as the password rules) as HTML: its words escaped, the
    list a real list rather than tags shown as text."""
    items = getattr(field, "help_items", None) or ()
    return format_html(
        '<span class="portal-hint-intro">{}</span><ul class="nhsuk-list nhsuk-list--bullet nhsuk-hint">{}</ul>',
        field.help_text,
        format_html_join("", "<li>{}</li>", ((item,) for item in items)),
    )


def error_list(form):
    """The error summary's items: each message linking to the first box of its field."""
    items = [{"text": message, "href": "#form-errors"} for message in form.non_field_errors()]
    for name, field in form.fields.items():
        kind = field_kind(field)
        target = {
            "date": f"id_{name}-day",
            "month": f"id_{name}-month",
            "checkboxes": f"id_{name}_0",
            "radios": f"id_{name}_0",
        }.get(kind, f"id_{name}")
        for message in form.errors.get(name, []):
            items.append({"text": message, "href": f"#{target}"})
    return items
