"""Vectorised parsers for the raw answers found in TPBIS survey exports.

Every parser takes a pandas Series of raw values (normally strings from Google Forms, Kobo or
Excel; NaN allowed) and returns a :class:`Parsed` holding

* ``values`` - the parsed values, same index as the input, missing where the input was blank or
  could not be parsed, and
* ``invalid`` - a boolean Series that is True where the input was *not blank* but could not be
  parsed, so the cleaning step can log exactly what was thrown away.

Blank means NaN/None or a string that is empty after :func:`normalise_text`. Explicit missing
codes such as ``"99"`` or ``"Tidak tahu"`` are *not* blank for the parsers; the cleaning step
removes them first with :func:`missing_codes`.

Speed: survey columns have few distinct values, so every parser factorises the column, parses
each distinct value once in Python and maps the results back with a NumPy ``take``. One million
rows with a few hundred distinct values parse in well under a second.

Output dtypes: integer codes (:func:`likert`, :func:`yes_no`) are nullable ``Int64``; amounts,
ages and numbers are ``float64`` with NaN; dates are tz-naive ``datetime64[ns]`` with NaT; text
and place names are ``object`` with NaN.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "Parsed",
    "normalise_text",
    "likert",
    "foreign_likert",
    "yes_no",
    "missing_codes",
    "rupiah",
    "dates",
    "age_from_birth_year",
    "numeric",
    "match_places",
    "DEFAULT_MISSING_CODES",
]


@dataclass(frozen=True)
class Parsed:
    """Result of a parser: parsed ``values`` and an ``invalid`` mask (non-blank but unparseable).

    ``rule`` is only set by :func:`match_places`: which rule matched each row ("exact",
    "alias", "fuzzy") or why it did not ("ambiguous", "unmatched"); NaN for blank input.
    """

    values: pd.Series
    invalid: pd.Series
    rule: pd.Series | None = None

    @property
    def n_invalid(self) -> int:
        return int(self.invalid.sum())

    def invalid_examples(self, raw: pd.Series, limit: int = 10) -> list[Any]:
        """Up to ``limit`` distinct raw inputs that failed, most frequent first (for the log)."""
        bad = raw[self.invalid]
        return list(bad.value_counts().index[:limit])

    def rule_counts(self) -> dict[str, int]:
        """How many rows each matching rule handled (empty dict for non-matching parsers)."""
        if self.rule is None:
            return {}
        return {str(k): int(v) for k, v in self.rule.value_counts().items()}


# --------------------------------------------------------------------------------------------
# Shared machinery
# --------------------------------------------------------------------------------------------

_BLANK = object()  # sentinel returned by per-value parsers for blank input


def _as_series(s: Any) -> pd.Series:
    if isinstance(s, pd.Series):
        return s
    return pd.Series(s)


def _is_missing_scalar(x: Any) -> bool:
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    if isinstance(x, float) and math.isnan(x):
        return True
    return isinstance(x, np.floating) and np.isnan(x)


def _scalar_text(x: Any) -> str:
    """Text form of a raw scalar; whole floats lose their ``.0`` (Excel turns "5" into 5.0)."""
    if isinstance(x, str):
        return x
    if isinstance(x, bool | np.bool_):
        return "true" if x else "false"
    if isinstance(x, float | np.floating) and float(x).is_integer():
        return str(int(x))
    return str(x)


_UNDECIDED = object()  # a batch parser's "leave this value to the value-by-value parser"


def _unique_apply(
    s: pd.Series,
    fn: Callable[[Any], Any],
    batch: Callable[[np.ndarray], list[Any]] | None = None,
) -> tuple[np.ndarray, list[Any]]:
    """Factorise ``s`` and apply ``fn`` once per distinct non-missing value.

    ``batch`` (optional) parses all distinct values at once and returns ``_UNDECIDED`` for
    those ``fn`` must see. Returns ``(codes, results)``; ``codes`` is -1 for missing input.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    if batch is None:
        return codes, [fn(u) for u in uniques]
    pre = batch(np.asarray(uniques, dtype=object))
    return codes, [fn(u) if r is _UNDECIDED else r for u, r in zip(uniques, pre, strict=True)]


def _map_unique(
    s: pd.Series,
    fn: Callable[[Any], Any],
    dtype: Any = object,
    na_value: Any = np.nan,
    batch: Callable[[np.ndarray], list[Any]] | None = None,
) -> Parsed:
    """Apply ``fn`` to each distinct non-missing value of ``s`` and broadcast the results.

    ``fn`` returns the parsed value, ``None`` for "could not parse" or ``_BLANK`` for blank.
    The typed result array is built at the level of distinct values and then expanded with one
    NumPy ``take`` (the last slot stands for missing input, code -1).
    """
    s = _as_series(s)
    codes, results = _unique_apply(s, fn, batch)
    n = len(results)
    bad = np.zeros(n + 1, dtype=bool)
    ok = np.zeros(n + 1, dtype=bool)
    for i, r in enumerate(results):
        if r is None:
            bad[i] = True
        elif r is not _BLANK:
            ok[i] = True
    good = [r if ok[i] else None for i, r in enumerate(results)] + [None]
    if dtype == "Int64":
        ints = np.array([r if r is not None else 0 for r in good], dtype="int64")
        arr = pd.arrays.IntegerArray(ints[codes], ~ok[codes])
        values = pd.Series(arr, index=s.index, name=s.name)
    elif dtype == "datetime64[ns]" and all(
        r is None or isinstance(r, np.datetime64) for r in good
    ):  # the compiled timestamp path's values: one conversion, None → NaT
        dts = np.array(good, dtype="datetime64[ns]")
        values = pd.Series(dts[codes], index=s.index, name=s.name)
    elif dtype == "datetime64[ns]":
        dts = np.array(
            [np.datetime64(r, "ns") if r is not None else np.datetime64("NaT", "ns") for r in good],
            dtype="datetime64[ns]",
        )
        values = pd.Series(dts[codes], index=s.index, name=s.name)
    elif dtype == "float64":
        fl = np.array([r if r is not None else np.nan for r in good], dtype="float64")
        values = pd.Series(fl[codes], index=s.index, name=s.name)
    else:
        obj = np.empty(n + 1, dtype=object)
        for i, r in enumerate(good):
            obj[i] = r if r is not None else na_value
        values = pd.Series(obj[codes], index=s.index, name=s.name, dtype=object)
    invalid = pd.Series(bad[codes], index=s.index, name=s.name)
    return Parsed(values=values, invalid=invalid)


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------

