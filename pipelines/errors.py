"""Dampak's exceptions: one root, each carrying a sentence a staff member can act on."""

_LANGUAGE = {"current": "en"}


def set_language(lang: str) -> None:
    """Choose the language error messages print in (the config's `messages_language`)."""
    _LANGUAGE["current"] = lang


def current_language() -> str:
    """The language error messages currently print in ('id' or 'en')."""
    return _LANGUAGE["current"]


def say(en: str, idn: str) -> str:
    """The English or Indonesian wording, whichever messages currently print in."""
    return idn if _LANGUAGE["current"] == "id" else en


class DampakError(Exception):
    """Root of Dampak's exceptions; carries a message meant for a staff member.

    `args[0]` is the English sentence; an Indonesian one may be given as `id_text`.
    """

    def __init__(self, message: str = "", *, id_text: str | None = None):
        super().__init__(message)
        self.id_text = id_text

    def __str__(self) -> str:
        return self.text(_LANGUAGE["current"])

    def text(self, lang: str = "en") -> str:
        """The message in the staff member's language, English when no translation exists."""
        if lang == "id" and self.id_text:
            return self.id_text
        return str(self.args[0]) if self.args else self.__class__.__name__


class ConfigError(DampakError):
    """The survey config (YAML) or the codebook is missing, malformed or inconsistent."""


class InputError(DampakError):
    """A raw export can't be read or doesn't match the codebook (names file, row, column)."""


class RunError(DampakError):
    """A pipeline run failed or could not start (lock held, notebook failed)."""


def located(path, row=None, column=None) -> tuple[str, str]:
    """'file X, row R, column "C"' in English and Indonesian, for error messages."""
    en = f"file {path}"
    idn = f"berkas {path}"
    if row is not None:
        en += f", row {row}"
        idn += f", baris {row}"
    if column is not None:
        en += f', column "{column}"'
        idn += f', kolom "{column}"'
    return en, idn
