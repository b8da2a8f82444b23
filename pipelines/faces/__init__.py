"""Face capability: analysis (detect, align, embed through Triton), 1:1 verification, galleries
with a FAISS index in the object store (templates encrypted at rest), watchlist and staff-gate
findings, probe retention, liveness.

Entry points: :class:`pipelines.faces.service.FaceService` (what the API and CLI call) and
:func:`pipelines.faces.demo.run_demo`.
"""
