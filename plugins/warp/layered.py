"""The base of face engines that draw over, or from, warp's frames (wav2lip repaints the mouth of
warp's frames; fomm moves the photo like them): the warp animator underneath, the checkpoint the
settings choose, the torch device, and the speed measured at load that says whether a call can
show it live (`keeps_up`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import msgspec

from plugins.warp.backend import WarpAnimator
from server.backends import AnimatorBackend, AvatarFace, WeightSpec
from server.backends.neural import Speed, pick_device, use_threads


def official_checkpoint(folder: str, name: str, *, licence: str, source: str, check: str) -> WeightSpec:
    """A published checkpoint the user imports (`memoria weights import NAME`), structure-checked."""
    return WeightSpec(
        path=f"{folder}/{name}",
        model=folder,
        licence=licence,
        source=source,
        fetch=f"memoria weights import {name}",
        check=check,
    )


class OverWarp(AnimatorBackend):
    """Subclasses set `WEIGHTS` (checkpoint file name -> spec; `options.checkpoint` picks one) and
    measure `self.speed` in `load()` after `use_device()`."""

    WEIGHTS: ClassVar[dict[str, WeightSpec]]

    def __init__(
        self, config: Mapping[str, Any] | msgspec.Struct | None = None, *, weights_dir: Path | None = None
    ) -> None:
        super().__init__(config, weights_dir=weights_dir)
        self.base = WarpAnimator(weights_dir=weights_dir)
        self.device = "cpu"
        self.speed: Speed | None = None

    @classmethod
    def needed_weights(cls, options: Any) -> tuple[WeightSpec, ...]:
        return (cls.WEIGHTS[options.checkpoint],)

    @property
    def checkpoint_path(self) -> Path:
        return self.weights_dir / self.WEIGHTS[self.options.checkpoint].path

    def use_device(self) -> None:
        """Pick the device and CPU threads from the settings (before loading the networks)."""
        self.device = pick_device(self.options.device)
        use_threads(self.options.threads)

    def keeps_up(self) -> bool:
        return self.speed is not None and self.speed.live

    async def prepare(self, avatar: AvatarFace) -> None:
        await self.base.prepare(avatar)

    async def aclose(self) -> None:
        await self.base.aclose()
        await super().aclose()
