"""Named coefficients of the synthetic survey: the planted effects and the nuisance model.

One place for every number the generators plant. The export generator (``simulate()``)
works on a latent scale cut into 1-5 answers; the clean-frame generator (``make_waves``)
works on the observed scale. Each constant says in one line what it means.
"""

from __future__ import annotations

import numpy as np

# --------------------------------------------------------------------------- questionnaire
SCALES = ("skills", "confidence", "social", "library_roles")
SCALE_ITEMS = {
    "skills": ("skill_1", "skill_2", "skill_3", "skill_4"),
    "confidence": ("conf_1", "conf_2", "conf_3", "conf_4"),
    "social": ("social_1", "social_2", "social_3"),
    "library_roles": ("role_knowledge", "role_useful", "role_solutions", "role_potential"),
}
REVERSE = ("skill_4", "conf_4")  # reverse-keyed items (answer = 6 - code)
LIKERT_ITEMS = tuple(i for s in SCALES for i in SCALE_ITEMS[s]) + ("satisfaction",)
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
AGE_BANDS = ("15-24", "25-34", "35-44", "45-59", "60+")
AGE_EDGES = (15, 25, 35, 45, 60)  # lower edges of AGE_BANDS

# =========================================================================== export generator
# ---- planted effects (latent scale; ATTs are reported on the observed scale) -------------
TAU = {"skills": 0.5, "confidence": 0.2, "social": 0.25, "library_roles": 0.0}  # base effect
SKILLS_DISABILITY = -0.3  # skills effect is 0.3 smaller for participants with a disability
SKILLS_COMPUTER = 0.3  # skills effect is 0.3 larger in the computer programme
SKILLS_DOSE = 0.15  # skills effect per log1p(session) above the reference dose
DOSE_REF_SESSIONS = 5  # the dose at which the skills effect equals TAU["skills"]
CONF_FEMALE = 0.2  # confidence effect is 0.2 larger for women
TAU_LOG_INCOME = 0.10  # log-income effect of participating (about +10%)
BUSINESS_LOGIT = {"enterprise": 0.8, "other": 0.3}  # started/grew a business: log odds ratio
GOT_JOB_LOGIT = 0.0  # got a job: no effect (a planted null)
NULLS = ("library_roles", "satisfaction", "got_job")  # outcomes with no planted effect

# ---- change between the waves (same for everyone) ---------------------------------------
TREND = {"skills": 0.10, "confidence": 0.05, "social": 0.05, "library_roles": 0.0}
TREND_LOG_INCOME = 0.04

# ---- latent scales ------------------------------------------------------------------------
CUTS = np.array([-1.5, -0.7, 0.1, 1.3])  # latent cut points of the 1-5 answers
ITEM_SD = 0.7  # item noise
ITEM_SHIFT = 0.15  # items of a scale are shifted from -0.15 to +0.15 (easier to harder)
SATISFACTION_SHIFT = 0.2  # the satisfaction item sits 0.2 above the library-roles latent
WAVE_SD = 0.45  # person-by-wave noise
PERSON_SD = 0.6  # stable person effect (links a panel person's two waves)
PERSON_SHARED = 0.5  # loading of the person effect shared across the four scales
SITE_SD = 0.2  # library site effect per scale
# covariate effects per scale: const, age_z, female, disability, education (4 levels)
COEF = {
    "skills": (0.45, -0.35, -0.10, -0.30, (-0.5, -0.2, 0.0, 0.35)),
    "confidence": (0.50, 0.05, -0.10, -0.25, (-0.3, -0.1, 0.0, 0.2)),
    "social": (0.40, 0.15, 0.05, -0.20, (-0.1, 0.0, 0.0, 0.1)),
    "library_roles": (0.70, 0.10, 0.05, 0.0, (0.0, 0.0, 0.0, 0.0)),
}
AGE_CENTRE, AGE_SCALE = 40, 15  # age_z = (age - 40) / 15

