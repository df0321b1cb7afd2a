"""`memoria call` and `memoria bench latency` end to end over loopback WebRTC, with the basic backends."""

from __future__ import annotations

import json
import wave
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from server.rtc.ice import use_loopback

pytestmark = pytest.mark.slow


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Settings through the environment, as a user's shell would give them."""
    registry = tmp_path / "plugin_registry.toml"
    registry.write_text(
        '[plugins]\nmodules = ["plugins.basic"]\nentry_points = false\n'
        '[defaults]\nasr = "basic-asr"\npersona = "basic-persona"\nvoice = "basic-voice"\nanimator = "basic-animator"\n'
    )
    monkeypatch.setenv("MEMORIA_REGISTRY_FILE", str(registry))
    monkeypatch.setenv("MEMORIA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MEMORIA_CONFIG", str(tmp_path / "none.toml"))
    yield tmp_path
    use_loopback(False)


def question(path: Path, text: str) -> Path:
    """A recorded question: voiced syllables at 16 kHz, with its transcript beside it."""
    rate = 16000
    t = np.arange(int(1.3 * rate)) / rate
    phase = 2 * np.pi * np.cumsum(130 + 10 * np.sin(2 * np.pi * 2 * t)) / rate
    audio = sum(np.sin(k * phase) / k for k in range(1, 7)) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t) ** 2) * 0.2
    audio = np.concatenate([audio, np.zeros(rate // 4)])
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((audio * 32767).astype(np.int16).tobytes())
    path.with_suffix(".txt").write_text(text)
    return path


def test_memoria_call_records_a_25_fps_mp4_and_reports_the_turn(project: Path) -> None:
    from skimage import data

    from server.cli.call import command

    photo = project / "rose.jpg"
    Image.fromarray(data.astronaut()[0:360, 76:436]).save(photo)
    sheet = project / "rose.json"
    sheet.write_text(
        json.dumps(
            {
                "name": "Rose",
                "relationship": "grandmother",
                "user_name": "pet",
                "personality": "warm",
                "speaking_style": "gentle",
                "memories": ["we went to the sea at Whitby"],
            }
        )
    )
    out = project / "call.mp4"
    said = question(project / "q.wav", "do you remember the sea?")
    result = CliRunner().invoke(
        command, ["--photo", str(photo), "--sheet", str(sheet), "--say", str(said), "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    (turn,) = report["turns"]
    assert turn["transcript"] == "do you remember the sea?"
    assert "Whitby" in turn["reply"] and "pet" in turn["reply"]
    assert 100 < turn["latency_ms"] < 2000
    assert 24 <= report["fps"] <= 26 and report["frames"] > 100
    assert report["av_offset_ms"] is not None and abs(report["av_offset_ms"]) <= 80
    with av.open(str(out)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert video.average_rate == 25 and (video.width, video.height) == (512, 512)
        frames = sum(1 for _ in container.decode(video))
    with av.open(str(out)) as container:
        pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(container.streams.audio[0])])
    assert abs(frames - report["frames"]) <= 2
    assert len(pcm) / audio.sample_rate == pytest.approx(frames / 25, abs=0.5)
    assert np.abs(pcm).max() > 0.05  # the avatar's voice is in it


async def test_the_latency_bench_reports_every_figure(project: Path) -> None:
    from server.bench.latency import run

    result = await run(turns=2, barge_ins=1, say=())
    assert set(result) >= {"p50_ms", "p95_ms", "late_frames_pct", "av_offset_ms", "barge_in_ms"}
    assert 100 < result["p50_ms"] <= result["p95_ms"] < 3000
    assert 0 < result["barge_in_ms"] < 1000
    assert result["backends"]["voice"] == "basic-voice"


def test_the_demo_avatar_can_be_called_by_name_and_the_call_is_kept(project: Path) -> None:
    import asyncio

    from server.cli.call import command as call
    from server.cli.demo import command as demo
    from server.db.engine import make_engine, make_sessionmaker
    from server.db.models import Message, VideoCall

    made = CliRunner().invoke(demo, [])
    assert made.exit_code == 0, made.output
    again = CliRunner().invoke(demo, [])
    assert "Found the demo avatar" in again.output  # running it twice makes no copy
    said = question(project / "q.wav", "hello grandma")
    result = CliRunner().invoke(call, ["--avatar", "Rose", "--say", str(said), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["turns"][0]["transcript"] == "hello grandma" and "pet" in report["turns"][0]["reply"]

    async def stored() -> tuple[VideoCall, list[Message]]:
        engine = make_engine(f"sqlite+aiosqlite:///{project / 'data' / 'memoria.db'}")
        try:
            async with make_sessionmaker(engine)() as session:
                row = await session.get(VideoCall, report["call_id"])
                assert row is not None
                said = list(
                    await session.scalars(
                        Message.__table__.select().where(Message.conversation_id == row.conversation_id)
                    )
                )
                return row, said
        finally:
            await engine.dispose()

    row, messages = asyncio.run(stored())
    assert row.ended_at is not None and row.total_exchanges == 1 and len(messages) == 2
