"""`logbuild import`: the thin command over `import_log`, and a round trip from the seed log to a site."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from markdown_it import MarkdownIt

SEED = next((p for p in (Path(os.environ.get("LOGBUILD_SEED", "/nonexistent")),
                         Path(__file__).resolve().parents[2] / "shared" / "seed" / "log-README.md",
                         Path(__file__).resolve().parents[3] / "shared" / "seed" / "log-README.md") if p.is_file()),
            Path("/nonexistent"))
LOGBUILD = [sys.executable, "-m", "site_builder.cli"]
SMALL_LOG = """\
# My log

### Current streak: 2 days

## 2024/3/2
Tags: numpy

Colab: https://example.org/notebook

Reshaping arrays without copying them.

## 2024/3/1
Started a new course.
"""


def logbuild(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LOGBUILD, *args], check=False, cwd=cwd, capture_output=True, text=True, timeout=300)


def new_log(root: Path) -> Path:
    root.mkdir()
    (root / "logbuild.toml").write_text('title = "Imported"\n')
    return root


def test_dry_run_writes_nothing_and_says_what_it_would(tmp_path: Path) -> None:
    log = new_log(tmp_path / "log")
    (tmp_path / "README.md").write_text(SMALL_LOG)
    result = logbuild("import", str(tmp_path / "README.md"), "--dry-run", cwd=log)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["would write entries/2024-03-01.md", "would write entries/2024-03-02.md",
                                          "would write pages/about.md", "kept 8 of 8 lines"]
    assert result.stderr == f"{tmp_path / 'README.md'}:3: declares a current streak of 2 days, as its dates give\n"
    assert sorted(p.name for p in log.iterdir()) == ["logbuild.toml"]


def test_import_then_again_skips_existing_files(tmp_path: Path) -> None:
    log = new_log(tmp_path / "log")
    (tmp_path / "README.md").write_text(SMALL_LOG)
    first = logbuild("import", str(tmp_path / "README.md"), cwd=log)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == ["write entries/2024-03-01.md", "write entries/2024-03-02.md",
                                         "write pages/about.md", "review IMPORT-REVIEW.md", "kept 8 of 8 lines"]
    text = (log / "entries" / "2024-03-02.md").read_text()
    assert "colab: https://example.org/notebook" in text and "tags: [numpy]" in text
    # a title is configured ("Imported"), so the log's own '# My log' stays on the About page
    assert (log / "pages" / "about.md").read_text() == "---\ntitle: About\nweight: 1\n---\n# My log\n\n"
    again = logbuild("import", str(tmp_path / "README.md"), cwd=log)
    assert again.returncode == 0
    assert again.stdout.splitlines() == ["exists, skipped entries/2024-03-01.md",
                                         "exists, skipped entries/2024-03-02.md", "exists, skipped pages/about.md",
                                         "review IMPORT-REVIEW.md", "kept 8 of 8 lines"]
    assert "entries/2024-03-01.md: already exists" in again.stderr


def test_the_first_heading_becomes_the_site_title_when_none_is_set(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.mkdir()
    (log / "logbuild.toml").write_text('timezone = "UTC"\n\n[snippet_env]\nA = "1"\n')
    (tmp_path / "README.md").write_text(SMALL_LOG)
    result = logbuild("import", str(tmp_path / "README.md"), cwd=log)
    assert result.returncode == 0, result.stderr
    assert (log / "logbuild.toml").read_text().startswith('title = "My log"  # the first heading')
    assert not (log / "pages").exists()  # nothing but the title stood before day one
    built = logbuild("build", "--today", "2024-03-02", cwd=log)
    assert built.returncode == 0, built.stderr
    assert "<title>My log</title>" in (log / "site" / "index.html").read_text()


def test_strict_exits_1_and_writes_nothing(tmp_path: Path) -> None:
    log = new_log(tmp_path / "log")
    (tmp_path / "README.md").write_text("# Log\n\n## 2024/2/30\nA day that never was.\n\n## 2024/3/1\nreal\n")
    strict = logbuild("import", str(tmp_path / "README.md"), "--strict", cwd=log)
    assert strict.returncode == 1
    assert re.search(r"README\.md:3: error: skipped: '2024/2/30' is not a real date", strict.stderr), strict.stderr
    assert sorted(p.name for p in log.iterdir()) == ["logbuild.toml"]
    relaxed = logbuild("import", str(tmp_path / "README.md"), cwd=log)
    assert relaxed.returncode == 0, relaxed.stderr
    assert relaxed.stdout.splitlines()[-1] == "kept 5 of 5 lines"
    assert "README.md:4: A day that never was." in (log / "IMPORT-REVIEW.md").read_text()


def test_into_another_folder(tmp_path: Path) -> None:
    log = new_log(tmp_path / "log")
    (tmp_path / "README.md").write_text(SMALL_LOG)
    result = logbuild("import", str(tmp_path / "README.md"), "--into", "days", cwd=log)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (log / "days").iterdir()) == ["2024-03-01.md", "2024-03-02.md"]


# --- round trip: the seed README -> entries -> site ---------------------------------------------

DATED = re.compile(r"^## (\d{4})/(\d{1,2})/(\d{1,2})\s*$")
LABEL = re.compile(r"^\s*(?:[*-]\s+)?(?:[A-Za-z][\w ]*:)?\s*$")  # "Colab:", "* ", "Videos:", ""
BLOCKS = {"p", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "div", "section",
          "article", "header", "footer", "nav", "table", "tr", "td", "th", "br", "main", "figure"}


class TextAndLinks(HTMLParser):
    """Plain text (a space at every block edge; scripts and styles left out) and every href."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hrefs: set[str] = set()
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.skipping += tag in ("script", "style")
        self.parts.append(" " if tag in BLOCKS else "")
        self.hrefs.update(v for k, v in attrs if k == "href" and v)

    def handle_endtag(self, tag: str) -> None:
        self.skipping -= tag in ("script", "style")
        self.parts.append(" " if tag in BLOCKS else "")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)

    def text(self) -> str:
        return " ".join("".join(self.parts).split())


