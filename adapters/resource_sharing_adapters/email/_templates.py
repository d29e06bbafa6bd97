"""The notices' words: a Jinja2 template per notice kind and language, text and HTML.

Templates live in ``templates/{language}/{kind}.txt`` and ``.html`` (``staff.txt`` and
``staff.html`` for staff notices), each extending its language's ``_layout``. A template's
``subject`` block is the message's subject (taken from the text template). A folder given
as ``template_folder`` is searched first, with the same layout, so an institution
overrides one file or all of them. Dates are formatted for the notice's locale with Babel
(``{{ due|date }}``, ``{{ due|datetime }}``, in the configured time zone); variables that
a template names but the notice lacks are errors (StrictUndefined), so a typo in an
override fails the first check rather than printing nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateError,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context

__all__ = ["RenderedNotice", "TemplateFailure", "Templates"]

_EMPTY_PARAGRAPH = re.compile(r"<p>\s*</p>\n?")
_BLANK_LINES = re.compile(r"\n{3,}")


class TemplateFailure(ValueError):
    """A notice template is missing or failed to render (the message says which)."""


@attrs.frozen
class RenderedNotice:
    """One notice in words: the subject, the plain text and the HTML."""

    subject: str
    """One line."""
    text: str
    """The plain-text part."""
    html: str
    """The HTML part."""
    language: str
    """The language it was written in (a template folder's name)."""


class Templates:
    """Renders notices from the package's templates, or an institution's overrides first."""

    def __init__(self, *, folder: str | Path | None = None, timezone: str | tzinfo = "UTC") -> None:
        loaders: list[Any] = [PackageLoader("resource_sharing_adapters.email", "templates")]
        if folder is not None:
            loaders.insert(0, FileSystemLoader(str(folder)))
        self.zone: tzinfo = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
        """Where dates are shown in."""
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=select_autoescape(["html"], default_for_string=False, default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        """The Jinja2 environment (filters ``date`` and ``datetime`` use the locale)."""
        self.env.filters["date"] = self._date
        self.env.filters["datetime"] = self._datetime

    @pass_context
    def _date(self, context: Context, value: date | datetime | None, form: str = "long") -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = value.astimezone(self.zone).date()
        return format_date(value, form, locale=context["_locale"])

    @pass_context
    def _datetime(self, context: Context, value: datetime | None, form: str = "medium") -> str:
        if value is None:
            return ""
        return format_datetime(value, form, tzinfo=self.zone, locale=context["_locale"])

    def languages(self) -> list[str]:
        """The language folders the templates have (``en``, ``de``...)."""
        return sorted({name.split("/", 1)[0] for name in self.env.list_templates() if "/" in name})

    def language_for(self, wanted: str | None, default: str) -> str:
        """The template language for a wanted locale (``de_CH`` → ``de``), else ``default``."""
        have = set(self.languages())
        if wanted:
            tag = wanted.replace("-", "_")
            for candidate in (tag, tag.split("_", 1)[0].lower()):
                if candidate in have:
                    return candidate
        return default

    def _locale(self, tag: str) -> Locale:
        try:
            return Locale.parse(tag.replace("-", "_"))
        except (UnknownLocaleError, ValueError):
            return Locale.parse("en")

    def render(
        self, name: str, language: str, context: Mapping[str, Any], *, locale: str | None = None
    ) -> RenderedNotice:
        """Render ``{language}/{name}.txt`` and ``.html`` with ``context``.

        ``locale`` (default: the language) decides how dates are written.
        """
        values = {**context, "language": language, "_locale": self._locale(locale or language)}
        try:
            text_template = self.env.get_template(f"{language}/{name}.txt")
            html_template = self.env.get_template(f"{language}/{name}.html")
            subject_block = text_template.blocks.get("subject")
            subject = (
                "".join(subject_block(text_template.new_context(values))) if subject_block else ""
            )
            text = text_template.render(values)
            html = html_template.render(values)
        except TemplateError as exc:
            raise TemplateFailure(f"template {language}/{name}: {exc}") from exc
        subject = " ".join(subject.split())
        if not subject:
            raise TemplateFailure(f"template {language}/{name}.txt has no subject block")
        text = "\n".join(line.strip() for line in text.splitlines())
        text = _BLANK_LINES.sub("\n\n", text).strip() + "\n"
        html = _EMPTY_PARAGRAPH.sub("", html)
        return RenderedNotice(subject, text, html, language)
