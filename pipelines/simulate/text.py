"""Arrow string kernels for building millions of answer strings without Python objects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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
    """Element-wise ``a if mask else b`` as Arrow strings."""
    return pc.if_else(pa.array(np.asarray(mask, dtype=bool)), _s(a), _s(b))


def _null(arr, mask):
    """``arr`` with the ``mask`` positions missing."""
    return _where(mask, _NULL, arr)


def _select(codes: np.ndarray, choices: Sequence, default):
    """``choices[code]`` per element (``default`` where no choice matches)."""
    out = _s(default)
    for k in range(len(choices) - 1, -1, -1):
        out = _where(codes == k, choices[k], out)
    return out


def _pick_from(strings: Sequence[str], idx: np.ndarray) -> pa.Array:
    """``strings[idx]`` as an Arrow string array."""
    return pa.array(list(strings)).take(pa.array(idx))


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
    """Rows of a column held as a ``_Col``, a numpy array or an Arrow array."""
    if isinstance(col, _Col):
        return col.take(rows)
    if isinstance(col, np.ndarray):
        return col[rows]
    return col.take(pa.array(rows))