# Excel/openpyxl escapes carriage returns as "_x000D_"; other control escapes are rarer.
_XML_ESCAPE = re.compile(r"_x000[dDaA9]_")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad]")
_WS = re.compile(r"\s+")


def _norm(x: str) -> str:
    if not x.isascii():  # ASCII is already NFKC, without zero-width or non-breaking spaces
        x = unicodedata.normalize("NFKC", x)
        x = _ZERO_WIDTH.sub("", x)
    if "_x000" in x:
        x = _XML_ESCAPE.sub(" ", x)
    # str.split() and the regex \s agree on what is whitespace (str.isspace)
    return " ".join(x.split())


def normalise_text(s: pd.Series, empty_as_na: bool = True) -> pd.Series:
    """Clean free text: NFKC, drop ``_x000D_`` escapes and zero-width characters, turn
    non-breaking spaces into spaces, collapse all whitespace (incl. newlines) and strip.

    Non-string values (numbers) are left untouched. Strings that end up empty become NaN unless
    ``empty_as_na=False``. This cannot fail, so it returns a plain Series, not :class:`Parsed`.
    """
    return _normalise_counted(s, lambda x: _normalise_one(x, empty_as_na))[0]


def _normalise_one(x: Any, empty_as_na: bool) -> Any:
    if not isinstance(x, str):
        return x
    y = _norm(x)
    if not y and empty_as_na:
        return _BLANK
    return y


def _normalise_counted(s: Any, one: Callable[[Any], Any]) -> tuple[pd.Series, int]:
    """:func:`normalise_text` plus how many rows it changed (blank and missing count as equal),
    both worked out once per distinct value."""
    s = _as_series(s)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    done = _already_normal(pd.Series(uniques))  # compiled check, distinct values only
    res = np.append(np.asarray(uniques, dtype=object), np.nan)
    changed = np.zeros(len(res), dtype=bool)
    for i in np.flatnonzero(~done[: len(uniques)]):
        before = res[i]
        r = one(before)
        res[i] = np.nan if r is _BLANK else r
        changed[i] = bool(("" if _is_missing_scalar(res[i]) else res[i]) != before)
    n_changed = int(changed[codes].sum()) if changed.any() else 0
    return pd.Series(res[codes], index=s.index, name=s.name, dtype=object), n_changed


def normalise_text_counted(s: pd.Series) -> tuple[pd.Series, int]:
    """:func:`normalise_text` and the number of rows whose text it changed (for the log)."""
    return _normalise_counted(s, lambda x: _normalise_one(x, True))


# Python's whitespace in ASCII (str.isspace), other than one space between words
_ASCII_WS_RUN = r"[\t-\r\x1c-\x1f]|^ | $|  |_x000"


def _arrow_text(s: pd.Series):
    """A text column as an Arrow array (no copy for pandas' Arrow-backed strings)."""
    import pyarrow as pa

    arr = pa.array(s.array if isinstance(s.dtype, pd.StringDtype) else s, from_pandas=True)
    return arr.cast(pa.large_string())


