"""The first week of a new user, each rough edge of issue 11 as the real command line meets it:
where the log is, an empty log, unlinked snippets, `why`, `clean`, `check --shard`, the theme and
use_directory_urls."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import run_logbuild
from hypothesis import given
from hypothesis import strategies as st

from site_builder.shards import parse_shard, rounded, shard_names, split

ENTRY = "---\ndate: {day}\ntitle: Day {day}\n---\n{body}\n"
PRINT = "print('{name} ran')\n"


def make_log(root: Path, bodies: dict[str, str] | None = None, snippets: tuple[str, ...] = ()) -> Path:
    (root / "entries").mkdir(parents=True)
    (root / "logbuild.toml").write_text('title = "Week one"\n', "utf-8")
    for day, body in (bodies or {"2024-01-01": "A first day."}).items():
        (root / "entries" / f"{day}.md").write_text(ENTRY.format(day=day, body=body), "utf-8")
    if snippets:
        (root / "snippets").mkdir()
    for name in snippets:
        (root / "snippets" / f"{name}.py").write_text(PRINT.format(name=name), "utf-8")
    return root


# -- where the log is ----------------------------------------------------------------------------
def test_a_folder_that_does_not_exist_is_refused_and_not_created(tmp_path: Path) -> None:
    result = run_logbuild("-C", tmp_path / "no" / "such", "build")
    assert result.returncode == 1
    assert f"{tmp_path / 'no' / 'such'}: no such folder" in result.stderr
    assert not (tmp_path / "no").exists()


def test_a_folder_with_no_log_around_it_is_refused(tmp_path: Path) -> None:
    (tmp_path / "entries").mkdir()
    for command in (["build"], ["check"], ["streak"], ["serve", "--no-open"], ["clean"]):
        result = run_logbuild(*command, cwd=tmp_path / "entries")
        assert result.returncode == 1, command
        assert "not inside a log" in result.stderr and "logbuild init" in result.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["entries"]  # nothing written anywhere


def test_started_inside_the_log_it_works_on_the_whole_log(tmp_path: Path) -> None:
    root = make_log(tmp_path / "log")
    result = run_logbuild("build", "--today", "2024-01-01", cwd=root / "entries")
    assert result.returncode == 0, result.stderr
    assert (root / "site" / "entries" / "2024-01-01" / "index.html").is_file()
    assert sorted(p.name for p in (root / "entries").iterdir()) == ["2024-01-01.md"]  # no site/, no .logbuild/


def test_a_pyproject_with_a_logbuild_table_marks_the_log_and_one_without_does_not(tmp_path: Path) -> None:
    root = make_log(tmp_path / "log")
    (root / "logbuild.toml").unlink()
    (root / "pyproject.toml").write_text('[tool.logbuild]\ntitle = "From pyproject"\n', "utf-8")
    (root / "entries" / "inner").mkdir()
    (root / "entries" / "inner" / "pyproject.toml").write_text('[project]\nname = "x"\n', "utf-8")
    result = run_logbuild("build", "--today", "2024-01-01", cwd=root / "entries" / "inner")
    assert result.returncode == 0, result.stderr
    assert "From pyproject" in (root / "site" / "index.html").read_text("utf-8")


# -- an empty log says so ------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["build", "check"])
def test_an_empty_log_says_it_has_no_entries(tmp_path: Path, command: str) -> None:
    root = tmp_path / "log"
    root.mkdir()
    (root / "logbuild.toml").write_text("", "utf-8")
    missing = run_logbuild("-C", root, command)
    assert missing.returncode == 0, missing.stderr
    assert "The log has no entries: there is no entries/ folder yet" in missing.stdout
    (root / "entries").mkdir()
    empty = run_logbuild("-C", root, command)
    assert "The log has no entries yet: entries/ holds no dated .md file" in empty.stdout
    (root / "entries" / "2024-01-01.md").write_text("---\ndraft: true\n---\nNot yet.\n", "utf-8")
    drafts = run_logbuild("-C", root, command, "--today", "2024-01-01")
    assert "those in entries/ are drafts" in drafts.stdout


# -- snippets nothing links ----------------------------------------------------------------------
def test_build_warns_about_a_snippet_no_entry_links_but_not_about_a_helper(tmp_path: Path) -> None:
    root = make_log(tmp_path / "log", {"2024-01-01": "```{snippet} used\n```"}, ("used", "forgotten", "helper"))
    (root / "snippets" / "used.py").write_text("import helper\nprint(helper.VALUE)\n", "utf-8")
    (root / "snippets" / "helper.py").write_text("VALUE = 3\n", "utf-8")
    result = run_logbuild("-C", root, "build", "--today", "2024-01-01", "--json")
    assert result.returncode == 0, result.stderr
    warnings = json.loads(result.stdout)["warnings"]
    assert warnings == [("snippets/forgotten.py: warning: no entry links this snippet, so builds never run it "
                         "(link it from an entry with a ```{snippet} forgotten``` block)")]


def test_why_says_an_unlinked_snippet_is_not_linked(tmp_path: Path) -> None:
    root = make_log(tmp_path / "log", {"2024-01-01": "```{snippet} used\n```"}, ("used", "forgotten"))
    result = run_logbuild("-C", root, "why", "forgotten")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("forgotten: not linked from any entry or page, so no build runs it")
    assert "would run" not in result.stdout
    assert run_logbuild("-C", root, "why", "used").stdout.startswith("used: would run")
    (root / "entries" / "2024-01-02.md").write_text("---\ndraft: true\n---\n```{snippet} forgotten\n```\n")
    assert "linked only from drafts (entries/2024-01-02.md)" in run_logbuild("-C", root, "why", "forgotten").stdout
    assert run_logbuild("-C", root, "why", "nothere").stderr.strip() == "snippets/nothere.py: no such snippet"


# -- clean ---------------------------------------------------------------------------------------
def test_clean_removes_the_site_and_build_caches_and_the_snippet_cache_only_with_cache(tmp_path: Path) -> None:
    root = make_log(tmp_path / "log", {"2024-01-01": "```{snippet} used\n```"}, ("used",))
    assert run_logbuild("-C", root, "build", "--today", "2024-01-01").returncode == 0
    assert (root / "site").is_dir() and (root / ".logbuild" / "snippets" / "used").is_dir()
    kept = run_logbuild("-C", root, "clean")
    assert kept.returncode == 0, kept.stderr
    assert "removed site" in kept.stdout and "kept .logbuild/snippets" in kept.stdout
    assert not (root / "site").exists()
    assert sorted(p.name for p in (root / ".logbuild").iterdir()) == ["snippets"]
    rebuilt = run_logbuild("-C", root, "build", "--today", "2024-01-01", "--json")
    assert json.loads(rebuilt.stdout)["snippets"] == {"ran": 0, "cached": 1, "failed": 0}  # outputs were kept
    dropped = run_logbuild("-C", root, "clean", "--cache")
    assert dropped.returncode == 0 and not (root / ".logbuild").exists() and not (root / "site").exists()
    assert run_logbuild("-C", root, "clean").stdout.strip() == "nothing to remove"
    assert sorted(p.name for p in root.iterdir()) == ["entries", "logbuild.toml", "snippets"]


def test_clean_never_removes_a_folder_logbuild_did_not_build(tmp_path: Path) -> None:
    root = make_log(tmp_path / "log")
    (root / "site").mkdir()
    (root / "site" / "notes.txt").write_text("mine", "utf-8")
    refused = run_logbuild("-C", root, "clean")
    assert refused.returncode == 1 and "was not built by logbuild" in refused.stderr
    assert (root / "site" / "notes.txt").read_text("utf-8") == "mine"
    (root / "logbuild.toml").write_text('output_dir = "."\n', "utf-8")
    refused = run_logbuild("-C", root, "clean")
    assert refused.returncode == 1 and "holds the log's own files" in refused.stderr
    assert (root / "entries" / "2024-01-01.md").is_file()


# -- check --shard K/N ---------------------------------------------------------------------------
@given(st.sets(st.from_regex(r"[a-z]{1,6}", fullmatch=True), max_size=30),
       st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), st.floats(0, 5000), max_size=30),
       st.integers(1, 6), st.randoms())
def test_shares_cover_every_snippet_once_whatever_the_order(names: set[str], seconds: dict[str, float],
                                                            count: int, random: object) -> None:
    ordered = sorted(names)
    shuffled = list(ordered)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    shares = [shard_names(ordered, seconds, (k, count)) for k in range(1, count + 1)]
    assert sorted(n for share in shares for n in share) == ordered
    assert [sorted(shard_names(shuffled, seconds, (k, count))) for k in range(1, count + 1)] == \
        [sorted(s) for s in shares]
    loads = [sum(rounded(seconds.get(n, 1.0)) for n in share) for share in split(ordered, seconds, count)]
    heaviest = max((rounded(seconds.get(n, 1.0)) for n in ordered), default=0.0)
    assert max(loads, default=0) - min(loads, default=0) <= heaviest  # within one snippet of balanced


def test_split_is_balanced_by_run_time_and_a_small_change_in_time_moves_nothing() -> None:
    seconds = {"train": 600.0, "tune": 500.0, "plot": 3.0, "table": 2.0, "summary": 1.0}
    assert split(seconds, seconds, 2) == [["train"], ["tune", "plot", "table", "summary"]]
    assert split(seconds, seconds, 3) == [["train"], ["tune"], ["plot", "table", "summary"]]
    assert split(seconds, {**seconds, "train": 610.0, "plot": 3.9}, 2) == split(seconds, seconds, 2)


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0"])
def test_a_bad_shard_is_a_usage_error(text: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        parse_shard(text)
    root = make_log(tmp_path / "log")
    result = run_logbuild("-C", root, "check", "--shard", text)
    assert result.returncode == 2 and "--shard" in result.stderr


def test_the_shards_of_a_check_run_every_snippet_exactly_once(tmp_path: Path) -> None:
    """As the workflow's matrix does: each shard on its own copy of the log (the runner's checkout
    and restored cache), then the build job merges every shard's snippet outputs and runs nothing."""
    names = ("alpha", "beta", "gamma", "delta", "epsilon")
    body = "\n".join(f"```{{snippet}} {n}\n```" for n in names)
    root = make_log(tmp_path / "log", {"2024-01-01": body}, names)
    ran: list[str] = []
    for k in (1, 2, 3):
        runner = shutil.copytree(root, tmp_path / f"shard-{k}")
        result = run_logbuild("-C", runner, "check", "--shard", f"{k}/3", "--json", "--today", "2024-01-01")
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["ok"] is True and report["entries"] == 1
        ran += [n for n, r in report["snippets"].items() if not r["from_cache"]]
        shutil.copytree(runner / ".logbuild" / "snippets", root / ".logbuild" / "snippets", dirs_exist_ok=True)
    assert sorted(ran) == sorted(names)  # each shard ran its own share: none twice, none left out
    built = run_logbuild("-C", root, "build", "--today", "2024-01-01", "--json")
    assert json.loads(built.stdout)["snippets"] == {"ran": 0, "cached": 5, "failed": 0}  # the build job runs nothing


