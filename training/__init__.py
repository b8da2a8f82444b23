"""Training recipes: datasets -> augmentations -> (Ray Train) training -> evaluation -> export.

One command per model; ``kouan train xray --data DIR --out RUN_DIR`` trains the baggage threat
detector (:mod:`training.xray`), ``kouan export RUN_DIR`` publishes it into the Triton model
repository.
"""
