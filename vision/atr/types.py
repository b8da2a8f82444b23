"""``Detections``: the one interchange type for objects found in one 2-D scan."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Detections:
    """Objects in one image, in that image's pixel frame (x right, y down).

    * ``boxes``: float32 ``[N, 4]`` xyxy (x2 > x1, y2 > y1);
    * ``scores``: float32 ``[N]`` in [0, 1];
    * ``class_ids``: int64 ``[N]`` indexes into the model's class list.
    """

    boxes: npt.NDArray[np.float32]
    scores: npt.NDArray[np.float32]
    class_ids: npt.NDArray[np.int64]

    def __post_init__(self) -> None:
        if self.boxes.ndim != 2 or self.boxes.shape[1] != 4:
            raise ValueError(f"boxes must be [N, 4], got {self.boxes.shape}")
        n = self.boxes.shape[0]
        if self.scores.shape != (n,) or self.class_ids.shape != (n,):
            raise ValueError(f"scores and class_ids must be [{n}], got {self.scores.shape} "
                             f"and {self.class_ids.shape}")
        if self.boxes.dtype != np.float32 or self.scores.dtype != np.float32:
            raise ValueError("boxes and scores must be float32")
        if self.class_ids.dtype != np.int64:
            raise ValueError(f"class_ids must be int64, got {self.class_ids.dtype}")
        if n and not np.all(self.boxes[:, 2:] > self.boxes[:, :2]):
            raise ValueError("boxes must be xyxy with x2 > x1 and y2 > y1")
        if n and (np.any(self.scores < 0) or np.any(self.scores > 1)):
            raise ValueError("scores must lie in [0, 1]")

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), np.float32), np.zeros((0,), np.float32),
                   np.zeros((0,), np.int64))

    def select(self, keep: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> Detections:
        """The subset picked by a boolean mask or an index array (order kept)."""
        return Detections(self.boxes[keep], self.scores[keep], self.class_ids[keep])