# -- the theme -----------------------------------------------------------------------------------
def test_an_untitled_entry_shows_its_date_once_on_its_card(tmp_path: Path) -> None:
    root = make_log(tmp_path / "log", {"2024-01-01": "A first day."})
    (root / "entries" / "2024-01-02.md").write_text("No title, no front matter.\n", "utf-8")
    assert run_logbuild("-C", root, "build", "--today", "2024-01-02").returncode == 0
    home = (root / "site" / "index.html").read_text("utf-8")
    cards = home.split('<li class="card">')[1:]
    untitled = next(c for c in cards if "entries/2024-01-02/" in c)
    assert untitled.count("2 January 2024") == 1  # the title is the date; no second copy under it
    titled = next(c for c in cards if "entries/2024-01-01/" in c)
    assert "Day 2024-01-01" in titled and titled.count("1 January 2024") == 1  # the date under the title


# -- use_directory_urls = false: the site opened from disk ---------------------------------------
def relative_targets(site: Path) -> dict[str, list[str]]:
    """Every relative href/src of every page, as the file it names (fragment and query cut off)."""
    import posixpath
    import re

    found: dict[str, list[str]] = {}
    for page in site.rglob("*.html"):
        rel = page.relative_to(site).as_posix()
        for url in re.findall(r'\s(?:href|src|xlink:href)="([^"]*)"', page.read_text("utf-8")):
            if re.match(r"^[a-z][a-z0-9+.-]*:|^/|^#", url, re.IGNORECASE) or rel == "404.html":
                continue  # another site, or the 404 page (served at any depth, so it links from the root)
            target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), re.split(r"[?#]", url)[0]))
            found.setdefault(rel, []).append(target)
    return found


