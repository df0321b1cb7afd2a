"""How visibly a recorded avatar talks: `mouth_open_p90` (inner-lip gap over mouth width, 90th
percentile) over the frames where its voice is heard, and the same over its silences, read from
an MP4 of what a client received (`memoria call --out`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from server.face import metrics


def articulation_of_recording(path: Path, *, every: int = 2) -> dict[str, float | None]:
    """Landmarks on every `every`-th frame of the MP4's video, loudness of its audio at each."""
    import av

    from server.face.mesh import FaceTracker

    with av.open(str(path)) as container:
        audio = [f.to_ndarray().reshape(-1) for f in container.decode(audio=0)]
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = 48000
        pcm = np.concatenate(audio).astype(np.float32) if audio else np.zeros(0, np.float32)
        if pcm.size and np.abs(pcm).max() > 1.5:  # s16 samples: to [-1, 1]
            pcm = pcm / 32768.0
        tracker = FaceTracker()
        ratios, loud = [], []
        try:
            for index, frame in enumerate(container.decode(stream)):
                if index % every:
                    continue
                pts = tracker(frame.to_ndarray(format="rgb24"))
                if pts is None:
                    continue
                t = float(frame.time) if frame.time is not None else index / 25
                part = pcm[int(t * rate) : int((t + 0.04) * rate)]
                level = (
                    20 * np.log10(float(np.sqrt(np.mean(part.astype(np.float64) ** 2))) + 1e-9) if part.size else -60.0
                )
                ratios.append(float(metrics.mouth_gap_ratio(pts[None, :, :2])[0]))
                loud.append(max(-60.0, level))
        finally:
            tracker.close()
    speech, silent = metrics.articulation(np.array(ratios), np.array(loud))
    return {"mouth_open_p90": speech, "mouth_open_p90_silent": silent}
