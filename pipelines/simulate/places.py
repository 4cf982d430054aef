"""The Kota Solok place list (``places.yaml``) and the synthetic places of a scaled-up city.

``places.yaml`` is the ONE list of kecamatan, kelurahan (with populations), spelling aliases,
the city library and the population margins; generators, fixtures and tests read it here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from .coefficients import AGE_BANDS
from .pools import load_pool

PLACES_FILE = Path(__file__).resolve().with_name("places.yaml")


@functools.lru_cache(maxsize=1)
def solok() -> dict:
    """The parsed ``places.yaml`` (cached; do not modify)."""
    return yaml.safe_load(PLACES_FILE.read_text(encoding="utf-8"))


CITY: str = solok()["city"]
KECAMATAN: dict[str, list[str]] = {k: list(v) for k, v in solok()["kecamatan"].items()}
KELURAHAN_POP: dict[str, int] = {
    kel: int(pop) for kels in solok()["kecamatan"].values() for kel, pop in kels.items()
}
PLACE_ALIASES: dict[str, str] = dict(solok()["aliases"])
CITY_SITE: dict = dict(solok()["city_site"])
GENDER_POP: dict[str, int] = dict(solok()["population"]["gender"])
AGE_POP: dict[str, int] = dict(solok()["population"]["age_band"])


def kelurahan_names() -> list[str]:
    """All kelurahan in place-list order (kecamatan by kecamatan)."""
    return [k for ks in KECAMATAN.values() for k in ks]


def kecamatan_of() -> dict[str, str]:
    """Kelurahan -> its kecamatan."""
    return {k: kec for kec, ks in KECAMATAN.items() for k in ks}


def site_id(name: str) -> str:
    """Site id of a kelurahan library: "Tanah Garam" -> "tanah-garam"."""
    return name.lower().replace(" ", "-")


def _kelurahan_site(kel: str, kec: str) -> dict:
    return {
        "id": site_id(kel),
        "name": f"Perpustakaan Kelurahan {kel}",
        "kecamatan": kec,
        "kelurahan": kel,
        "aliases": [],
    }


def real_sites() -> list[dict]:
    """The 14 Kota Solok libraries: the city library first, then one per kelurahan."""
    city = dict(CITY_SITE, kelurahan=None)
    return [city] + [_kelurahan_site(kel, kec) for kec, kels in KECAMATAN.items() for kel in kels]


@dataclass
class Places:
    """Places of one simulated city: kecamatan, kelurahan populations, aliases and sites."""

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


def _synthetic_names(rng: np.random.Generator, count: int) -> list[str]:
    """``count`` new place names ("Koto Gadang II", ...) not used by Kota Solok."""
    parts = load_pool("synthetic_places")
    combos = [f"{p} {s}" for p in parts["kelurahan_prefix"] for s in parts["kelurahan_suffix"]]
    rng.shuffle(combos)
    taken = set(KELURAHAN_POP) | set(KECAMATAN)
    names = []
    for rom in tuple(parts["numerals"]) + tuple(f" {i}" for i in range(11, 1000)):
        for c in combos:
            if c + rom not in taken:
                names.append(c + rom)
                taken.add(c + rom)
        if len(names) >= count:
            break
    return names


def make_places(sites: int | None, seed: int) -> Places:
    """Kota Solok with its first ``sites`` libraries (None = all 14), or scaled up beyond 14
    with synthetic kecamatan of 8 kelurahan, each with a library (drawn from ``seed``)."""
    real = real_sites()
    if sites is None or sites <= len(real):
        k = len(real) if sites is None else sites
        if k < 1:
            raise ValueError("sites must be a positive number of library sites")
        return Places(
            {k_: list(v) for k_, v in KECAMATAN.items()},
            dict(KELURAHAN_POP),
            dict(PLACE_ALIASES),
            real[:k],
        )
    rng = np.random.default_rng([seed, 7])
    extra = sites - len(real)
    names = _synthetic_names(rng, extra + extra // 8 + 2)
    kec_count = -(-extra // 8)
    kec_names, kel_names = names[:kec_count], names[kec_count : kec_count + extra]
    kecamatan = {k: list(v) for k, v in KECAMATAN.items()}
    kel_pop = dict(KELURAHAN_POP)
    site_list = list(real)
    pops = (np.round(rng.uniform(2000, 8000, size=extra) / 100) * 100).astype(int)
    for i, kel in enumerate(kel_names):
        kec = kec_names[i // 8]
        kecamatan.setdefault(kec, []).append(kel)
        kel_pop[kel] = int(pops[i])
        site_list.append(_kelurahan_site(kel, kec))
    return Places(kecamatan, kel_pop, dict(PLACE_ALIASES), site_list)


def margins(pl: Places) -> dict:
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
