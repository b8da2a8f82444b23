"""Review workstation: the review API and browser UI over the review queue, reviewer views of
scans from the evidence store, box corrections that become training labels (COCO/YOLO export,
CVAT/Label Studio import) and threat image projection. See docs/review_workstation.md."""