def test_without_directory_urls_every_link_names_a_file_that_exists(tmp_path: Path) -> None:
    from conftest import copy_fixture

    root = copy_fixture("daily-log", tmp_path / "log")
    with (root / "logbuild.toml").open("a", encoding="utf-8") as config:
        config.write("use_directory_urls = false\n")
    result = run_logbuild("-C", root, "build", "--today", "2020-03-06")
    assert result.returncode == 0, result.stderr
    site = root / "site"
    targets = relative_targets(site)
    assert sum(map(len, targets.values())) > 100  # the test sees the links
    missing = {(page, t) for page, ts in targets.items() for t in ts if not (site / t).is_file()}
    assert missing == set()  # each one a file: a browser opening the site from disk shows the page
    assert 'href="entries/2020-02-29/index.html"' in (site / "index.html").read_text("utf-8")
    records = json.loads((site / "search.json").read_text("utf-8"))
    assert records and all(r["u"].endswith("/index.html") for r in records)


def test_with_directory_urls_links_stay_folders(tmp_path: Path) -> None:
    root = make_log(tmp_path / "log")
    assert run_logbuild("-C", root, "build", "--today", "2024-01-01").returncode == 0
    home = (root / "site" / "index.html").read_text("utf-8")
    assert 'href="entries/2024-01-01/"' in home and "index.html" not in home.replace("404.html", "")


