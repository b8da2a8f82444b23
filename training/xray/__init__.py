"""The X-ray baggage threat detector recipe: data + augmentations (:mod:`.data`,
:mod:`.augment`, :mod:`.tip`), model (:mod:`.model`), Ray Train loop (:mod:`.loop`,
:mod:`.ray_train`), evaluation (:mod:`.evaluate`, :mod:`.metrics`, :mod:`.real_eval`) and ONNX
export (:mod:`.export`). See docs/scan_atr.md."""
