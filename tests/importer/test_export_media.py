"""DCE ``--media`` exports → ExportedChannel: local file paths, and those refused."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from bridge.importer.export_reader import read_export
from bridge.importer.model import ExportedChannel
from tests.importer.export_helpers import (
    ALICE_AVATAR,
    MEDIA,
    MEDIA_FILES,
    item,
    load,
    one_message,
    write,
)

# ---- --media exports -----------------------------------------------------------------------


def test_media_paths_with_either_slash(media: ExportedChannel) -> None:
    pixel = item(media, 1200000000000000101)
    [attachment] = pixel.message.attachments
    assert "\\" in attachment.url  # written with backslashes
    assert pixel.local_files[attachment.id] == (MEDIA_FILES / "pixel-1a2b3.png").resolve()
    sticker_item = item(media, 1200000000000000102)
    [sticker] = sticker_item.message.stickers
    assert "/" in sticker.url
    expected = (MEDIA_FILES / "5100000000000000001-7e8f9.png").resolve()
    assert sticker_item.local_files == {sticker.id: expected}


def test_media_custom_emoji_avatar_and_icon(media: ExportedChannel) -> None:
    pixel = item(media, 1200000000000000101)
    emoji_file = (MEDIA_FILES / "3100000000000000002-4c5d6.png").resolve()
    [reaction] = pixel.reactions
    assert reaction.emoji_id == 3100000000000000002
    assert pixel.emoji_files[3100000000000000002] == emoji_file
    assert 3100000000000000002 not in pixel.local_files
    author = pixel.message.author
    assert author.avatar_hash == ALICE_AVATAR
    avatar_file = MEDIA_FILES / f"{ALICE_AVATAR}-9f8e7.png"
    assert author.avatar_url == str(avatar_file.resolve())
    icon_file = MEDIA_FILES / "00112233445566778899aabbccddeeff-0a1b2.png"
    assert media.guild.icon_url == str(icon_file.resolve())


def test_media_download_failure_keeps_the_url(media: ExportedChannel) -> None:
    failed = item(media, 1200000000000000103)
    assert failed.message.attachments[0].url.startswith("https://cdn.discordapp.com/")
    assert failed.local_files == {}


def test_media_path_escaping_the_folder_is_ignored(media: ExportedChannel) -> None:
    crafted = item(media, 1200000000000000104)
    assert crafted.local_files == {}
    assert crafted.message.attachments[0].url == "../../../etc/hostname"
    assert media.unresolved_files == ("../../../etc/hostname",)


def test_inline_emoji_files(tmp_path: Path) -> None:
    (tmp_path / "x.json_Files").mkdir()
    shutil.copy(MEDIA_FILES / "pixel-1a2b3.png", tmp_path / "x.json_Files" / "wave-00000.png")
    emoji = {
        "id": "31",
        "name": "wave",
        "isAnimated": False,
        "imageUrl": "x.json_Files/wave-00000.png",
    }
    found = one_message(tmp_path, inlineEmojis=[emoji])
    assert found.emoji_files == {31: (tmp_path / "x.json_Files" / "wave-00000.png").resolve()}


def _media_copy(tmp_path: Path, url: str) -> ExportedChannel:
    data = load(MEDIA)
    data["messages"][0]["attachments"][0]["url"] = url
    folder = tmp_path / "export"
    folder.mkdir(exist_ok=True)
    return read_export(write(folder / "copy.json", data))


def test_absolute_path_outside_is_ignored_unless_allowed(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "pic.png"
    outside.parent.mkdir()
    shutil.copy(MEDIA_FILES / "pixel-1a2b3.png", outside)
    export = _media_copy(tmp_path, str(outside))
    assert 4100000000000000101 not in item(export, 1200000000000000101).local_files
    assert str(outside) in export.unresolved_files
    allowed = read_export(tmp_path / "export" / "copy.json", media_roots=[outside.parent])
    assert item(allowed, 1200000000000000101).local_files[4100000000000000101] == outside


def test_symlink_out_of_the_folder_is_ignored(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (tmp_path / "export").mkdir()
    os.symlink(secret, tmp_path / "export" / "link.png")
    export = _media_copy(tmp_path, "link.png")
    assert 4100000000000000101 not in item(export, 1200000000000000101).local_files


def test_missing_local_file_is_reported(tmp_path: Path) -> None:
    export = _media_copy(tmp_path, "copy.json_Files\\gone-12345.png")
    assert 4100000000000000101 not in item(export, 1200000000000000101).local_files
    assert "copy.json_Files\\gone-12345.png" in export.unresolved_files


def test_windows_drive_path_is_ignored(tmp_path: Path) -> None:
    export = _media_copy(tmp_path, "C:\\Exports\\media\\pixel.png")
    assert 4100000000000000101 not in item(export, 1200000000000000101).local_files
