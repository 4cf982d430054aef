"""The Kota Solok config and TPBIS codebook for the analysis tests (no raw files needed).

The clean-shaped test waves come from the one generator: ``pipelines.simulate.make_waves``.
"""

from __future__ import annotations

from pathlib import Path


def make_config():
    """The Solok config and TPBIS codebook (no raw files needed)."""
    from pipelines.codebook import load_codebook
    from pipelines.config import load_config

    root = Path(__file__).resolve().parents[1]
    cfg = load_config(root / "data" / "raw" / "solok" / "solok_2026.yaml", check_files=False)
    return cfg, load_codebook("tpbis")
