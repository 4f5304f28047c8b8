"""confine.walk_confined on real folders with real symbolic links: what is inside the log is read
as its target, what leaves it, dangles or loops is one clear problem, and nothing of it is returned."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import run_logbuild

from site_builder.confine import walk_confined

ENTRY = "---\ntitle: A day\n---\nSome text.\n"


@pytest.fixture
def log(tmp_path: Path) -> Path:
    root = tmp_path / "log"
    (root / "entries" / "2018").mkdir(parents=True)
    (root / "logbuild.toml").write_text("# the defaults\n", "utf-8")  # what makes the folder a log
    (root / "entries" / "2018" / "2018-09-15.md").write_text(ENTRY, "utf-8")
    (root / "entries" / "2018-09-14.md").write_text(ENTRY, "utf-8")
    (root / "entries" / ".hidden.md").write_text(ENTRY, "utf-8")
    (root / "entries" / ".drafts").mkdir()
    (root / "entries" / ".drafts" / "2018-09-01.md").write_text(ENTRY, "utf-8")
    (tmp_path / "secret.txt").write_text("the key\n", "utf-8")
    return root


def messages(root: Path, folder: str = "entries") -> list[str]:
    return [d.format() for d in walk_confined(root, root / folder)[1]]


def rels(root: Path, folder: str = "entries") -> list[str]:
    return [f.rel for f in walk_confined(root, root / folder)[0]]


def test_plain_folder_sorted_hidden_skipped_one_stat(log: Path) -> None:
    files, problems = walk_confined(log, log / "entries")
    assert problems == []
    assert [f.rel for f in files] == ["2018-09-14.md", "2018/2018-09-15.md"]
    assert [f.shown for f in files] == ["entries/2018-09-14.md", "entries/2018/2018-09-15.md"]
    st = os.stat(log / "entries" / "2018-09-14.md")
    assert files[0].stat == (st.st_ino, st.st_mtime_ns, st.st_size)


def test_keep_filters_names(log: Path) -> None:
    (log / "entries" / "plot.png").write_bytes(b"png")
    files, _ = walk_confined(log, log / "entries", lambda name: not name.endswith(".md"))
    assert [f.rel for f in files] == ["plot.png"]


def test_link_inside_the_log_is_read_as_its_target(log: Path) -> None:
    (log / "notes.md").write_text(ENTRY, "utf-8")
    (log / "entries" / "2018-09-16.md").symlink_to("../notes.md")
    (log / "entries" / "2019").symlink_to("2018", target_is_directory=True)
    files, problems = walk_confined(log, log / "entries")
    assert problems == []
    by_rel = {f.rel: f.path for f in files}
    assert by_rel["2018-09-16.md"] == str((log / "notes.md").resolve())
    assert by_rel["2019/2018-09-15.md"] == str((log / "entries" / "2018" / "2018-09-15.md").resolve())
    assert not any(os.path.islink(p) for p in by_rel.values())


def test_link_out_of_the_log_is_refused(log: Path, tmp_path: Path) -> None:
    (log / "entries" / "x.md").symlink_to(tmp_path / "secret.txt")
    (log / "entries" / "elsewhere").symlink_to(tmp_path, target_is_directory=True)
    assert rels(log) == ["2018-09-14.md", "2018/2018-09-15.md"]
    secret = (tmp_path / "secret.txt").resolve()
    assert messages(log) == [
        (f"entries/elsewhere: a symbolic link that points outside the log (to {tmp_path.resolve()}); it is not "
        "read or published (copy the file into the log, or remove the link)"),
        (f"entries/x.md: a symbolic link that points outside the log (to {secret}); it is not read or "
        "published (copy the file into the log, or remove the link)"),
    ]


def test_link_into_a_hidden_folder_is_refused(log: Path) -> None:
    (log / ".git").mkdir()
    (log / ".git" / "config").write_text("[http] extraheader = AUTHORIZATION: token\n", "utf-8")
    (log / "entries" / "cfg.md").symlink_to("../.git/config")
    assert messages(log) == [("entries/cfg.md: a symbolic link to a hidden file or folder (.git/config); it is "
                             "not read or published (copy the file into the log, or remove the link)")]
    assert "cfg.md" not in rels(log)


def test_dangling_link_is_one_clear_error(log: Path) -> None:
    (log / "entries" / "2018-09-20.md").symlink_to("gone.md")
    assert messages(log) == [("entries/2018-09-20.md: a symbolic link to a missing file (gone.md) "
                             "(restore the file, or remove the link)")]


def test_loop_of_file_links_is_one_error(log: Path) -> None:
    (log / "entries" / "a.md").symlink_to("b.md")
    (log / "entries" / "b.md").symlink_to("a.md")
    assert messages(log) == [("entries/a.md: a loop of symbolic links: entries/a.md -> entries/b.md -> "
                             "entries/a.md (point one of them at a real file, or remove them)")]


@pytest.mark.parametrize("target", [".", "..", "../.."])
def test_link_to_a_folder_above_is_one_error(log: Path, target: str) -> None:
    (log / "entries" / "2018" / "loop").symlink_to(target, target_is_directory=True)
    assert messages(log) == [("entries/2018/loop: a symbolic link to a folder that contains it, a loop; "
                             "it is skipped (remove the link)")]
    assert rels(log) == ["2018-09-14.md", "2018/2018-09-15.md"]


def test_two_folders_linking_each_other_are_one_error(log: Path) -> None:
    (log / "entries" / "a").mkdir()
    (log / "entries" / "b").mkdir()
    (log / "entries" / "a" / "x").symlink_to("../b", target_is_directory=True)
    (log / "entries" / "b" / "y").symlink_to("../a", target_is_directory=True)
    assert messages(log) == [("entries/a/x: symbolic links to folders that make a loop (entries/a/x, "
                             "entries/b/y); they are skipped (remove one of them)")]


def test_configured_folder_may_itself_be_a_link(tmp_path: Path) -> None:
    """Like Hugo's content root: entries/ -> a folder elsewhere. Links inside it may point into
    that folder or into the log; anywhere else is outside."""
    elsewhere = tmp_path / "notes" / "entries"
    (elsewhere / "sub").mkdir(parents=True)
    (elsewhere / "2018-09-20.md").write_text(ENTRY, "utf-8")
    (elsewhere / "sub" / "2018-09-19.md").symlink_to("../2018-09-20.md")
    (tmp_path / "notes" / "private.md").write_text(ENTRY, "utf-8")
    (elsewhere / "2018-09-18.md").symlink_to("../private.md")
    root = tmp_path / "log"
    root.mkdir()
    (root / "entries").symlink_to(elsewhere, target_is_directory=True)
    files, problems = walk_confined(root, root / "entries")
    assert [f.shown for f in files] == ["entries/2018-09-20.md", "entries/sub/2018-09-19.md"]
    assert [d.path for d in problems] == ["entries/2018-09-18.md"]
    assert "points outside the log" in problems[0].message


def test_missing_folder_is_nothing_and_a_dangling_one_is_an_error(tmp_path: Path) -> None:
    assert walk_confined(tmp_path, tmp_path / "static") == ([], [])
    (tmp_path / "static").symlink_to(tmp_path / "gone", target_is_directory=True)
    assert [d.format() for d in walk_confined(tmp_path, tmp_path / "static")[1]] == [
        "static: a symbolic link to a missing folder (fix the link, or the folder's setting in logbuild.toml)"]


def test_build_refuses_an_entry_linked_out_of_the_log(log: Path, tmp_path: Path) -> None:
    """End to end: the link is named, the build fails, and the target's text is nowhere in the site."""
    (log / "entries" / "2018-09-16.md").symlink_to(tmp_path / "secret.txt")
    (log / "entries" / "2018-09-17.md").symlink_to("gone.md")
    (log / "entries" / "loop").symlink_to(".", target_is_directory=True)
    result = run_logbuild("-C", log, "build", "--out", tmp_path / "out", "--today", "2018-09-20")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert ("entries/2018-09-16.md: a symbolic link that points outside the log (to "
            f"{(tmp_path / 'secret.txt').resolve()}); it is not read or published (copy the file into the log, "
            "or remove the link)") in lines
    assert ("entries/2018-09-17.md: a symbolic link to a missing file (gone.md) (restore the file, or remove "
            "the link)") in lines
    assert sum("loop" in line for line in lines) == 1
    assert not (tmp_path / "out").exists()


