"""The generic Triton *python-based backend* that runs ONNX models with ONNX Runtime.

``model.py`` in this folder is not imported by Kouan code: the embedded launcher copies it to
``<backend-dir>/onnxruntime/model.py``, and Triton runs it inside its python stub for every model
whose ``config.pbtxt`` says ``backend: "onnxruntime"``. See :mod:`serving.model_config`.
"""