def test_a_build_that_finds_nothing_changed_repeats_the_warnings(tmp_path: Path) -> None:
    root = make_log(tmp_path / "log", {"2024-01-01": "One.", "2024-01-02": "Two."})
    (root / "entries" / "2024-01-02.md").write_text("---\ndate: 2024-01-02\nstreak: 5\n---\nTwo.\n", "utf-8")
    first = run_logbuild("-C", root, "build", "--today", "2024-01-02")
    again = run_logbuild("-C", root, "build", "--today", "2024-01-02")
    line = "entries/2024-01-02.md:3: warning: declares a streak of 5 days; the dates give 2"
    for result in (first, again):
        assert result.returncode == 0 and line in result.stderr and "; 1 warning(s)." in result.stdout
    assert "(0 written)" in again.stdout  # the shortcut answered, and still said it
    strict = run_logbuild("-C", root, "build", "--today", "2024-01-02", "--strict")
    assert strict.returncode == 1 and "warnings are errors under --strict" in strict.stderr


def test_shards_read_the_run_times_a_check_recorded_and_ignore_forged_ones(tmp_path: Path) -> None:
    from site_builder.shards import last_run_seconds

    root = make_log(tmp_path / "log", {"2024-01-01": "```{snippet} alpha\n```\n```{snippet} beta\n```"},
                    ("alpha", "beta"))
    assert run_logbuild("-C", root, "check", "--today", "2024-01-01").returncode == 0
    cache = root / ".logbuild"
    times = last_run_seconds(cache, ["alpha", "beta", "never"])
    assert set(times) == {"alpha", "beta"} and all(0 <= t < 60 for t in times.values())
    (record,) = (cache / "snippets" / "beta").glob("*/result.json")
    data = json.loads(record.read_text("utf-8"))
    record.write_text(json.dumps({**data, "seconds": "a lot"}), "utf-8")  # a restored cache is input
    assert set(last_run_seconds(cache, ["alpha", "beta"])) == {"alpha"}