def page_text(html: str) -> TextAndLinks:
    parser = TextAndLinks()
    parser.feed(html)
    return parser


def dated_sections(source: str) -> dict[dt.date, list[str]]:
    sections: dict[dt.date, list[str]] = {}
    current: list[str] | None = None
    for line in source.splitlines():
        m = DATED.match(line)
        if m:
            current = sections.setdefault(dt.date(*map(int, m.groups())), [])
        elif re.match(r"^#{1,2} ", line):
            current = None
        elif current is not None:
            current.append(line)
    return sections


def sentences(markdown: str) -> list[str]:
    """The section's sentences as plain text: rendered, tags stripped, split after . ! ?"""
    text = page_text(MarkdownIt("commonmark").render(markdown)).text()
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if s]


def front_matter(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text("utf-8").split("---\n")[1])
    assert isinstance(data, dict)
    return data


def _only_moved_after(rest: list[str], moved: set[str]) -> bool:
    """True when the lines after a label, up to a blank line, are all links that moved."""
    block = list(itertools.takewhile(str.strip, rest))
    return bool(block) and all(any(u in line and LABEL.match(line.replace(u, "")) for u in moved)
                               for line in block)


@pytest.mark.skipif(not SEED.is_file(), reason="needs ../shared/seed/log-README.md")
def test_seed_round_trip(tmp_path: Path) -> None:
    log = new_log(tmp_path / "log")
    imported = logbuild("import", str(SEED), cwd=log)
    assert imported.returncode == 0, imported.stderr
    assert len(list((log / "entries").glob("*.md"))) == 12
    source = SEED.read_text("utf-8").splitlines()
    lines = sum(1 for line in source if line.strip())
    assert imported.stdout.splitlines()[-1] == f"kept {lines} of {lines} lines"
    streaks = [i for i, line in enumerate(source, 1) if "streak:" in line.lower()]
    assert imported.stderr.splitlines() == [
        (f"{SEED}:{streaks[0]}: declares a current streak of 11 days; its dates give 12 (the site computes streaks"
        " from the dates)"),
        (f"{SEED}:{streaks[1]}: declares a best streak of 11 days; its dates give 12 (the site computes streaks"
        " from the dates)"),
    ]
    # the intro (everything before the first day but the title and the streak lines) is the About page
    intro = [line for line in source[1 : streaks[0] - 1] if line.strip()]
    about = (log / "pages" / "about.md").read_text("utf-8")
    assert intro and all(line in about.splitlines() for line in intro)
    assert f"# {source[0][2:]}" in about  # the configured title wins; the log's own stays on its page

    built = logbuild("build", "--today", "2018-09-21", cwd=log)
    assert built.returncode == 0, built.stdout + built.stderr
    about_page = page_text((log / "site" / "about" / "index.html").read_text("utf-8"))
    assert {u for line in intro for u in re.findall(r"\]\((https?://[^)]+)\)", line)} <= about_page.hrefs
    assert 'href="about/"' in (log / "site" / "index.html").read_text("utf-8")  # in the navigation
    streak = json.loads(logbuild("streak", "--json", "--today", "2018-09-21", cwd=log).stdout)
    assert streak["best"] == 12

    sections = dated_sections(SEED.read_text("utf-8"))
    assert len(sections) == 12
    missing = []
    for day, lines in sections.items():
        page = page_text((log / "site" / "entries" / day.isoformat() / "index.html").read_text("utf-8"))
        text = page.text()
        moved = set(front_matter(log / "entries" / f"{day.isoformat()}.md").get("links", {}).values())
        prose = []
        for i, line in enumerate(lines):
            url = next((u for u in moved if u in line), None)
            if url and LABEL.match(line.replace(url, "")):  # moved into the front matter's links
                assert url in page.hrefs, (day, line)
            elif LABEL.match(line) and line.strip() and _only_moved_after(lines[i + 1:], moved):
                pass  # the label of a list of links that moved, e.g. "Videos:"
            elif not line.startswith("Tags:"):
                prose.append(line)
        checked = sentences("\n".join(prose))
        assert checked, day
        missing += [(day, s) for s in checked if s not in text]
    assert missing == []