def _already_normal(s: pd.Series) -> np.ndarray:
    """Where a value is non-empty ASCII text without odd spacing or export escapes, i.e. what
    :func:`_norm` returns unchanged; checked in compiled code (a national round has millions)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pd.api.types.is_string_dtype(s.dtype):
        return np.zeros(len(s), dtype=bool)
    try:
        arr = _arrow_text(s)
    except (pa.ArrowException, TypeError):  # numbers among the text: value by value
        return np.zeros(len(s), dtype=bool)
    ok = pc.and_(
        pc.and_(pc.string_is_ascii(arr), pc.greater(pc.utf8_length(arr), 0)),
        pc.invert(pc.match_substring_regex(arr, _ASCII_WS_RUN)),
    )
    return ok.fill_null(False).to_numpy(zero_copy_only=False)


def _key(x: Any) -> str:
    """Lower-case, punctuation-free, single-spaced key used for vocabulary look-ups."""
    t = _norm(_scalar_text(x)).casefold()
    t = re.sub(r"[^\w]+", " ", t)
    return _WS.sub(" ", t).strip()


# --------------------------------------------------------------------------------------------
# Likert, yes/no, missing codes
# --------------------------------------------------------------------------------------------

_VERY = {"sangat", "sgt", "sngt", "sangt", "amat", "strongly", "very", "sekali", "totally"}
_NOT = {"tidak", "tdk", "tdak", "tak", "gak", "ga", "nggak", "ngga", "enggak", "not", "kurang"}
_AGREE = {"setuju", "agree", "agreed", "sepakat"}
_AGREE_RE = re.compile(r"^s(?:e|a)?t(?:e)?u?j(?:u+)?$")  # setuju, stju, stj, setju, stuju
_NEUTRAL_PHRASES = {
    "netral",
    "neutral",
    "ragu",
    "ragu ragu",
    "raguragu",
    "ragu2",
    "rr",
    "n",
    "r",
    "biasa",
    "biasa saja",
    "biasa aja",
    "neither agree nor disagree",
    "neither",
    "tidak tahu pasti",
    "antara setuju dan tidak",
}
# Standalone abbreviations: semantic level (2 = strongly agree ... -2 = strongly disagree).
_ABBREV = {
    "ss": 2,
    "sa": 2,
    "s": 1,
    "a": 1,
    "ts": -1,
    "d": -1,
    "sts": -2,
    "sd": -2,
}
_LEADING_CODE = re.compile(r"^\(?(\d)\)?\s*(?:[-.:=)]\s*)?(.*)$")
_TRAILING_CODE = re.compile(r"^(.*?)\s*[(\[]\s*(\d)\s*[)\]]$")


def _likert_level(key: str) -> int | None | str:
    """Semantic level of a Likert label: 2, 1, -1, -2, "neutral", or None if unknown."""
    if not key:
        return None
    if key in _ABBREV:
        return _ABBREV[key]
    if key in _NEUTRAL_PHRASES:
        return "neutral"
    tokens = key.split()
    very = neg = agree = 0
    for tok in tokens:
        if tok in _VERY or tok in {"sangat2", "sangatlah"}:
            very += 1
        elif tok in _NOT:
            neg += 1
        elif tok in _AGREE or _AGREE_RE.match(tok):
            agree += 1
        elif tok == "disagree":
            neg += 1
            agree += 1
        elif tok in {"saya", "i", "ya"}:
            continue
        else:
            return None
    if agree != 1 or neg > 1:
        return None
    if neg:
        return -2 if very else -1
    return 2 if very else 1


def likert(
    s: pd.Series,
    scale: dict[int, list[str]] | None = None,
    points: int = 5,
) -> Parsed:
    """Agreement words → integer codes (``Int64``).

    Built-in vocabulary (any case, Indonesian or English, common abbreviations and typos):

    ====================================================  ========  ========
    answer                                                5-point   4-point
    ====================================================  ========  ========
    SS, Sangat setuju, sangat stju, Strongly agree, SA    5         4
    S, Setuju, Agree, A                                   4         3
    N, RR, Netral, Ragu-ragu, Neutral, Biasa saja         3         invalid
    TS, Tidak setuju, Kurang setuju, Disagree, D          2         2
    STS, Sangat tidak setuju, Strongly disagree, SD       1         1
    ====================================================  ========  ========

    Digits ``"1"``..``"5"`` (``"1"``..``"4"`` on a 4-point item) are taken as codes, also in the
    form ``"5 - Sangat setuju"``, ``"5. SS"``, ``"(5) Sangat setuju"`` or
    ``"Sangat setuju (5)"``; if such a label contradicts its digit the answer is invalid.

    ``scale`` is a codebook label map ``{code: [label, ...]}``. When given, *only* those labels
    (matched case/punctuation/space-insensitively) and the codes themselves are accepted - the
    built-in agreement vocabulary is not used, so the same function serves frequency or
    satisfaction scales.
    """
    if scale is None and points not in (4, 5):  # the built-in agreement vocabulary
        raise ValueError(f"points must be 4 or 5, not {points!r}")
    custom: dict[str, int] | None = None
    valid_codes: set[int]
    if scale is not None:
        custom = {}
        for code, labels in scale.items():
            for lab in [*labels, str(code)]:
                k = _key(lab)
                if k in custom and custom[k] != int(code):
                    raise ValueError(f"label {lab!r} is given for two codes in the scale")
                custom[k] = int(code)
        valid_codes = {int(c) for c in scale}
    else:
        valid_codes = set(range(1, points + 1))

    def label_code(key: str) -> int | None:
        if custom is not None:
            return custom.get(key)
        lvl = _likert_level(key)
        if lvl is None:
            return None
        if lvl == "neutral":
            return 3 if points == 5 else None
        return {2: points, 1: points - 1, -1: 2, -2: 1}[lvl]

    def one(x: Any) -> Any:
        key = _key(x)
        if not key:
            return _BLANK
        if re.fullmatch(r"\d+ 0+", key) and re.fullmatch(r"\d+\.0+", _norm(_scalar_text(x))):
            key = key.split()[0]  # "4.0": a linear-scale answer re-saved as a float
        if re.fullmatch(r"\d+", key):
            c = int(key)
            return c if c in valid_codes else None
        code = label_code(key)
        if code is not None:
            return code
        # "5 - Sangat setuju" / "Sangat setuju (5)": digit plus label that must agree
        raw = _norm(_scalar_text(x))
        m = _LEADING_CODE.match(raw)
        digit, rest = (m.group(1), m.group(2)) if m else (None, "")
        if digit is None or not rest:
            m2 = _TRAILING_CODE.match(raw)
            if m2:
                digit, rest = m2.group(2), m2.group(1)
        if digit is None:
            return None
        c = int(digit)
        if c not in valid_codes:
            return None
        if rest and label_code(_key(rest)) not in (None, c):
            return None  # contradiction such as "5 - Tidak setuju"
        return c

    return _map_unique(s, one, dtype="Int64", na_value=pd.NA)


def foreign_likert(s: pd.Series, codes: Iterable[int]) -> pd.Series:
    """True where an answer belongs to another answer scale than the declared ``codes``: a
    neutral word ("Netral", "Ragu-ragu") on a set without a middle code, or a whole number
    outside the codes ("5" on a 1-4 set). Decided once per distinct answer."""
    codes = {int(c) for c in codes}
    has_middle = len(codes) % 2 == 1

    def one(x: Any) -> Any:
        key = _key(x)
        if not key:
            return _BLANK
        m = re.fullmatch(r"\(?(\d+)\)?(?: .*)?", key)
        if m:
            return int(m.group(1)) not in codes
        rest = _LEADING_CODE.match(_norm(_scalar_text(x)))
        level = _likert_level(_key(rest.group(2)) if rest and rest.group(2) else key)
        return level == "neutral" and not has_middle

    return _map_unique(s, one, dtype=object, na_value=False).values.astype(bool)


_YES = {"ya", "iya", "y", "yes", "true", "1", "benar", "betul", "yup", "yoi"}
_NO = {"tidak", "tdk", "t", "no", "n", "false", "0", "bukan", "tak", "gak", "nggak", "salah"}


def yes_no(s: pd.Series) -> Parsed:
    """Ya/Iya/Y/Yes/True/1/Benar → 1; Tidak/Tdk/T/No/False/0/Bukan/Salah → 0 (``Int64``).

    Any case and surrounding punctuation are accepted ("Ya.", "TIDAK"); anything else (e.g.
    "Mungkin", "Tidak tahu") is invalid.
    """

    def one(x: Any) -> Any:
        if isinstance(x, bool | np.bool_):
            return int(x)
        key = _key(x)
        if not key:
            return _BLANK
        if key in _YES:
            return 1
        if key in _NO:
            return 0
        return None

    return _map_unique(s, one, dtype="Int64", na_value=pd.NA)


DEFAULT_MISSING_CODES = ["99", "Tidak tahu", "N/A", "NA", "-", "", "tidak tahu", "TT"]


def missing_codes(s: pd.Series, codes: Iterable[Any] | None = None) -> pd.Series:
    """Boolean mask of *explicit* missing codes (case- and whitespace-insensitive).

    Real NaN is not an explicit code and gives False. ``""`` in ``codes`` (the default) makes
    empty and whitespace-only strings count as missing codes. Numeric cells are compared by text,
    so 99 and 99.0 both match ``"99"``.
    """
    codes = DEFAULT_MISSING_CODES if codes is None else list(codes)
    wanted = {_norm(_scalar_text(c)).casefold() for c in codes}
    s = _as_series(s)
    if not wanted:  # an empty code list (e.g. a codebook whose codes are all N/A-like)
        return pd.Series(False, index=s.index, name=s.name)

    def one(x: Any) -> Any:
        return _norm(_scalar_text(x)).casefold() in wanted

    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    u = pd.Series(uniques)
    normal = _already_normal(u)  # plain ASCII text: compared in compiled code
    hit = np.zeros(len(u) + 1, dtype=bool)
    if normal.any():
        import pyarrow as pa
        import pyarrow.compute as pc

        lower = pc.utf8_lower(_arrow_text(u[normal]))  # = casefold for ASCII
        hit[np.flatnonzero(normal)] = pc.is_in(
            lower, value_set=pa.array(sorted(wanted), pa.large_string())
        )
    for i in np.flatnonzero(~normal):
        hit[i] = one(uniques[i])
    return pd.Series(hit[codes], index=s.index, name=s.name)


# --------------------------------------------------------------------------------------------
# Numbers and Rupiah
# --------------------------------------------------------------------------------------------


def _parse_number(txt: str, unit_follows: bool = False) -> float | None:
    """Parse digits with Indonesian or English separators.

    Disambiguation rule for a single separator (dot or comma) that occurs exactly once:
    followed by exactly three digits it is a *thousands* separator ("1.500" = 1500,
    "1,500" = 1500) unless a unit word follows ("1.500 juta" = 1.5 juta); otherwise it is the
    decimal mark ("1.5", "3,5"). A separator that occurs several times is a thousands separator
    and every group must have three digits ("1.500.000"). With both dot and comma present the
    last one is the decimal mark ("1.500.000,00", "1,500,000.00").
    """
    if not re.fullmatch(r"\d[\d.,]*", txt) or txt[-1] in ".,":
        return None
    dots, commas = txt.count("."), txt.count(",")
    if dots and commas:
        dec = "." if txt.rfind(".") > txt.rfind(",") else ","
        th = "," if dec == "." else "."
        if txt.count(dec) != 1:
            return None
        whole, frac = txt.split(dec)
        if not _valid_groups(whole, th):
            return None
        return float(whole.replace(th, "") + "." + frac)
    if not dots and not commas:
        return float(txt)
    sep = "." if dots else ","
    parts = txt.split(sep)
    if len(parts) > 2:
        return float("".join(parts)) if _valid_groups(txt, sep) else None
    whole, frac = parts
    if len(frac) == 3 and not unit_follows and len(whole) <= 3:
        return float(whole + frac)
    return float(whole + "." + frac)


def _valid_groups(txt: str, sep: str) -> bool:
    parts = txt.split(sep)
    if len(parts) == 1:
        return True
    return 1 <= len(parts[0]) <= 3 and all(len(p) == 3 for p in parts[1:])


def numeric(s: pd.Series) -> Parsed:
    """Tolerant numbers → float: ``"3,5"`` = 3.5, ``"1.500"`` = 1500, ``"1.500.000"``,
    ``"-2"``, ``" 12 "``, ``"1 500"`` (space-grouped thousands), real numbers pass through.

    Uses the separator rule of :func:`rupiah` (dot + exactly three digits = thousands).
    """

    def one(x: Any) -> Any:
        if isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool):
            return float(x)
        t = _norm(_scalar_text(x))
        if not t:
            return _BLANK
        t = t.replace("\u2212", "-")
        sign = 1.0
        if t[0] in "+-":
            sign = -1.0 if t[0] == "-" else 1.0
            t = t[1:].strip()
        if re.fullmatch(r"\d{1,3}(?: \d{3})+", t):
            t = t.replace(" ", "")
        v = _parse_number(t)
        return None if v is None else sign * v

    return _map_unique(s, one, dtype="float64")


_UNIT_WORDS = {
    "ribu": 1e3,
    "rb": 1e3,
    "rbu": 1e3,
    "rebu": 1e3,
    "k": 1e3,
    "juta": 1e6,
    "jt": 1e6,
    "jta": 1e6,
    "jut": 1e6,
    "million": 1e6,
    "mio": 1e6,
    "miliar": 1e9,
    "milyar": 1e9,
    "millyar": 1e9,
    "m": 1e9,
    "b": 1e9,
    "bn": 1e9,
    "billion": 1e9,
    "triliun": 1e12,
    "trilyun": 1e12,
}
_UNIT_ALT = "|".join(sorted(_UNIT_WORDS, key=len, reverse=True))
# one "number [unit]" component; "an"/"-an" after a unit ("2 juta-an", "2jtan") = "about"
_COMPONENT = re.compile(rf"(\d[\d.,]*)\s*(?:({_UNIT_ALT})\.?(?:\s*-?\s*an)?)?(?![a-z])")
_RANGE_SPLIT = re.compile(r"\s*(?:-|–|—|s/d|s\.d\.?|\bsd\b|\bsampai\b|\bhingga\b|\bto\b)\s*")
_NOISE_PREFIX = re.compile(
    r"^(?:rp\.?|idr|±|\+/-|\+-|~|kurang lebih|kurleb|kira kira|kira-kira|kira2|sekitar|"
    r"kisaran|approx\.?|about|around|sktr)\s*"
)
_NOISE_SUFFIX = re.compile(
    r"\s*(?:[,.]-|,00-|/\s*(?:bulan|bln|bl)|per\s*(?:bulan|bln)|sebulan|rupiah)$"
)

_WORD_NUM = {
    "nol": 0,
    "satu": 1,
    "se": 1,
    "dua": 2,
    "tiga": 3,
    "empat": 4,
    "lima": 5,
    "enam": 6,
    "tujuh": 7,
    "delapan": 8,
    "sembilan": 9,
    "sepuluh": 10,
    "sebelas": 11,
    "seratus": 100,
    "setengah": 0.5,
}


def _words_amount(t: str) -> float | None:
    """Indonesian number words: "dua juta", "sejuta", "seratus lima puluh ribu",
    "dua setengah juta" (2.5 juta), "tiga ratus ribu"."""
    t = re.sub(r"\bse(juta|ribu|ratus|puluh|belas)\b", r"se \1", t)
    tokens = t.split()
    if not tokens:
        return None
    total = 0.0
    current = 0.0
    seen = False
    for tok in tokens:
        if tok in _WORD_NUM:
            current += _WORD_NUM[tok]
            seen = True
        elif tok == "belas":
            current += 10
        elif tok == "puluh":
            current = (current % 10) * 10 + (current - current % 10)
        elif tok == "ratus":
            current *= 100
        elif tok in ("ribu", "juta", "miliar", "milyar"):
            mult = {"ribu": 1e3, "juta": 1e6}.get(tok, 1e9)
            total += (current or 1) * mult
            current = 0
        else:
            return None
    return (total + current) if seen else None


def _single_amount(t: str, inherit_unit: float | None = None) -> tuple[float, bool] | None:
    """One amount, possibly in several components ("1 juta 500 ribu"); returns (value, had_unit)."""
    t = t.strip()
    if not t:
        return None
    if not re.search(r"\d", t):
        v = _words_amount(t)
        return None if v is None else (v, True)
    pos = 0
    total = 0.0
    had_unit = False
    n = 0
    last_mult = math.inf
    for m in _COMPONENT.finditer(t):
        gap = t[pos : m.start()].strip()
        if gap not in ("", "dan", "and", "+"):
            return None
        unit = m.group(2)
        mult = _UNIT_WORDS[unit] if unit else None
        v = _parse_number(m.group(1), unit_follows=mult is not None)
        if v is None:
            return None
        if mult is None and inherit_unit is not None and n == 0:
            mult = inherit_unit
        if mult is not None:
            if mult >= last_mult:
                return None  # "500 ribu 2 juta" is not an amount
            last_mult = mult
            had_unit = True
        elif n > 0:
            # a bare number after a unit component: "1 juta 500" is too ambiguous
            return None
        total += v * (mult or 1.0)
        pos = m.end()
        n += 1
    if n == 0 or t[pos:].strip():
        return None
    return total, had_unit


def _rupiah_one(x: Any) -> Any:
    if isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool):
        return float(x)
    t = _norm(_scalar_text(x)).casefold().replace("\u2212", "-")
    if not t:
        return _BLANK
    t = re.sub(r"(?<=[a-z])\.(?=\s|\d|$)", " ", t)  # "rp.", "jt." → "rp ", "jt "
    for _ in range(3):
        t2 = _NOISE_SUFFIX.sub("", _NOISE_PREFIX.sub("", t.strip())).strip()
        if t2 == t:
            break
        t = t2
    t = t.replace("rp", " ").replace("idr", " ").strip()
    if not t:
        return None
    sign = 1.0
    if t.startswith("(") and t.endswith(")"):
        sign, t = -1.0, t[1:-1].strip()
    elif t.startswith("-") or t.startswith("minus "):
        sign, t = -1.0, t.removeprefix("minus").removeprefix("-").strip()
    t = re.sub(r"(?<=[a-z])\s*-\s*an\b", "an", t)  # "juta - an" → "jutaan"
    t = re.sub(r"\b(juta|ribu|miliar|milyar)an\b", r"\1", t)
    t = re.sub(r"\b(jt|rb)an\b", r"\1", t)
    parts = [p for p in _RANGE_SPLIT.split(t)]
    if len(parts) == 1:
        r = _single_amount(t)
        return None if r is None else sign * r[0]
    if len(parts) != 2 or sign < 0:
        return None
    hi = _single_amount(parts[1])
    if hi is None:
        return None
    hi_unit = None
    if hi[1]:
        m = _COMPONENT.search(parts[1])
        if m and m.group(2):
            hi_unit = _UNIT_WORDS[m.group(2)]
    lo = _single_amount(parts[0], inherit_unit=hi_unit)
    if lo is None or lo[0] > hi[0]:
        return None
    return (lo[0] + hi[0]) / 2.0


def rupiah(s: pd.Series) -> Parsed:
    """Rupiah amounts in the usual Indonesian spellings → float rupiah.

    Accepted (case-insensitive): ``"Rp 1.500.000"``, ``"Rp1,500,000.00"``, ``"1.500.000,00"``,
    ``"Rp. 750.000,-"``, ``"750000"``, ``"1,5 juta"``, ``"1.5jt"``, ``"500 ribu"``,
    ``"500rb"``, ``"500k"``, ``"2 juta-an"``/``"2jtan"`` (≈ 2 juta), ``"1.2 M"`` (miliar),
    ``"1 juta 500 ribu"``, ``"± 3 juta"``/``"sekitar 3 juta"``, ``"Rp 500.000/bulan"``,
    number words ``"dua juta"``, ``"sejuta"``, ``"dua setengah juta"``.

    Ranges ``"3-4 juta"``, ``"3 s/d 4 juta"``, ``"500rb-1jt"`` parse to the **midpoint**
    (3.5 juta); a unit written only after the upper bound applies to the lower bound too.
    A reversed range ("4-3 juta") is invalid.

    Separator rule: a dot or comma occurring once and followed by exactly three digits is a
    thousands separator ("1.500" = 1500) unless a unit word follows ("1.500 jt" = 1.5 juta);
    otherwise it is a decimal mark ("1.5 jt", "1,5"). Repeated separators are thousands
    separators and need 3-digit groups ("1.50.000" is invalid). With both "." and "," the last
    one is the decimal mark.

    Negative amounts (``"-500.000"``, ``"(500.000)"``, ``"minus 500 ribu"``) parse to negative
    values; the caller decides whether to flag them.
    """
    return _map_unique(s, _rupiah_one, dtype="float64")


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------

_MONTHS = {
    "januari": 1,
    "january": 1,
    "jan": 1,
    "februari": 2,
    "pebruari": 2,
    "february": 2,
    "feb": 2,
    "peb": 2,
    "maret": 3,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "mei": 5,
    "may": 5,
    "juni": 6,
    "june": 6,
    "jun": 6,
    "juli": 7,
    "july": 7,
    "jul": 7,
    "agustus": 8,
    "august": 8,
    "agu": 8,
    "agt": 8,
    "ags": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "oktober": 10,
    "october": 10,
    "okt": 10,
    "oct": 10,
    "november": 11,
    "nopember": 11,
    "nov": 11,
    "nop": 11,
    "desember": 12,
    "december": 12,
    "des": 12,
    "dec": 12,
}
_WEEKDAYS = (
    r"senin|selasa|rabu|kamis|jumat|jum'at|sabtu|minggu|ahad|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun"
)
_TIME = r"(?:[ T,]+(\d{1,2})[:.](\d{2})(?:[:.](\d{2})(?:[.,](\d{1,6}))?)?(?:\s*(am|pm))?)?"
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})" + _TIME + r"$")
_ISO_DATE = re.compile(
    r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_TEXT_DATE = re.compile(r"^(\d{1,2})\s*[- ]?\s*([a-z]+)\.?[- ,]*\s*(\d{4})" + _TIME + r"$")
_TEXT_DATE_EN = re.compile(r"^([a-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})" + _TIME + r"$")
_EXCEL_EPOCH = datetime(1899, 12, 30)


def _build(y: int, mo: int, d: int, hh=None, mi=None, ss=None, frac=None, ampm=None):
    try:
        h = int(hh or 0)
        if ampm:
            if not 1 <= h <= 12:
                return None
            h = h % 12 + (12 if ampm == "pm" else 0)
        us = int((frac or "0")[:6].ljust(6, "0"))
        return datetime(int(y), int(mo), int(d), h, int(mi or 0), int(ss or 0), us)
    except ValueError:
        return None


def _year(y: str) -> int:
    v = int(y)
    if len(y) == 2:
        v += 2000 if v < 70 else 1900
    return v


def _parse_date_text(t: str, dayfirst: bool, formats: list[str] | None) -> datetime | None:
    if formats:
        for fmt in formats:
            try:
                return datetime.strptime(t, fmt)
            except ValueError:
                continue
    m = _ISO_DATE.match(t)
    if m:
        y, mo, d, hh, mi, ss, frac, _tz = m.groups()
        # the UTC offset is dropped: we keep the respondent's local wall-clock time
        return _build(y, mo, d, hh, mi, ss, frac)
    low = t.casefold()
    m = _NUMERIC_DATE.match(low)
    if m:
        a, b, y, hh, mi, ss, frac, ampm = m.groups()
        d, mo = (a, b) if dayfirst else (b, a)
        return _build(_year(y), mo, d, hh, mi, ss, frac, ampm)
    low = re.sub(rf"^(?:{_WEEKDAYS})\b[,.]?\s*", "", low)
    m = _TEXT_DATE.match(low)
    if m:
        d, mon, y, hh, mi, ss, frac, ampm = m.groups()
        if mon in _MONTHS:
            return _build(y, _MONTHS[mon], d, hh, mi, ss, frac, ampm)
        return None
    m = _TEXT_DATE_EN.match(low)
    if m:
        mon, d, y, hh, mi, ss, frac, ampm = m.groups()
        if mon in _MONTHS:
            return _build(y, _MONTHS[mon], d, hh, mi, ss, frac, ampm)
        return None
    if re.fullmatch(r"\d+(?:[.,]\d+)?", t):
        serial = float(t.replace(",", "."))
        return _excel_serial(serial)
    return None


def _excel_serial(v: float) -> datetime | None:
    # 20000..80000 ≈ 1954..2119: anything else is a number, not a date
    if not 20000 <= v <= 80000:
        return None
    return _EXCEL_EPOCH + pd.Timedelta(days=v).to_pytimedelta()


def _detect_dayfirst(texts: Iterable[str]) -> bool:
    """Per-column rule: a first field > 12 anywhere → day-first; else a second field > 12 →
    month-first; else dotted times ("14.03.22", Indonesian Google Forms) → day-first;
    colon times ("14:03:22", English Google Forms) → month-first; no evidence → day-first
    (Indonesian convention)."""
    texts = list(texts)
    first_big = second_big = dotted = coloned = False
    ascii_ = [t for t in texts if t.isascii()]
    if len(ascii_) > 1000:  # millions of timestamps: the same rule in compiled code
        first_big, second_big, dotted, coloned = _dayfirst_evidence(ascii_)
        texts = [t for t in texts if not t.isascii()]
    for t in texts:
        m = _NUMERIC_DATE.match(t.casefold())
        if not m:
            continue
        a, b = int(m.group(1)), int(m.group(2))
        first_big |= a > 12
        second_big |= b > 12
        if m.group(4) is not None:
            rest = t[m.end(3) :]
            dotted |= "." in rest and ":" not in rest
            coloned |= ":" in rest
    if first_big:
        return True
    if second_big:
        return False
    # dotted-only → day-first, colon-only → month-first, mixed/no times → day-first
    return not (coloned and not dotted)


def _dayfirst_evidence(texts: list[str]) -> tuple[bool, bool, bool, bool]:
    """:func:`_detect_dayfirst`'s four clues from ASCII texts, with Arrow's regex engine."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pc.utf8_lower(pa.array(texts, type=pa.large_string()))
    arr = arr.filter(pc.match_substring_regex(arr, _NUMERIC_DATE.pattern))
    parts = pc.extract_regex(
        arr, r"^(?P<a>\d{1,2})[/.-](?P<b>\d{1,2})[/.-](?:\d{4}|\d{2})(?P<rest>.*)$"
    )
    a = pc.cast(parts.field("a"), pa.int32())
    b = pc.cast(parts.field("b"), pa.int32())
    rest = parts.field("rest")
    timed = pc.greater(pc.utf8_length(rest), 0)
    colon = pc.match_substring(rest, ":")
    dot = pc.and_(pc.match_substring(rest, "."), pc.invert(colon))
    return (
        bool(pc.any(pc.greater(a, 12)).as_py()),
        bool(pc.any(pc.greater(b, 12)).as_py()),
        bool(pc.any(pc.and_(timed, dot)).as_py()),
        bool(pc.any(pc.and_(timed, colon)).as_py()),
    )


