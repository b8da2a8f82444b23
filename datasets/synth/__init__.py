"""Synthetic scans with exact ground truth: baggage, cargo, backscatter and CT scenes.

Scenes are deterministic functions of a seed. Geometry lives in :mod:`datasets.synth.geometry`
(parts with per-pixel thickness), physics in :mod:`vision.xray`, :mod:`vision.ct` and
:mod:`vision.backscatter`.
"""
