"""Personal-data detection, masking, keyed pseudonyms and a pre-publication scan.

Three detectors (compiled regular expressions, all anchored so they never start or end inside
a longer run of digits or letters):

* **NIK** (Nomor Induk Kependudukan): 16 digits, either contiguous or grouped with one kind of
  separator (space, dot or dash) as 4-4-4-4, 2-2-2-6-4 or 6-6-4 ("1372 0112 3456 0001",
  "13.72.01.120345.0001"). The first two digits must be an Indonesian province code
  (:data:`PROVINCE_CODES`: 11-19, 21, 31-36, 51-53, 61-65, 71-76, 81-82, 91-96), which
  rejects most random 16-digit numbers.
* **Phone** (Indonesian mobile): ``08…``, ``+62 8…`` or ``62 8…`` with optional spaces, dots,
  dashes or brackets ("0812-3456-7890", "+62 812 3456 7890", "(0812) 3456 7890"); in
  national form it must have 10-13 digits. Rupiah amounts ("1.500.000"), dates, times and
  Unix timestamps do not start with 08/62 8 and are not matched.
* **Email**: ``local@domain.tld``; "file@2x.png"-style asset names (TLD is a file extension)
  are ignored.

Digits inside machine identifiers are not personal data: a NIK or phone match that lies inside
a UUID (Kobo ``_uuid``, ODK ``uuid:…`` instance ids, cut or without hyphens) or a hex digest is
ignored (:func:`_in_identifier`), while one written beside such an identifier is still found.

Names cannot be found by pattern. :func:`mask_text` masks each respondent's *own* name in
their free text, and :func:`scan_paths` looks for names through keyed fingerprints
(:func:`name_fingerprints`) so the scan never needs the names themselves.
"""

from __future__ import annotations

import hmac
import importlib.util
import os
import re
import secrets
import threading
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from pipelines.errors import DampakError, Message

__all__ = [
    "PROVINCE_CODES",
    "NIK_RE",
    "PHONE_RE",
    "EMAIL_RE",
    "PII_RE",
    "PrivacyError",
    "Finding",
    "MaskResult",
    "find_personal_data",
    "mask_text",
    "default_secret_path",
    "load_or_create_secret",
    "pseudonymise",
    "name_fingerprints",
    "scan_paths",
    "assert_clean",
]


class PrivacyError(DampakError):
    """Personal data was found in files that are about to be shared."""

    def __init__(self, message: Message | str, findings: list[Finding] | None = None) -> None:
        super().__init__(message)
        self.findings = findings or []


# --------------------------------------------------------------------------------------------
# Detectors
# --------------------------------------------------------------------------------------------

PROVINCE_CODES = frozenset(
    [*range(11, 20), 21, *range(31, 37), *range(51, 54), *range(61, 66), *range(71, 77)]
    + [81, 82, *range(91, 97)]
)

# Not preceded by a word character, nor by "digit + separator" (so we never start in the
# middle of a longer grouped number); the same on the right.
_LEFT = r"(?<!\w)(?<!\d[ .,-])"
_RIGHT = r"(?!\w)(?![.,-]\d)(?! \d)"

_NIK_BODY = (
    r"\d{16}"
    r"|\d{4}(?P<nik_s1>[ .-])\d{4}(?P=nik_s1)\d{4}(?P=nik_s1)\d{4}"
    r"|\d{2}(?P<nik_s2>[ .-])\d{2}(?P=nik_s2)\d{2}(?P=nik_s2)\d{6}(?P=nik_s2)\d{4}"
    r"|\d{6}(?P<nik_s3>[ .-])\d{6}(?P=nik_s3)\d{4}"
)
_NIK_PAT = rf"{_LEFT}(?:{_NIK_BODY}){_RIGHT}"

_PHONE_PAT = (
    r"(?<![\w+])(?<!\d[ .,-])"
    r"(?:\+62[ .-]?\(?|62[ .-]?\(?|\(?0)8\d{1,2}\)?(?:[ .-]?\d){6,10}"
    r"(?!\w)(?![.,-]?\d)"
)

_EMAIL_PAT = (
    r"(?<![\w.%+-])[\w.%+-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9-]{1,63})*\.(?P<tld>[A-Za-z]{2,24})(?![\w-])"
)

NIK_RE = re.compile(_NIK_PAT)
PHONE_RE = re.compile(_PHONE_PAT)
EMAIL_RE = re.compile(_EMAIL_PAT)
#: One pass for all three kinds; NIK is tried first so a grouped NIK is never read as a phone.
PII_RE = re.compile(rf"(?P<nik>{_NIK_PAT})|(?P<phone>{_PHONE_PAT})|(?P<email>{_EMAIL_PAT})")

_FILE_TLDS = frozenset(
    [
        "png",
        "jpg",
        "jpeg",
        "gif",
        "svg",
        "webp",
        "bmp",
        "ico",
        "css",
        "js",
        "mjs",
        "map",
        "json",
        "html",
        "htm",
        "pdf",
        "csv",
        "txt",
        "py",
        "ipynb",
        "woff",
        "woff2",
        "ttf",
        "eot",
    ]
)
_TAGS = {"nik": "[NIK]", "phone": "[TELEPON]", "email": "[EMAIL]", "name": "[NAMA]"}
KINDS = ("nik", "phone", "email", "name")


def _digits(x: str) -> str:
    return re.sub(r"\D", "", x)


def _valid_nik(text: str) -> bool:
    d = _digits(text)
    return len(d) == 16 and int(d[:2]) in PROVINCE_CODES