def test_a_template_linked_out_of_the_log_is_refused(log: Path, tmp_path: Path) -> None:
    """templates/entry.html -> a file outside: its text would be in every entry page."""
    (log / "templates").mkdir()
    (tmp_path / "stolen.html").write_text("THE SECRET {{ site.title }}\n", "utf-8")
    (log / "templates" / "entry.html").symlink_to(tmp_path / "stolen.html")
    result = run_logbuild("-C", log, "build", "--out", tmp_path / "out", "--today", "2018-09-20")
    assert result.returncode == 1
    assert (f"templates/entry.html: a symbolic link that points outside the log (to {(tmp_path / 'stolen.html').resolve()}); "
            "it is not read or published (copy the file into the log, or remove the link)") in result.stderr.splitlines()
    assert not (tmp_path / "out").exists()


def test_a_template_linked_inside_the_log_is_used(log: Path, tmp_path: Path) -> None:
    (log / "templates").mkdir()
    (log / "layouts").mkdir()
    (log / "layouts" / "entry.html").write_text("<p>LINKED {{ site.title }}</p>\n", "utf-8")
    (log / "templates" / "entry.html").symlink_to("../layouts/entry.html")
    result = run_logbuild("-C", log, "build", "--out", tmp_path / "out", "--today", "2018-09-20")
    assert result.returncode == 0, result.stderr
    page = tmp_path / "out" / "entries" / "2018-09-14" / "index.html"
    assert page.read_text("utf-8").startswith("<p>LINKED ")
    assert not page.is_symlink()


