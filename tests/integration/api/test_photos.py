"""Photos: a real face is found and scored, the first photo is primary, the user can change it,
and every kind of bad upload is refused with a clear message, leaving no row and no file."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from server.db.models import AvatarImage

from . import samples
from .conftest import Client, Login, MakeAvatar
from .helpers import files_under, table_counts, upload


async def test_face_photo_is_analysed_and_stored(
    client: Client,
    engine: AsyncEngine,
    login: Login,
    make_avatar: MakeAvatar,
    data_dir: Path,
) -> None:
    headers = await login()
    avatar_id = await make_avatar(headers)
    response = await client.post(
        f"/avatars/{avatar_id}/photos", headers=headers, **upload("gran.jpg", samples.face_jpeg(), "image/jpeg")
    )
    assert response.status_code == 201, response.text
    photo = response.json()
    assert photo["is_primary"] is True  # the first good photo
    assert (photo["width"], photo["height"]) == (360, 360)
    assert photo["landmark_count"] == len(photo["landmarks"]) >= 68
    assert 0.0 < photo["quality_score"] <= 1.0
    x0, y0, x1, y1 = photo["bbox"]
    assert 0 <= x0 < x1 <= 360 and 0 <= y0 < y1 <= 360
    points = np.array(photo["landmarks"])
    assert (points[:, 0] >= x0 - 1).all() and (points[:, 0] <= x1 + 1).all()  # landmarks sit on the face

    async with AsyncSession(engine) as session:
        row = (await session.scalars(select(AvatarImage))).one()
    assert row.face_landmarks["points"] == photo["landmarks"] and row.face_landmarks["bbox"] == photo["bbox"]
    assert row.quality_score == pytest.approx(photo["quality_score"])
    assert row.quality == photo["quality"] and "advice" in row.quality
    assert (data_dir / row.path).is_file() and row.path.startswith(f"avatars/{avatar_id}/photos/")

    stored = await client.get(f"/avatars/{avatar_id}/photos/{photo['id']}/file", headers=headers)
    assert stored.status_code == 200 and stored.headers["content-type"].startswith("image/jpeg")
    image = Image.open(io.BytesIO(stored.content))
    assert image.format == "JPEG" and image.size == (360, 360)
    original = np.asarray(Image.open(io.BytesIO(samples.face_jpeg())).convert("RGB"), dtype=np.float32)
    assert np.abs(np.asarray(image.convert("RGB"), dtype=np.float32) - original).mean() < 3.0  # kept at high quality

    avatar = await client.get(f"/avatars/{avatar_id}", headers=headers)
    assert avatar.json()["primary_photo_id"] == photo["id"]


async def test_primary_can_be_changed_and_passes_on_when_deleted(
    client: Client,
    engine: AsyncEngine,
    login: Login,
    make_avatar: MakeAvatar,
    data_dir: Path,
) -> None:
    headers = await login()
    avatar_id = await make_avatar(headers)
    url = f"/avatars/{avatar_id}/photos"
    first = (await client.post(url, headers=headers, **upload("a.jpg", samples.face_jpeg()))).json()
    mirrored = io.BytesIO()
    Image.open(io.BytesIO(samples.face_jpeg())).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(mirrored, format="PNG")
    second = await client.post(url, headers=headers, **upload("b.png", mirrored.getvalue(), "image/png"))
    assert second.status_code == 201, second.text
    second_id = second.json()["id"]
    assert second.json()["is_primary"] is False

    switched = await client.put(f"{url}/{second_id}/primary", headers=headers)
    assert switched.status_code == 200 and switched.json()["is_primary"] is True
    listed = {p["id"]: p["is_primary"] for p in (await client.get(url, headers=headers)).json()}
    assert listed == {first["id"]: False, second_id: True}

    async with AsyncSession(engine) as session:
        second_path = (await session.scalars(select(AvatarImage.path).where(AvatarImage.id == second_id))).one()
    assert (await client.delete(f"{url}/{second_id}", headers=headers)).status_code == 204
    assert not (data_dir / second_path).exists()
    listed = {p["id"]: p["is_primary"] for p in (await client.get(url, headers=headers)).json()}
    assert listed == {first["id"]: True}
    assert (await client.get(f"{url}/{second_id}", headers=headers)).status_code == 404


def _truncated_jpeg() -> bytes:
    data = samples.face_jpeg()
    return data[: len(data) * 2 // 3]


def _png_with_alpha_and_no_face() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (300, 300), (200, 180, 160, 255)).save(out, format="PNG")
    return out.getvalue()


def _tiny_png() -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.asarray(Image.open(io.BytesIO(samples.face_jpeg())))[::4, ::4]).save(out, format="PNG")
    return out.getvalue()


BAD_PHOTOS = {
    "text named .jpg": (
        "notes.jpg",
        lambda: b"Dear diary, today I remembered...\n" * 20,
        415,
        "not a JPEG, PNG, WebP or HEIC",
    ),
    "truncated JPEG": ("cut.jpg", _truncated_jpeg, 400, "damaged or incomplete"),
    "decompression bomb": ("bomb.png", samples.bomb_png, 413, "more than 40,000,000 pixels"),
    "bomb just over the limit": ("bomb.png", lambda: samples.bomb_png(7000), 413, "7000x7000 = 49,000,000 pixels"),
    "photo without a face": ("coffee.jpg", samples.landscape_jpeg, 400, "no face"),
    "blank picture": ("blank.png", _png_with_alpha_and_no_face, 400, "no face"),
    "too small": ("tiny.png", _tiny_png, 400, "at least 128 pixels"),
    "empty file": ("empty.jpg", lambda: b"", 400, "empty"),
    "60 MB upload": (
        "huge.jpg",
        lambda: b"\xff\xd8\xff" + bytes(60 * 1024 * 1024),
        413,
        "larger than the 25 MiB limit",
    ),
}


@pytest.mark.parametrize("case", list(BAD_PHOTOS))
async def test_bad_photo_is_refused_and_leaves_nothing(
    case: str,
    client: Client,
    engine: AsyncEngine,
    login: Login,
    make_avatar: MakeAvatar,
    data_dir: Path,
) -> None:
    name, make, status, words = BAD_PHOTOS[case]
    headers = await login()
    avatar_id = await make_avatar(headers)
    rows, files = await table_counts(engine), files_under(data_dir)
    response = await client.post(f"/avatars/{avatar_id}/photos", headers=headers, **upload(name, make(), "image/jpeg"))
    assert response.status_code == status, response.text
    assert words in response.json()["error"], response.json()
    assert await table_counts(engine) == rows
    assert files_under(data_dir) == files


async def test_upload_without_a_file_field(client: Client, login: Login, make_avatar: MakeAvatar) -> None:
    headers = await login()
    avatar_id = await make_avatar(headers)
    as_json = await client.post(f"/avatars/{avatar_id}/photos", headers=headers, json={"file": "x"})
    assert as_json.status_code in (400, 415)
    wrong_field = await client.post(f"/avatars/{avatar_id}/photos", headers=headers, data={"file": "not a file"})
    assert wrong_field.status_code == 400 and wrong_field.json()["error"]


def _sideways_jpeg_with_exif_orientation() -> bytes:
    """The face stored turned 90 degrees, with EXIF saying how to turn it upright (as phones do)."""
    from skimage import data

    upright = Image.fromarray(data.astronaut()[0:360, 56:456])  # 400 wide, 360 high
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    out = io.BytesIO()
    upright.transpose(Image.Transpose.ROTATE_90).save(out, format="JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


def _webp() -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(samples.face_jpeg())).save(out, format="WEBP", quality=90)
    return out.getvalue()


@pytest.mark.parametrize(
    ("make", "size"),
    [(_sideways_jpeg_with_exif_orientation, (400, 360)), (_webp, (360, 360))],
    ids=["exif-rotated", "webp"],
)
async def test_orientation_and_formats(
    client: Client, login: Login, make_avatar: MakeAvatar, make: Callable[[], bytes], size: tuple[int, int]
) -> None:
    headers = await login()
    avatar_id = await make_avatar(headers)
    response = await client.post(f"/avatars/{avatar_id}/photos", headers=headers, **upload("p", make()))
    assert response.status_code == 201, response.text
    assert (response.json()["width"], response.json()["height"]) == size
    stored = await client.get(f"/avatars/{avatar_id}/photos/{response.json()['id']}/file", headers=headers)
    image = Image.open(io.BytesIO(stored.content))
    assert image.size == size and not image.getexif()  # upright pixels, no EXIF (or GPS) kept


async def test_an_iphone_heic_photo_is_accepted_and_kept_as_jpeg(
    client: Client, login: Login, make_avatar: MakeAvatar
) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    heic = io.BytesIO()
    Image.open(io.BytesIO(samples.face_jpeg())).save(heic, format="HEIF", quality=90)
    assert heic.getvalue()[4:12] == b"ftypheic"
    headers = await login()
    avatar_id = await make_avatar(headers)
    response = await client.post(
        f"/avatars/{avatar_id}/photos", headers=headers, **upload("IMG_0001.HEIC", heic.getvalue(), "image/heic")
    )
    assert response.status_code == 201, response.text
    assert response.json()["landmark_count"] >= 68
    stored = await client.get(f"/avatars/{avatar_id}/photos/{response.json()['id']}/file", headers=headers)
    assert Image.open(io.BytesIO(stored.content)).format == "JPEG"
