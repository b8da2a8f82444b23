"""Licence plates: grammar (CN, MN), grammar-constrained CTC decoding, localisation, rectification."""
