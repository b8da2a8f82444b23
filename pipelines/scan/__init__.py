"""Scan ATR pipeline: X-ray (raw dual-energy pairs, pseudo-colour), CT and backscatter scans
-> decode -> preprocess (vision/) -> batched Triton inference -> post-process -> findings
(threat items, empty-container verification, manifest consistency, CT 3-D segmentation,
unreadable captures) -> sinks (review queue + alarms, evidence store).

Entry points: :func:`pipelines.scan.analyze.ScanAnalyzer` (one scan, in-process, used by
``kouan scan analyze``) and :func:`pipelines.scan.ingest.ingest` (Ray Data over a folder or
an S3 prefix, used by ``kouan scan ingest``).
"""
