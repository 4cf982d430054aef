"""``python -m pipelines.simulate`` = ``python -m pipelines simulate``."""

from .cli import main

raise SystemExit(main())
