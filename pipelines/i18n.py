"""User-facing strings and locale-aware number formatting for Dampak reports and staff messages.

One catalogue: each language is a folder ``pipelines/locales/<lang>/`` of YAML files (report
text in ``report.yaml``, staff messages under ``msg.`` in ``messages.yaml``, number words in
``format.yaml``), addressed with dotted keys such as ``"section.executive_summary"``. The
languages are the folders found there, so adding a language is adding a folder. Indonesian
(``"id"``) is the default language.

Number formatting never touches the OS locale: separators come from the catalogue's
``format.*`` keys, so output is the same on every machine. Missing values (None, NaN, pd.NA)
format as an en dash "–". Negative numbers use the typographic minus sign "−" (U+2212), which
screen readers announce as "minus" and which spreadsheets will not mistake for the start of a
formula.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any

from pipelines.errors import DampakError

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DEFAULT_LANG = "id"
FALLBACK_LANG = "en"  # a staff message missing in a language is printed in English
MISSING = "–"  # en dash, shown for NaN / suppressed / not available
MINUS = "−"  # U+2212


class TranslationError(DampakError, KeyError):
    """A translation key (or one of its format fields) is missing, or the language is unknown."""

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0]) if self.args else ""


@cache
def _discover(folder: Path) -> tuple[str, ...]:
    found = sorted(d.name for d in folder.iterdir() if d.is_dir() and any(d.glob("*.yaml")))
    return tuple(sorted(found, key=lambda x: x != DEFAULT_LANG))  # the default first


def languages() -> tuple[str, ...]:
    """The languages the catalogue has: one folder of YAML files each, the default first."""
    return _discover(LOCALES_DIR)


def _check_lang(lang: str) -> str:
    if lang not in languages():
        raise TranslationError(f"Unsupported language {lang!r}; use one of {languages()}.")
    return lang


def _flatten(tree: Any, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    if not isinstance(tree, dict):
        raise TranslationError(f"Locale entry {prefix!r} must be a mapping or a string.")
    for key, value in tree.items():
        full = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(_flatten(value, full))
        elif isinstance(value, str):
            out[full] = value
        else:
            raise TranslationError(f"Locale entry {full!r} must be a string, got {value!r}.")
    return out


def _read(path: Path) -> Any:
    """A locale file; a key given twice (a hidden block of texts) is an error in plain English,
    since the catalogue that would word it is the one failing to load."""
    from pipelines.config import DuplicateKeyError, read_yaml
    from pipelines.errors import ConfigError

    try:
        return read_yaml(path.read_text(encoding="utf-8"))
    except DuplicateKeyError as e:
        raise ConfigError(
            f"{path}, line {e.line}: the key '{e.key}' is given twice (first on line "
            f"{e.first_line}), so YAML would silently drop the first; merge them into one."
        ) from None


@cache
def catalog(lang: str = DEFAULT_LANG) -> dict[str, str]:
    """All strings of one language (every file in its folder) as ``{dotted.key: text}`` (cached)."""
    _check_lang(lang)
    out: dict[str, str] = {}
    for path in sorted((LOCALES_DIR / lang).glob("*.yaml")):
        tree = _flatten(_read(path) or {})
        twice = sorted(set(tree) & set(out))
        if twice:
            raise TranslationError(f"{path}: the keys {twice} are also in another file of {lang}.")
        out.update(tree)
    return out


def _fill(key: str, lang: str, text: str, fmt: dict[str, Any]) -> str:
    try:
        return text.format(**fmt)
    except (KeyError, IndexError) as exc:
        raise TranslationError(
            f"Translation {key!r} ({lang}) needs the value {exc.args[0]!r}; got {sorted(fmt) or 'none'}."
        ) from None


def t(key: str, lang: str = DEFAULT_LANG, /, **fmt: Any) -> str:
    """Translate ``key`` into ``lang`` and fill ``{placeholders}`` from ``fmt``.

    >>> t("stat.suppressed", "en", k=10)
    'suppressed (n < 10)'
    """
    strings = catalog(lang)
    try:
        text = strings[key]
    except KeyError:
        raise TranslationError(
            f"Missing translation key {key!r} for language {lang!r} "
            f"(add it to pipelines/locales/{lang}/ and the other languages' folders)."
        ) from None
    return _fill(key, lang, text, fmt)


def message(key: str, lang: str, /, **fmt: Any) -> str:
    """The staff message ``msg.<key>`` in ``lang`` (English if that language lacks it)."""
    full = f"msg.{key}"
    if lang not in languages() or full not in catalog(lang):
        lang = FALLBACK_LANG
    return t(full, lang, **fmt)


def has_key(key: str, lang: str = DEFAULT_LANG) -> bool:
    return key in catalog(lang)


# ---------------------------------------------------------------------------------------------
# numbers
# ---------------------------------------------------------------------------------------------


def _as_float(x: Any) -> float | None:
    """``None`` for missing values, otherwise a float."""
    if x is None:
        return None
    try:
        value = float(x)
    except (TypeError, ValueError):
        # pd.NA / NaT and friends refuse float(); treat them as missing
        try:
            import pandas as pd

            if pd.isna(x):
                return None
        except (TypeError, ValueError):
            pass
        raise TypeError(f"Cannot format {x!r} as a number.") from None
    return None if math.isnan(value) else value


def _round_half_up(value: float, decimals: int) -> Decimal:
    quantum = Decimal(1).scaleb(-decimals)
    return Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP)


def _group(d: Decimal, decimals: int, lang: str) -> str:
    """Format a non-negative Decimal with thousands grouping in ``lang`` style."""
    text = f"{d:,.{decimals}f}"  # en style: 1,234.5
    f = _formats(lang)
    return text.replace(",", "\0").replace(".", f["decimal"]).replace("\0", f["group"])


def fmt_number(x: Any, lang: str = DEFAULT_LANG, decimals: int = 1) -> str:
    """``1234.5`` → id ``"1.234,5"``, en ``"1,234.5"``. Rounds half away from zero."""
    _check_lang(lang)
    value = _as_float(x)
    if value is None:
        return MISSING
    if math.isinf(value):
        return ("" if value > 0 else MINUS) + "∞"
    d = _round_half_up(abs(value), decimals)
    sign = MINUS if value < 0 and d != 0 else ""
    return sign + _group(d, decimals, lang)


def fmt_int(n: Any, lang: str = DEFAULT_LANG) -> str:
    """``2000`` → id ``"2.000"``, en ``"2,000"``."""
    return fmt_number(n, lang, decimals=0)


def fmt_percent(
    p: Any, lang: str = DEFAULT_LANG, decimals: int = 1, *, scale: float = 100.0
) -> str:
    """A proportion as a percentage: ``0.123`` → id ``"12,3%"``, en ``"12.3%"``.

    ``p`` is a proportion (0–1). Pass ``scale=1`` when the value is already in percent (0–100),
    e.g. the output of :func:`pipelines.suppress.safe_percent`.
    """
    value = _as_float(p)
    if value is None:
        _check_lang(lang)
        return MISSING
    # multiply in decimal so 0.0125 → 1.25 exactly (and rounds half up to "1,3%")
    scaled = float(Decimal(repr(value)) * Decimal(repr(float(scale))))
    return fmt_number(scaled, lang, decimals) + "%"


_RUPIAH_UNITS = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"), (1e3, "thousand"))


@cache
def _formats_of(folder: Path, lang: str) -> dict[str, Any]:
    f = {k.removeprefix("format."): v for k, v in catalog(lang).items() if k.startswith("format.")}
    f["units"] = tuple((size, f[word]) for size, word in _RUPIAH_UNITS)
    return f


def _formats(lang: str) -> dict[str, Any]:
    """How ``lang`` writes numbers (its format.yaml: separators, Rupiah words), cached."""
    return _formats_of(LOCALES_DIR, lang)


def fmt_rupiah(x: Any, lang: str = DEFAULT_LANG, decimals: int = 1) -> str:
    """Rupiah in words: id ``"Rp 1,5 juta"``, ``"Rp 750 ribu"``, ``"Rp 1,2 miliar"``;
    en ``"IDR 1.5 million"``, ``"IDR 750 thousand"``. Trailing zero decimals are dropped."""
    _check_lang(lang)
    value = _as_float(x)
    if value is None:
        return MISSING
    prefix = _formats(lang)["rupiah"]
    sign = MINUS if value < 0 else ""
    amount = abs(value)
    units = _formats(lang)["units"]
    idx = next((i for i, (size, _) in enumerate(units) if amount >= size), None)
    if idx is None:
        d = _round_half_up(amount, 0)
        if d < 1000:
            return f"{sign if d else ''}{prefix} {_group(d, 0, lang)}"
        idx = len(units) - 1  # 999.6 rounds to 1000: show "Rp 1 ribu"
    d = _round_half_up(amount / units[idx][0], decimals)
    if d >= 1000 and idx > 0:  # 999 960 would read "1.000 ribu": promote to "1 juta"
        idx -= 1
        d = _round_half_up(amount / units[idx][0], decimals)
    word = units[idx][1]
    text = _group(d, decimals, lang)
    if decimals > 0:
        dec_sep = _formats(lang)["decimal"]
        whole, _, frac = text.rpartition(dec_sep)
        if frac.strip("0") == "":
            text = whole
    return f"{sign}{prefix} {text} {word}"


def fmt_ci(
    lo: Any,
    hi: Any,
    lang: str = DEFAULT_LANG,
    decimals: int = 1,
    *,
    percent: bool = False,
    scale: float = 100.0,
) -> str:
    """A confidence interval: id ``"10,2–14,5"``, en ``"10.2–14.5"``.

    When a bound is negative the dash would be ambiguous, so words are used instead:
    id ``"−1,2 s.d. 3,4"``, en ``"−1.2 to 3.4"``. With ``percent=True`` the bounds are
    proportions shown as percentages (``"10,2%–14,5%"``). A missing bound gives ``"–"``.
    """
    _check_lang(lang)
    a, b = _as_float(lo), _as_float(hi)
    if a is None or b is None:
        return MISSING
    if percent:
        sa, sb = (
            fmt_percent(a, lang, decimals, scale=scale),
            fmt_percent(b, lang, decimals, scale=scale),
        )
    else:
        sa, sb = fmt_number(a, lang, decimals), fmt_number(b, lang, decimals)
    if sa.startswith(MINUS) or sb.startswith(MINUS):
        return f"{sa} {t('stat.ci_to', lang)} {sb}"
    return f"{sa}–{sb}"


def fmt_est_ci(
    est: Any,
    lo: Any,
    hi: Any,
    lang: str = DEFAULT_LANG,
    decimals: int = 1,
    *,
    percent: bool = False,
    scale: float = 100.0,
) -> str:
    """Estimate with its interval: id ``"12,3% (IK 95% 10,2%–14,5%)"``."""
    if percent:
        head = fmt_percent(est, lang, decimals, scale=scale)
    else:
        head = fmt_number(est, lang, decimals)
    if head == MISSING:
        return MISSING
    ci = fmt_ci(lo, hi, lang, decimals, percent=percent, scale=scale)
    if ci == MISSING:
        return head
    return f"{head} ({t('stat.ci95', lang)} {ci})"


def fmt_p(p: Any, lang: str = DEFAULT_LANG) -> str:
    """A p-value as published: ``"< 0,001"`` below 0.001 (never ``"0,000"``), else three
    decimals (``"0,018"``; en ``"0.018"``)."""
    _check_lang(lang)
    value = _as_float(p)
    if value is None:
        return MISSING
    if value < 0.001:
        return "< " + fmt_number(0.001, lang, 3)
    return fmt_number(min(value, 1.0), lang, 3)


def fmt_date(d: Any, lang: str = DEFAULT_LANG) -> str:
    """A date in words, day first: id ``"2 Desember 2026"``, en ``"2 December 2026"``.

    Babel supplies the month names from CLDR (the same data phones use), so no language's
    month names are typed by hand here."""
    from babel.dates import format_date

    return format_date(d, "d MMMM y", locale=t("format.babel_locale", lang))


_BAND = re.compile(r"^(\d+(?:\.\d+)?)(?:jt)?(?:-(\d+(?:\.\d+)?)jt|(\+))$")


def fmt_rupiah_band(code: Any, lang: str = DEFAULT_LANG) -> str:
    """An income band code made by ``clean.band_labels`` (millions of rupiah: ``"0-1jt"``,
    ``"1jt-2.5jt"``, ``"5jt+"``) in words: id ``"Rp 1–2,5 jt"``, ``"Rp 5 jt ke atas"``; en
    ``"IDR 1–2.5 m"``, ``"IDR 5 m and over"``. Codes of another form are returned as they are."""
    _check_lang(lang)
    text = str(code).strip()
    m = _BAND.match(text)
    if not m:
        return text
    lo, hi, plus = m.groups()

    def num(x: str) -> str:
        return fmt_number(float(x), lang, 0 if float(x).is_integer() else 1)

    unit, prefix = t("format.band_unit", lang), t("format.rupiah", lang)
    if plus:
        return t("stat.band_over", lang, amount=f"{prefix} {num(lo)} {unit}")
    return f"{prefix} {num(lo)}–{num(hi)} {unit}"