def dates(
    s: pd.Series,
    formats: list[str] | None = None,
    dayfirst: bool | None = None,
) -> Parsed:
    """Timestamps and dates → tz-naive ``datetime64[ns]``.

    Recognised: Google Forms ``"11/25/2025 14:03:22"`` (M/D/Y), Indonesian Google Forms
    ``"25/11/2025 14.03.22"`` (D/M/Y, dotted time), ``"25-11-2025"``, two-digit years,
    ISO/Kobo ``"2025-11-25T14:03:22.123+07:00"`` with any offset (``+07:00``, ``+0700``,
    ``+03``, ``Z``): the offset is dropped and the wall-clock time the device showed kept,
    i.e. every timestamp is in the survey's local time as the respondent saw it (a ``Z``
    timestamp therefore stays in UTC; Kobo's own ``_submission_time`` is UTC too), Excel serial numbers (20000-80000, text or numeric),
    ``"25 November 2025"``, ``"25 Nov 2025"``, ``"Selasa, 25 Nopember 2025"``,
    ``"November 25, 2025"`` with Indonesian and English month names/abbreviations
    (Agu/Agt, Okt, Des, Mei, ...). Real datetimes pass through (tz-aware ones lose the zone,
    keeping wall-clock time).

    ``formats`` (strptime patterns) are tried first. ``dayfirst=None`` detects the order per
    column from the data (see :func:`_detect_dayfirst`); pass True/False to force it.
    """
    s = _as_series(s)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        v = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
        return Parsed(v.astype("datetime64[ns]"), pd.Series(False, index=s.index))
    if dayfirst is None:
        uniq = pd.Series([u for u in pd.unique(s.dropna()) if isinstance(u, str)], dtype=object)
        normal = _already_normal(uniq)  # what _norm leaves unchanged is not normalised again
        dayfirst = _detect_dayfirst(
            u if ok else _norm(u) for u, ok in zip(uniq, normal, strict=True)
        )

    def one(x: Any) -> Any:
        if isinstance(x, pd.Timestamp | datetime):
            ts = pd.Timestamp(x)
            return (ts.tz_localize(None) if ts.tzinfo else ts).to_pydatetime()
        if isinstance(x, date):
            return datetime(x.year, x.month, x.day)
        if isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool):
            return _excel_serial(float(x))
        t = _norm(str(x))
        if not t:
            return _BLANK
        return _parse_date_text(t, dayfirst, formats)

    batch = None if formats else (lambda u: _fast_dates(u, dayfirst))
    return _map_unique(s, one, dtype="datetime64[ns]", na_value=None, batch=batch)


