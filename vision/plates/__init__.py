"""Licence plates: CN/MN grammars, constrained CTC decoding, localisation, rectification."""
