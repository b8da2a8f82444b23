"""CRNN/CTC recogniser for Mongolian plates, trained on :mod:`datasets.plates_mn`."""