# Every timestamp of an export has one of these shapes (Google Forms, Kobo): parsed at once.
_FAST_NUMERIC = r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}[:.]\d{2}[:.]\d{2}$"
_FAST_ISO = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}(?::?\d{2})?)?$"


def _fast_dates(uniques: np.ndarray, dayfirst: bool) -> list[Any]:
    """Vectorised :func:`dates` for the two common timestamp shapes (the same results as the
    value-by-value rules); every other value, and any impossible date, is left ``_UNDECIDED``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out: list[Any] = [_UNDECIDED] * len(uniques)
    idx = np.flatnonzero([isinstance(x, str) for x in uniques])
    if not len(idx):
        return out
    arr = pa.array(uniques[idx], type=pa.large_string())
    a, b = ("d", "mo") if dayfirst else ("mo", "d")
    numeric = rf"^(?P<{a}>\d{{1,2}})/(?P<{b}>\d{{1,2}})/(?P<y>\d{{4}}) (?P<H>\d{{1,2}})"
    numeric += r"[:.](?P<M>\d{2})[:.](?P<S>\d{2})(?P<f>)(?P<z>)$"
    iso = r"^(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})[T ](?P<H>\d{2}):(?P<M>\d{2}):(?P<S>\d{2})"
    iso += r"(?:\.(?P<f>\d{1,6}))?(?P<z>Z|[+-]\d{2}(?::?\d{2})?)?$"
    for pattern in (numeric, iso):
        parts = pc.extract_regex(arr, pattern)  # null where the shape does not match
        hit = parts.is_valid().to_numpy(zero_copy_only=False)
        if not hit.any():
            continue
        parts = parts.filter(pa.array(hit))
        f = {k: parts.field(k) for k in ("y", "mo", "d", "H", "M", "S")}
        n = {k: pc.cast(v, pa.int64()).to_numpy() for k, v in f.items()}
        us = pc.cast(pc.utf8_rpad(parts.field("f"), 6, "0"), pa.int64()).to_numpy()
        y, mo, d, hh, mi, ss = (n[k] for k in ("y", "mo", "d", "H", "M", "S"))
        ok = (y > 1678) & (y < 2262) & (mo >= 1) & (mo <= 12) & (d >= 1)
        ok &= (hh <= 23) & (mi <= 59) & (ss <= 59)
        month = (np.where(ok, y, 1970) - 1970) * 12 + np.where(ok, mo, 1) - 1
        start = month.astype("datetime64[M]").astype("datetime64[D]")
        ok &= d <= ((month + 1).astype("datetime64[M]").astype("datetime64[D]") - start).astype(int)
        ts = (
            (start + np.where(ok, d - 1, 0)).astype("datetime64[ns]")
            + (hh * 3600 + mi * 60 + ss) * np.timedelta64(1_000_000_000, "ns")
            + us * np.timedelta64(1000, "ns")
        )
        for i, v, good in zip(idx[hit], ts, ok, strict=True):
            if good:
                out[i] = v
    return out


def age_from_birth_year(birth_year: pd.Series, survey_date: Any) -> Parsed:
    """Age in whole years = survey year − birth year (float; may be one year too high for
    people whose birthday falls after the survey date - birth month is not asked).

    ``birth_year`` is raw (``"1985"``, 1985.0, ``" 1985 "``); ``survey_date`` is a datetime
    Series aligned with it, a single date/Timestamp, or a year (int). Invalid: not a four-digit
    year, born after the survey, or an age above 110. A missing survey date gives NaN (not
    invalid).
    """
    by = _as_series(birth_year)
    parsed = numeric(by)
    year = parsed.values
    if isinstance(survey_date, pd.Series):
        sd = pd.to_datetime(survey_date)
        sy = pd.Series(sd.dt.year.to_numpy(dtype="float64"), index=by.index)
    elif isinstance(survey_date, int | np.integer):
        sy = pd.Series(float(survey_date), index=by.index)
    else:
        sy = pd.Series(float(pd.Timestamp(survey_date).year), index=by.index)
    age = sy - year
    whole = (year % 1 == 0) & (year >= 1000) & (year <= 9999)
    ok = whole & (age >= 0) & (age <= 110)
    bad_year = year.notna() & ~whole
    bad_age = year.notna() & whole & sy.notna() & ~ok
    invalid = parsed.invalid | bad_year | bad_age
    values = age.where(ok & ~invalid).astype("float64")
    return Parsed(values=values.rename(by.name), invalid=invalid.rename(by.name))


# --------------------------------------------------------------------------------------------
# Place names
# --------------------------------------------------------------------------------------------

_ROMAN_NUMERALS = "i ii iii iv v vi vii viii ix x xi xii xiii xiv xv xvi xvii xviii xix xx"
_ROMAN = {r: str(i) for i, r in enumerate(_ROMAN_NUMERALS.split(" "), 1)}
_PLACE_PREFIXES = {"nagari", "kelurahan", "kel", "desa", "ds", "kecamatan", "kec", "jorong"}


def _place_key(x: Any) -> str:
    """Case/spacing/punctuation-insensitive key; Roman numerals become digits so "Aro IV
    Korong" == "aro 4 korong"; administrative prefixes (Nagari, Desa, Kel., ...) are dropped."""
    t = unicodedata.normalize("NFKD", _norm(_scalar_text(x)).casefold())
    t = "".join(c for c in t if not unicodedata.combining(c))
    t = re.sub(r"[^\w]+|_", " ", t)
    toks = [_ROMAN.get(tok, tok) for tok in t.split()]
    while len(toks) > 1 and toks[0] in _PLACE_PREFIXES:
        toks = toks[1:]
    return " ".join(toks)


