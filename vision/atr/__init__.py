"""Automated threat recognition (ATR): pure pre- and post-processing around the detector.

The detector itself (weights, ONNX) lives in ``training/`` and behind Triton; what runs before
and after it is here, so the same model works behind embedded Triton, a Triton cluster or an
in-process ONNX Runtime session:

* :mod:`vision.atr.letterbox` - resize an RGB scan into the square model input and map boxes
  back;
* :mod:`vision.atr.decode` - heat-map peaks + per-pixel box distances -> :class:`Detections`;
* :mod:`vision.atr.types` - the :class:`Detections` interchange type;
* :mod:`vision.atr.boxes` - IoU and non-maximum suppression in numpy.
"""
