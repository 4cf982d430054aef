"""Synthetic TPBIS survey data: messy Google Forms exports with a planted, known truth.

``simulate()`` draws two survey waves a year apart (March of ``start_year`` and of the next
year) of respondents nested in library sites, answers them from a latent outcome model with
planted programme effects, and writes them out the way Indonesian library staff actually
receive them: a Google Forms export whose headers are the codebook's Indonesian question
texts, with word answers in many spellings, free-text incomes, typos in place names,
duplicate submissions, refusals, straight-liners and personal data. ``write()`` saves the
same raw table as CSV, XLSX (sheet "Form Responses 1") and SAV, plus ``truth.json``.

Everything is vectorised with numpy (no Python loop over respondents): strings are picked
from small pools by index, so 1,000,000 respondents per wave take seconds, not minutes.
The data are SYNTHETIC: names, NIKs, phones, e-mails and addresses are made up.

Raw table (one per wave; ``Simulation.waves[wave_id]``)
--------------------------------------------------------
* Columns: ``Timestamp`` then the codebook's question texts (``question.id``) in codebook
  order (``started_at`` is absent: Forms has none). The got-job header carries a trailing
  space (``GOT_JOB_HEADER``); the survey config maps it.
* Rows are in submission order (sorted by timestamp). Every cell is text (pandas ``str``)
  or missing, except the session count (nullable ``Int64``). Wave 1 timestamps are Google
  Forms US style ``M/D/YYYY H:MM:SS``; wave 2 Indonesian style ``D/M/YYYY HH.MM.SS``.
  Timestamps stay text in every format, so each format yields the same data.
* SAV files use SPSS-safe variable names (the codebook variable names) and keep the raw
  header as the variable label; the yes/no-like columns (consent, disability, participated,
  income_change, business, got_job) are numeric codes whose value labels are the raw
  spellings. Read them with ``pyreadstat.read_sav(path, apply_value_formats=True)`` and
  use ``meta.column_labels`` as headers to get the raw table back (missing strings come
  back as ``""``). SPSS pads labels with blanks, so the got-job label comes back without
  its trailing space (it then matches the codebook question text directly).
  Likewise SPSS strings are blank-padded, so trailing spaces in answers ("setuju ",
  "Laing ") come back stripped from SAV; everything else is identical.

Latent model (per person i, wave t = 0, 1)
------------------------------------------
For each scale s in skills, confidence, social, library_roles::

    y_ist = person_is + x_it'b_s + site_s + trend_s * t + effect_s(i) * D_it + e_ist

``person_is`` is a person effect (shared by a person's two waves) independent of
participation D given the observed covariates (age, gender, education, disability), which
are the only drivers of participation (plus, in wave 2, the person's wave-1 participation).
Item j of scale s is ``cut(y_ist + u_ijt)`` on the 1-5 scale (reverse items ``6 - cut``);
the satisfaction item is a cut of the library-roles latent. Latent effects:

* skills: ``0.5 - 0.3*disability + 0.3*[programme == computer]
  + 0.15*(log1p(sessions) - log1p(5))`` (tau 0.5 at 5 sessions; 0.2 with a disability);
* confidence: 0.4 for women, 0.2 for men; social: 0.25;
* library_roles and satisfaction: 0 (null).
* log income: +0.10 for participants (reported incomes are rounded: 50k below 1M, 100k
  above); business (started/grew, logit): +0.8 for programme "enterprise", +0.3 for the
  others; got_job: 0 (null). Income change (Naik/Tetap/Turun) compares the income with the
  income 12 months earlier: the wave-1 income for panel people in wave 2, a fresh draw
  otherwise; 12% of answers are misreported at random.

truth.json schema (``Simulation.truth``)
-----------------------------------------
::

    schema: "dampak-simulate-truth/1"
    generator: {seed, n_per_wave, sites, panel_share, start_year, city}
    waves: [wave ids]                      e.g. ["2025", "2026"]
    files: {wave: {"rows": int, "base": "<prefix>_<wave>"}}
    latent_model: {scales: {scale: {tau, heterogeneity, dose, trend, items, reverse}},
                   satisfaction: {...}, log_income: {tau}, business: {...}, got_job: {...}}
    logit: {business: {enterprise: 0.8, other: 0.3}, got_job: 0.0}
    nulls: ["library_roles", "satisfaction", "got_job"]
    estimand: text defining the sample and the observed-scale estimand
    effects: {wave: {outcome: {
        att: float,              # observed-scale ATT among participants (see below)
        latent_att: float,       # mean latent effect among the same participants
        n: int,                  # participants in the estimand sample with a value
        by: {gender: {female, male}, disability: {yes, no},
             age_band: {"15-24", "25-34", "35-44", "45-59", "60+"},
             programme: {computer, enterprise, literacy, marketing}}
                                 # each {att, n}; groups with n == 0 are left out
    }}}
      outcomes: skills, confidence, social, library_roles (composites: mean of the answered
      items after reverse-coding, 1-5), satisfaction (the item), log_income (log of the
      reported positive income), business, got_job (risk differences; ``att_expected`` is
      the mean difference in probabilities).
    did: {outcome: {att, n}}     # wave-2 ATT among panel people with D=0 in wave 1 and D=1
                                 # in wave 2 (both waves in the estimand sample): the 2x2
                                 # difference-in-differences target
    panel: {wave_1, wave_2, n_persons, share_of_wave_1,
            pairs: [[row in wave-1 file, row in wave-2 file], ...]   # kept (last) submissions
            rows_wave_2: [every wave-2 row index whose respondent is in wave 1, copies too]}
    mess: {wave: {rows, respondents, duplicate_keys, duplicate_rows, no_consent,
                  no_consent_blank, birth_year_impossible, birth_year_blank, income_negative,
                  income_blank, income_unknown, kelurahan_unmatched, kelurahan_typo,
                  kelurahan_alias, site_typo, site_alias, straightliners,
                  likert_blank_cells, likert_unknown_cells, pii_in_feedback, pii_name,
                  pii_phone, pii_email, script_injection, formula_injection}}
    sample: {wave: {female_share, population_female_share, age_band_share,
                    population_age_band_share, participation_rate}}
    places: {sites: [...site ids], kecamatan: [...]}

Rows are 0-based data-row indices of the wave files (header excluded); truth.json never
holds names or NIKs. Counts in ``mess`` are rows of the file (a duplicated respondent's
flags count twice): ``duplicate_keys`` = NIKs submitted twice, ``duplicate_rows`` = the
extra (earlier) submissions; ``straightliners`` = rows whose 16 Likert answers are all the
same planted word; ``kelurahan_unmatched`` = junk answers ("Solok", "-", ...).

Estimand: the observed-scale truth is, for each participant in the estimand sample
(consenting, not a straight-liner, last submission; rows with junk covariates included),
``composite(items with D=1) - composite(items with D=0)`` using the SAME person, site,
wave, item noise and the same answered-item mask, averaged over participants. Effects
are ATTs: among participants, with their own programme and sessions.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import yaml

__all__ = ["Simulation", "simulate", "write", "write_config", "main", "headers"]

CODEBOOK_PATH = Path(__file__).resolve().parent / "instruments" / "tpbis.yaml"
GOT_JOB_HEADER = "Dalam 12 bulan terakhir, apakah Anda mendapatkan pekerjaan atau tawaran kerja? "
SHEET_NAME = "Form Responses 1"
XLSX_MAX_ROWS = 200_000
CITY = "Kota Solok"

# --------------------------------------------------------------------------- Kota Solok
KECAMATAN: dict[str, list[str]] = {
    "Lubuk Sikarah": [
        "Aro IV Korong",
        "IX Korong",
        "KTK",
        "Simpang Rumbio",
        "Sinapa Piliang",
        "Tanah Garam",
        "VI Suku",
    ],
    "Tanjung Harapan": [
        "Kampung Jawa",
        "Koto Panjang",
        "Laing",
        "Nan Balimo",
        "Pasar Pandan Air Mati",
        "Tanjung Paku",
    ],
}
PLACE_ALIASES: dict[str, str] = {
    "PPA Mati": "Pasar Pandan Air Mati",
    "Pasar Pandan": "Pasar Pandan Air Mati",
    "Aro 4 Korong": "Aro IV Korong",
    "9 Korong": "IX Korong",
    "6 Suku": "VI Suku",
    "Koto Panjang Kampung Jawa": "KTK",
}
KELURAHAN_POP: dict[str, int] = {
    "Aro IV Korong": 3900,
    "IX Korong": 3300,
    "KTK": 6200,
    "Simpang Rumbio": 4600,
    "Sinapa Piliang": 2600,
    "Tanah Garam": 7900,
    "VI Suku": 3600,
    "Kampung Jawa": 5600,
    "Koto Panjang": 2500,
    "Laing": 2700,
    "Nan Balimo": 4200,
    "Pasar Pandan Air Mati": 4400,
    "Tanjung Paku": 4500,
}
CITY_SITE = {
    "id": "kota",
    "name": "Perpustakaan Umum Kota Solok",
    "kecamatan": "Tanjung Harapan",
    "aliases": ["Perpustakaan Kota", "Perpus Kota", "Perpustakaan Daerah", "Dinas Perpustakaan"],
}
GENDER_POP = {"female": 28100, "male": 27900}
AGE_BANDS = ("15-24", "25-34", "35-44", "45-59", "60+")
AGE_EDGES = (15, 25, 35, 45, 60)
AGE_POP = {"15-24": 11800, "25-34": 11200, "35-44": 10600, "45-59": 13100, "60+": 9300}

# Sample skew: libraries reach young women more than the population margins say.
SAMPLE_FEMALE_SHARE = 0.62
SAMPLE_AGE_SHARE = np.array([0.31, 0.27, 0.18, 0.15, 0.09])

EDUCATION = ("primary", "junior", "senior", "tertiary")
OCCUPATION = (
    "student",
    "entrepreneur",
    "employee",
    "civil_servant",
    "farmer",
    "homemaker",
    "not_working",
    "other",
)
PROGRAMMES = ("computer", "enterprise", "literacy", "marketing")
SCALES = ("skills", "confidence", "social", "library_roles")
SCALE_ITEMS = {
    "skills": ("skill_1", "skill_2", "skill_3", "skill_4"),
    "confidence": ("conf_1", "conf_2", "conf_3", "conf_4"),
    "social": ("social_1", "social_2", "social_3"),
    "library_roles": ("role_knowledge", "role_useful", "role_solutions", "role_potential"),
}
REVERSE = ("skill_4", "conf_4")
LIKERT_ITEMS = tuple(i for s in SCALES for i in SCALE_ITEMS[s]) + ("satisfaction",)
CUTS = np.array([-1.5, -0.7, 0.1, 1.3])

# ---- planted effects (latent scale) -----------------------------------------------------
TAU = {"skills": 0.5, "confidence": 0.2, "social": 0.25, "library_roles": 0.0}
SKILLS_DISABILITY = -0.3
SKILLS_COMPUTER = 0.3
SKILLS_DOSE = 0.15
DOSE_REF_SESSIONS = 5
CONF_FEMALE = 0.2
TREND = {"skills": 0.10, "confidence": 0.05, "social": 0.05, "library_roles": 0.0}
TAU_LOG_INCOME = 0.10
TREND_LOG_INCOME = 0.04
BUSINESS_LOGIT = {"enterprise": 0.8, "other": 0.3}
ITEM_SD = 0.7
WAVE_SD = 0.45
PERSON_SD = 0.6
SITE_SD = 0.2
# covariate effects: const, age_z, female, disability, education (4 levels)
COEF = {
    "skills": (0.45, -0.35, -0.10, -0.30, (-0.5, -0.2, 0.0, 0.35)),
    "confidence": (0.50, 0.05, -0.10, -0.25, (-0.3, -0.1, 0.0, 0.2)),
    "social": (0.40, 0.15, 0.05, -0.20, (-0.1, 0.0, 0.0, 0.1)),
    "library_roles": (0.70, 0.10, 0.05, 0.0, (0.0, 0.0, 0.0, 0.0)),
}

# ---- answer spellings --------------------------------------------------------------------
LIKERT_POOL = [
    [("Sangat tidak setuju", 0.84), ("STS", 0.09), ("sangat tidak setuju", 0.07)],
    [("Tidak setuju", 0.82), ("TS", 0.10), ("tidak setuju", 0.08)],
    [("Netral", 0.80), ("Ragu-ragu", 0.10), ("RR", 0.06), ("netral", 0.04)],
    [("Setuju", 0.76), ("S", 0.07), ("setuju ", 0.08), ("SETUJU", 0.05), ("Agree", 0.04)],
    [
        ("Sangat setuju", 0.74),
        ("SANGAT SETUJU", 0.08),
        ("SS", 0.08),
        ("Sangat Setuju", 0.06),
        ("Strongly agree", 0.04),
    ],
]
STRAIGHTLINE_WORDS = ("Setuju", "Sangat setuju", "Netral", "S", "SS")
GENDER_POOL = [
    [("Perempuan", 0.70), ("P", 0.10), ("Wanita", 0.12), ("perempuan", 0.05), ("Female", 0.03)],
    [
        ("Laki-laki", 0.65),
        ("L", 0.10),
        ("Pria", 0.12),
        ("Laki laki", 0.06),
        ("laki-laki", 0.04),
        ("Lk", 0.03),
    ],
]
YES_POOL = [("Ya", 0.96), ("ya", 0.04)]
NO_POOL = [("Tidak", 0.96), ("tidak", 0.04)]
CONSENT_POOL = [[("Ya, saya bersedia", 0.8), ("Ya", 0.2)], [("Tidak", 1.0)]]
INCOME_CHANGE_WORDS = ("Turun", "Tetap", "Naik")
JUNK_KELURAHAN = ("Solok", "-", "Kota Solok", "Sumbar")

FIRST_F = [
    "Siti",
    "Nurhaliza",
    "Rahmawati",
    "Fitri",
    "Dewi",
    "Sri",
    "Wulandari",
    "Yuliani",
    "Rina",
    "Nurul",
    "Aisyah",
    "Putri",
    "Annisa",
    "Fadhila",
    "Rahmi",
    "Yulia",
    "Desi",
    "Elvira",
    "Mega",
    "Ratna",
    "Suci",
    "Zahra",
    "Indah",
    "Lestari",
    "Hayati",
    "Nofriyanti",
    "Gusti",
    "Yessi",
    "Welly",
    "Ranti",
]
FIRST_M = [
    "Ahmad",
    "Muhammad",
    "Rizki",
    "Fajar",
    "Andi",
    "Budi",
    "Hendra",
    "Yusuf",
    "Irfan",
    "Dedi",
    "Agus",
    "Rahmat",
    "Fauzan",
    "Ilham",
    "Arif",
    "Hafiz",
    "Rudi",
    "Syahrul",
    "Zulkifli",
    "Afrizal",
    "Doni",
    "Yofi",
    "Riko",
    "Alfin",
    "Teguh",
    "Wahyu",
    "Bayu",
    "Fikri",
    "Randi",
    "Hamdani",
]
LAST = [
    "Saputra",
    "Putra",
    "Putri",
    "Pratama",
    "Syahputra",
    "Hidayat",
    "Chaniago",
    "Piliang",
    "Tanjung",
    "Koto",
    "Sikumbang",
    "Caniago",
    "Jambak",
    "Melayu",
    "Guci",
    "Sinaga",
    "Nasution",
    "Lubis",
    "Harahap",
    "Wijaya",
    "Kurniawan",
    "Setiawan",
    "Rahman",
    "Anwar",
    "Syafri",
    "Effendi",
    "Amri",
    "Yusra",
    "Hasibuan",
    "Firmansyah",
]
# operator codes after the leading "08" / "+62 8"
OPERATORS = ("11", "12", "13", "21", "22", "23", "52", "53", "77", "78", "81", "95")
MAIL_DOMAINS = ("gmail.com", "gmail.com", "gmail.com", "yahoo.co.id", "yahoo.com", "ymail.com")
STREETS = (
    "Jl. Sudirman",
    "Jl. Ahmad Yani",
    "Jl. Pahlawan",
    "Jl. Lingkar Utara",
    "Jl. Lingkar Selatan",
    "Jl. Tembok Raya",
    "Jl. Syech Kukut",
    "Jl. Bandar Panduang",
    "Jl. Kapten Bahar Hamid",
    "Jl. Proklamasi",
    "Jl. Dahlia",
    "Jl. Melati",
    "Jl. Merdeka",
    "Jl. Bypass",
    "Jl. Diponegoro",
    "Jl. KH. Dewantara",
    "Jl. Rambutan",
    "Jl. Durian",
)
FEEDBACK = (
    "Perpustakaan sangat membantu saya belajar komputer.",
    "Pelatihannya bermanfaat, semoga diadakan lagi.",
    "Saya jadi bisa jualan online lewat WhatsApp dan Facebook.",
    "Koleksi buku anak perlu ditambah.",
    "Wifi di perpustakaan sering lambat.",
    "Petugasnya ramah dan sabar mengajari.",
    "Mohon jam buka diperpanjang sampai sore.",
    "Anak saya senang ikut kegiatan membaca.",
    "Tempatnya nyaman untuk belajar.",
    "Perlu lebih banyak komputer untuk peserta.",
    "Terima kasih, usaha kerajinan saya makin berkembang.",
    "Kegiatan literasi keluarga sangat bagus.",
    "Sebaiknya ada pelatihan desain grafis.",
    "Saya belum pernah ikut pelatihan, tapi ingin ikut.",
    "Informasi kegiatan kurang tersebar, tolong diumumkan di grup WA.",
    "Mantap, terus maju perpustakaan kita!",
    "Akses untuk kursi roda perlu diperbaiki.",
    "Bagus",
    "ok",
    "Tidak ada saran.",
    "Semoga ada pelatihan membuat kue dan pemasaran digital.",
    "Buku-bukunya banyak yang sudah lama, perlu buku baru.",
)
FORMULA_TEXTS = ('=HYPERLINK("http://contoh.id","klik")', "=1+1 perpustakaan bagus")
SCRIPT_TEXT = "<script>alert(1)</script>"
KEL_PREFIX = (
    "Koto",
    "Sungai",
    "Padang",
    "Batu",
    "Air",
    "Bukit",
    "Lubuk",
    "Tanjung",
    "Pasar",
    "Kampung",
    "Simpang",
    "Talang",
    "Tanah",
    "Muaro",
    "Parak",
    "Guguk",
)
KEL_SUFFIX = (
    "Panjang",
    "Gadang",
    "Baru",
    "Tinggi",
    "Putih",
    "Sarik",
    "Kuning",
    "Lamo",
    "Jaya",
    "Indah",
    "Hilir",
    "Mudik",
    "Rayo",
    "Ketek",
    "Pinang",
    "Kapeh",
    "Jambu",
    "Durian",
    "Limau",
    "Tabek",
)
ROMAN = ("", " II", " III", " IV", " V", " VI", " VII", " VIII", " IX", " X")


# =========================================================================== codebook
@functools.lru_cache(maxsize=1)
def _codebook() -> dict:
    from pipelines.config import read_yaml

    return read_yaml(CODEBOOK_PATH.read_text(encoding="utf-8"), source=CODEBOOK_PATH)


def _variables() -> list[dict]:
    """The codebook variables that a Google Forms export holds (all but ``started_at``)."""
    return [v for v in _codebook()["variables"] if v["name"] != "started_at"]


def headers() -> list[str]:
    """Raw headers in export order: Timestamp, then the question texts (got_job with a space)."""
    out = []
    for v in _variables():
        if v["name"] == "submitted_at":
            out.append("Timestamp")
        elif v["name"] == "got_job":
            out.append(GOT_JOB_HEADER)
        else:
            out.append(v["question"]["id"])
    return out


def _names() -> list[str]:
    return [v["name"] for v in _variables()]


def _level_pool(var: str, levels: Sequence[str]) -> list[list[tuple[str, float]]]:
    """Spelling pool per level: the level's `match` spellings, the first-listed Indonesian
    label most often, plus a lower-case variant."""
    spec = next(v for v in _variables() if v["name"] == var)["levels"]
    pools = []
    for lev in levels:
        canon = spec[lev]["id"]
        match = [m for m in spec[lev]["match"] if m != canon]
        pool = [(canon, 0.55)] + [(m, 0.38 / max(len(match), 1)) for m in match]
        pool.append((canon.lower(), 0.07) if canon.lower() != canon else (canon, 0.07))
        pools.append(pool)
    return pools


# =========================================================================== pools
@dataclass
class _Pool:
    """Weighted spelling pools per group, flattened so draws are vectorised."""

    strings: np.ndarray  # object array of all spellings
    kinds: np.ndarray  # object array: exact / variant / alias / typo
    offsets: np.ndarray
    sizes: np.ndarray
    cum: np.ndarray  # (groups, K) cumulative weights, padded with 1

    @classmethod
    def build(cls, groups: Sequence[Sequence[tuple]]) -> _Pool:
        k = max(len(g) for g in groups)
        strings, kinds, offsets, sizes = [], [], [], []
        cum = np.ones((len(groups), k))
        for gi, g in enumerate(groups):
            offsets.append(len(strings))
            sizes.append(len(g))
            w = np.array([x[1] for x in g], dtype=float)
            c = np.cumsum(w / w.sum())
            c[-1] = 1.0
            cum[gi, : len(g)] = c
            strings.extend(x[0] for x in g)
            kinds.extend(x[2] if len(x) > 2 else "exact" for x in g)
        return cls(
            np.array(strings, dtype=object),
            np.array(kinds, dtype=object),
            np.array(offsets),
            np.array(sizes),
            cum,
        )

    def draw(self, group: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Index into ``strings`` for each (group, uniform) pair."""
        k = (u[:, None] >= self.cum[group]).sum(axis=1)
        return self.offsets[group] + np.minimum(k, self.sizes[group] - 1)

    @functools.cached_property
    def arrow(self) -> pa.Array:
        return pa.array(self.strings.tolist(), type=pa.string())

    def col(self, group: np.ndarray, u: np.ndarray) -> _Col:
        return _Col(self.arrow, self.draw(group, u))