def match_places(
    s: pd.Series,
    canonical: list[str],
    aliases: dict[str, str] | None = None,
    max_distance: int = 2,
) -> Parsed:
    """Map free-typed place names to ``canonical`` names; never guesses.

    Rules, in order (``Parsed.rule`` tells which one fired, see :meth:`Parsed.rule_counts`):

    1. ``exact``: equal after :func:`_place_key` (case, spaces, punctuation, Roman numerals vs
       digits, leading "Nagari"/"Desa"/"Kel." ignored) - "aro 4 korong", "Simpang rumbio ".
    2. ``alias``: a known alias (``{"PPA Mati": "Pasar Pandan Air Mati"}``), same key rules.
    3. ``fuzzy``: Damerau-Levenshtein (OSA) distance to the keys of canonical names and aliases.
       The allowed distance is ``min(max_distance, len(shorter key) // 5)``, so short names
       need (almost) exact spelling: "KTK" and "Lain" (a common word) are never fuzzy-matched. The best match is taken only if it
       is *unique*: if another canonical name is equally close the value is ``ambiguous``.
    4. otherwise ``unmatched``.

    ``ambiguous`` and ``unmatched`` rows are invalid and get NaN.
    """
    aliases = aliases or {}
    canon_by_key: dict[str, str] = {}
    for c in canonical:
        k = _place_key(c)
        if k in canon_by_key and canon_by_key[k] != c:
            raise ValueError(f"canonical names {canon_by_key[k]!r} and {c!r} are the same place")
        canon_by_key[k] = c
    alias_by_key: dict[str, str] = {}
    for a, target in aliases.items():
        if target not in canonical:
            raise ValueError(f"alias {a!r} points to {target!r}, which is not a canonical name")
        alias_by_key[_place_key(a)] = target
    targets = list(canon_by_key.items()) + [
        (k, v) for k, v in alias_by_key.items() if k not in canon_by_key
    ]

    target_keys = [tk for tk, _ in targets]

    def _fuzzy_candidates(k: str) -> list[tuple[str, str, int]]:
        """(key, name, OSA distance) of the targets within the largest distance any pair with
        ``k`` may have (Damerau-Levenshtein, optimal string alignment, compiled search)."""
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        cutoff = min(max_distance, len(k) // 5)
        if cutoff <= 0:
            return []
        hits = process.extract(k, target_keys, scorer=OSA.distance, score_cutoff=cutoff, limit=None)
        return [(*targets[i], int(d)) for _, d, i in sorted(hits, key=lambda h: h[2])]

    def one(x: Any) -> Any:
        k = _place_key(x)
        if not k:
            return _BLANK
        if k in canon_by_key:
            return (canon_by_key[k], "exact")
        if k in alias_by_key:
            return (alias_by_key[k], "alias")
        best: dict[str, int] = {}
        for tk, name, d in _fuzzy_candidates(k):
            limit = min(max_distance, min(len(k), len(tk)) // 5)
            if d <= limit and d < best.get(name, limit + 1):
                best[name] = d
        if not best:
            return ("", "unmatched")
        dmin = min(best.values())
        winners = [n for n, d in best.items() if d == dmin]
        if len(winners) > 1:
            return ("", "ambiguous")
        return (winners[0], "fuzzy")

    s = _as_series(s)
    codes, results = _unique_apply(s, one)
    n = len(results)
    names = np.empty(n + 1, dtype=object)
    rules = np.empty(n + 1, dtype=object)
    names[:] = np.nan
    rules[:] = np.nan
    for i, r in enumerate(results):
        if r is not _BLANK:
            names[i] = r[0] or np.nan
            rules[i] = r[1]
    rule = pd.Series(rules[codes], index=s.index, name=s.name, dtype=object)
    bad = np.array([r in ("ambiguous", "unmatched") for r in rules], dtype=bool)
    return Parsed(
        values=pd.Series(names[codes], index=s.index, name=s.name, dtype=object),
        invalid=pd.Series(bad[codes], index=s.index, name=s.name),
        rule=rule,
    )
