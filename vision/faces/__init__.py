"""Pure face-processing steps: decode, cascade pre-filter, 5-point alignment, embedding maths,
threshold calibration, liveness cues and privacy blurring.

Everything here is numpy/OpenCV only and works on RGB ``uint8`` images ``[H, W, 3]`` with pixel
coordinates ``x`` right, ``y`` down; boxes are ``xyxy`` float32. The models themselves (dlib HOG
detector, 5-point shape predictor, ResNet 128-d embedder) run behind Triton
(``serving/model_repository/face_detector`` and ``face_embedder``).
"""
