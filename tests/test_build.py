"""End to end: the fixture log built by the real command, then every page, link, feed and rebuild checked."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import feedparser
import pytest
from conftest import SITE_TODAY, BuiltSite, build_fixture_site, run_logbuild

pytestmark = pytest.mark.xdist_group("site")

PUBLISHED = ["2020-02-27", "2020-02-28", "2020-02-29", "2020-03-01", "2020-03-05", "2020-03-20"]
REPO_URL = "https://user.github.io/repo/"


class _Refs(HTMLParser):
    """Every URL a page points at (href, src) and every id it defines."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.refs.append(value)
            elif name == "id" and value:
                self.ids.add(value)

    handle_startendtag = handle_starttag


def parse_html(path: Path) -> _Refs:
    parser = _Refs()
    parser.feed(path.read_text("utf-8"))
    return parser


def html_pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def page_url(out: Path, file: Path, base: str) -> str:
    rel = file.relative_to(out).as_posix()
    return base + (rel.removesuffix("index.html"))


def target_file(out: Path, url: str, base: str) -> Path | None:
    """The file a resolved URL would be served from, or None when it points outside the site."""
    parts = urlsplit(url)
    site = urlsplit(base)
    if (parts.scheme, parts.netloc) != (site.scheme, site.netloc) or not parts.path.startswith(site.path):
        return None
    rel = unquote(parts.path[len(site.path):])
    return out / (rel + "index.html" if rel.endswith("/") or not rel else rel)


def broken_links(out: Path, base: str) -> list[str]:
    """Internal href/src that do not resolve to a file of the site (or to an id on that page)."""
    problems = []
    ids = {f: parse_html(f).ids for f in html_pages(out)}
    for file in html_pages(out):
        here = page_url(out, file, base)
        for ref in parse_html(file).refs:
            if re.match(r"^[a-z][a-z0-9+.-]*:", ref) and not ref.startswith(base):
                continue  # https://elsewhere, mailto:
            resolved = urljoin(here, ref)
            target = target_file(out, resolved, base)
            where = f"{file.relative_to(out)}: {ref}"
            if target is None:
                problems.append(f"{where} leaves the site")
            elif not target.is_file():
                problems.append(f"{where} -> {target.relative_to(out)} is missing")
            elif "#" in ref and target in ids and urlsplit(resolved).fragment not in ids[target]:
                problems.append(f"{where}: no such id")
    return problems


def test_pages_exist(site: BuiltSite) -> None:
    out = site.out
    expected = [
        "index.html", "page/2/index.html", "404.html", ".nojekyll", "feed.xml", "sitemap.xml",
        "search/index.html", "search.json", "tags/index.html", "archive/index.html",
        "archive/2020/02/index.html", "archive/2020/03/index.html", "figures/index.html",
        "static/style.css", "static/pygments.css", "static/search.js",
        *(f"entries/{day}/index.html" for day in PUBLISHED),
        *(f"tags/{t}/index.html" for t in ("cnn", "pooling", "keras", "data-sets", "splitting", "optimizers",
                                            "normalization", "future")),
    ]
    missing = [p for p in expected if not (out / p).is_file()]
    assert missing == []
    figures = list((out / "figures").rglob("*.png"))
    assert len(figures) == 1 and figures[0].read_bytes().startswith(b"\x89PNG")


def test_json_report(site: BuiltSite) -> None:
    report = site.report
    assert report["entries"] == 6 and report["errors"] == []
    assert report["snippets"] == {"ran": 1, "cached": 0, "failed": 0}
    streak = report["streak"]
    assert (streak["current"], streak["current_start"]) == (1, "2020-03-05")
    assert (streak["best"], streak["best_start"], streak["best_end"]) == (4, "2020-02-27", "2020-03-01")
    assert (streak["total_days"], streak["first_day"], streak["last_day"]) == (6, "2020-02-27", "2020-03-20")
    assert report["pages_written"] == len([p for p in site.out.rglob("*") if p.is_file()])


def test_every_internal_link_resolves(site: BuiltSite) -> None:
    assert len(html_pages(site.out)) >= 20
    assert broken_links(site.out, "https://site.invalid/") == []


