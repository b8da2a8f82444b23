"""Batch text-line OCR over Ray: images -> vision preprocessing -> Triton ppocr_rec -> CTC text."""
