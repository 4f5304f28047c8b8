"""PUBLISH: against a real local bare repository. The user's tree, index and branch stay as they were."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from site_builder import __version__
from site_builder.config import load_config
from site_builder.incremental import lock_path
from site_builder.publish import PublishOptions, PublishReport, Uncommitted, publish_site
from site_builder.state import state_path

ENTRY = "---\ndate: 2024-03-0{day}\ntitle: Day {day}\n---\nWhat I learned on day {day}.\n"


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture()
def log(tmp_path: Path) -> Path:
    """A two-entry log in a git repository whose `origin` is a bare repository beside it."""
    git("init", "--quiet", "--bare", "remote.git", cwd=tmp_path)
    root = tmp_path / "log"
    (root / "entries").mkdir(parents=True)
    for day in (1, 2):
        (root / "entries" / f"2024-03-0{day}.md").write_text(ENTRY.format(day=day))
    (root / "logbuild.toml").write_text(
        'title = "Published"\nbase_url = "https://log.example.org/"\ncname = "log.example.org"\n')
    (root / ".gitignore").write_text("site/\n.logbuild/\n")
    git("init", "--quiet", "-b", "main", cwd=root)
    git("config", "user.name", "Learner", cwd=root)
    git("config", "user.email", "learner@example.org", cwd=root)
    git("add", ".", cwd=root)
    git("commit", "--quiet", "-m", "log", cwd=root)
    git("remote", "add", "origin", str(tmp_path / "remote.git"), cwd=root)
    return root


def publish(root: Path, **options: object) -> PublishReport:
    config, problems = load_config(root)
    assert problems == []
    return publish_site(config, PublishOptions(**options))  # type: ignore[arg-type]


def remote_commits(root: Path) -> list[str]:
    remote = root.parent / "remote.git"
    if not git("branch", "--list", "gh-pages", cwd=remote):
        return []
    return git("rev-list", "gh-pages", cwd=remote).split()


def remote_file(root: Path, path: str) -> str:
    return git("show", f"gh-pages:{path}", cwd=root.parent / "remote.git")


def user_side(root: Path) -> tuple[str, str, str]:
    return (git("status", "--porcelain", "--untracked-files=all", cwd=root),
            git("rev-parse", "--abbrev-ref", "HEAD", cwd=root), git("rev-parse", "HEAD", cwd=root))


def test_publish_pushes_the_site_and_leaves_the_working_tree_alone(log: Path) -> None:
    (log / "entries" / "2024-03-02.md").write_text(ENTRY.format(day=2) + "An edit not yet committed.\n")
    (log / "notes.txt").write_text("staged\n")
    git("add", "notes.txt", cwd=log)
    before = user_side(log)

    report = publish(log)

    assert report.outcome == "pushed", [d.format() for d in report.diagnostics]
    assert user_side(log) == before
    assert not (log / "site").exists()
    assert remote_commits(log) == [report.commit]
    names = git("ls-tree", "-r", "--name-only", "gh-pages", cwd=log.parent / "remote.git").split()
    assert {"index.html", ".nojekyll", "CNAME", "entries/2024-03-01/index.html"} <= set(names)
    assert remote_file(log, "CNAME").strip() == "log.example.org"
    assert "https://log.example.org/" in remote_file(log, "index.html")
    assert "An edit not yet committed." in remote_file(log, "entries/2024-03-02/index.html")


def test_publishing_the_same_site_again_makes_no_commit(log: Path) -> None:
    first = publish(log)
    assert first.outcome == "pushed"
    again = publish(log)
    assert again.outcome == "up-to-date"
    assert remote_commits(log) == [first.commit]

    (log / "entries" / "2024-03-03.md").write_text(ENTRY.format(day=3))
    git("add", "entries", cwd=log)
    git("commit", "--quiet", "-m", "day 3", cwd=log)
    third = publish(log, message="Day 3 is out")
    assert third.outcome == "pushed"
    assert remote_commits(log) == [third.commit, first.commit]
    assert git("log", "-1", "--format=%s", "gh-pages", cwd=log.parent / "remote.git") == "Day 3 is out"


def test_dry_run_pushes_nothing(log: Path) -> None:
    before = user_side(log)
    report = publish(log, dry_run=True)
    assert report.outcome == "would-push" and report.files > 5 and report.tree
    assert remote_commits(log) == []
    assert git("branch", "--list", "gh-pages", cwd=log) == ""
    assert user_side(log) == before


def test_base_url_option_beats_the_configuration_and_no_cname_means_no_file(log: Path) -> None:
    (log / "logbuild.toml").write_text('title = "Published"\nbase_url = "https://example.org/log/"\n')
    report = publish(log, base_url="https://learner.github.io/days")
    assert report.outcome == "pushed"
    assert "https://learner.github.io/days/" in remote_file(log, "index.html")
    names = git("ls-tree", "--name-only", "gh-pages", cwd=log.parent / "remote.git").split()
    assert ".nojekyll" in names and "CNAME" not in names


def test_the_users_incremental_build_state_is_kept(log: Path) -> None:
    subprocess.run([sys.executable, "-m", "site_builder.cli", "build"], cwd=log, check=True, capture_output=True)
    folder = state_path(log / ".logbuild").parent
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert before
    assert publish(log).outcome == "pushed"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_failed_snippet_stops_publishing_unless_allowed(log: Path) -> None:
    (log / "snippets").mkdir()
    (log / "snippets" / "broken.py").write_text("print('about to fail')\nraise ValueError('no data')\n")
    (log / "entries" / "2024-03-02.md").write_text(ENTRY.format(day=2) + "\n```{snippet} broken\n```\n")
    refused = publish(log)
    assert refused.outcome == "refused"
    assert any("snippets failed (broken)" in d.message for d in refused.diagnostics)
    assert remote_commits(log) == []
    allowed = publish(log, allow_failures=True)
    assert allowed.outcome == "pushed"
    assert "no data" in remote_file(log, "entries/2024-03-02/index.html")


def test_build_errors_stop_publishing(log: Path) -> None:
    (log / "entries" / "2024-03-04.md").write_text("---\ndate: [not a date\n---\nBroken.\n")
    report = publish(log, allow_failures=True)
    assert report.outcome == "refused"
    assert any(d.path.endswith("2024-03-04.md") for d in report.diagnostics)
    assert remote_commits(log) == []


def test_refuses_without_the_remote_or_outside_git(log: Path, tmp_path: Path) -> None:
    report = publish(log, remote="upstream")
    assert report.outcome == "refused" and "no git remote named 'upstream'" in report.diagnostics[0].message
    plain = tmp_path / "plain"
    (plain / "entries").mkdir(parents=True)
    assert publish(plain).outcome == "refused"


def test_cli_publish_then_nothing_to_push(log: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "site_builder.cli", "publish", *args], cwd=log,
                              capture_output=True, text=True, check=False)

    dry = run("--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would push" in dry.stdout and "origin/gh-pages" in dry.stdout
    first = run()
    assert first.returncode == 0, first.stderr
    assert "pushed" in first.stdout
    second = run()
    assert second.returncode == 0 and "nothing to push" in second.stdout
    assert len(remote_commits(log)) == 1
    wrong = run("--remote", "nowhere")
    assert wrong.returncode == 1 and "not published" in wrong.stderr


def head_message(root: Path) -> str:
    return git("log", "-1", "--format=%B", "gh-pages", cwd=root.parent / "remote.git")


def warnings(report: PublishReport) -> list[str]:
    return [d.format() for d in report.diagnostics if d.severity == "warning"]


def test_a_committed_log_is_published_under_its_commit_alone(log: Path) -> None:
    report = publish(log)
    assert report.outcome == "pushed" and report.uncommitted == () and warnings(report) == []
    head = git("rev-parse", "--short", "HEAD", cwd=log)
    assert head_message(log) == f"Publish the site from {head} (logbuild {__version__})"


def test_uncommitted_files_are_listed_and_the_commit_message_says_so(log: Path) -> None:
    # Nothing is ignored: the cache and output folders are skipped by logbuild itself.
    (log / ".gitignore").write_text("*.bak\n")
    git("commit", "--quiet", "-am", "ignore backups only", cwd=log)
    (log / "entries" / "2024-03-02.md").write_text(ENTRY.format(day=2) + "An edit not yet committed.\n")
    (log / "entries" / "2024-03-03.md").write_text(ENTRY.format(day=3))
    (log / "entries" / "2024-03-01.md.bak").write_text("ignored")
    (log / "site").mkdir()
    (log / "site" / "index.html").write_text("an old build")
    head = git("rev-parse", "--short", "HEAD", cwd=log)

    report = publish(log)

    assert report.outcome == "pushed", [d.format() for d in report.diagnostics]
    assert report.uncommitted == (Uncommitted("entries/2024-03-02.md", "modified"),
                                  Uncommitted("entries/2024-03-03.md", "new"))
    assert warnings(report) == [
        (f"{log}: warning: publishing the working tree, which has 2 uncommitted changes since {head}"
         " (commit them to publish exactly a commit)"),
        "entries/2024-03-02.md: warning: not committed (modified); published as it is in the working tree",
        "entries/2024-03-03.md: warning: not committed (new); published as it is in the working tree",
    ]
    assert head_message(log) == (f"Publish the site from {head} with 2 uncommitted changes (logbuild {__version__})"
                                 "\n\n  entries/2024-03-02.md (modified)\n  entries/2024-03-03.md (new)")
    assert "Day 3" in remote_file(log, "index.html")


def test_a_deleted_file_and_a_custom_message(log: Path) -> None:
    (log / "entries" / "2024-03-02.md").unlink()
    report = publish(log, message="Spring cleaning")
    assert report.uncommitted == (Uncommitted("entries/2024-03-02.md", "deleted"),)
    head = git("rev-parse", "--short", "HEAD", cwd=log)
    assert head_message(log) == (f"Spring cleaning\n\nBuilt from {head} with 1 uncommitted change:\n"
                                 "  entries/2024-03-02.md (deleted)")


def test_a_log_in_a_subfolder_lists_only_its_own_files(tmp_path: Path) -> None:
    git("init", "--quiet", "--bare", "remote.git", cwd=tmp_path)
    repo = tmp_path / "repo"
    root = repo / "docs" / "log"
    (root / "entries").mkdir(parents=True)
    (root / "entries" / "2024-03-01.md").write_text(ENTRY.format(day=1))
    git("init", "--quiet", "-b", "main", cwd=repo)
    git("add", ".", cwd=repo)
    git("-c", "user.name=L", "-c", "user.email=l@example.org", "commit", "--quiet", "-m", "log", cwd=repo)
    git("remote", "add", "origin", str(tmp_path / "remote.git"), cwd=repo)
    (repo / "README.md").write_text("outside the log")
    (root / "entries" / "2024-03-01.md").write_text(ENTRY.format(day=1) + "More.\n")
    report = publish(root, dry_run=True)
    assert report.outcome == "would-push"
    assert report.uncommitted == (Uncommitted("entries/2024-03-01.md", "modified"),)


def test_the_refusal_names_the_log(log: Path) -> None:
    (log / "snippets").mkdir()
    (log / "snippets" / "broken.py").write_text("raise ValueError('no data')\n")
    (log / "entries" / "2024-03-02.md").write_text(ENTRY.format(day=2) + "\n```{snippet} broken\n```\n")
    report = publish(log)
    assert report.outcome == "refused"
    refusal = report.diagnostics[-1]
    assert refusal.path == str(log) and "snippets failed (broken)" in refusal.message


def dead_pid() -> int:
    """The id of a process that has ended and been reaped."""
    done = subprocess.Popen(["true"])
    done.wait()
    return done.pid


def test_a_dead_publishs_folder_is_removed_by_the_next(log: Path) -> None:
    work = log / ".logbuild" / "publish"
    dead = work / f"{dead_pid()}-k1ll3d"
    (dead / "site").mkdir(parents=True)
    (dead / "site" / "index.html").write_text("half a site")
    record = lock_path(log / ".logbuild", (dead / "site").resolve())
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text("its lock")
    alive = work / f"{os.getpid()}-running"  # a publish still running in this process
    alive.mkdir()
    stranger = work / "notes"
    stranger.mkdir()

    assert publish(log).outcome == "pushed"

    assert sorted(p.name for p in work.iterdir()) == sorted([alive.name, stranger.name])
    assert not record.exists()


def test_a_killed_publish_leaves_nothing_after_the_next_run(log: Path) -> None:
    (log / "snippets").mkdir()
    started = log.parent / "started"
    (log / "snippets" / "slow.py").write_text(
        f"import os, time\nopen({str(started)!r}, 'w').write(str(os.getpid()))\ntime.sleep(300)\n")
    (log / "entries" / "2024-03-02.md").write_text(ENTRY.format(day=2) + "\n```{snippet} slow\n```\n")
    proc = subprocess.Popen([sys.executable, "-m", "site_builder.cli", "publish"], cwd=log,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120  # a bound on waiting, not a speed check
        while not started.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert started.exists(), "the snippet never started"
        leftovers = list((log / ".logbuild" / "publish").iterdir())
        assert [p.name.split("-")[0] for p in leftovers] == [str(proc.pid)]
        dead_site = leftovers[0].resolve() / "site"
    finally:
        proc.kill()
        proc.wait()
    snippet = int(started.read_text() or 0)
    if snippet:
        try:
            os.killpg(snippet, signal.SIGKILL)  # in case it outlived the publish
        except ProcessLookupError:
            pass
    dead_lock = lock_path(log / ".logbuild", dead_site)
    assert dead_lock.exists()  # the killed build's records are still in the cache
    (log / "entries" / "2024-03-02.md").write_text(ENTRY.format(day=2))
    assert publish(log).outcome == "pushed"
    assert list((log / ".logbuild" / "publish").iterdir()) == []
    tag = dead_lock.name.removeprefix("lock-")
    assert [p.name for p in (log / ".logbuild" / "build").iterdir() if tag in p.name] == []


def test_two_publishes_of_a_log_with_a_snippet_make_one_commit(log: Path) -> None:
    (log / "snippets").mkdir()
    (log / "snippets" / "hello.py").write_text("print('hello from the snippet')\n")
    (log / "entries" / "2024-03-02.md").write_text(ENTRY.format(day=2) + "\n```{snippet} hello\n```\n")
    git("add", ".", cwd=log)
    git("commit", "--quiet", "-m", "a snippet", cwd=log)
    first = publish(log)
    assert first.outcome == "pushed"
    assert first.build is not None and first.build.snippets.ran == 1
    again = publish(log)
    assert again.build is not None and again.build.snippets.cached == 1  # the second one reads the cache
    assert again.outcome == "up-to-date"
    assert remote_commits(log) == [first.commit]


def test_a_cname_githubs_settings_page_committed_is_kept_and_said(log: Path) -> None:
    (log / "logbuild.toml").write_text('title = "Published"\nbase_url = "https://log.example.org/"\n')
    assert publish(log).outcome == "pushed"
    # what GitHub's Pages settings do when a custom domain is typed in: a commit on gh-pages
    clone = log.parent / "pages-clone"
    git("clone", "--quiet", "--branch", "gh-pages", str(log.parent / "remote.git"), str(clone), cwd=log.parent)
    (clone / "CNAME").write_text("log.example.org")
    git("add", "CNAME", cwd=clone)
    git("-c", "user.name=GitHub", "-c", "user.email=gh@example.org", "commit", "--quiet", "-m", "Create CNAME",
        cwd=clone)
    git("push", "--quiet", "origin", "gh-pages", cwd=clone)
    (log / "entries" / "2024-03-03.md").write_text(ENTRY.format(day=3))
    again = publish(log)
    assert again.outcome == "pushed"
    assert remote_file(log, "CNAME").strip() == "log.example.org"  # not dropped by the next publish
    assert any("has a CNAME (log.example.org) that the configuration does not name; it is kept" in d.message
               for d in again.diagnostics)
    (log / "logbuild.toml").write_text('title = "P"\nbase_url = "https://new.example.org/"\ncname = "new.example.org"\n')
    replaced = publish(log)
    assert remote_file(log, "CNAME").strip() == "new.example.org"
    assert any("it is replaced by cname 'new.example.org'" in d.message for d in replaced.diagnostics)


def test_a_cname_that_is_not_base_urls_host_is_a_warning(log: Path) -> None:
    (log / "logbuild.toml").write_text('base_url = "https://me.github.io/log/"\ncname = "log.example.org"\n')
    _, problems = load_config(log)
    assert [p.format() for p in problems] == [(
        "logbuild.toml:2: warning: cname 'log.example.org' is not the host of base_url 'https://me.github.io/log/'; "
        'the pages, feed and sitemap link base_url (set base_url = "https://log.example.org/", or drop cname)')]


def test_a_path_base_url_warns_once_that_the_feed_needs_a_full_url(log: Path) -> None:
    (log / "logbuild.toml").write_text('title = "Published"\n')
    built = subprocess.run([sys.executable, "-m", "site_builder.cli", "-C", str(log), "build", "--today",
                            "2024-03-02"], capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stderr
    assert built.stdout.count("feed and sitemap") == 1 and "base_url is '/'" in built.stdout
    full = subprocess.run([sys.executable, "-m", "site_builder.cli", "-C", str(log), "build", "--today",
                           "2024-03-02", "--base-url", "https://me.github.io/log/"], capture_output=True, text=True,
                          check=False)
    assert full.returncode == 0 and "feed and sitemap" not in full.stdout
    report = publish(log, dry_run=True)
    (warning,) = [d for d in report.diagnostics if "base_url" in d.message]
    assert "the pages work at any address" in warning.message  # as the README says of relative links


def test_the_cli_refusal_names_the_log(log: Path) -> None:
    (log / "snippets").mkdir()
    (log / "snippets" / "broken.py").write_text("raise SystemExit(3)\n")
    (log / "entries" / "2024-03-02.md").write_text(ENTRY.format(day=2) + "```{snippet} broken\n```\n")
    done = subprocess.run([sys.executable, "-m", "site_builder.cli", "-C", str(log), "publish"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == f"{log}: not published to origin/gh-pages"
    assert "/publish/" not in done.stderr  # no private build folder in what the user reads
