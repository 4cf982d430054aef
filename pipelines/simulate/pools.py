"""Answer-spelling pools: the data files in ``pools/`` and vectorised weighted draws from them."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import yaml

from .form import _variables
from .text import _Col

if TYPE_CHECKING:
    from .places import Places

POOLS_DIR = Path(__file__).resolve().with_name("pools")


@functools.cache
def load_pool(name: str) -> dict:
    """The parsed ``pools/<name>.yaml`` (cached; do not modify)."""
    return yaml.safe_load((POOLS_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


def weighted(spellings: dict) -> list[tuple[str, float]]:
    """``{spelling: weight}`` from a pool file as ``[(spelling, weight), ...]``."""
    return [(str(k), float(v)) for k, v in spellings.items()]


def answers(key: str):
    """One entry of ``pools/answers.yaml``."""
    return load_pool("answers")[key]


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
        """Pool from groups of ``(spelling, weight[, kind])``; a group is drawn by its index."""
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


def _likert_pool() -> _Pool:
    """Likert spellings: groups 0-4 are codes 1-5, group 5 is "Tidak tahu" (don't know)."""
    groups = [weighted(answers("likert")[code]) for code in range(1, 6)]
    return _Pool.build(groups + [[(answers("likert_unknown"), 1.0)]])


LIKERT = _likert_pool()
LIKERT_UNKNOWN_INDEX = len(LIKERT.strings) - 1


def _binary_pool(key: str, first: str, second: str) -> _Pool:
    """Two-group pool from ``answers.yaml`` (e.g. gender: female then male)."""
    spec = answers(key)
    return _Pool.build([weighted(spec[first]), weighted(spec[second])])


def _kelurahan_pool(pl: Places) -> _Pool:
    """Kelurahan answers per kelurahan (exact, variants, aliases, typo), then a junk group."""
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
    groups.append([(j, 1.0, "junk") for j in answers("junk_kelurahan")])
    return _Pool.build(groups)


def _site_pool(pl: Places) -> _Pool:
    """Library-name answers per site (exact, variants, aliases, a typo)."""
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