def test_a_folder_of_day_files_builds_with_its_images_and_links(tmp_path: Path) -> None:
    log = new_log(tmp_path / "log")
    days = Path(__file__).parent / "fixtures" / "import-day-folder" / "days"
    imported = logbuild("import", str(days), cwd=log)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.splitlines()[-1] == "kept 16 of 16 lines"
    assert (log / "entries" / "merge.png").read_bytes() == (days / "merge.png").read_bytes()
    built = logbuild("build", "--today", "2020-01-14", cwd=log)
    assert built.returncode == 0 and "0 warning(s)" in built.stdout and not built.stderr, built.stdout + built.stderr
    first = (log / "site" / "entries" / "2020-01-10" / "index.html").read_text("utf-8")
    second = (log / "site" / "entries" / "2020-01-11" / "index.html").read_text("utf-8")
    assert 'src="../merge.png"' in first and (log / "site" / "entries" / "merge.png").is_file()
    assert 'href="../../entries/2020-01-10/">the day before</a>' in second
    assert "One file a day while I study sorting." in (log / "site" / "about" / "index.html").read_text("utf-8")


def test_import_after_init_puts_the_intro_in_place_of_the_untouched_about_page(tmp_path: Path) -> None:
    assert logbuild("init", str(tmp_path / "log"), cwd=tmp_path).returncode == 0
    (tmp_path / "README.md").write_text("# Log\n\nWhy I keep this log.\n\n## 2024/3/1\nA day.\n")
    first = logbuild("import", str(tmp_path / "README.md"), cwd=tmp_path / "log")
    assert first.returncode == 0, first.stderr
    assert "write pages/about.md" in first.stdout.splitlines()
    assert "Why I keep this log." in (tmp_path / "log" / "pages" / "about.md").read_text()
    (tmp_path / "log" / "pages" / "about.md").write_text("# Mine\n\nMy own words.\n")  # now it is the learner's
    for old in (tmp_path / "log" / "entries").glob("2024-03-01*"):
        old.unlink()
    again = logbuild("import", str(tmp_path / "README.md"), cwd=tmp_path / "log")
    assert again.returncode == 0, again.stderr
    assert "write pages/about-imported.md" in again.stdout.splitlines()
    assert (tmp_path / "log" / "pages" / "about.md").read_text() == "# Mine\n\nMy own words.\n"
    assert again.stdout.splitlines()[-1] == "kept 4 of 4 lines"
    assert "# Log\n\nWhy I keep this log." in (tmp_path / "log" / "pages" / "about-imported.md").read_text()
