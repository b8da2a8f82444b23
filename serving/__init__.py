"""Model serving: the Triton model repository, the embedded Triton launcher, inference clients.

* ``model_repository/<model>/config.pbtxt`` + ``<model>/<version>/model.onnx`` — one folder per
  model; configs rendered from typed specs (:mod:`serving.model_config`), bundled weights copied
  from their wheel (:mod:`serving.bundled`, :mod:`serving.repository`).
* :mod:`serving.triton_backend` — the ONNX Runtime runner the embedded server uses as its
  ``onnxruntime`` backend (a GPU Triton uses its real onnxruntime backend, same config).
* :mod:`serving.embedded` — ``EmbeddedTriton(repo, work_dir)`` context manager.
* :mod:`serving.client` — the ``InferenceClient`` seam and ``TritonClient`` (gRPC / HTTP).
* :mod:`serving.connect` — ``connect_triton(settings)`` / ``triton_session(settings)``.
* :mod:`serving.health` — ``check_triton(settings)`` for ``kouan doctor``.
* :mod:`serving.ppocr` — the PP-OCRv6 text recogniser (``ppocr_rec``).
"""
