"""Dampak's exceptions: one root, each carrying a sentence a staff member can act on.

Sentences live in the message catalogue (``msg.*`` keys of ``pipelines/locales/<lang>/``); an
error carries a :class:`Message` (key + named fields) and prints in the messages language.
"""

from __future__ import annotations

from typing import Any

_LANGUAGE = {"current": "en"}


def set_language(lang: str) -> None:
    """Choose the language error messages print in (the config's `messages_language`)."""
    _LANGUAGE["current"] = lang


def current_language() -> str:
    """The language error messages currently print in (a folder of pipelines/locales)."""
    return _LANGUAGE["current"]


class Message:
    """A catalogue key with its named fields, rendered in whichever language is asked for.

    A field may itself be a Message (or anything with ``text(lang)``, e.g. an error): it is
    rendered in the same language."""

    def __init__(self, key: str, /, **fields: Any):
        self.key, self.fields = key, fields

    def text(self, lang: str | None = None) -> str:
        from pipelines.i18n import message

        lang = lang or _LANGUAGE["current"]
        values = {k: _render(v, lang) for k, v in self.fields.items()}
        return message(self.key, lang, **values)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return f"Message({self.key!r}, **{self.fields!r})"


class Joined:
    """Several messages (or plain texts) joined by ``sep``, each rendered in the same language."""

    def __init__(self, parts, sep: str = " "):
        self.parts, self.sep = list(parts), sep

    def text(self, lang: str | None = None) -> str:
        lang = lang or _LANGUAGE["current"]
        return self.sep.join(_render(p, lang) for p in self.parts)

    def __str__(self) -> str:
        return self.text()


class Localised:
    """A value given per language (e.g. a codebook label's id/en): English when one is missing."""

    def __init__(self, **by_lang: str):
        self.by_lang = by_lang

    def text(self, lang: str | None = None) -> str:
        lang = lang or _LANGUAGE["current"]
        return _render(self.by_lang.get(lang, self.by_lang.get("en", "")), lang)


def _render(value: Any, lang: str) -> Any:
    return value.text(lang) if hasattr(value, "text") and callable(value.text) else value


def msg(key: str, /, **fields: Any) -> str:
    """The staff message ``key`` in the current messages language, fields filled."""
    return Message(key, **fields).text()


class DampakError(Exception):
    """Root of Dampak's exceptions; carries a message meant for a staff member.

    `args[0]` is a :class:`Message` (printed in the messages language) or a plain sentence.
    """

    def __init__(self, message: Message | str = ""):
        super().__init__(message)

    def __str__(self) -> str:
        return self.text(_LANGUAGE["current"])

    def text(self, lang: str = "en") -> str:
        """The message in ``lang`` (English when the catalogue lacks it in that language)."""
        if not self.args or self.args[0] in ("", None):
            return self.__class__.__name__
        return str(_render(self.args[0], lang))


class ConfigError(DampakError):
    """The survey config (YAML) or the codebook is missing, malformed or inconsistent."""


class InputError(DampakError):
    """A raw export can't be read or doesn't match the codebook (names file, row, column)."""


class RunError(DampakError):
    """A pipeline run failed or could not start (lock held, notebook failed)."""


def located(path, row=None, column=None) -> Joined:
    """'file X, row R, column "C"' as a message, for error messages."""
    parts = [Message("where.file", path=path)]
    if row is not None:
        parts.append(Message("where.row", row=row))
    if column is not None:
        parts.append(Message("where.column", column=column))
    return Joined(parts, ", ")


def at(path, text, row=None, column=None) -> Message:
    """'In file X, row R, column "C": <text>' (text a Message or a plain sentence)."""
    return Message("where.at", where=located(path, row, column), text=text)