def test_day_end_hour_and_title_fallbacks_reach_the_pages(site: BuiltSite) -> None:
    late = (site.out / "entries/2020-03-01/index.html").read_text("utf-8")
    assert "<h1>A late night</h1>" in late and 'datetime="2020-03-01"' in late
    heading = (site.out / "entries/2020-02-28/index.html").read_text("utf-8")
    assert "<h1>Convolutions by hand</h1>" in heading
    leap = (site.out / "entries/2020-02-29/index.html").read_text("utf-8")
    assert '<h1><time datetime="2020-02-29">Saturday, 29 February 2020</time></h1>' in leap
    assert leap.count("Saturday, 29 February 2020") == 2  # the h1 and <title>, not a second date line


def test_inline_snippet_sits_where_its_directive_stood(site: BuiltSite) -> None:
    page = (site.out / "entries/2020-02-29/index.html").read_text("utf-8")
    assert page.index("Leap day") < page.index('class="snippet') < page.index("Text after the figure")
    assert "squares: [1, 4, 9, 16]" in page
    assert re.search(r'<img src="../../figures/tiny_plot/[0-9a-f]{16}/[^"]+\.png" width="\d+" height="\d+" alt="[^"]+"',
                     page)


def test_drafts_are_hidden(site: BuiltSite) -> None:
    assert not (site.out / "entries/2020-03-03").exists()
    leaked = [p for p in site.out.rglob("*") if p.is_file() and b"quokka" in p.read_bytes()]
    assert leaked == []
    assert not (site.out / "tags/secret").exists()


def test_future_entry_is_shown_with_a_warning(site: BuiltSite) -> None:
    assert (site.out / "entries/2020-03-20/index.html").is_file()
    assert site.report["warnings"] == [
        ("entries/2020-03-20.md: warning: dated 2020-03-20, after today (2020-03-06); it is shown anyway "
         "(fix the date, or pass --today)"),
    ]
    assert "dated in the future" in (site.out / "entries/2020-03-20/index.html").read_text("utf-8")


def test_search_index(site: BuiltSite) -> None:
    records = json.loads((site.out / "search.json").read_text("utf-8"))
    assert [r["d"] for r in records] == PUBLISHED[::-1]
    pooling = next(r for r in records if r["d"] == "2020-02-27")
    assert pooling["t"] == "Starting with pooling" and pooling["g"] == ["cnn", "pooling"]
    assert "zebrafish" in pooling["x"] and pooling["u"] == "entries/2020-02-27/"


def test_calendar_links_each_logged_day(site: BuiltSite) -> None:
    home = (site.out / "index.html").read_text("utf-8")
    svg = re.search(r"<svg class=\"calendar\".*?</svg>", home, re.DOTALL)
    assert svg is not None
    root = ET.fromstring(svg.group(0))
    hrefs = [a.get("href") for a in root.iter("{http://www.w3.org/2000/svg}a")]
    assert hrefs == [f"entries/{day}/" for day in PUBLISHED]


def test_with_drafts(site_copy: Path) -> None:
    built = build_fixture_site(site_copy, site_copy / "out", "--drafts")
    assert (built.out / "entries/2020-03-03/index.html").is_file()
    assert "quokka" in (built.out / "entries/2020-03-03/index.html").read_text("utf-8")
    assert built.report["entries"] == 7


@pytest.fixture(scope="module")
def repo_site(tmp_path_factory: pytest.TempPathFactory, site: BuiltSite) -> BuiltSite:
    root = tmp_path_factory.mktemp("repo") / "log"
    shutil.copytree(site.root, root, ignore=shutil.ignore_patterns("site", "build"))
    return build_fixture_site(root, root / "public", "--base-url", REPO_URL)


def test_project_site_links_stay_relative(repo_site: BuiltSite) -> None:
    assert broken_links(repo_site.out, REPO_URL) == []
    for file in html_pages(repo_site.out):
        if file.name == "404.html":
            continue  # served at any depth: it links from the site's path, /repo/
        refs = parse_html(file).refs
        absolute = [r for r in refs if r.startswith(("/", REPO_URL))]
        assert absolute == [REPO_URL + page_url(repo_site.out, file, "")], file  # only the canonical link
    not_found = parse_html(repo_site.out / "404.html").refs
    assert "/repo/static/style.css" in not_found and "/repo/archive/" in not_found