# ---- who answers (the sample, not the population) ---------------------------------------
SAMPLE_FEMALE_SHARE = 0.62  # libraries reach women more than the population's 50%
SAMPLE_AGE_SHARE = np.array([0.31, 0.27, 0.18, 0.15, 0.09])  # per AGE_BANDS: young skew
OLD_AGE_MEAN_YEARS = 7.0  # ages above 60 are 60 + exponential(7 years), at most 90
DISABILITY_BY_AGE = (0.035, 0.045, 0.06, 0.08, 0.12)  # share with a disability per age band
RESIDENCE_CUM = (0.80, 0.95)  # residence: the site's kelurahan below 0.80, a neighbour below 0.95
CITY_SITE_WEIGHT = 2.0  # the city library draws twice the busiest kelurahan library
DUPLICATE_SHARE = 0.02  # respondents who submit the form twice
# education by age band (rows: AGE_BANDS; columns: EDUCATION)
EDU_P = np.array(
    [
        [0.05, 0.25, 0.50, 0.20],
        [0.08, 0.15, 0.42, 0.35],
        [0.15, 0.20, 0.40, 0.25],
        [0.25, 0.25, 0.33, 0.17],
        [0.45, 0.25, 0.20, 0.10],
    ]
)
# occupation by age band (columns: OCCUPATION); homemaker weight applies to women, men get
# it as not_working/farmer
OCC_P = np.array(
    [
        [0.62, 0.06, 0.10, 0.01, 0.02, 0.06, 0.10, 0.03],
        [0.12, 0.20, 0.25, 0.08, 0.05, 0.15, 0.10, 0.05],
        [0.00, 0.25, 0.22, 0.12, 0.09, 0.20, 0.06, 0.06],
        [0.00, 0.25, 0.15, 0.14, 0.14, 0.20, 0.06, 0.06],
        [0.00, 0.15, 0.04, 0.04, 0.17, 0.20, 0.34, 0.06],
    ]
)
OCC_MALE_SHIFT = {"not_working": 0.03, "farmer": 0.05}  # men: no homemaker, a bit more of these
OCC_FEMALE_CIVIL_SERVANT = 0.8  # women are civil servants 0.8 times as often

# ---- participation (logit): observed covariates only, so adjustment removes the bias ----
PARTICIPATION = {
    "const": -0.8,  # baseline log odds
    "female": 0.45,  # women take part more
    "age_z": -0.45,  # older people take part less (per 15 years)
    "education": (-0.6, -0.2, 0.0, 0.35),  # per EDUCATION level
    "disability": -0.1,  # people with a disability take part slightly less
    "previous": 0.9,  # took part in wave 1 (panel people in wave 2)
}
# programme choice: log base shares, then shifts for women and for people under 35
PROGRAMME_SHARE = (0.35, 0.25, 0.25, 0.15)  # per PROGRAMMES
PROGRAMME_FEMALE = (-0.3, 0.3, 0.3, 0.0)
PROGRAMME_YOUNG = (0.4, -0.2, -0.3, 0.3)
YOUNG_BELOW = 35  # "young" for the programme choice and the job model
PROGRAMME_KEPT = 0.6  # a wave-1 participant keeps the same programme in wave 2
SESSIONS_MEAN = {"enterprise": 6.0, "other": 4.0}  # 1 + Poisson(mean) sessions
SESSIONS_MAX = 24

# ---- income, business, job ---------------------------------------------------------------
INCOME_MEDIAN = 2_300_000  # rupiah per month, the log-income baseline
INCOME_EDUCATION = (-0.45, -0.25, 0.0, 0.45)  # log-income shift per EDUCATION level
INCOME_OCCUPATION = (-0.6, 0.15, 0.05, 0.35, -0.1, -0.4, -0.6, 0.0)  # per OCCUPATION
INCOME_MALE = 0.15  # men earn about 15% more
INCOME_PERSON_SD = 0.45  # stable person spread of log income
INCOME_WAVE_SD = 0.3  # year-to-year spread of log income
ZERO_INCOME = (0.6, 0.0, 0.0, 0.0, 0.05, 0.5, 0.7, 0.1)  # share without income per OCCUPATION
INCOME_CHANGE_BAND = 1.1  # "Naik"/"Turun" beyond a 10% change in income
ZERO_INCOME_SAME = 0.8  # people without income say "Tetap" this often, else at random
INCOME_CHANGE_MISREPORT = 0.12  # income-change answers that are random
BUSINESS = {  # started/grew a business (logit) without the programme
    "const": -1.6,
    "entrepreneur": 0.9,
    "male": 0.3,
    "age_z": -0.2,
    "senior_or_tertiary": 0.2,
}
JOB = {  # got a job or job offer (logit); unaffected by the programme
    "const": -1.3,
    "young": 0.4,
    "tertiary": 0.3,
    "student": -0.5,
    "disability": -0.3,
}

