"""Job configuration of ``kouan train xray`` (pydantic, unknown keys refused)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator


class TrainConfig(BaseModel):
    """Everything that determines a training run (saved as ``RUN_DIR/config.json``)."""

    model_config = ConfigDict(extra="forbid")

    data: Path = Field(description="COCO dataset dir from `kouan datasets synth xray`.")
    out: Path = Field(description="Run folder: checkpoints, logs, evaluation, pictures.")
    val_data: Path | None = Field(default=None, description="Held-out COCO dir; unset: a "
                                  "val_fraction split of `data` by image.")
    val_fraction: float = Field(default=0.1, gt=0.0, lt=0.9)
    val_limit: int = Field(default=150, ge=4, description="Val images scored after each epoch.")
    size: int = Field(default=256, ge=64, le=1024, description="Model input (pixels, /32).")
    epochs: int = Field(default=40, ge=1, le=1000)
    max_steps: int | None = Field(default=None, ge=1, description="Stop after this many "
                                  "optimizer steps (CI smoke runs).")
    max_minutes: float | None = Field(default=None, gt=0, description="Wall-clock budget; the "
                                      "learning-rate schedule follows it.")
    batch_size: int = Field(default=16, ge=1, le=256)
    lr: float = Field(default=3e-3, gt=0, lt=1)
    weight_decay: float = Field(default=1e-4, ge=0, lt=1)
    warmup_steps: int = Field(default=100, ge=0)
    patience: int = Field(default=6, ge=1, description="Early stopping: epochs without a "
                          "better val mAP50.")
    seed: int = 0
    num_workers: int = Field(default=1, ge=1, le=256, description="Ray Train workers.")
    threads: int = Field(default=2, ge=1, le=64, description="Torch threads per worker.")
    loader_workers: int = Field(default=1, ge=0, le=16, description="DataLoader processes.")
    # v2: wider stride-16/32 stages (0.87 M parameters; v1 had (8, 16, 32, 64, 96), 0.39 M).
    # The high-resolution stages dominate CPU time, so this costs ~1.3x per step.
    widths: tuple[int, int, int, int, int] = (8, 16, 32, 96, 160)
    neck_width: int = 32
    tip_per_label: int = Field(default=40, ge=0, le=1000, description="TIP sprites per class.")
    p_tip: float = Field(default=0.5, ge=0, le=1)
    p_attenuation: float = Field(default=0.3, ge=0, le=1)
    augment_strength: float = Field(default=1.0, ge=0, le=1)
    real_backgrounds: list[Path] = Field(default_factory=list, description="Real benign scans "
                                         "used as TIP backgrounds (never evaluate on these).")
    p_real_background: float = Field(default=0.0, ge=0, le=1)
    init_from: Path | None = Field(default=None, description="Checkpoint (.pt) or exported "
                                   "model version (.onnx) to fine-tune from.")
    resume: bool = Field(default=True, description="Continue from RUN_DIR's last checkpoint.")
    command: str = Field(default="", description="The command line, for the model card.")

    @model_validator(mode="after")
    def _check(self) -> TrainConfig:
        if self.size % 32:
            raise ValueError(f"size must be a multiple of 32, got {self.size}")
        if self.p_real_background > 0 and not self.real_backgrounds:
            raise ValueError("p_real_background > 0 needs real_backgrounds")
        return self