def _valid_phone(text: str) -> bool:
    d = _digits(text)
    national = "0" + d[2:] if d.startswith("62") else d
    return national.startswith("08") and 10 <= len(national) <= 13


def _valid_email(m: re.Match[str]) -> bool:
    return m.group("tld").lower() not in _FILE_TLDS


# Machine identifiers whose digits may look like a phone or NIK: UUIDs (Kobo `_uuid`, ODK
# `instanceID`, with or without hyphens), hex digests (hashes, submission ids) and cut UUIDs
# ("a78-4cac-b6dc-081755611568": 3+ hex groups, 20+ characters, a letter a-f among them).
_ID_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_:")
_IDENTIFIER = re.compile(
    r"(?:uuid:)?-?(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|(?=[0-9a-f-]*[a-f])(?:[0-9a-f]{1,12}-(?:[0-9a-f]{4,12}-)+[0-9a-f]{1,12}"
    r"|[0-9a-f]{20,}))-?",
    re.IGNORECASE,
)


def _in_identifier(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` lies inside a UUID or a hex digest: the whole run of
    letters, digits, "-", "_" and ":" around it has that shape, so its digits are not a phone
    or NIK. A phone written beside an identifier (after a space, "/", ",") is still found."""
    a, b = start, end
    while a > 0 and text[a - 1] in _ID_CHARS and start - a < 80:
        a -= 1
    while b < len(text) and text[b] in _ID_CHARS and b - end < 80:
        b += 1
    return b - a >= 20 and _IDENTIFIER.fullmatch(text, a, b) is not None


def _kind_of(m: re.Match[str]) -> str | None:
    """Kind of a :data:`PII_RE` match after validation, or None for a false positive (digits
    inside a UUID or hash included, see :func:`_in_identifier`)."""
    if m.group("email") is None and _in_identifier(m.string, m.start(), m.end()):
        return None
    if m.group("nik") is not None:
        return "nik" if _valid_nik(m.group(0)) else None
    if m.group("phone") is not None:
        return "phone" if _valid_phone(m.group(0)) else None
    return "email" if _valid_email(m) else None


def find_personal_data(text: str) -> list[tuple[str, tuple[int, int]]]:
    """All NIK, phone and email occurrences in ``text`` as ``(kind, (start, end))``.

    ``kind`` is ``"nik"``, ``"phone"`` or ``"email"``; spans are in order and never overlap.
    """
    if not isinstance(text, str) or not text:
        return []
    return [(kind, (a, b)) for kind, a, b in _find_all(text)]


# --------------------------------------------------------------------------------------------
# Masking
# --------------------------------------------------------------------------------------------


class MaskResult(NamedTuple):
    """Masked text (same index as the input) and how many masks of each kind were applied."""

    text: pd.Series
    counts: dict[str, int]


# Titles and particles that are not a person's name (after splitting on punctuation).
_NOT_NAME_PARTS = frozenset(
    [
        "bapak",
        "bpk",
        "pak",
        "ibu",
        "bu",
        "sdr",
        "sdri",
        "saudara",
        "saudari",
        "haji",
        "hajjah",
        "drs",
        "dra",
        "prof",
        "kom",
        "sos",
        "hum",
        "kes",
        "ked",
        "pdi",
        "psi",
        "msi",
        "mpd",
        "spd",
        "amd",
        "ama",
        "bin",
        "binti",
        "van",
        "der",
    ]
)
_NAME_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def _name_parts(name: str) -> list[str]:
    """Full name plus each part with at least three letters, longest first."""
    words = _NAME_WORD.findall(unicodedata.normalize("NFKC", name))
    if not words:
        return []
    parts = {w for w in words if len(w) >= 3 and w.casefold() not in _NOT_NAME_PARTS}
    full = [r"\s+".join(map(re.escape, words))] if len(words) > 1 else []
    return full + [re.escape(p) for p in sorted(parts, key=len, reverse=True)]


@lru_cache(maxsize=65536)
def _plain_parts(name: str) -> tuple[str, ...]:
    """The words of a name (NFKC) that :func:`_name_regex` could match, for a quick pre-test."""
    return tuple(_NAME_WORD.findall(unicodedata.normalize("NFKC", name)))


@lru_cache(maxsize=4096)
def _name_regex(name: str) -> re.Pattern[str] | None:
    parts = _name_parts(name)
    if not parts:
        return None
    return re.compile(rf"(?<!\w)(?:{'|'.join(parts)})(?!\w)", re.IGNORECASE)


def mask_text(s: pd.Series, names: pd.Series | None = None) -> MaskResult:
    """Mask personal data in free text.

    NIK → ``[NIK]``, phone → ``[TELEPON]``, email → ``[EMAIL]`` (one vectorised
    ``str.replace`` over the string cells). If ``names`` (row-aligned with ``s``, e.g. the
    respondent-name column) is given, the respondent's own full name and every part of it with
    at least three letters (titles such as "Bapak"/"S.Pd" excluded) is replaced by ``[NAMA]``,
    case-insensitively and on word boundaries. The name pass is row-wise but only visits rows
    with both non-empty text and a name. Non-string cells are returned unchanged.

    Over-masking is deliberate: a respondent called "Indah" will also lose the word "indah".
    """
    s = pd.Series(s) if not isinstance(s, pd.Series) else s
    counts = dict.fromkeys(KINDS, 0)
    out = s.copy()
    if isinstance(s.dtype, pd.StringDtype):  # every present cell is a str: no per-cell test
        is_str = s.fillna("").ne("").to_numpy(dtype=bool)
    else:
        is_str = np.fromiter((isinstance(x, str) and x != "" for x in s), bool, count=len(s))
    if not is_str.any():
        return MaskResult(out, counts)
    weight = [1]  # rows holding the text being masked, so counts stay per row

    def repl(m: re.Match[str]) -> str:
        kind = _kind_of(m)
        if kind is None:
            return m.group(0)
        counts[kind] += weight[0]
        return _TAGS[kind]

    texts = s[is_str].astype(object)
    codes, uniques = pd.factorize(texts)  # each distinct text is masked once
    rows = np.bincount(codes, minlength=len(uniques))
    done = np.empty(len(uniques), dtype=object)
    for j, u in enumerate(uniques):
        weight[0] = int(rows[j])
        done[j] = PII_RE.sub(repl, u)
    masked = pd.Series(done[codes], index=texts.index, dtype=object)
    if names is not None:
        nm = pd.Series(names).reindex(s.index) if isinstance(names, pd.Series) else None
        if nm is None:
            nm = pd.Series(list(names), index=s.index)
        nm = nm[is_str]
        has_name = nm.map(lambda x: isinstance(x, str) and x.strip() != "").astype(bool)

        def name_repl(m: re.Match[str]) -> str:
            counts["name"] += 1
            return _TAGS["name"]

        # Plain-array loop (no per-cell pandas indexing); the regex is built and run only where
        # a part of the name occurs in the text at all (a cheap case-folded substring test).
        values = masked.to_numpy(dtype=object).copy()
        names_arr = nm.to_numpy(dtype=object)
        for i in np.flatnonzero(has_name.to_numpy()):
            name = names_arr[i].strip()
            text = values[i]
            folded = text.casefold()
            if not any(part.casefold() in folded for part in _plain_parts(name)):
                continue
            rx = _name_regex(name)
            if rx is not None:
                values[i] = rx.sub(name_repl, text)
        masked = pd.Series(values, index=masked.index)
    out = out.astype(object)
    out[is_str] = masked.to_numpy()
    return MaskResult(out, counts)


# --------------------------------------------------------------------------------------------
# Keyed pseudonyms
# --------------------------------------------------------------------------------------------


def default_secret_path() -> Path:
    """``$DAMPAK_SECRET_FILE`` if set, else ``~/.config/dampak/pseudonym.key``."""
    env = os.environ.get("DAMPAK_SECRET_FILE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".config" / "dampak" / "pseudonym.key"


def load_or_create_secret(path: Path | None = None) -> bytes:
    """The project's pseudonymisation key: 32 random bytes in a file readable only by its owner.

    Created (mode 0600, parent directory 0700) on first use, reused afterwards so pseudonyms
    stay stable between runs. Losing the file means new pseudonyms; sharing it lets others
    re-identify respondents by guessing - keep it out of the repository and outputs.
    """
    path = Path(path) if path is not None else default_secret_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = secrets.token_bytes(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # created concurrently by another process: read theirs below
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(key)
            os.chmod(path, 0o600)  # in case the umask interfered
            return key
    key = path.read_bytes()
    if len(key) < 32:
        raise DampakError(
            f"The pseudonym key file {path} is damaged (it should hold 32 random bytes). "
            "Restore it from your backup; deleting it would change every pseudonym."
        )
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
    return key


def _check_secret(secret: bytes) -> bytes:
    if not isinstance(secret, bytes | bytearray) or len(secret) < 16:
        raise ValueError("secret must be at least 16 bytes (use load_or_create_secret())")
    return bytes(secret)


def _hmac_hex(secret: bytes, domain: bytes, value: str, n: int) -> str:
    return hmac.digest(secret, domain + b"\x00" + value.encode("utf-8"), "sha256").hex()[:n]


def pseudonymise(values: pd.Series, secret: bytes, prefix: str = "R") -> pd.Series:
    """Stable keyed pseudonyms: ``prefix`` + first 16 hex digits of HMAC-SHA256(secret, value).

    Values are normalised first (NIK: digits only, so "1372 0112 3456 0001" and
    "1372011234560001" agree; emails: lower case; other text: case-folded, single spaces).
    NaN/blank stays NaN. Without the secret the pseudonyms cannot be reversed by hashing
    candidate NIKs or names, unlike a plain hash.
    """
    secret = _check_secret(secret)
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    out = np.empty(len(uniques) + 1, dtype=object)
    out[:] = np.nan
    keys = identifier_keys(pd.Series(np.asarray(uniques, dtype=object), dtype=object))
    # HMAC(secret, domain + key): the state after the domain is computed once and copied
    start = hmac.new(secret, b"dampak-pseudonym-v1\x00", "sha256")
    for i, k in zip(np.flatnonzero(keys.ne("").to_numpy()), keys[keys.ne("")], strict=True):
        h = start.copy()
        h.update(k.encode("utf-8"))
        out[i] = prefix + h.hexdigest()[:16]
    return pd.Series(out[codes], index=s.index, name=s.name, dtype=object)


def identifier_keys(values: pd.Series) -> pd.Series:
    """Normalised identifiers, "" where none: NIK → its 16 digits, e-mail → lower case,
    anything else → NFKC, case-folded, single-spaced (whole-number floats print as integers)."""
    fast = _ascii_identifier_keys(values)
    if fast is not None:
        return fast
    whole = values.map(lambda x: int(x) if isinstance(x, float) and x.is_integer() else x)
    t = (
        whole.astype(str)
        .astype(object)
        .str.normalize("NFKC")
        .str.replace(r"\s+", " ", regex=True)
        .str.strip()
    )
    d = t.str.replace(r"[\s.-]", "", regex=True)
    nik = d.str.isdigit() & d.str.len().eq(16)
    email = t.str.contains("@", regex=False)
    return t.str.casefold().where(~email, t.str.lower()).where(~nik, d).fillna("")


def _ascii_identifier_keys(values: pd.Series) -> pd.Series | None:
    """:func:`identifier_keys` in compiled code when every value is ASCII text (NFKC changes
    nothing, casefold is lower-casing); None otherwise."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not all(isinstance(x, str) for x in values):
        return None
    arr = pa.array(values.to_numpy(dtype=object), type=pa.large_string())
    if not pc.all(pc.string_is_ascii(arr)).as_py():
        return None
    t = pc.replace_substring_regex(arr, r"[\t-\r\x1c-\x1f ]+", " ")  # Python's ASCII \s
    t = pc.utf8_trim(t, " ")
    d = pc.replace_substring(
        pc.replace_substring(pc.replace_substring(t, " ", ""), ".", ""), "-", ""
    )
    nik = pc.match_substring_regex(d, r"^[0-9]{16}$")
    out = pc.if_else(nik, d, pc.ascii_lower(t)).to_numpy(zero_copy_only=False)
    return pd.Series(out.astype(object), index=values.index, name=values.name, dtype=object)


_FIRST = "first:"


def _name_words(text: str) -> list[str]:
    return [w.lower() for w in _NAME_WORD.findall(unicodedata.normalize("NFKC", text))]


def name_fingerprints(names: pd.Series, secret: bytes) -> set[str]:
    """Keyed fingerprints of respondents' full names for :func:`scan_paths`.

    A name is normalised to its words (letters and apostrophes), lower case, single spaces;
    names longer than four words are cut to their first four. The set holds
    HMAC-SHA256(secret, name) for every name of 2-4 words plus a ``"first:"``-prefixed
    fingerprint of each such name's first word, which lets the scan skip text quickly. Single-
    word names are not fingerprinted (too many false alarms with ordinary words). The set can be
    stored with the outputs' metadata: without the secret it reveals nothing.
    """
    secret = _check_secret(secret)
    out: set[str] = set()
    for n in pd.Series(names).dropna().unique():
        words = _name_words(str(n))[:4]
        if len(words) < 2:
            continue
        out.add(_hmac_hex(secret, b"dampak-name-v1", " ".join(words), 32))
        out.add(_FIRST + _hmac_hex(secret, b"dampak-name-word-v1", words[0], 32))
    return out


# --------------------------------------------------------------------------------------------
# Scanning output files
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """Personal data found in a file; ``excerpt_masked`` never shows the value in full."""

    path: Path
    kind: str  # "nik" | "phone" | "email" | "name"
    location: str  # "line 12", "column 'komentar', row 3", "page 2"
    excerpt_masked: str

    def __str__(self) -> str:
        return f"{_KIND_LABEL.get(self.kind, self.kind)} in {self.path} ({self.location}: {self.excerpt_masked!r})"


_KIND_LABEL = {"nik": "NIK", "phone": "phone number", "email": "email address", "name": "name"}

TEXT_SUFFIXES = frozenset(
    {".csv", ".tsv", ".html", ".htm", ".json", ".md", ".ipynb", ".txt", ".log", ".yaml", ".yml"}
)
MAX_FINDINGS_PER_FILE = 50
_BLOB_SUFFIXES = frozenset({".html", ".htm", ".ipynb", ".json", ".md"})

# Characters that may appear in base64 payloads (incl. JSON-escaped "\\n" in notebooks).
_B64_BYTES = np.zeros(128, dtype=bool)
for _c in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\\":
    _B64_BYTES[_c] = True
_DIGIT_SEP = np.zeros(128, dtype=bool)
for _c in b"0123456789 .-()+":
    _DIGIT_SEP[_c] = True
_MIN_B64_RUN = 200
# ASCII bytes → letters (lower-cased) and apostrophe kept, everything else a space (word set)
_ASCII_WORDS = bytes(
    c + 32 if 65 <= c <= 90 else c if (97 <= c <= 122 or c == 39) else 32 for c in range(256)
)


def _mask_middle(value: str) -> str:
    v = re.sub(r"\s+", " ", value)
    if len(v) <= 4:
        return v[0] + "*" * (len(v) - 1)
    keep = 2 if len(v) >= 8 else 1
    return v[:keep] + "*" * (len(v) - 2 * keep) + v[-keep:]


def _tag(m: re.Match[str]) -> str:
    return _TAGS.get(_kind_of(m) or "", m.group(0))


def _excerpt(text: str, start: int, end: int, width: int = 20) -> str:
    before = PII_RE.sub(_tag, text[max(0, start - width) : start])
    after = PII_RE.sub(_tag, text[end : end + width])
    ex = f"{before}{_mask_middle(text[start:end])}{after}"
    return re.sub(r"[\s\x00]+", " ", ex).strip()


def _codes(text: str) -> np.ndarray:
    """Code points of ``text`` as a NumPy array (1 byte per char when ASCII)."""
    if text.isascii():
        return np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) indices of the True runs in ``mask``."""
    padded = np.zeros(len(mask) + 2, dtype=np.int8)
    padded[1:-1] = mask
    edges = np.diff(padded)
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _cumcount(mask: np.ndarray) -> np.ndarray:
    """``out[i]`` = number of True values in ``mask[:i]`` (length ``len(mask) + 1``)."""
    out = np.zeros(len(mask) + 1, dtype=np.int32)
    np.cumsum(mask, dtype=np.int32, out=out[1:])
    return out


def _lookup(codes: np.ndarray, table: np.ndarray) -> np.ndarray:
    if codes.dtype == np.uint8:
        return np.concatenate((table, np.zeros(128, dtype=bool))).take(codes)
    return (codes < 128) & table[np.minimum(codes, 127)]


def _strip_blobs(text: str) -> str:
    """Remove embedded base64 before scanning: the payload of every ``data:…;base64,`` URI and
    any other run of 200+ base64 characters mixing upper case, lower case and digits (notebook
    image outputs). Real newlines are never inside a run, so line numbers stay right."""
    codes = _codes(text)
    starts, ends = _runs(_lookup(codes, _B64_BYTES))
    if not len(starts):
        return text
    long_ = (ends - starts) >= _MIN_B64_RUN
    if long_.any():
        cls = [
            _cumcount((codes >= lo) & (codes <= hi)) for lo, hi in ((65, 90), (97, 122), (48, 57))
        ]
        for c in cls:
            long_ &= (c[ends] - c[starts]) > 0
    drop = long_
    if "base64," in text:
        after_uri = {m.end() for m in re.finditer("base64,", text)}
        drop = drop | np.isin(starts, np.fromiter(after_uri, dtype=np.int64))
    if not drop.any():
        return text
    pieces, pos = [], 0
    for s, e in zip(starts[drop].tolist(), ends[drop].tolist(), strict=True):
        pieces.append(text[pos:s])
        pos = e
    pieces.append(text[pos:])
    return "".join(pieces)


_ASCII_WORD = np.zeros(128, dtype=bool)
for _c in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_":
    _ASCII_WORD[_c] = True
_PROVINCE_2DIGIT = np.zeros(100, dtype=bool)
_PROVINCE_2DIGIT[list(PROVINCE_CODES)] = True
# first two digits of a run where a NIK (province code) or a phone ("08", "62") can start
_START_2DIGIT = _PROVINCE_2DIGIT.copy()
_START_2DIGIT[[8, 62]] = True
_DIGIT_FLAGS = bytes(1 if 48 <= c <= 57 else 0 for c in range(256))


def _digit_runs(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) of every run of ASCII digits; one pass over ASCII bytes."""
    if codes.dtype == np.uint8:
        isdig = np.frombuffer(codes.tobytes().translate(_DIGIT_FLAGS), dtype=bool)
    else:
        isdig = (codes >= 48) & (codes <= 57)
    n = len(isdig)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    edges = np.flatnonzero(isdig[1:] != isdig[:-1]) + 1
    head = [np.zeros(1, np.int64)] if isdig[0] else []
    tail = [np.full(1, n, np.int64)] if isdig[-1] else []
    bounds = np.concatenate([*head, edges.astype(np.int64), *tail])
    return bounds[0::2], bounds[1::2]


def _start_candidates(codes: np.ndarray) -> np.ndarray:
    """Starts of the digit runs where a NIK or phone can begin, in order (see :func:`_find_all`).

    Runs are filtered by their first two digits before any neighbour is looked at, so the work
    on a large all-numbers CSV is proportional to the few runs that could match."""
    ds, de = _digit_runs(codes)
    n, nruns = len(codes), len(ds)

    def char_at(pos: np.ndarray) -> np.ndarray:
        ok = (pos >= 0) & (pos < n)
        return np.where(ok, codes[np.clip(pos, 0, max(n - 1, 0))], 0).astype(np.int64)

    def is_sep(ch: np.ndarray, chars: bytes) -> np.ndarray:
        return np.isin(ch, np.frombuffer(chars, dtype=np.uint8).astype(np.int64))

    def is_digit(ch: np.ndarray) -> np.ndarray:
        return (ch >= 48) & (ch <= 57)

    c = np.flatnonzero((de - ds) >= 2)
    two = (codes[ds[c]].astype(np.int64) - 48) * 10 + (codes[ds[c] + 1].astype(np.int64) - 48)
    keep = _START_2DIGIT[two]
    c, two = c[keep], two[keep]
    if not len(c):  # no run starts like a NIK or phone: the usual case, skip the rest
        return ds[c]
    s, length = ds[c], de[c] - ds[c]
    nx1 = char_at(de[c])
    prov = _PROVINCE_2DIGIT[two]
    # "08" must run on into "08x" (so times like "08:15" are not candidates); "62" is
    # followed by "8" or by a separator or "(" and then the 8
    third = np.where(length >= 3, char_at(s + 2) - 48, -1)
    phone = ((two == 8) & (length >= 3)) | (
        (two == 62) & (((length >= 3) & (third == 8)) | ((length == 2) & is_sep(nx1, b" .-(")))
    )
    group_start = prov & np.isin(length, (2, 4, 6)) & is_sep(nx1, b" .-")
    p1, p2 = char_at(s - 1), char_at(s - 2)
    word = np.concatenate((_ASCII_WORD, np.zeros(1, bool)))[np.where(p1 < 128, p1, 128)]
    blocked = word | (is_sep(p1, b" .,-") & is_digit(p2))
    keep = ~blocked & ((prov & (length == 16)) | phone | group_start)
    c, s, length, nx1, phone, group_start = (
        a[keep] for a in (c, s, length, nx1, phone, group_start)
    )
    if not len(c):
        return s

    # grouped NIKs are 4-4-4-4, 2-2-2-6-4 or 6-6-4 with one repeated separator: check the
    # whole chain of runs (so decimals "13.98" or age bands "18-24" are not candidates)
    def run(k: int, arr: np.ndarray, fill: int) -> np.ndarray:
        j = c + k
        return np.where(j < nruns, arr[np.minimum(j, max(nruns - 1, 0))], fill)

    def chain(groups: tuple[int, ...]) -> np.ndarray:
        ok = length == groups[0]
        for k, g in enumerate(groups[1:], 1):
            ok &= (run(k, de, -9) - run(k, ds, -1)) * (c + k < nruns) == g
            ok &= run(k, ds, -1) == run(k - 1, de, -9) + 1
            if k < len(groups) - 1:
                ok &= char_at(run(k, de, -1)) == nx1
        return ok

    grouped = group_start & (chain((4, 4, 4, 4)) | chain((2, 2, 2, 6, 4)) | chain((6, 6, 4)))
    return s[(length == 16) | grouped | phone]


def _chunked_candidates(codes: np.ndarray, size: int = 1 << 24) -> list[int]:
    """:func:`_start_candidates` over newline-aligned slices: no candidate, group chain or
    boundary test crosses a newline, and small slices keep the temporary arrays small."""
    out: list[int] = []
    a, n = 0, len(codes)
    while a < n:
        b = n
        if n - a > size:
            nl = np.flatnonzero(codes[a + size : a + 2 * size] == 10)
            b = a + size + int(nl[0]) + 1 if len(nl) else min(n, a + 2 * size)
            if not len(nl):  # no newline nearby: take the rest in one piece (exact, slower)
                b = n
        out += (_start_candidates(codes[a:b]) + a).tolist()
        a = b
    return out


def _find_all(text: str) -> list[tuple[str, int, int]]:
    """NIK/phone/email matches, found fast on large texts.

    Python's regex engine is slow when a pattern may start at any digit, so NumPy first picks
    the runs of digits where a NIK or phone can *start* (same left-boundary rule as the regexes;
    a NIK starts with a province code and is 16 digits or followed by a group separator; a
    phone starts with "08" or "62") and the regex is only tried there. Emails are only looked
    for around each "@". Results equal a plain :data:`PII_RE` pass, only faster.
    """
    out: list[tuple[str, int, int]] = []
    n = len(text)
    last_end = -1
    for s in _chunked_candidates(_codes(text)):
        if s < last_end:
            continue
        start = s - 1 if s > 0 and text[s - 1] in "(+" else s
        m = PII_RE.search(text, start, min(n, s + 48))
        if m is None or m.start() not in (start, s) or m.group("email") is not None:
            continue
        kind = _kind_of(m)
        if kind is not None:
            out.append((kind, m.start(), m.end()))
            last_end = m.end()
    if "@" in text:
        seen: set[tuple[int, int]] = set()
        at = text.find("@")
        while at != -1:
            for m in EMAIL_RE.finditer(text, max(0, at - 70), min(n, at + 260)):
                if m.span() not in seen and _valid_email(m):
                    seen.add(m.span())
                    out.append(("email", m.start(), m.end()))
            at = text.find("@", at + 1)
    out.sort(key=lambda t: (t[1], -t[2]))
    kept: list[tuple[str, int, int]] = []
    for hit in out:  # overlapping hits (an email whose local part is a phone): keep the first
        if not kept or hit[1] >= kept[-1][2]:
            kept.append(hit)
    return kept


class _NameScanner:
    """Finds fingerprinted names: every run of 2-4 words separated by spaces is hashed."""

    def __init__(self, fingerprints: Iterable[str], secret: bytes | None) -> None:
        fps = set(fingerprints)
        self.full = {f for f in fps if not f.startswith(_FIRST)}
        self.first = {f[len(_FIRST) :] for f in fps if f.startswith(_FIRST)}
        self.active = bool(self.full)
        if self.active and secret is None:
            raise ValueError("scan_paths needs the secret that made the name fingerprints")
        self.secret = _check_secret(secret) if self.active else b""
        self._word_cache: dict[str, bool] = {}
        self._phrase_cache: dict[str, bool] = {}

    def _first_ok(self, word: str) -> bool:
        if not self.first:  # fingerprints without first-word hints: check every window
            return True
        hit = self._word_cache.get(word)
        if hit is None:
            hit = _hmac_hex(self.secret, b"dampak-name-word-v1", word, 32) in self.first
            self._word_cache[word] = hit
        return hit

    @staticmethod
    def _distinct_words(text: str) -> set[str]:
        if text.isascii():
            flat = text.encode("ascii").translate(_ASCII_WORDS)
            toks: set[bytes] = set()
            a, step = 0, 1 << 22
            while a < len(flat):  # slices cut at a space, so no word is split
                b = flat.find(b" ", a + step)
                b = len(flat) if b == -1 else b
                toks.update(flat[a:b].split())
                a = b
            return {t.decode("ascii").strip("'") for t in toks}
        words: set[str] = set()
        for tok in set(text.split()):
            words.update(w.lower() for w in _NAME_WORD.findall(tok))
        return words

    def _windows(self, text: str, pos: int, endpos: int) -> Iterator[tuple[int, int]]:
        window: list[tuple[int, int, str]] = []
        for m in _NAME_WORD.finditer(text, pos, endpos):
            w = (m.start(), m.end(), m.group(0).lower())
            if window and not _is_space(text[window[-1][1] : w[0]]):
                window = []
            window = [*window[-3:], w]
            for k in range(2, len(window) + 1):
                run = window[-k:]
                if not self._first_ok(run[0][2]):
                    continue
                joined = " ".join(x[2] for x in run)
                if _hmac_hex(self.secret, b"dampak-name-v1", joined, 32) in self.full:
                    yield run[0][0], run[-1][1]

    def _name_at(self, text: str, at: int) -> tuple[int, int] | None:
        """Longest fingerprinted name of 2-4 words starting exactly at ``at``."""
        words: list[tuple[int, str]] = []
        prev_end = at
        for m in _NAME_WORD.finditer(text, at, min(len(text), at + 200)):
            if words and not _is_space(text[prev_end : m.start()]):
                break
            words.append((m.end(), m.group(0).lower()))
            prev_end = m.end()
            if len(words) == 4:
                break
        best = None
        for k in range(2, len(words) + 1):
            joined = " ".join(w for _, w in words[:k])
            hit = self._phrase_cache.get(joined)
            if hit is None:
                hit = _hmac_hex(self.secret, b"dampak-name-v1", joined, 32) in self.full
                if len(self._phrase_cache) > 1_000_000:
                    self._phrase_cache.clear()
                self._phrase_cache[joined] = hit
            if hit:
                best = (at, words[k - 1][0])
        return best

    def scan(self, text: str) -> Iterator[tuple[int, int]]:
        if not self.active:
            return
        if not self.first:
            yield from self._windows(text, 0, len(text))
            return
        # cheap pre-pass over distinct words; most files contain no candidate first word
        cands = [w for w in self._distinct_words(text) if w and self._first_ok(w)]
        if not cands:
            return
        low = text.lower()
        if len(low) != len(text):  # exotic case mapping changed offsets: slow full pass
            yield from self._windows(text, 0, len(text))
            return
        found: set[tuple[int, int]] = set()
        for w in cands:
            at = low.find(w)
            while at != -1:
                if (at == 0 or not _is_word_char(text[at - 1])) and not _is_word_char(
                    text[at + len(w) : at + len(w) + 1]
                ):
                    span = self._name_at(text, at)
                    if span is not None and span not in found:
                        found.add(span)
                        yield span
                at = low.find(w, at + 1)


def _is_word_char(c: str) -> bool:
    return bool(c) and (c.isalpha() or c in "'’")


def _is_space(gap: str) -> bool:
    return bool(gap) and gap.isspace() and "\n" not in gap


def _scan_text(text: str, names: _NameScanner) -> Iterator[tuple[str, int, int]]:
    yield from _find_all(text)
    for a, b in names.scan(text):
        yield "name", a, b


def _read_text(path: Path) -> str | None:
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace")
    if b"\x00" in raw[:8192]:
        return None  # binary
    return raw.decode("utf-8", errors="replace")


def _findings_in_text(
    path: Path, text: str, names: _NameScanner, locate, scan=_scan_text, shown: str = ""
) -> list[Finding]:
    """Findings of ``scan`` in ``text``; excerpts from ``shown`` (same offsets) if given."""
    shown = shown or text
    out: list[Finding] = []
    per_kind: dict[str, int] = {}
    for kind, a, b in scan(text, names):
        per_kind[kind] = per_kind.get(kind, 0) + 1
        if per_kind[kind] > MAX_FINDINGS_PER_FILE:
            continue
        out.append(Finding(path, kind, locate(a), _excerpt(shown, a, b)))
    return out


def _line_locator(text: str):
    return lambda pos: f"line {text.count(chr(10), 0, pos) + 1}"


def _scan_text_file(path: Path, names: _NameScanner) -> list[Finding]:
    text = _read_text(path)
    if text is None:
        return []
    if path.suffix.lower() in _BLOB_SUFFIXES or "base64," in text:
        text = _strip_blobs(text)
    return _findings_in_text(path, text, names, _line_locator(text))


def _scan_parquet(path: Path, names: _NameScanner) -> list[Finding]:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    schema = pf.schema_arrow

    def is_text(t: pa.DataType) -> bool:
        if pa.types.is_dictionary(t):
            t = t.value_type
        return pa.types.is_string(t) or pa.types.is_large_string(t)

    cols = [f.name for f in schema if is_text(f.type)]
    out: list[Finding] = []
    if not cols:
        return out
    table = pf.read(columns=cols)
    for name in cols:
        col = table.column(name)
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        uniq = [u for u in pc.unique(col).to_pylist() if u]
        if not uniq:
            continue
        text = "\n".join(u.replace("\n", " ") for u in uniq)
        starts = np.cumsum([0] + [len(u) + 1 for u in uniq])

        def locate(pos: int, col=col, uniq=uniq, starts=starts, name=name) -> str:
            i = int(np.searchsorted(starts, pos, side="right") - 1)
            row = pc.index(col, uniq[i]).as_py()
            return f"column {name!r}, row {row}"

        out += _findings_in_text(path, text, names, locate)
    return out


_PAGE_BREAK = "\x00"  # neither a word, a space nor a digit separator: nothing matches across it


def _scan_pdf_text(text: str, names: _NameScanner) -> Iterator[tuple[str, int, int]]:
    """Hits in PDF text: those within a line, then those a wrapped line or table cell splits
    (found with the line breaks read as spaces, so offsets stay the same)."""
    yield from _scan_text(text, names)
    if "\n" not in text:
        return
    for kind, a, b in _scan_text(text.replace("\n", " "), names):
        if "\n" in text[a:b]:
            yield kind, a, b


_PDFIUM_LOCK = threading.Lock()  # PDFium is not thread-safe, not even across documents


def _pdfium_pages(path: Path) -> list[str]:
    """Each page's text from PDFium (compiled; lines end in "\\n")."""
    import pypdfium2 as pdfium

    with _PDFIUM_LOCK:
        doc = pdfium.PdfDocument(path)
        try:
            return [_pdfium_text(page) for page in doc]
        finally:
            doc.close()


def _pdfium_text(page) -> str:
    """One PDFium page's text with "\\n" line ends; the page is closed."""
    textpage = page.get_textpage()
    text = textpage.get_text_range()
    textpage.close()
    page.close()
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _pypdf_pages(path: Path) -> Iterator[str]:
    """Each page's text from pypdf (pure Python, about nine times slower than PDFium)."""
    from pypdf import PdfReader

    for page in PdfReader(path).pages:
        yield page.extract_text() or ""


# fastest first: PDFium reads the sample's 112 report pages about nine times faster than pypdf
_PDF_READERS = (("pypdfium2", _pdfium_pages), ("pypdf", _pypdf_pages))


def _pdf_pages_reader():
    """The page-text reader of the fastest PDF library installed, or None if there is none."""
    for module, reader in _PDF_READERS:
        if importlib.util.find_spec(module) is not None:
            return reader
    return None


def _scan_pdf(path: Path, names: _NameScanner) -> list[Finding]:
    """Findings in a PDF's text, its pages scanned as one text (NUL between pages)."""
    pages = _pdf_pages_reader()
    if pages is None:
        warnings.warn(
            f"{path} was not scanned for personal data: install pypdfium2 to scan PDF reports",
            stacklevel=3,
        )
        return []
    texts = [t.replace(_PAGE_BREAK, " ") for t in pages(path)]
    starts = np.cumsum([0] + [len(t) + 1 for t in texts])

    def locate(pos: int) -> str:
        return f"page {int(np.searchsorted(starts, pos, side='right'))}"

    text = _PAGE_BREAK.join(texts)
    flat = text.replace("\n", " ")  # excerpts: data split over lines is masked too
    return _findings_in_text(path, text, names, locate, _scan_pdf_text, flat)


def _scan_xlsx(path: Path, names: _NameScanner) -> list[Finding]:
    out: list[Finding] = []
    with zipfile.ZipFile(path) as zf:
        for member in zf.namelist():
            if member == "xl/sharedStrings.xml" or member.startswith("xl/worksheets/"):
                xml = zf.read(member).decode("utf-8", errors="replace")
                text = re.sub(r"<[^>]+>", " ", xml)
                out += _findings_in_text(path, text, names, lambda pos, m=member: m)
    return out


def _iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    for p in paths:
        p = Path(p)
        if p.is_dir():
            yield from sorted(q for q in p.rglob("*") if q.is_file())
        elif p.is_file():
            yield p
        else:
            raise DampakError(f"Cannot check {p} for personal data: it does not exist.")


def scan_paths(
    paths: Iterable[Path],
    fingerprints: Iterable[str] = frozenset(),
    secret: bytes | None = None,
) -> list[Finding]:
    """Scan output files (directories recursively) for NIK, phones, emails and known names.

    Scanned: text files (:data:`TEXT_SUFFIXES`: .csv .tsv .html .htm .json .md .ipynb .txt
    .log .yaml .yml), Parquet (every string/dictionary column, distinct values only), .xlsx
    (cell text) and PDF text via ``pypdfium2`` (``pypdf`` if only that is installed; a warning,
    not an error, if neither is), line breaks also read as spaces so a wrapped name is found.
    Everything else - images included - is skipped, as are text files with NUL bytes.
    Embedded base64 (``data:`` URIs in HTML, notebook image outputs) is removed before scanning
    so random digits inside images do not raise false alarms.

    Names are found with ``fingerprints`` from :func:`name_fingerprints` and the same
    ``secret``: every run of 2-4 words separated only by spaces is normalised and hashed.

    At most :data:`MAX_FINDINGS_PER_FILE` findings per kind and file are reported.
    """
    names = _NameScanner(fingerprints, secret)
    findings: list[Finding] = []
    for path in _iter_files(paths):
        suffix = path.suffix.lower()
        if suffix in TEXT_SUFFIXES:
            findings += _scan_text_file(path, names)
        elif suffix == ".parquet":
            findings += _scan_parquet(path, names)
        elif suffix == ".pdf":
            findings += _scan_pdf(path, names)
        elif suffix == ".xlsx":
            findings += _scan_xlsx(path, names)
    return findings


def assert_clean(
    paths: Iterable[Path],
    fingerprints: Iterable[str] = frozenset(),
    secret: bytes | None = None,
) -> None:
    """Raise :class:`PrivacyError` if :func:`scan_paths` finds anything (up to five listed)."""
    findings = scan_paths(paths, fingerprints, secret)
    if not findings:
        return
    shown = "; ".join(str(f) for f in findings[:5])
    more = Message("privacy.more", n=len(findings) - 5) if len(findings) > 5 else ""
    raise PrivacyError(Message("privacy.found", shown=shown, more=more), findings)
