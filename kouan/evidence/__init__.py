"""Evidence store: content-addressed immutable objects, per-case manifests and a signed,
hash-chained ledger of every capture, inference, finding, review decision and alarm.

Import submodules directly (``kouan.evidence.ledger.Ledger``,
``kouan.evidence.service.EvidenceService``); this package runs no code at import.
"""
