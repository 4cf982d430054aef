"""Synthetic TPBIS survey data: messy Google Forms exports with a planted, known truth.

``simulate()`` draws two survey waves a year apart (March of ``start_year`` and of the next
year) of respondents nested in library sites, answers them from a latent outcome model with
planted programme effects, and writes them out the way Indonesian library staff actually
receive them: a Google Forms export whose headers are the codebook's Indonesian question
texts, with word answers in many spellings, free-text incomes, typos in place names,
duplicate submissions, refusals, straight-liners and personal data. ``write()`` saves the
same raw table as CSV, XLSX (sheet "Form Responses 1") and SAV, plus ``truth.json``.

Everything is vectorised with numpy (no Python loop over respondents): strings are picked
from small pools (``pools/*.yaml``) by index, so 1,000,000 respondents per wave take seconds, not minutes.
The data are SYNTHETIC: names, NIKs, phones, e-mails and addresses are made up.

Layout of the subpackage
------------------------
* ``places.yaml`` / ``places.py``: THE Kota Solok place list (kecamatan, kelurahan with
  populations, aliases, the city library, population margins); scaled-up synthetic cities.
* ``pools/*.yaml`` / ``pools.py``: the answer spellings, names, streets, feedback texts.
* ``coefficients.py``: every planted effect and nuisance coefficient, named, one line each.
* ``people.py`` (who answers), ``latent.py`` (the outcome model), ``export.py`` (the messy
  Google Forms layer), ``truth.py``, ``generate.py`` (``simulate()``), ``writers.py``,
  ``cli.py``.
* ``clean.py``: ``make_waves()``, clean-shaped waves with observed-scale planted effects for
  the analysis tests and the simulation study, from the same places and coefficients.

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

Latent model (per person i, wave t = 0, 1; ``coefficients.py``)
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

from .cli import main
from .coefficients import LIKERT_ITEMS, SCALE_ITEMS
from .form import GOT_JOB_HEADER, SHEET_NAME, headers
from .generate import Simulation, simulate
from .places import KECAMATAN, KELURAHAN_POP, PLACE_ALIASES, Places, make_places
from .pools import answers, load_pool
from .waves import make_waves
from .writers import write, write_config

__all__ = [
    "GOT_JOB_HEADER",
    "KECAMATAN",
    "KELURAHAN_POP",
    "LIKERT_ITEMS",
    "PLACE_ALIASES",
    "SCALE_ITEMS",
    "SHEET_NAME",
    "Places",
    "Simulation",
    "answers",
    "headers",
    "load_pool",
    "main",
    "make_places",
    "make_waves",
    "simulate",
    "write",
    "write_config",
]
