"""Reference images of declared goods classes, shown beside a scan so the reviewer can compare
what was declared with what such a load looks like.

There is no library of real reference scans here, so each reference is a *synthetic* truck
scan from :func:`datasets.synth.cargo.generate_cargo` whose load is the declared HS chapter
and that holds no concealment (the UI labels it as generated). The first matching seed is
used, so a chapter always gets the same picture; renderings are cached per process.
"""

from __future__ import annotations

import threading
from functools import lru_cache

from annotation.views import encode_png
from datasets.synth.cargo import HS_CHAPTERS, CargoConfig, generate_cargo

MAX_SEEDS = 400
_lock = threading.Lock()


class UnknownChapter(LookupError):
    """No reference exists for that HS chapter."""


def reference_chapters() -> dict[str, str]:
    """HS chapter (2 digits) -> description of the goods the references show."""
    return dict(HS_CHAPTERS)


@lru_cache(maxsize=len(HS_CHAPTERS))
def _render(chapter: str) -> tuple[bytes, int]:
    cfg = CargoConfig(p_empty=0.0, p_concealment=0.0, p_misdeclared=0.0)
    for seed in range(MAX_SEEDS):
        sample = generate_cargo(seed, cfg)
        if sample.declaration.get("actual_hs_chapter") == chapter:
            return encode_png(sample.rgb, compression=3), seed
    raise UnknownChapter(f"no synthetic load of HS chapter {chapter} in {MAX_SEEDS} seeds")


def reference_png(chapter: str) -> tuple[bytes, int]:
    """PNG bytes of the reference scan for ``chapter`` and the generator seed used."""
    if chapter not in HS_CHAPTERS:
        raise UnknownChapter(f"no reference for HS chapter {chapter!r}; references exist for "
                             f"{', '.join(sorted(HS_CHAPTERS))}")
    with _lock:  # one render per chapter even when several viewers open at once
        return _render(chapter)