# =========================================================================== clean generator
# ``make_waves`` plants effects on the observed scale (scale units, log income, log odds).
CLEAN_EFFECTS = {
    "skills": 0.5,
    "confidence": 0.35,
    "social": 0.3,
    "library_roles": 0.0,
    "log_income": 0.15,
    "business": 0.8,  # log odds ratio
    "got_job": 0.0,  # log odds ratio
    "income_rose": 0.5,  # log odds ratio
    "satisfaction": 0.7,  # proportional-odds log odds ratio
}
CLEAN_GAP_OUTCOMES = ("skills", "confidence", "social")  # disability_gap scales these effects
CLEAN_TREND = 0.1  # change between the waves on every scale (scale units)
CLEAN_CITY_SHARE = 0.2  # respondents who answer at the city library, not their kelurahan's
CLEAN_FEMALE_SHARE = 0.6  # young women are over-represented in the sample
CLEAN_AGE_GAMMA = (2.0, 11.0)  # age = 15 + Gamma(shape, scale) years, at most 85
CLEAN_EDUCATION = {"const": 1.6, "age_per_year": -0.02, "sd": 0.9}  # level 0-3 (rounded)
CLEAN_OCCUPATIONS = ("student", "entrepreneur", "employee", "farmer")  # drawn uniformly
CLEAN_DISABILITY_SHARE = 0.12
CLEAN_SITE_SD = 0.08  # library site effect (scale units; twice that on log income)
CLEAN_PERSON_SD = 0.35  # stable person effect on the scales
CLEAN_INCOME_PERSON_SD = 0.4  # stable person effect on log income
CLEAN_PROPENSITY = {  # participation (logit) on observed covariates only
    "const": -0.7,
    "female": 0.6,
    "age_per_year": -0.025,  # per year above 35
    "education": 0.45,  # per level above the middle (edu_idx - 1.5)
    "disability": 0.5,
}
CLEAN_STAY = 0.6  # a wave-1 participant takes part again in wave 2
CLEAN_PROGRAMME_P = (0.35, 0.25, 0.2, 0.2)  # per PROGRAMMES
CLEAN_SESSIONS_MEAN = 5  # 1 + Poisson(5) sessions
CLEAN_SCALE_MEAN = {"skills": 2.9, "confidence": 3.1, "social": 3.0, "library_roles": 3.4}
CLEAN_SCALE_COEF = {"education": 0.15, "age_10y": -0.05, "male_skills": 0.1}
CLEAN_ITEM_SD = 0.45
CLEAN_SATISFACTION = {"education": 0.2, "person": 0.8, "cuts": (-2.0, -0.8, 0.6, 2.0)}
CLEAN_LOG_INCOME = {
    "const": 14.3,
    "education": 0.2,
    "age_10y": 0.05,
    "male": 0.1,
    "site": 2.0,  # times the site effect
    "trend": 0.05,
    "sd": 0.5,
}
CLEAN_ZERO_INCOME = 0.04
CLEAN_INCOME_ROSE = {"const": -1.0, "education": 0.2}  # logit; income fell: 30% of the rest
CLEAN_INCOME_FELL = 0.3
CLEAN_BUSINESS = {"const": -1.4, "male": 0.3}  # logit
CLEAN_JOB = {"const": -1.2, "education": 0.25, "age_10y": -0.1}  # logit
INCOME_BANDS = ("0-1jt", "1jt-2.5jt", "2.5jt-5jt", "5jt+")
INCOME_EDGES = (0, 1e6, 2.5e6, 5e6)  # lower edges of INCOME_BANDS (rupiah)