def _typo(word: str) -> str:
    """Drop the first lower-case vowel that follows a consonant ("Tanjung" -> "Tnjung")."""
    for i in range(1, len(word)):
        if word[i] in "aeiou" and word[i - 1].isalpha() and word[i - 1].lower() not in "aeiou":
            return word[:i] + word[i + 1 :]
    return word


LIKERT = _Pool.build(LIKERT_POOL + [[("Tidak tahu", 1.0)]])  # codes 1-5, then "Tidak tahu"
LIKERT_UNKNOWN_INDEX = len(LIKERT.strings) - 1


# =========================================================================== places
@dataclass
class _Places:
    kecamatan: dict[str, list[str]]
    kel_pop: dict[str, int]
    aliases: dict[str, str]
    sites: list[dict]  # id, name, kecamatan, kelurahan (None for the city), aliases
    kel_names: list[str] = field(default_factory=list)
    kel_kec: np.ndarray = None
    kel_p: np.ndarray = None

    def __post_init__(self):
        self.kel_names = [k for ks in self.kecamatan.values() for k in ks]
        kec_names = list(self.kecamatan)
        self.kel_kec = np.array(
            [kec_names.index(k) for k, ks in self.kecamatan.items() for _ in ks]
        )
        pop = np.array([self.kel_pop[k] for k in self.kel_names], dtype=float)
        self.kel_p = pop / pop.sum()


