"""Smart gate: plates, container codes, declaration matching, the passage pipeline and demo."""
