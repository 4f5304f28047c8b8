"""Relative links in entries: to other entries' files, to images beside them, and broken ones."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from site_builder.build import build_site
from site_builder.builds import BuildOptions
from site_builder.config import load_config
from site_builder.links import LinkContext

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")


@pytest.mark.parametrize(
    "url, written, target",
    [
        ("2018-09-14.md", "logbuild-entry:entries/2018-09-14.md", "entries/2018-09-14.md"),
        ("2018-09-14.md#pooling", "logbuild-entry:entries/2018-09-14.md#pooling", "entries/2018-09-14.md"),
        ("images/plot one.png", "../images/plot%20one.png", "entries/images/plot one.png"),
        ("images/plot%20one.png", "../images/plot%20one.png", "entries/images/plot one.png"),
        ("2018-09-15/grid.png", "grid.png", "entries/2018-09-15/grid.png"),  # a page bundle's own file
        ("../static/notes.pdf", "../../notes.pdf", "static/notes.pdf"),
        ("../README.md", "logbuild-entry:README.md", "README.md"),
        ("../LICENSE", "../LICENSE", "LICENSE"),  # outside the site: left alone, reported by the build
        ("https://keras.io/", "https://keras.io/", None),
        ("#next-steps", "#next-steps", None),
        ("/about/", "/about/", None),
        ("mailto:me@example.org", "mailto:me@example.org", None),
    ],
)
def test_rewrite(url: str, written: str, target: str | None) -> None:
    where = LinkContext("entries/2018-09-15.md", "entries", "static", "entries/2018-09-15/")
    assert where.rewrite(url) == (written, target)


def test_links_and_images_work_in_the_built_site_and_broken_ones_name_their_line(tmp_path: Path) -> None:
    entries = tmp_path / "entries"
    (entries / "images").mkdir(parents=True)
    (entries / "images" / "plot.png").write_bytes(PNG)
    (entries / "2018-09-16").mkdir()
    (entries / "2018-09-16" / "index.md").write_text("---\ntitle: A bundle\n---\n![grid](grid.png)\n")
    (entries / "2018-09-16" / "grid.png").write_bytes(PNG)
    (entries / "2018-09-14.md").write_text("---\ntitle: Convolution\n---\nFilters.\n")
    (entries / "2018-09-15.md").write_text(
        "---\ntitle: Pooling\n---\nAfter [convolution](2018-09-14.md#filters) comes pooling.\n\n"
        "![the plot](images/plot.png)\n\nSee [a missing day](2018-09-01.md) and ![gone](images/gone.png).\n"
    )
    config, _ = load_config(tmp_path)
    report = build_site(config, BuildOptions(today=dt.date(2018, 9, 16)))
    assert [d.format() for d in report.diagnostics] == [
        ("entries/2018-09-15.md:8: warning: link to entries/2018-09-01.md, which is not a published entry "
         "(fix the file name, or link the page's URL)"),
        "entries/2018-09-15.md:8: warning: link to entries/images/gone.png, which does not exist",
    ]
    site = tmp_path / "site"
    page = (site / "entries" / "2018-09-15" / "index.html").read_text()
    assert 'href="../../entries/2018-09-14/#filters"' in page
    assert 'src="../images/plot.png"' in page
    assert (site / "entries" / "images" / "plot.png").read_bytes() == PNG
    bundle = (site / "entries" / "2018-09-16" / "index.html").read_text()
    assert 'src="grid.png"' in bundle and (site / "entries" / "2018-09-16" / "grid.png").is_file()
    feed = (site / "feed.xml").read_text()
    assert "entries/2018-09-14/#filters" in feed and "logbuild-entry:" not in feed


def test_check_fails_on_a_broken_link_and_names_it_in_junit(tmp_path: Path) -> None:
    import subprocess
    import sys
    import xml.etree.ElementTree as ET

    (tmp_path / "entries").mkdir()
    (tmp_path / "logbuild.toml").write_text("# the defaults\n")
    (tmp_path / "entries" / "2018-09-15.md").write_text("---\ntitle: Pooling\n---\nSee [a typo](2018-09-41.md).\n")
    done = subprocess.run(
        [sys.executable, "-m", "site_builder.cli", "check", "--junit", "report.xml", "--today", "2018-09-16"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 1
    assert "entries/2018-09-15.md:4: warning: link to entries/2018-09-41.md" in done.stderr
    assert "check FAILED" in done.stdout
    failures = ET.parse(tmp_path / "report.xml").getroot().findall(".//failure")
    assert [f.get("message", "").split(":")[0] for f in failures] == ["entries/2018-09-15.md"]
    (tmp_path / "entries" / "2018-09-15.md").write_text("---\ntitle: Pooling\n---\nNo links now.\n")
    fixed = subprocess.run([sys.executable, "-m", "site_builder.cli", "check", "--today", "2018-09-16"],
                           cwd=tmp_path, capture_output=True, text=True, check=False)
    assert fixed.returncode == 0, fixed.stderr