def _site_id(name: str) -> str:
    return name.lower().replace(" ", "-")


def _places(sites: int | None, seed: int) -> _Places:
    real_sites = [dict(CITY_SITE, kelurahan=None)] + [
        {
            "id": _site_id(kel),
            "name": f"Perpustakaan Kelurahan {kel}",
            "kecamatan": kec,
            "kelurahan": kel,
            "aliases": [],
        }
        for kec, kels in KECAMATAN.items()
        for kel in kels
    ]
    if sites is None or sites <= len(real_sites):
        k = len(real_sites) if sites is None else sites
        if k < 1:
            raise ValueError("sites must be a positive number of library sites")
        return _Places(
            {k_: list(v) for k_, v in KECAMATAN.items()},
            dict(KELURAHAN_POP),
            dict(PLACE_ALIASES),
            real_sites[:k],
        )
    # Scaled-up synthetic city: the real places plus synthetic kecamatan of ~8 kelurahan.
    rng = np.random.default_rng([seed, 7])
    extra = sites - len(real_sites)
    combos = [f"{p} {s}" for p in KEL_PREFIX for s in KEL_SUFFIX]
    rng.shuffle(combos)
    taken = set(KELURAHAN_POP) | set(KECAMATAN)
    names = []
    for rom in ROMAN + tuple(f" {i}" for i in range(11, 1000)):
        for c in combos:
            if c + rom not in taken:
                names.append(c + rom)
                taken.add(c + rom)
        if len(names) >= extra + extra // 8 + 2:
            break
    kec_count = -(-extra // 8)
    kec_names, kel_names = names[:kec_count], names[kec_count : kec_count + extra]
    kecamatan = {k: list(v) for k, v in KECAMATAN.items()}
    kel_pop = dict(KELURAHAN_POP)
    site_list = list(real_sites)
    pops = (np.round(rng.uniform(2000, 8000, size=extra) / 100) * 100).astype(int)
    for i, kel in enumerate(kel_names):
        kec = kec_names[i // 8]
        kecamatan.setdefault(kec, []).append(kel)
        kel_pop[kel] = int(pops[i])
        site_list.append(
            {
                "id": _site_id(kel),
                "name": f"Perpustakaan Kelurahan {kel}",
                "kecamatan": kec,
                "kelurahan": kel,
                "aliases": [],
            }
        )
    return _Places(kecamatan, kel_pop, dict(PLACE_ALIASES), site_list)


def _margins(pl: _Places) -> dict:
    """Population margins consistent with the kelurahan populations (same total)."""
    total = sum(pl.kel_pop.values())
    if pl.kel_pop == KELURAHAN_POP:
        return {
            "kelurahan": dict(KELURAHAN_POP),
            "gender": dict(GENDER_POP),
            "age_band": dict(AGE_POP),
        }
    g_share = GENDER_POP["female"] / sum(GENDER_POP.values())
    female = int(round(total * g_share))
    a = np.array(list(AGE_POP.values()), dtype=float)
    ages = np.floor(a / a.sum() * total).astype(int)
    ages[-1] += total - ages.sum()
    return {
        "kelurahan": {k: int(v) for k, v in pl.kel_pop.items()},
        "gender": {"female": female, "male": total - female},
        "age_band": {b: int(x) for b, x in zip(AGE_BANDS, ages, strict=True)},
    }


def _kelurahan_pool(pl: _Places) -> _Pool:
    alias_of: dict[str, list[str]] = {}
    for a, k in pl.aliases.items():
        alias_of.setdefault(k, []).append(a)
    groups = []
    for kel in pl.kel_names:
        g = [
            (kel, 0.70, "exact"),
            (kel.lower(), 0.07, "variant"),
            (kel.upper(), 0.04, "variant"),
            (f"Kel. {kel}", 0.04, "variant"),
            (f"Kelurahan {kel}", 0.04, "variant"),
            (f"{kel} ", 0.03, "variant"),
        ]
        al = alias_of.get(kel, [])
        for a in al:
            g += [(a, 0.025 / len(al), "alias"), (a.lower(), 0.015 / len(al), "alias")]
        if not al:
            g[0] = (kel, 0.74, "exact")
        typo = _typo(kel)
        if typo != kel:
            g.append((typo, 0.02, "typo"))
        else:
            g[0] = (kel, g[0][1] + 0.02, "exact")
        groups.append(g)
    groups.append([(j, 1.0, "junk") for j in JUNK_KELURAHAN])
    return _Pool.build(groups)


def _site_pool(pl: _Places) -> _Pool:
    groups = []
    for s in pl.sites:
        name = s["name"]
        g = [
            (name, 0.74, "exact"),
            (name.lower(), 0.06, "variant"),
            (name.upper(), 0.04, "variant"),
            (name.replace(" ", "  ", 1), 0.04, "variant"),
            (f"{name} ", 0.04, "variant"),
        ]
        al = s.get("aliases") or []
        for a in al:
            g.append((a, 0.06 / len(al), "alias"))
        if not al:
            g[0] = (name, 0.80, "exact")
        if s.get("kelurahan"):
            typo = f"Perpustakaan Kelurahan {_typo(s['kelurahan'])}"
            if typo == name:
                typo = name.replace("Perpustakaan", "Perpustakan")
        else:
            typo = name.replace("Perpustakaan", "Perpustakan")
        g.append((typo, 0.02, "typo"))
        groups.append(g)
    return _Pool.build(groups)


# =========================================================================== helpers
def _choice_rows(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    """One categorical draw per row of the (n, k) probability matrix ``p``."""
    c = np.cumsum(p, axis=1)
    c /= c[:, -1:]
    return np.minimum((rng.random(len(p))[:, None] >= c).sum(axis=1), p.shape[1] - 1)


def _logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


# Strings are built with Arrow compute kernels (C++): fast and compact, no Python objects.
_NULL = pa.scalar(None, pa.string())


def _s(x):
    """Anything (numpy ints / strings / objects, Arrow, a str) as an Arrow string array."""
    if isinstance(x, pa.Scalar | pa.Array | pa.ChunkedArray):
        return x if x.type == pa.string() else pc.cast(x, pa.string())
    if isinstance(x, str):
        return pa.scalar(x, pa.string())
    a = np.asarray(x)
    if a.dtype.kind in "iub":
        return pc.cast(pa.array(a), pa.string())
    return pa.array(a, type=pa.string(), from_pandas=True)


def _z(a, width: int):
    """Zero-padded: _z(7, 2) -> '07'."""
    return pc.utf8_lpad(_s(a), width=width, padding="0")


def _cat(*parts):
    """Element-wise concatenation of arrays / scalars."""
    return pc.binary_join_element_wise(*[_s(p) for p in parts], "")


def _where(mask, a, b):
    return pc.if_else(pa.array(np.asarray(mask, dtype=bool)), _s(a), _s(b))


def _null(arr, mask):
    """``arr`` with the ``mask`` positions missing."""
    return _where(mask, _NULL, arr)


def _select(codes: np.ndarray, choices: Sequence, default):
    out = _s(default)
    for k in range(len(choices) - 1, -1, -1):
        out = _where(codes == k, choices[k], out)
    return out


@dataclass
class _Col:
    """A column of spellings drawn from a pool: indices into ``pool`` (-1 = blank)."""

    pool: pa.Array
    idx: np.ndarray

    def take(self, rows: np.ndarray) -> _Col:
        return _Col(self.pool, self.idx[rows])

    def arrow(self):
        return self.pool.take(pa.array(self.idx, mask=self.idx < 0))


def _take(col, rows: np.ndarray):
    if isinstance(col, _Col):
        return col.take(rows)
    if isinstance(col, np.ndarray):
        return col[rows]
    return col.take(pa.array(rows))


def _band(age: np.ndarray) -> np.ndarray:
    """Age band index 0..4 (15-24, 25-34, 35-44, 45-59, 60+); -1 below 15."""
    return np.searchsorted(np.array(AGE_EDGES), age, side="right") - 1


def _pick(rng: np.random.Generator, mask: np.ndarray, k: int) -> np.ndarray:
    """Boolean mask selecting exactly ``k`` random True positions of ``mask``."""
    idx = np.flatnonzero(mask)
    k = min(k, len(idx))
    out = np.zeros(len(mask), dtype=bool)
    out[rng.choice(idx, size=k, replace=False)] = True
    return out


def _count(n: int, share: float, minimum: int = 0) -> int:
    return max(minimum, int(round(n * share))) if n > 0 else 0


# =========================================================================== people
# education by age band
EDU_P = np.array(
    [
        [0.05, 0.25, 0.50, 0.20],
        [0.08, 0.15, 0.42, 0.35],
        [0.15, 0.20, 0.40, 0.25],
        [0.25, 0.25, 0.33, 0.17],
        [0.45, 0.25, 0.20, 0.10],
    ]
)
# occupation by age band (student, entrepreneur, employee, civil_servant, farmer, homemaker,
# not_working, other); homemaker weight applies to women, men get it as not_working/farmer
OCC_P = np.array(
    [
        [0.62, 0.06, 0.10, 0.01, 0.02, 0.06, 0.10, 0.03],
        [0.12, 0.20, 0.25, 0.08, 0.05, 0.15, 0.10, 0.05],
        [0.00, 0.25, 0.22, 0.12, 0.09, 0.20, 0.06, 0.06],
        [0.00, 0.25, 0.15, 0.14, 0.14, 0.20, 0.06, 0.06],
        [0.00, 0.15, 0.04, 0.04, 0.17, 0.20, 0.34, 0.06],
    ]
)


@dataclass
class _People:
    """Fixed attributes of everyone who ever answers (both waves)."""

    site: np.ndarray
    kel: np.ndarray  # residence kelurahan index (into places.kel_names)
    female: np.ndarray
    birth_year: np.ndarray
    edu: np.ndarray
    occ: np.ndarray
    disab: np.ndarray
    person: np.ndarray  # (P, 4) person effects per scale
    mu_inc: np.ndarray  # log income level
    zero_inc: np.ndarray
    strings: dict  # full_name, phone, nik, email, address (object arrays)
    kel_answer: np.ndarray  # kelurahan pool index answered
    site_answer: np.ndarray  # site pool index answered


def _draw_people(
    rng: np.random.Generator,
    entry_year: np.ndarray,
    pl: _Places,
    site_p: np.ndarray,
    kel_pool: _Pool,
    site_pool: _Pool,
) -> _People:
    n = len(entry_year)
    n_sites = len(pl.sites)
    site = rng.choice(n_sites, size=n, p=site_p)
    # residence: own kelurahan mostly, else a neighbour in the kecamatan, else anywhere
    site_kel = np.array(
        [pl.kel_names.index(s["kelurahan"]) if s.get("kelurahan") else -1 for s in pl.sites]
    )
    sk = site_kel[site]
    anywhere = rng.choice(len(pl.kel_names), size=n, p=pl.kel_p)
    kec_sizes = np.bincount(pl.kel_kec)
    kec_start = np.r_[0, np.cumsum(kec_sizes)[:-1]]
    kec_of = pl.kel_kec[np.maximum(sk, 0)]
    neighbour = kec_start[kec_of] + (rng.random(n) * kec_sizes[kec_of]).astype(int)
    u = rng.random(n)
    kel = np.where(
        sk < 0, anywhere, np.where(u < 0.80, sk, np.where(u < 0.95, neighbour, anywhere))
    )

    female = rng.random(n) < SAMPLE_FEMALE_SHARE
    band = rng.choice(5, size=n, p=SAMPLE_AGE_SHARE)
    lo = np.array([15, 25, 35, 45, 60])[band]
    width = np.array([10, 10, 10, 15, 1])[band]
    age = lo + (rng.random(n) * width).astype(int)
    old = band == 4
    age[old] = 60 + np.minimum(rng.exponential(7.0, size=old.sum()).astype(int), 30)
    birth_year = entry_year - age
    edu = _choice_rows(rng, EDU_P[band])
    occ_p = OCC_P[band].copy()
    occ_p[~female, 5] = 0.0  # men: no "homemaker"
    occ_p[~female, 6] += 0.03
    occ_p[~female, 4] += 0.05
    occ_p[female, 3] *= 0.8
    occ = _choice_rows(rng, occ_p)
    disab = rng.random(n) < np.array([0.035, 0.045, 0.06, 0.08, 0.12])[band]

    g = rng.standard_normal(n)
    person = PERSON_SD * (0.5 * g[:, None] + np.sqrt(0.75) * rng.standard_normal((n, 4)))
    edu_inc = np.array([-0.45, -0.25, 0.0, 0.45])[edu]
    occ_inc = np.array([-0.6, 0.15, 0.05, 0.35, -0.1, -0.4, -0.6, 0.0])[occ]
    mu_inc = np.log(2_300_000) + edu_inc + occ_inc + 0.15 * ~female + 0.45 * rng.standard_normal(n)
    zero_p = np.array([0.6, 0.0, 0.0, 0.0, 0.05, 0.5, 0.7, 0.1])[occ]
    zero_inc = rng.random(n) < zero_p

    # ---- personal data (fake) -----------------------------------------------------------
    fi = np.where(
        female,
        rng.integers(0, len(FIRST_F), n),
        len(FIRST_F) + rng.integers(0, len(FIRST_M), n),
    )
    li = rng.integers(0, len(LAST), n)
    single = rng.random(n) < 0.2
    firsts = np.array(FIRST_F + FIRST_M, dtype=object)
    lasts = np.array(LAST, dtype=object)
    # all first x last (+ single) combinations, 3 casings: every name shares pool objects
    combos = (firsts[:, None] + " " + lasts[None, :]).ravel()
    combos = [str(c) for c in np.concatenate([combos, firsts])]
    case = rng.choice(3, size=n, p=[0.9, 0.06, 0.04])
    name_pool = pa.array(combos + [c.lower() for c in combos] + [c.upper() for c in combos])
    combo_idx = np.where(single, len(firsts) * len(lasts) + fi, fi * len(lasts) + li)
    full_name = name_pool.take(pa.array(combo_idx + case * len(combos)))

    op = pa.array(OPERATORS).take(pa.array(rng.integers(0, len(OPERATORS), n)))
    num = rng.integers(10_000_000, 100_000_000, n)
    a, b = _s(num // 10_000), _z(num % 10_000, 4)
    style = rng.choice(6, size=n, p=[0.55, 0.10, 0.10, 0.05, 0.10, 0.10])
    # one join: prefix, operator, separator, 4 digits, separator, 4 digits
    pre = pa.array(["08", "+62 8", "+628", "628", "08", "08"]).take(pa.array(style))
    sep = pa.array(["", "-", "", "", " ", "-"]).take(pa.array(style))
    phone = _cat(pre, op, sep, a, sep, b)

    # NIK: 13 72 KK DDMMYY SSSS; women's day + 40; serial unique per (kecamatan, birth date)
    kec_code = (pl.kel_kec[kel] % 99) + 1
    month = rng.integers(1, 13, n)
    dim = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[month - 1]
    day = 1 + (rng.random(n) * dim).astype(int)
    key = ((kec_code * 100 + (birth_year % 100)) * 100 + month) * 100 + day
    order = np.argsort(key, kind="stable")
    sk_ = key[order]
    start = np.r_[True, sk_[1:] != sk_[:-1]]
    grp = np.cumsum(start) - 1
    pos = np.arange(n) - np.flatnonzero(start)[grp]
    serial = np.empty(n, dtype=int)
    serial[order] = pos + 1
    nik = _cat(
        "1372", _z(kec_code, 2), _z(day + 40 * female, 2), _z(month, 2), _z(birth_year % 100, 2)
    )
    nik = _cat(nik, _z(serial, 4))

    handle = pa.array([c.lower().replace(" ", ".") for c in combos]).take(pa.array(combo_idx))
    email = _cat(
        handle,
        _where(rng.random(n) < 0.6, rng.integers(1, 100, n), ""),
        "@",
        pa.array(MAIL_DOMAINS).take(pa.array(rng.integers(0, len(MAIL_DOMAINS), n))),
    )
    email = _null(email, rng.random(n) < 0.2)
    address = _cat(
        pa.array(STREETS).take(pa.array(rng.integers(0, len(STREETS), n))),
        " No. ",
        rng.integers(1, 200, n),
        ", RT ",
        _z(rng.integers(1, 8, n), 3),
        "/RW ",
        _z(rng.integers(1, 6, n), 3),
        ", ",
        pa.array(pl.kel_names).take(pa.array(kel)),
    )
    address = _null(address, rng.random(n) < 0.05)

    kel_answer = kel_pool.draw(kel, rng.random(n))
    site_answer = site_pool.draw(site, rng.random(n))
    return _People(
        site=site,
        kel=kel,
        female=female,
        birth_year=birth_year,
        edu=edu,
        occ=occ,
        disab=disab,
        person=person,
        mu_inc=mu_inc,
        zero_inc=zero_inc,
        strings={
            "full_name": full_name,
            "phone": phone,
            "nik": nik,
            "email": email,
            "address": address,
        },
        kel_answer=kel_answer,
        site_answer=site_answer,
    )


# =========================================================================== outcomes
def _items(latent: np.ndarray, noise: np.ndarray, reverse: Sequence[bool]) -> np.ndarray:
    """1..5 codes of ``latent[:, None] + noise`` (reverse items flipped)."""
    codes = (1 + np.searchsorted(CUTS, latent[:, None] + noise)).astype(np.int8)
    rev = np.asarray(reverse)
    codes[:, rev] = 6 - codes[:, rev]
    return codes


def _composite(codes: np.ndarray, mask: np.ndarray, reverse: Sequence[bool]) -> np.ndarray:
    c = codes.astype(float)
    rev = np.asarray(reverse)
    c[:, rev] = 6 - c[:, rev]
    c[~mask] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nansum(c, axis=1) / mask.sum(axis=1)


def _round_income(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    big = np.round(v / 100_000) * 100_000
    small = np.maximum(np.round(v / 50_000) * 50_000, 50_000)
    return np.where(v >= 950_000, np.maximum(big, 1_000_000), small).astype(np.int64)


def _dotted(v: np.ndarray, sep: str) -> np.ndarray:
    """1500000 -> '1.500.000' (sep='.') for non-negative integers below 1e12."""
    b = v // 1_000_000_000
    m = (v // 1_000_000) % 1000
    k = (v // 1000) % 1000
    u = v % 1000
    u3 = _z(u, 3)
    out = _where(k > 0, _cat(k, sep, u3), _s(u))
    out = _where(m > 0, _cat(m, sep, _z(k, 3), sep, u3), out)
    return _where(b > 0, _cat(b, sep, _z(m, 3), sep, _z(k, 3), sep, u3), out)


def _income_text(rng: np.random.Generator, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Free-text incomes in many Indonesian spellings; returns (texts, format code)."""
    n = len(v)
    fmt = rng.choice(9, size=n, p=[0.27, 0.08, 0.12, 0.06, 0.06, 0.04, 0.22, 0.10, 0.05])
    big = v >= 1_000_000
    fmt = np.where((fmt == 4) & big, 0, fmt)  # "ribu" only below a million
    fmt = np.where((fmt == 5) & (v % 1_000_000 != 0), 2, fmt)  # "juta-an" for round millions
    fmt = np.where(np.isin(fmt, (2, 3, 5)) & ~big, 4, fmt)  # "juta" only from a million
    fmt = np.where((v == 0) & ~np.isin(fmt, (6, 0)), 6, fmt)
    m = v // 1_000_000
    frac = (v % 1_000_000) // 100_000
    juta_c = _where(frac > 0, _cat(m, ",", frac), _s(m))
    dotted = _dotted(v, ".")
    number = _select(
        fmt,
        [
            dotted,
            pc.replace_substring(dotted, ".", ","),
            juta_c,
            pc.replace_substring(juta_c, ",", "."),
            _s(v // 1000),
            _s(m),
            _s(v),
            dotted,
        ],
        _s(v),
    )
    pre = ["Rp ", "Rp", "", "", "", "", "", "Rp. ", "Rp "]
    post = ["", ".00", " juta", "jt", " ribu", " juta-an", "", ",-", ""]
    out = _cat(pa.array(pre).take(pa.array(fmt)), number, pa.array(post).take(pa.array(fmt)))
    return out, fmt


@dataclass
class _Wave:
    year: int
    t: int
    persons: np.ndarray
    D: np.ndarray
    prog: np.ndarray  # -1 for non-participants
    sessions: np.ndarray  # 0 for non-participants
    codes: np.ndarray  # observed Likert codes (n, 16)
    codes0: np.ndarray
    codes1: np.ndarray
    latent_eff: dict
    item_mask: np.ndarray  # answered (not blank / Tidak tahu)
    log_inc: np.ndarray  # latent log income (observed D)
    inc_rep0: np.ndarray
    inc_rep1: np.ndarray
    inc_valid: np.ndarray
    inc_text: np.ndarray
    inc_fmt: np.ndarray
    bus0: np.ndarray
    bus1: np.ndarray
    bus_p0: np.ndarray
    bus_p1: np.ndarray
    job: np.ndarray
    inc_change: np.ndarray
    flags: dict  # per-person mess flags
    columns: dict  # raw column values per person (object arrays), keyed by variable name


def _simulate_wave(
    rng: np.random.Generator,
    pp: _People,
    persons: np.ndarray,
    t: int,
    year: int,
    site_eff: np.ndarray,
    prev: _Wave | None,
    pools: dict,
) -> _Wave:
    n = len(persons)
    female = pp.female[persons]
    disab = pp.disab[persons]
    edu = pp.edu[persons]
    occ = pp.occ[persons]
    age = year - pp.birth_year[persons]
    age_z = (age - 40) / 15
    site = pp.site[persons]

    # ---- participation: observables only (+ wave-1 participation for panel people) -----
    lin = -0.8 + 0.45 * female - 0.45 * age_z + np.array([-0.6, -0.2, 0.0, 0.35])[edu] - 0.1 * disab
    d_prev = np.zeros(n, dtype=bool)
    prog_prev = np.full(n, -1)
    if prev is not None:
        where = np.searchsorted(prev.persons, persons)
        where = np.minimum(where, len(prev.persons) - 1)
        in_prev = prev.persons[where] == persons
        d_prev[in_prev] = prev.D[where[in_prev]]
        prog_prev[in_prev] = prev.prog[where[in_prev]]
        lin = lin + 0.9 * d_prev
    D = rng.random(n) < _logistic(lin)
    young = age < 35
    scores = (
        np.log([0.35, 0.25, 0.25, 0.15])[None, :]
        + female[:, None] * np.array([-0.3, 0.3, 0.3, 0.0])
        + young[:, None] * np.array([0.4, -0.2, -0.3, 0.3])
    )
    prog = _choice_rows(rng, np.exp(scores))
    keep_prog = (prog_prev >= 0) & (rng.random(n) < 0.6)
    prog = np.where(keep_prog, prog_prev, prog)
    sessions = np.minimum(1 + rng.poisson(np.where(prog == 1, 6.0, 4.0)), 24)
    prog = np.where(D, prog, -1)
    sessions = np.where(D, sessions, 0)

    # ---- latent scales -------------------------------------------------------------------
    items_rev = [[it in REVERSE for it in SCALE_ITEMS[s]] for s in SCALES]
    codes0, codes1, latent_eff = [], [], {}
    dose = np.where(D, np.log1p(sessions) - np.log1p(DOSE_REF_SESSIONS), 0.0)
    base = {}
    for si, s in enumerate(SCALES):
        const, b_age, b_f, b_d, b_edu = COEF[s]
        y0 = (
            pp.person[persons, si]
            + const
            + b_age * age_z
            + b_f * female
            + b_d * disab
            + np.array(b_edu)[edu]
            + site_eff[site, si]
            + TREND[s] * t
            + WAVE_SD * rng.standard_normal(n)
        )
        eff = np.full(n, TAU[s])
        if s == "skills":
            eff = eff + SKILLS_DISABILITY * disab + SKILLS_COMPUTER * (prog == 0)
            eff = eff + SKILLS_DOSE * dose
        elif s == "confidence":
            eff = eff + CONF_FEMALE * female
        eff = np.where(D, eff, 0.0)
        latent_eff[s] = eff
        base[s] = y0
        k = len(SCALE_ITEMS[s])
        noise = ITEM_SD * rng.standard_normal((n, k)) + np.linspace(-0.15, 0.15, k)
        codes0.append(_items(y0, noise, items_rev[si]))
        codes1.append(_items(y0 + eff, noise, items_rev[si]))
    sat_noise = ITEM_SD * rng.standard_normal((n, 1)) + 0.2
    codes0.append(_items(base["library_roles"], sat_noise, [False]))
    codes1.append(_items(base["library_roles"] + latent_eff["library_roles"], sat_noise, [False]))
    latent_eff["satisfaction"] = latent_eff["library_roles"]
    codes0 = np.concatenate(codes0, axis=1)
    codes1 = np.concatenate(codes1, axis=1)
    codes1 = np.where(D[:, None], codes1, codes0)
    codes = np.where(D[:, None], codes1, codes0)

    # ---- income, business, job -------------------------------------------------------------
    e = 0.3 * rng.standard_normal(n)
    log0 = pp.mu_inc[persons] + TREND_LOG_INCOME * t + e
    log1 = log0 + TAU_LOG_INCOME
    zero = pp.zero_inc[persons]
    rep0 = np.where(zero, 0, _round_income(np.exp(log0)))
    rep1 = np.where(zero, 0, _round_income(np.exp(log1)))
    log_inc = np.where(D, log1, log0)
    rep = np.where(D, rep1, rep0)
    inc_text, inc_fmt = _income_text(rng, rep)
    latent_eff["log_income"] = np.where(D, TAU_LOG_INCOME, 0.0)

    lin_b = -1.6 + 0.9 * (occ == 1) + 0.3 * ~female - 0.2 * age_z + 0.2 * (edu >= 2)
    eff_b = np.where(prog == 1, BUSINESS_LOGIT["enterprise"], BUSINESS_LOGIT["other"])
    p0 = _logistic(lin_b)
    p1 = _logistic(lin_b + eff_b)
    ub = rng.random(n)
    bus0, bus1 = ub < p0, ub < p1
    p_job = _logistic(-1.3 + 0.4 * young + 0.3 * (edu == 3) - 0.5 * (occ == 0) - 0.3 * disab)
    job = rng.random(n) < p_job

    # income 12 months ago: the wave-1 income for panel people, a fresh draw otherwise
    prev_log = pp.mu_inc[persons] + TREND_LOG_INCOME * (t - 1) + 0.3 * rng.standard_normal(n)
    if prev is not None:
        where = np.minimum(np.searchsorted(prev.persons, persons), len(prev.persons) - 1)
        in_prev = prev.persons[where] == persons
        prev_log[in_prev] = prev.log_inc[where[in_prev]]
    ratio = log_inc - prev_log
    change = np.where(ratio > np.log(1.1), 2, np.where(ratio < -np.log(1.1), 0, 1))
    change = np.where(zero, np.where(rng.random(n) < 0.8, 1, rng.integers(0, 3, n)), change)
    mis = rng.random(n) < 0.12
    change = np.where(mis, rng.integers(0, 3, n), change)

    # ---- mess per person ------------------------------------------------------------------
    order_pool = np.ones(n, dtype=bool)
    no_consent = _pick(rng, order_pool, _count(n, 0.01, 1))
    ok = ~no_consent
    straight = _pick(rng, ok, _count(n, 0.01, 1))
    ok_rest = ok & ~straight
    no_consent_blank = no_consent & (rng.random(n) < 0.7)
    by_bad = _pick(rng, ok, _count(n, 0.002, 2))
    by_blank = _pick(rng, ok & ~by_bad, _count(n, 0.003, 1))
    inc_neg = _pick(rng, ok & (rep > 0), _count(n, 0.001, 2))
    inc_blank = _pick(rng, ok & ~inc_neg, _count(n, 0.025, 1))
    inc_unknown = _pick(rng, ok & ~inc_neg & ~inc_blank, _count(n, 0.015, 1))
    kel_junk = _pick(rng, ok, _count(n, 0.005, 1))

    # Likert blanks / "Tidak tahu" (not for straight-liners)
    cell = rng.random(codes.shape)
    blank_cell = (cell < 0.02) & ok_rest[:, None]
    unknown_cell = (cell >= 0.02) & (cell < 0.023) & ok_rest[:, None]
    item_mask = ~(blank_cell | unknown_cell)

    # ---- raw columns (object arrays of strings / NaN) ---------------------------------------
    cols: dict[str, np.ndarray] = {}
    cols["consent"] = pools["consent"].col(no_consent.astype(int), rng.random(n))
    for k, v in pp.strings.items():
        cols[k] = _take(v, persons)
    cols["site"] = _Col(pools["site"].arrow, pp.site_answer[persons])
    kel_ans = pp.kel_answer[persons].copy()
    junk_group = len(pools["kelurahan"].offsets) - 1
    kel_ans[kel_junk] = pools["kelurahan"].draw(
        np.full(kel_junk.sum(), junk_group), rng.random(kel_junk.sum())
    )
    cols["kelurahan"] = _Col(pools["kelurahan"].arrow, kel_ans)
    cols["gender"] = pools["gender"].col((~female).astype(int), rng.random(n))
    by_year = pp.birth_year[persons]
    by_bad_text = _where(rng.random(n) < 0.5, "1890", _cat(by_year, by_year % 10))
    cols["birth_year"] = _null(_where(by_bad, by_bad_text, by_year), by_blank)
    cols["education"] = pools["education"].col(edu, rng.random(n))
    cols["occupation"] = pools["occupation"].col(occ, rng.random(n))
    cols["disability"] = pools["yesno"].col((~disab).astype(int), rng.random(n))
    cols["participated"] = pools["yesno"].col((~D).astype(int), rng.random(n))
    pr = pools["programme"].col(np.maximum(prog, 0), rng.random(n))
    pr.idx[~D] = -1
    cols["programme"] = pr
    cols["sessions"] = sessions  # numeric; blank for non-participants (set at assembly)
    lik = LIKERT
    unknown_idx = LIKERT_UNKNOWN_INDEX
    sl_idx = np.array([list(lik.strings).index(w) for w in STRAIGHTLINE_WORDS])
    sl_word = sl_idx[rng.integers(0, len(sl_idx), n)]
    lik_u = rng.random(codes.shape)
    for j, item in enumerate(LIKERT_ITEMS):
        idx = lik.draw(codes[:, j] - 1, lik_u[:, j])
        idx[blank_cell[:, j]] = -1
        idx[unknown_cell[:, j]] = unknown_idx
        idx[straight] = sl_word[straight]
        cols[item] = _Col(lik.arrow, idx)
    inc = _where(inc_neg, _cat("-", rep), inc_text)
    inc = _where(inc_unknown, "Tidak tahu", inc)
    cols["income"] = _null(inc, inc_blank)
    ch = change.copy()
    ch[rng.random(n) < 0.01] = -1
    cols["income_change"] = _Col(pa.array(INCOME_CHANGE_WORDS), ch)
    cols["business"] = pools["yesno"].col((~np.where(D, bus1, bus0)).astype(int), rng.random(n))
    cols["got_job"] = pools["yesno"].col((~job).astype(int), rng.random(n))

    # feedback: Indonesian sentences, ~45% blank, ~1% with the respondent's own PII
    fb = pa.array(FEEDBACK).take(pa.array(rng.integers(0, len(FEEDBACK), n)))
    answered = (rng.random(n) >= 0.45) & ok
    has_email = cols["email"].is_valid().to_numpy(zero_copy_only=False)
    pii = _pick(rng, answered, _count(int(answered.sum()), 0.01, 3))
    pii_kind = rng.integers(0, 3, n)
    pii_kind = np.where((pii_kind == 2) & ~has_email, 1, pii_kind)
    pii_name = pii & (pii_kind == 0)
    pii_phone = pii & (pii_kind == 1)
    pii_email = pii & (pii_kind == 2)
    fb = _where(pii_name, _cat(fb, " Salam, ", cols["full_name"]), fb)
    fb = _where(pii_phone, _cat(fb, " Hubungi saya di ", cols["phone"]), fb)
    fb = _where(pii_email, _cat(fb, " Email saya ", pc.fill_null(cols["email"], "")), fb)
    rest = answered & ~pii
    script = _pick(rng, rest, max(1, _count(n, 0.0005)))
    formula = _pick(rng, rest & ~script, max(1, _count(n, 0.0005)))
    fb = _where(script, SCRIPT_TEXT, fb)
    formula_text = pa.array(FORMULA_TEXTS).take(pa.array(rng.integers(0, 2, n)))
    fb = _where(formula, formula_text, fb)
    cols["feedback"] = _null(fb, ~answered)

    kinds_k = pools["kelurahan"].kinds[kel_ans]
    kinds_s = pools["site"].kinds[pp.site_answer[persons]]
    flags = {
        "no_consent": no_consent,
        "no_consent_blank": no_consent_blank,
        "straightliners": straight,
        "birth_year_impossible": by_bad,
        "birth_year_blank": by_blank,
        "income_negative": inc_neg,
        "income_blank": inc_blank,
        "income_unknown": inc_unknown,
        "kelurahan_unmatched": kel_junk,
        "kelurahan_typo": kinds_k == "typo",
        "kelurahan_alias": kinds_k == "alias",
        "site_typo": kinds_s == "typo",
        "site_alias": kinds_s == "alias",
        "pii_in_feedback": pii,
        "pii_name": pii_name,
        "pii_phone": pii_phone,
        "pii_email": pii_email,
        "script_injection": script,
        "formula_injection": formula,
    }
    return _Wave(
        year=year,
        t=t,
        persons=persons,
        D=D,
        prog=prog,
        sessions=sessions,
        codes=codes,
        codes0=codes0,
        codes1=codes1,
        latent_eff=latent_eff,
        item_mask=item_mask,
        log_inc=log_inc,
        inc_rep0=rep0,
        inc_rep1=rep1,
        inc_valid=~(inc_neg | inc_blank | inc_unknown) & (rep0 > 0) & (rep1 > 0),
        inc_text=inc_text,
        inc_fmt=inc_fmt,
        bus0=bus0,
        bus1=bus1,
        bus_p0=p0,
        bus_p1=p1,
        job=job,
        inc_change=change,
        flags=flags,
        columns=cols,
    )


# =========================================================================== rows
def _timestamps(secs: np.ndarray, style: str) -> np.ndarray:
    dt = secs.astype("datetime64[s]")
    year = dt.astype("datetime64[Y]").astype(int) + 1970
    month = dt.astype("datetime64[M]").astype(int) % 12 + 1
    day = (dt - dt.astype("datetime64[M]")).astype("timedelta64[D]").astype(int) + 1
    sod = secs % 86400
    hh, mm, ss = sod // 3600, (sod // 60) % 60, sod % 60
    if style == "us":  # Google Forms, English (US) locale
        return _cat(month, "/", day, "/", year, " ", hh, ":", _z(mm, 2), ":", _z(ss, 2))
    # Google Forms, Indonesian locale
    return _cat(day, "/", month, "/", year, " ", _z(hh, 2), ".", _z(mm, 2), ".", _z(ss, 2))


def _assemble(
    rng: np.random.Generator, w: _Wave, n_rows: int, style: str
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, dict]:
    """Rows of the export: one per person, plus earlier duplicate submissions.

    Returns (raw frame, person position per row, is_copy per row, row-level mess counts).
    """
    n = len(w.persons)
    n_dup = n_rows - n
    can_dup = ~(w.flags["no_consent"] | w.flags["straightliners"])
    dup = np.flatnonzero(_pick(rng, can_dup, n_dup))
    row_pos = np.concatenate([np.arange(n), dup])
    is_copy = np.r_[np.zeros(n, dtype=bool), np.ones(len(dup), dtype=bool)]
    # submissions in March, 08:00-22:00; a copy is 10 minutes to 6 hours before the final one
    t0 = np.datetime64(f"{w.year}-03-03T00:00:00", "s").astype(np.int64)
    day = rng.integers(2, 26, n)
    secs = t0 + day * 86400 + rng.integers(8 * 3600, 22 * 3600, n)
    copy_secs = secs[dup] - rng.integers(600, 6 * 3600, len(dup))
    all_secs = np.concatenate([secs, copy_secs])
    order = np.lexsort((~is_copy, all_secs))
    row_pos, is_copy, all_secs = row_pos[order], is_copy[order], all_secs[order]

    names = _names()
    data: dict[str, object] = {"submitted_at": _timestamps(all_secs, style)}
    for name in names[1:]:
        data[name] = _take(w.columns[name], row_pos)
    # the earlier copy differs in a few answers: 1-3 Likert items, sometimes income change
    copy_rows = np.flatnonzero(is_copy)
    m = len(copy_rows)
    n_change = rng.integers(1, 4, m)
    pick = rng.random((m, len(LIKERT_ITEMS))).argsort(axis=1)
    new_codes = rng.integers(1, 6, (m, len(LIKERT_ITEMS)))
    canonical = LIKERT.offsets[new_codes - 1]
    changed = np.zeros((m, len(LIKERT_ITEMS)), dtype=bool)
    np.put_along_axis(changed, pick[:, :3], (np.arange(3)[None, :] < n_change[:, None]), axis=1)
    for j, item in enumerate(LIKERT_ITEMS):
        col = data[item]
        col.idx[copy_rows[changed[:, j]]] = canonical[changed[:, j], j]
    flip = copy_rows[rng.random(m) < 0.3]
    data["income_change"].idx[flip] = rng.integers(0, 3, len(flip))

    # refusals: most leave everything after the consent question blank
    blank = w.flags["no_consent_blank"][row_pos]
    for name in names[names.index("consent") + 1 :]:
        col = data[name]
        if isinstance(col, _Col):
            col.idx[blank] = -1
        elif name != "sessions":
            data[name] = _null(col, blank)
    sess = pd.array(np.where(w.D, w.sessions, 0)[row_pos], dtype="Int64")
    sess[~w.D[row_pos] | blank] = pd.NA
    data["sessions"] = sess

    frame = pd.DataFrame(
        {
            h: data[v]
            if v == "sessions"
            else pd.Series(data[v].arrow() if isinstance(data[v], _Col) else data[v], dtype="str")
            for h, v in zip(headers(), names, strict=True)
        }
    )
    counts = {k: int(f[row_pos].sum()) for k, f in w.flags.items()}
    counts["duplicate_keys"] = len(dup)
    counts["duplicate_rows"] = len(dup)
    counts["rows"] = int(len(row_pos))
    counts["respondents"] = int(n)
    lik_idx = np.stack([data[i].idx for i in LIKERT_ITEMS], axis=1)
    counts["likert_blank_cells"] = int((lik_idx < 0).sum())
    counts["likert_unknown_cells"] = int((lik_idx == LIKERT_UNKNOWN_INDEX).sum())
    return frame, row_pos, is_copy, counts


# =========================================================================== truth
def _att_block(diff: np.ndarray, latent: np.ndarray | None, groups: dict) -> dict:
    ok = ~np.isnan(diff)
    out = {"att": _r(diff[ok].mean()) if ok.any() else None, "n": int(ok.sum())}
    if latent is not None:
        out["latent_att"] = _r(latent[ok].mean()) if ok.any() else None
    by = {}
    for gname, (labels, values) in groups.items():
        sub = {}
        for code, label in enumerate(labels):
            m = ok & (values == code)
            if m.any():
                sub[label] = {"att": _r(diff[m].mean()), "n": int(m.sum())}
        by[gname] = sub
    out["by"] = by
    return out


def _r(x) -> float:
    return round(float(x), 6)


def _wave_effects(w: _Wave, pp: _People, sample: np.ndarray) -> dict:
    """Observed-scale ATTs among participants in ``sample`` (person-level mask)."""
    part = sample & w.D
    persons = w.persons[part]
    age = w.year - pp.birth_year[persons]
    groups = {
        "gender": (("male", "female"), pp.female[persons].astype(int)),
        "disability": (("no", "yes"), pp.disab[persons].astype(int)),
        "age_band": (AGE_BANDS, _band(age)),
        "programme": (PROGRAMMES, w.prog[part]),
    }
    out = {}
    col = 0
    for s in SCALES + ("satisfaction",):
        items = SCALE_ITEMS.get(s, ("satisfaction",))
        k = len(items)
        rev = [i in REVERSE for i in items]
        mask = w.item_mask[part, col : col + k]
        c1 = _composite(w.codes1[part, col : col + k], mask, rev)
        c0 = _composite(w.codes0[part, col : col + k], mask, rev)
        out[s] = _att_block(c1 - c0, w.latent_eff[s][part], groups)
        col += k
    valid = w.inc_valid[part]
    d = np.where(
        valid,
        np.log(np.maximum(w.inc_rep1[part], 1)) - np.log(np.maximum(w.inc_rep0[part], 1)),
        np.nan,
    )
    out["log_income"] = _att_block(d, w.latent_eff["log_income"][part], groups)
    rd = w.bus1[part].astype(float) - w.bus0[part]
    out["business"] = _att_block(rd, None, groups)
    out["business"]["att_expected"] = (
        _r((w.bus_p1[part] - w.bus_p0[part]).mean()) if part.any() else None
    )
    out["got_job"] = _att_block(np.zeros(int(part.sum())), None, groups)
    out["got_job"]["att_expected"] = 0.0
    return out


# =========================================================================== API
@dataclass
class Simulation:
    """Raw export tables per wave (exactly as written) and the planted truth."""

    waves: dict[str, pd.DataFrame]
    truth: dict
    places: _Places = field(repr=False, default=None)


def simulate(
    n_per_wave: int = 2000,
    seed: int = 2025,
    sites: int | None = None,
    panel_share: float = 0.5,
    start_year: int = 2025,
) -> Simulation:
    """Simulate two waves (March ``start_year`` and a year later) of the TPBIS survey.

    ``n_per_wave`` is the number of rows in each export (duplicate submissions included:
    about 2% of respondents submit twice). ``sites``: None (or up to 14) uses the real
    Kota Solok libraries (the first ``sites`` of them); more adds synthetic kelurahan
    libraries in synthetic kecamatan. ``panel_share`` of wave-1 respondents answer again
    in wave 2 (same NIK, name, phone); the rest of wave 2 is new.
    """
    if n_per_wave < 50:
        raise ValueError("n_per_wave must be at least 50")
    if not 0.0 <= panel_share <= 1.0:
        raise ValueError("panel_share must be between 0 and 1")
    rng = np.random.default_rng(seed)
    pl = _places(sites, seed)
    pools = {
        "site": _site_pool(pl),
        "kelurahan": _kelurahan_pool(pl),
        "likert": LIKERT,
        "gender": _Pool.build(GENDER_POOL),
        "yesno": _Pool.build([YES_POOL, NO_POOL]),
        "consent": _Pool.build(CONSENT_POOL),
        "education": _Pool.build(_level_pool("education", EDUCATION)),
        "occupation": _Pool.build(_level_pool("occupation", OCCUPATION)),
        "programme": _Pool.build(_level_pool("programme", PROGRAMMES)),
    }
    n_sites = len(pl.sites)
    w_sites = rng.gamma(2.0, 1.0, n_sites)
    is_city = np.array([s.get("kelurahan") is None for s in pl.sites])
    w_sites[is_city] = 2.0 * w_sites[~is_city].max() if (~is_city).any() else 1.0
    site_p = w_sites / w_sites.sum()
    site_eff = SITE_SD * rng.standard_normal((n_sites, len(SCALES)))

    n_unique = n_per_wave - int(round(n_per_wave * 0.02 / 1.02))
    n_panel = int(round(panel_share * n_unique))
    n_new = n_unique - n_panel
    years = (start_year, start_year + 1)
    entry = np.r_[np.full(n_unique, years[0]), np.full(n_new, years[1])]
    pp = _draw_people(rng, entry, pl, site_p, pools["kelurahan"], pools["site"])

    p1 = np.arange(n_unique)
    panel = np.sort(rng.choice(n_unique, size=n_panel, replace=False))
    p2 = np.concatenate([panel, np.arange(n_unique, n_unique + n_new)])
    waves, truth_eff, mess, sample_info, rows_of = {}, {}, {}, {}, {}
    samples = {}
    w1 = _simulate_wave(rng, pp, p1, 0, years[0], site_eff, None, pools)
    for t, style in ((0, "us"), (1, "id")):
        if t == 0:
            w = w1
        else:
            w = w2 = _simulate_wave(rng, pp, p2, 1, years[1], site_eff, w1, pools)
        wid = str(w.year)
        frame, row_pos, is_copy, counts = _assemble(rng, w, n_per_wave, style)
        w.columns = {}  # the person-level strings are in the frame now
        waves[wid] = frame
        mess[wid] = counts
        kept_row = np.empty(len(w.persons), dtype=np.int64)
        kept_row[row_pos[~is_copy]] = np.flatnonzero(~is_copy)
        rows_of[wid] = (row_pos, is_copy, kept_row)
        sample = ~(w.flags["no_consent"] | w.flags["straightliners"])
        samples[wid] = sample
        truth_eff[wid] = _wave_effects(w, pp, sample)
        persons = w.persons
        band = _band(w.year - pp.birth_year[persons])
        pop_age = np.array(list(AGE_POP.values()), dtype=float)
        sample_info[wid] = {
            "female_share": _r(pp.female[persons].mean()),
            "population_female_share": _r(GENDER_POP["female"] / sum(GENDER_POP.values())),
            "age_band_share": {b: _r((band == i).mean()) for i, b in enumerate(AGE_BANDS)},
            "population_age_band_share": {
                b: _r(x) for b, x in zip(AGE_BANDS, pop_age / pop_age.sum(), strict=True)
            },
            "participation_rate": _r(w.D.mean()),
        }

    # ---- panel: rows in the files ----------------------------------------------------------
    wid1, wid2 = str(years[0]), str(years[1])
    pos_in_w1 = np.searchsorted(w1.persons, w2.persons)
    in_w1 = (pos_in_w1 < len(w1.persons)) & (
        w1.persons[np.minimum(pos_in_w1, len(w1.persons) - 1)] == w2.persons
    )
    kept1, kept2 = rows_of[wid1][2], rows_of[wid2][2]
    pairs = np.stack([kept1[pos_in_w1[in_w1]], kept2[np.flatnonzero(in_w1)]], axis=1)
    pairs = pairs[np.argsort(pairs[:, 0])]
    row_pos2 = rows_of[wid2][0]
    rows_w2 = np.flatnonzero(in_w1[row_pos2])

    # DiD target: panel people, D=0 in wave 1 and D=1 in wave 2, in both estimand samples
    idx2 = np.flatnonzero(in_w1)
    idx1 = pos_in_w1[in_w1]
    did_mask = np.zeros(len(w2.persons), dtype=bool)
    did_mask[idx2] = (~w1.D[idx1]) & samples[wid1][idx1] & samples[wid2][idx2]
    did_eff = _wave_effects(w2, pp, did_mask & samples[wid2])
    did = {k: {"att": v["att"], "n": v["n"]} for k, v in did_eff.items()}

    latent_model = {
        "scales": {
            s: {
                "items": list(SCALE_ITEMS[s]),
                "reverse": [i for i in SCALE_ITEMS[s] if i in REVERSE],
                "tau": TAU[s],
                "trend": TREND[s],
                "heterogeneity": (
                    {"disability": SKILLS_DISABILITY, "programme_computer": SKILLS_COMPUTER}
                    if s == "skills"
                    else {"female": CONF_FEMALE}
                    if s == "confidence"
                    else {}
                ),
                "dose": (
                    {"per_log1p_session": SKILLS_DOSE, "reference_sessions": DOSE_REF_SESSIONS}
                    if s == "skills"
                    else None
                ),
            }
            for s in SCALES
        },
        "satisfaction": {"tau": 0.0, "latent": "library_roles"},
        "log_income": {"tau": TAU_LOG_INCOME, "trend": TREND_LOG_INCOME},
        "business": {"logit": dict(BUSINESS_LOGIT)},
        "got_job": {"logit": 0.0},
        "cuts": CUTS.tolist(),
        "sd": {"person": PERSON_SD, "site": SITE_SD, "wave": WAVE_SD, "item": ITEM_SD},
    }
    truth = {
        "schema": "dampak-simulate-truth/1",
        "generator": {
            "seed": seed,
            "n_per_wave": n_per_wave,
            "sites": sites,
            "panel_share": panel_share,
            "start_year": start_year,
            "city": CITY,
        },
        "waves": [wid1, wid2],
        "files": {wid: {"rows": int(len(f))} for wid, f in waves.items()},
        "latent_model": latent_model,
        "logit": {"business": dict(BUSINESS_LOGIT), "got_job": 0.0},
        "nulls": ["library_roles", "satisfaction", "got_job"],
        "estimand": (
            "ATT on the observed scale: mean over participants (consenting, not "
            "straight-lining, last submission) of outcome(D=1) - outcome(D=0) with the same "
            "noise draws and answered-item mask; composites = mean of answered items after "
            "reverse-coding; log_income = log reported income (positive, parseable); "
            "business/got_job = risk differences."
        ),
        "effects": truth_eff,
        "did": did,
        "panel": {
            "wave_1": wid1,
            "wave_2": wid2,
            "n_persons": int(in_w1.sum()),
            "share_of_wave_1": _r(in_w1.sum() / len(w1.persons)),
            "pairs": pairs.tolist(),
            "rows_wave_2": rows_w2.tolist(),
        },
        "mess": mess,
        "sample": sample_info,
        "places": {
            "sites": [s["id"] for s in pl.sites],
            "kecamatan": list(pl.kecamatan),
            "kelurahan_junk": list(JUNK_KELURAHAN),
        },
    }
    return Simulation(waves=waves, truth=truth, places=pl)


# =========================================================================== writing
SAV_LABELLED = ("consent", "disability", "participated", "income_change", "business", "got_job")


def _write_sav(frame: pd.DataFrame, path: Path) -> None:
    import pyreadstat

    names = _names()
    df = pd.DataFrame(index=range(len(frame)))
    value_labels = {}
    for h, v in zip(frame.columns, names, strict=True):
        col = frame[h]
        if v == "sessions":
            df[v] = col.astype("float64")
        elif v in SAV_LABELLED:
            cats = sorted(col.dropna().unique())
            codes = pd.Categorical(col, categories=cats).codes.astype(float) + 1
            codes[codes == 0] = np.nan
            df[v] = codes
            value_labels[v] = {float(i + 1): c for i, c in enumerate(cats)}
        else:
            df[v] = col.astype(object).where(col.notna(), None)
    pyreadstat.write_sav(
        df,
        str(path),
        column_labels=list(frame.columns),
        variable_value_labels=value_labels,
    )


def _csv_field(values) -> pa.Array:
    """CSV text of one column: quoted only when needed (like Google Sheets), blank = ''."""
    s = _s(values)
    need = pc.match_substring_regex(s, '[",\r\n]')
    if pc.any(need).as_py():
        quoted = _cat('"', pc.replace_substring(s, '"', '""'), '"')
        s = pc.if_else(need, quoted, s)
    return pc.fill_null(s, "")


def _write_csv(frame: pd.DataFrame, path: Path, chunk: int = 250_000) -> None:
    """UTF-8 CSV, minimal quoting, "\n" line ends; built with Arrow kernels in row chunks."""
    head = ",".join(_csv_field(pa.array(list(frame.columns))).to_pylist())
    cols = [pa.array(frame[h].array, from_pandas=True) for h in frame.columns]
    with open(path, "wb") as fh:
        fh.write((head + "\n").encode("utf-8"))
        for start in range(0, len(frame), chunk):
            fields = [_csv_field(c.slice(start, chunk)) for c in cols]
            lines = pc.binary_join_element_wise(*fields, ",")
            lines = pc.cast(_cat(lines, "\n"), pa.large_string())
            offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
            lo, hi = offsets[lines.offset], offsets[lines.offset + len(lines)]
            fh.write(memoryview(lines.buffers()[2])[lo:hi])


def _write_xlsx(frame: pd.DataFrame, path: Path) -> None:
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        frame.to_excel(xw, sheet_name=SHEET_NAME, index=False)
        ws = xw.sheets[SHEET_NAME]
        # text starting with "=" must stay text, not become a formula
        for j, h in enumerate(frame.columns):
            col = frame[h]
            if col.dtype == "Int64":
                continue
            hits = np.flatnonzero(col.fillna("").str.startswith("=").to_numpy())
            for i in hits:
                cell = ws.cell(row=int(i) + 2, column=j + 1)
                cell.value = str(col.iloc[i])
                cell.data_type = "s"


def write(
    sim: Simulation,
    out_dir: str | Path,
    formats: Sequence[str] = ("csv", "xlsx", "sav"),
    prefix: str = "solok",
) -> list[Path]:
    """Write ``<prefix>_<wave>.<ext>`` for each wave and format, plus ``truth.json``.

    XLSX is skipped (with a note on stderr) above 200,000 rows: openpyxl is too slow.
    Returns the paths written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for wid, frame in sim.waves.items():
        base = out / f"{prefix}_{wid}"
        for fmt in formats:
            path = base.with_suffix(f".{fmt}")
            if fmt == "csv":
                _write_csv(frame, path)
            elif fmt == "xlsx":
                if len(frame) > XLSX_MAX_ROWS:
                    print(
                        f"simulate: skipped {path.name}: {len(frame):,} rows is above the "
                        f"{XLSX_MAX_ROWS:,}-row XLSX limit (too slow); use csv or sav",
                        file=sys.stderr,
                    )
                    continue
                _write_xlsx(frame, path)
            elif fmt == "sav":
                _write_sav(frame, path)
            else:
                raise ValueError(f"unknown format {fmt!r} (csv, xlsx, sav)")
            written.append(path)
    truth = dict(sim.truth)
    truth["files"] = {
        wid: {"rows": int(len(f)), "base": f"{prefix}_{wid}"} for wid, f in sim.waves.items()
    }
    tpath = out / "truth.json"
    tpath.write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    written.append(tpath)
    return written


def write_config(
    out_dir: str | Path,
    sim: Simulation,
    prefix: str = "solok",
    formats: Sequence[str] = ("csv", "xlsx"),
    overwrite: bool = False,
) -> list[Path]:
    """Write survey configs for a simulated survey, structured like the Kota Solok pair:
    ``<prefix>_<wave1>.yaml`` (the baseline) and ``<prefix>_<wave2>.yaml`` (extends it and
    adds wave 2). Wave 1 is read from CSV, wave 2 from XLSX when it was written (else CSV).
    Refuses to replace existing files unless ``overwrite``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pl = sim.places
    wid1, wid2 = sim.truth["waves"]
    n_rows = len(sim.waves[wid2])
    paths = [out / f"{prefix}_{wid1}.yaml", out / f"{prefix}_{wid2}.yaml"]
    if not overwrite and any(p.exists() for p in paths):
        raise FileExistsError(
            f"{', '.join(str(p) for p in paths if p.exists())} exists; pass overwrite=True"
        )
    seed = sim.truth["generator"]["seed"]
    n_sites = len(pl.sites)
    sites_yaml = []
    for s in pl.sites:
        d = {"id": s["id"], "name": s["name"], "kecamatan": s["kecamatan"]}
        if s.get("aliases"):
            d["aliases"] = list(s["aliases"])
        sites_yaml.append(d)
    w2_xlsx = "xlsx" in formats and n_rows <= XLSX_MAX_ROWS
    w2_file = (
        {"path": f"{prefix}_{wid2}.xlsx", "format": "xlsx", "sheet": SHEET_NAME}
        if w2_xlsx
        else {"path": f"{prefix}_{wid2}.csv", "format": "csv"}
    )
    base = {
        "survey": {
            "id": f"{prefix}-{wid1}",
            "title": {
                "id": f"Survei Dampak TPBIS {CITY} {wid1} (sintetis, {n_sites} perpustakaan)",
                "en": f"{CITY} TPBIS impact survey {wid1} (synthetic, {n_sites} libraries)",
            },
            "city": CITY,
            "synthetic": True,
        },
        "instrument": "tpbis",
        "messages_language": "id",
        "waves": [
            {
                "id": wid1,
                "label": {"id": f"Gelombang 1 (Maret {wid1})", "en": f"Wave 1 (March {wid1})"},
                "reference_date": f"{wid1}-03-31",
                "files": [{"path": f"{prefix}_{wid1}.csv", "format": "csv"}],
            }
        ],
        "columns": {GOT_JOB_HEADER: "got_job"},
        "places": {"kecamatan": pl.kecamatan, "aliases": pl.aliases},
        "sites": sites_yaml,
        "design": {
            "strata": "kecamatan",
            "cluster": "site",
            "fpc": None,
            "weights": {"method": "rake", "trim_ratio": 5, "margins": _margins(pl)},
        },
        "analysis": {
            "age_bands": list(AGE_EDGES),
            "income_bands": [0, 1000000, 2500000, 5000000],
            "covariates": ["age", "gender", "education", "disability"],
            "min_sessions_dose": 1,
        },
        "cleaning": {"duplicates": "keep_last", "min_seconds": 180, "straightline_min_items": 10},
        "report": {
            "languages": ["id", "en"],
            "formats": ["html", "pdf"],
            "suppression_threshold": 10,
            "precision_min_n": 30,
            "precision_max_ci_share": 0.25,
            "institution": {
                "id": "Dinas Perpustakaan dan Kearsipan Kota Solok (contoh)",
                "en": "Kota Solok Library and Archives Office (example)",
            },
            "contact": "Bidang Layanan Perpustakaan, Dinas Perpustakaan dan Kearsipan Kota Solok "
            "(contoh)",
            "citation": {
                "id": "Dinas Perpustakaan dan Kearsipan Kota Solok (2026). Survei Dampak TPBIS "
                "Kota Solok 2025-2026: laporan kota. Data sintetis untuk contoh.",
                "en": "Kota Solok Library and Archives Office (2026). Kota Solok TPBIS impact "
                "survey 2025-2026: city report. Synthetic example data.",
            },
            "official_indicators": [
                {
                    "name": "IPLM",
                    "year": 2024,
                    "value": 71.2,
                    "scale": "0-100",
                    "source": "Perpusnas (ilustrasi)",
                },
                {
                    "name": "TKM",
                    "year": 2024,
                    "value": 70.1,
                    "scale": "0-100",
                    "source": "Perpusnas (ilustrasi)",
                },
            ],
        },
    }
    follow = {
        "extends": paths[0].name,
        "survey": {
            "id": f"{prefix}-{wid2}",
            "title": {
                "id": f"Survei Dampak TPBIS {CITY} {wid1}-{wid2} (sintetis)",
                "en": f"{CITY} TPBIS impact survey {wid1}-{wid2} (synthetic)",
            },
            "city": CITY,
            "synthetic": True,
        },
        "waves": [
            {
                "id": wid2,
                "label": {"id": f"Gelombang 2 (Maret {wid2})", "en": f"Wave 2 (March {wid2})"},
                "reference_date": f"{wid2}-03-31",
                "files": [w2_file],
            }
        ],
    }
    head = (
        f"# Dampak survey config, GENERATED by `python -m pipelines simulate` (seed {seed}, "
        f"{n_sites} sites): synthetic data, no real person.\n"
    )
    for path, doc in zip(paths, (base, follow), strict=True):
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
        path.write_text(head + text, encoding="utf-8")
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ``python -m pipelines simulate --n 2000 --seed 2025 --sites 14 --out DIR``."""
    ap = argparse.ArgumentParser(
        prog="python -m pipelines simulate",
        description="Write a synthetic, messy TPBIS survey (two waves) and its planted truth.",
    )
    ap.add_argument("--n", type=int, default=2000, help="rows per wave (default 2000)")
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument(
        "--sites",
        type=int,
        default=None,
        help="library sites: up to 14 = the real Kota Solok ones, more = synthetic extras",
    )
    ap.add_argument("--panel-share", type=float, default=0.5)
    ap.add_argument("--start-year", type=int, default=2025)
    ap.add_argument("--out", default="data/raw/solok")
    ap.add_argument("--formats", default="csv,xlsx,sav", help="comma-separated: csv,xlsx,sav")
    ap.add_argument("--prefix", default="solok")
    ap.add_argument("--config", action="store_true", help="also write the survey YAML configs")
    ap.add_argument("--overwrite-config", action="store_true")
    args = ap.parse_args(argv)
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    t0 = time.perf_counter()
    sim = simulate(args.n, args.seed, args.sites, args.panel_share, args.start_year)
    t1 = time.perf_counter()
    paths = write(sim, args.out, formats, args.prefix)
    if args.config:
        paths += write_config(args.out, sim, args.prefix, formats, args.overwrite_config)
    t2 = time.perf_counter()
    for p in paths:
        print(f"{p}  ({p.stat().st_size / 1e6:.2f} MB)")
    print(f"simulated in {t1 - t0:.1f}s, written in {t2 - t1:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