def test_static_files_and_images_linked_out_of_the_log_are_refused(log: Path, tmp_path: Path) -> None:
    """A static file or an image beside the entries that leads out of the log is never copied."""
    (log / "static").mkdir()
    (log / "static" / "notes.txt").symlink_to(tmp_path / "secret.txt")
    (log / "entries" / "plot.png").symlink_to(tmp_path / "secret.txt")
    result = run_logbuild("-C", log, "build", "--out", tmp_path / "out", "--today", "2018-09-20")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    for shown in ("static/notes.txt", "entries/plot.png"):
        assert any(line.startswith(f"{shown}: a symbolic link that points outside the log")
                   for line in result.stderr.splitlines()), result.stderr
    assert not (tmp_path / "out").exists()


def test_a_snippet_linked_out_of_the_log_is_neither_run_nor_shown(log: Path, tmp_path: Path) -> None:
    (log / "snippets").mkdir()
    (tmp_path / "steal.py").write_text("print('THE SECRET')\n", "utf-8")
    (log / "snippets" / "steal.py").symlink_to(tmp_path / "steal.py")
    (log / "entries" / "2018-09-16.md").write_text("---\nsnippets: [steal]\n---\nText.\n", "utf-8")
    result = run_logbuild("-C", log, "build", "--out", tmp_path / "out", "--today", "2018-09-20")
    assert result.returncode == 1 and "THE SECRET" not in result.stdout + result.stderr
    assert any(line.startswith("snippets/steal.py: snippet could not run: a symbolic link that points outside")
               for line in result.stderr.splitlines()), result.stderr
    assert not (tmp_path / "out").exists()


def test_folders_that_link_to_each_other_end_the_build_with_one_error_each(log: Path, tmp_path: Path) -> None:
    """The change check walks like the build does: two loops cannot make it walk forever."""
    (log / "entries" / "a").symlink_to(".", target_is_directory=True)
    (log / "entries" / "b").symlink_to(".", target_is_directory=True)
    result = run_logbuild("-C", log, "build", "--out", tmp_path / "out", "--today", "2018-09-20", timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert sum("loop" in line for line in result.stderr.splitlines()) == 2, result.stderr


def test_one_walk_narrowed_finds_what_a_narrower_walk_finds(log: Path, tmp_path: Path) -> None:
    """The freshness check walks entries/ for every file and the build reads its Markdown from
    that walk: narrowed to .md it must be the .md walk, problems and all (of every kind, each
    about a .md name, another name, or a folder)."""
    from site_builder.confine import walk_tree

    entries = log / "entries"
    (entries / "notes.txt").write_text("x\n", "utf-8")
    for name in ("gone.md", "gone.txt"):
        os.symlink(entries / "nothing-here", entries / name)  # dangling
    for name in ("out.md", "out.txt"):
        os.symlink(tmp_path / "secret.txt", entries / name)  # out of the log
    os.symlink(entries / "loop-b.md", entries / "loop-a.md")
    os.symlink(entries / "loop-a.md", entries / "loop-b.md")
    os.symlink(entries, entries / "2018" / "up")  # a folder loop
    os.symlink(tmp_path, entries / "outside")  # a folder out of the log
    for name in ("pipe.md", "pipe.txt"):
        os.mkfifo(entries / name)
    (entries / "cached.pyc").write_bytes(b"")
    is_md = lambda name: name.endswith(".md")
    narrowed = walk_tree(log, entries, lambda name: not name.endswith(".pyc")).only(is_md)
    direct = walk_confined(log, entries, is_md)
    assert narrowed == direct
    assert len(direct[1]) >= 6 and {f.rel for f in direct[0]} == {"2018-09-14.md", "2018/2018-09-15.md"}
    every = walk_confined(log, entries, lambda name: not name.endswith(".pyc"))
    assert len(every[1]) > len(direct[1])  # the other names' problems were there to leave out
