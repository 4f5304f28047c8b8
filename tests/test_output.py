"""The writer is the one place that writes into the site: a spare folder restored with the cache
(an attacker may shape it) never leads a write outside it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from site_builder.output import OutputFile, SiteWriter, Trees, inode

PAGE = OutputFile.of_bytes("entries/2018-09-09/index.html", b"<p>day one</p>")


def _known_spare(tmp_path: Path) -> tuple[Path, Path, Trees]:
    out, spare = tmp_path / "site", tmp_path / "spare"
    out.mkdir()
    spare.mkdir()
    return out, spare, Trees(live={}, live_inode=inode(out), spare={}, spare_inode=inode(spare))


@pytest.mark.parametrize("where", ["entries", "entries/2018-09-09"])
def test_a_link_to_a_folder_in_the_spare_is_replaced_not_followed(tmp_path: Path, where: str) -> None:
    out, spare, trees = _known_spare(tmp_path)
    victim = tmp_path / "victim"
    victim.mkdir()
    (spare / where).parent.mkdir(parents=True, exist_ok=True)
    (spare / where).symlink_to(victim, target_is_directory=True)
    with SiteWriter(out, spare, trees) as writer:
        writer.put(PAGE)
        writer.put(OutputFile.of_bytes("entries/2018-09-10/index.html", b"<p>day two</p>"))
    assert list(victim.iterdir()) == []
    assert not (spare / where).is_symlink()
    assert (spare / PAGE.path).read_bytes() == b"<p>day one</p>"


def test_a_file_where_the_site_has_a_folder_is_replaced(tmp_path: Path) -> None:
    out, spare, trees = _known_spare(tmp_path)
    (spare / "entries").write_text("in the way")
    with SiteWriter(out, spare, trees) as writer:
        writer.put(PAGE)
    assert (spare / PAGE.path).read_bytes() == b"<p>day one</p>"


def test_a_spare_that_is_a_link_is_not_written_through(tmp_path: Path) -> None:
    out, spare, _ = _known_spare(tmp_path)
    victim = tmp_path / "victim"
    victim.mkdir()
    spare.rmdir()
    spare.symlink_to(victim, target_is_directory=True)
    with SiteWriter(out, spare, Trees(live={}, live_inode=inode(out), spare={}, spare_inode=os.lstat(spare).st_ino)) as writer:
        writer.put(PAGE)
    assert list(victim.iterdir()) == [] and not spare.is_symlink()