def test_feed(repo_site: BuiltSite) -> None:
    feed = feedparser.parse((repo_site.out / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title == "Fixture Log"
    assert [e.title for e in feed.entries][:2] == ["From the future", "Normalisation"]
    assert len(feed.entries) == 6
    for e in feed.entries:
        assert e.link.startswith(REPO_URL + "entries/") and e.id == e.link
    pooling = next(e for e in feed.entries if e.title == "Starting with pooling")
    assert {t.term for t in pooling.tags} == {"cnn", "pooling"}
    assert "zebrafish" in pooling.content[0].value
    assert feed.feed.links[0].href.startswith("https://user.github.io/repo/")


def test_sitemap(repo_site: BuiltSite) -> None:
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    root = ET.parse(repo_site.out / "sitemap.xml").getroot()
    locs = [loc.text or "" for loc in root.findall("s:url/s:loc", ns)]
    assert REPO_URL in locs and REPO_URL + "entries/2020-02-29/" in locs
    assert all(loc.startswith(REPO_URL) for loc in locs)
    for loc in locs:
        assert target_file(repo_site.out, loc, REPO_URL).is_file(), loc  # type: ignore[union-attr]


def inodes(out: Path) -> dict[str, tuple[int, int]]:
    """Inode and mtime of every file: a file written again (replaced or in place) changes one of them."""
    return {p.relative_to(out).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in out.rglob("*") if p.is_file()}


def test_rebuilds_write_only_what_changed(site_copy: Path) -> None:
    out = site_copy / "out"
    first = build_fixture_site(site_copy, out)
    assert first.report["snippets"]["ran"] == 0
    again = build_fixture_site(site_copy, out)
    assert again.report["pages_written"] == 0
    before = inodes(out)

    entry = site_copy / "entries/2020-03-05.md"
    entry.write_text(entry.read_text("utf-8").replace("keeps activations in range", "keeps activations tame"),
                     "utf-8")
    edited = build_fixture_site(site_copy, out)
    after = inodes(out)
    assert set(after) == set(before)
    rewritten = {path for path in after if after[path] != before[path]}
    assert "entries/2020-03-05/index.html" in rewritten and "search.json" in rewritten
    assert edited.report["pages_written"] == len(rewritten)
    unrelated = {f"entries/{day}/index.html" for day in ("2020-02-27", "2020-02-28", "2020-02-29", "2020-03-01")}
    unrelated |= {"tags/cnn/index.html", "archive/2020/02/index.html", "static/style.css", "404.html"}
    unrelated |= {str(p.relative_to(out)) for p in (out / "figures").rglob("*.png")}
    assert not rewritten & unrelated
    assert "keeps activations tame" in (out / "entries/2020-03-05/index.html").read_text("utf-8")


def test_template_override_wins(site_copy: Path) -> None:
    (site_copy / "templates").mkdir()
    (site_copy / "templates" / "404.html").write_text(
        '{% extends "base.html" %}{% block main %}<h1>Lost in the log</h1>{% endblock %}', "utf-8")
    built = build_fixture_site(site_copy, site_copy / "out")
    assert "<h1>Lost in the log</h1>" in (built.out / "404.html").read_text("utf-8")
    assert "<h1>Page not found</h1>" not in (built.out / "404.html").read_text("utf-8")


def test_template_syntax_error_names_file_and_line(site_copy: Path) -> None:
    out = site_copy / "out"
    build_fixture_site(site_copy, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (site_copy / "templates").mkdir()
    (site_copy / "templates" / "tags.html").write_text(
        '{% extends "base.html" %}\n{% block main %}\n<h1>Tags</h1>\n{{ tags | }}\n{% endblock %}\n', "utf-8")
    result = run_logbuild("-C", site_copy, "build", "--out", out, "--today", SITE_TODAY)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert re.search(r"^templates/tags\.html:4: template error: ", result.stderr, re.MULTILINE), result.stderr
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("command", ["build", "check"])
def test_template_runtime_error_names_file_and_line(site_copy: Path, command: str) -> None:
    """`check` renders every page too (writing none): a pull request is checked, not built, and a
    template that would fail the build must fail its check."""
    (site_copy / "templates").mkdir()
    (site_copy / "templates" / "tags.html").write_text(
        '{% extends "base.html" %}\n{% block main %}\n<h1>{{ no_such_value.title }}</h1>\n{% endblock %}\n', "utf-8")
    out = ("--out", site_copy / "out") if command == "build" else ()
    result = run_logbuild("-C", site_copy, command, *out, "--today", SITE_TODAY)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert re.search(r"^templates/tags\.html:3: template error: .*no_such_value", result.stderr, re.MULTILINE), result.stderr
    assert not (site_copy / "out").exists() and not (site_copy / "site").exists()
    (site_copy / "templates" / "tags.html").unlink()
    fixed = run_logbuild("-C", site_copy, "check", "--today", SITE_TODAY)
    assert fixed.returncode == 0, fixed.stderr + fixed.stdout
    assert not (site_copy / "site").exists()  # check writes no site


@pytest.mark.parametrize("builds, where", [(1, "site"), (3, "site"), (3, "site and spare")])
def test_a_page_deleted_by_hand_comes_back_with_the_next_change(tmp_path: Path, builds: int, where: str) -> None:
    """Pages are reused only while their file is really there: in the site, or in the spare folder
    the writer takes an unchanged page from (after a few builds it has them all); deleted from
    both, the build still ends with the page."""
    import datetime as dt

    from site_builder.build import build_site
    from site_builder.builds import BuildOptions
    from site_builder.config import load_config
    from site_builder.incremental import spare_path

    (tmp_path / "entries").mkdir()
    for day in (1, 2, 3):
        (tmp_path / "entries" / f"2024-03-0{day}.md").write_text(f"---\ntitle: Day {day}\n---\nText {day}.\n")
    config, _ = load_config(tmp_path)
    options = BuildOptions(today=dt.date(2024, 3, 3))
    for n in range(builds):
        (tmp_path / "entries" / "2024-03-02.md").write_text(f"---\ntitle: Day 2\n---\nText 2, take {n}.\n")
        build_site(config, options)
    page = Path("entries", "2024-03-01", "index.html")
    lost = [tmp_path / "site" / page]
    if where == "site and spare":
        lost.append(spare_path(config.path("cache_dir"), tmp_path / "site") / page)
    for copy in lost:
        copy.unlink()
    (tmp_path / "entries" / "2024-03-03.md").write_text("---\ntitle: Day 3\n---\nText 3, edited.\n")
    report = build_site(config, options)
    assert not report.diagnostics
    assert "Text 1." in lost[0].read_text()


def test_a_changed_data_file_reruns_its_snippet_even_when_nothing_else_changed(tmp_path: Path) -> None:
    """The no-change shortcut watches the snippets' data= files too: stale output never stays."""
    (tmp_path / "entries").mkdir()
    (tmp_path / "snippets").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "table.csv").write_text("1,2\n", "utf-8")
    (tmp_path / "snippets" / "table.py").write_text(
        "# logbuild: data=data/table.csv\n"
        "import pathlib, os\nprint(pathlib.Path(os.environ['LOG_ROOT'], 'data/table.csv').read_text())\n", "utf-8")
    (tmp_path / "logbuild.toml").write_text(f'[snippet_env]\nLOG_ROOT = "{tmp_path}"\n', "utf-8")
    (tmp_path / "entries" / "2024-03-01.md").write_text("---\nsnippets: [table]\n---\nThe table.\n", "utf-8")
    page = tmp_path / "site" / "entries" / "2024-03-01" / "index.html"
    for content in ("1,2", "3,4", "5,6"):
        (tmp_path / "data" / "table.csv").write_text(content + "\n", "utf-8")
        result = run_logbuild("-C", tmp_path, "build", "--today", "2024-03-01")
        assert result.returncode == 0, result.stderr
        assert content in page.read_text("utf-8")
