"""PUBLISH (an edge): build the working tree with the production base_url into a private folder
under the cache, then commit it to the Pages branch with ghp-import and push it.

The user's working tree, index and current branch are never touched: the site is built into
`.logbuild/publish/<pid>-<random>/` (a killed publish's folder is removed by the next one), its git
tree is computed with a throwaway index there, and ghp-import writes the branch with
`git fast-import`. When the published tree already equals the new site, nothing is committed.
What is built is the working tree, as MkDocs and Quarto do; when it differs from HEAD, each
uncommitted file is a warning and the commit message says how many there were.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from . import __version__
from .build import BuildOptions, build_site
from .builds import BuildReport
from .config import CONFIG_FILE, SiteConfig, url_host
from .errors import Diagnostic, errors_in
from .incremental import forget_output
from .linked import Progress
from .streaks import today_in

log = logging.getLogger(__name__)

Outcome = Literal["pushed", "up-to-date", "would-push", "refused"]
WORK_DIR = "publish"  # under the cache: one `<pid>-<random>` folder per running publish
SHOWN_CHANGES = 20  # uncommitted files listed one by one; the rest are counted


@dataclass(frozen=True)
class PublishOptions:
    remote: str = "origin"
    branch: str = "gh-pages"
    message: str | None = None
    dry_run: bool = False
    allow_failures: bool = False  # publish even when snippets failed (build errors always stop it)
    base_url: str | None = None


@dataclass(frozen=True)
class Uncommitted:
    path: str  # relative to the log, POSIX
    kind: str  # "modified", "new", "deleted", "added" or "renamed"


@dataclass(frozen=True)
class PublishReport:
    outcome: Outcome
    diagnostics: tuple[Diagnostic, ...] = ()
    build: BuildReport | None = None
    files: int = 0
    tree: str = ""  # the git tree of the new site
    commit: str = ""  # the branch's commit on the remote afterwards ("" when it has none)
    uncommitted: tuple[Uncommitted, ...] = ()  # where the working tree that was built is not HEAD


class GitError(Exception):
    pass


@dataclass(frozen=True)
class Repo:
    """The git repository holding the log; every command runs with an explicit work tree."""

    top: Path
    git_dir: Path

    def git(self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            check: bool = True, strip: bool = True) -> str:
        done = subprocess.run(["git", *args], cwd=cwd or self.top, env=env, capture_output=True, text=True,
                              errors="surrogateescape", check=False)
        if check and done.returncode != 0:
            raise GitError(f"git {' '.join(args)}: {(done.stderr or done.stdout).strip()}")
        if done.returncode != 0:
            return ""
        return done.stdout.strip() if strip else done.stdout


def find_repo(root: Path) -> Repo:
    probe = Repo(root, root)
    top = probe.git("rev-parse", "--show-toplevel", cwd=root)
    return Repo(Path(top), Path(probe.git("rev-parse", "--absolute-git-dir", cwd=root)))


def publish_site(config: SiteConfig, options: PublishOptions = PublishOptions(),
                 progress: Progress | None = None) -> PublishReport:
    """Build, compare with what the remote branch holds, and commit and push only what changed."""
    where = log_name(config)
    try:
        repo = find_repo(config.root)
        problems = _preflight(repo, options, where)
        changes = uncommitted_files(repo, config)
    except GitError as exc:
        return _refused(Diagnostic(where, None, f"not a git repository we can publish from: {exc}"))
    if problems:
        return PublishReport("refused", tuple(problems))
    cache_dir = config.path("cache_dir")
    with publish_folder(cache_dir) as work:
        site = work / "site"
        build_options = BuildOptions(out=site, base_url=options.base_url, today=publish_today(config, repo))
        try:
            report = build_site(config, build_options, progress)
        finally:
            forget_output(cache_dir, site)
        diagnostics = (uncommitted_warnings(repo, where, changes) + list(report.diagnostics)
                       + _base_url_warning(config, options))
        refusal = _refusal(report, options, where)
        if refusal is not None:
            return PublishReport("refused", tuple(diagnostics + [refusal]), report, uncommitted=changes)
        try:
            return _commit_and_push(repo, work, config, options, report, diagnostics, changes)
        except GitError as exc:
            diagnostics.append(Diagnostic(where, None, str(exc)))
            return PublishReport("refused", tuple(diagnostics), report, uncommitted=changes)


def log_name(config: SiteConfig) -> str:
    """How messages about the whole log name it: its folder."""
    return str(config.root)


def publish_today(config: SiteConfig, repo: Repo) -> dt.date:
    """SOURCE_DATE_EPOCH, else the commit time of HEAD: the same commit always gives the same site."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH") or repo.git("log", "-1", "--format=%ct", check=False)
    moment = dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc) if epoch else dt.datetime.now(dt.timezone.utc)
    return today_in(moment, config.timezone, config.day_ends_at)


def _preflight(repo: Repo, options: PublishOptions, where: str) -> list[Diagnostic]:
    problems = []
    if repo.git("remote", "get-url", options.remote, check=False) == "":
        problems.append(Diagnostic(where, None, f"no git remote named '{options.remote}'",
                                   hint="add one with 'git remote add', or pass --remote"))
    if repo.git("symbolic-ref", "--quiet", "--short", "HEAD", check=False) == options.branch:
        problems.append(Diagnostic(where, None, f"'{options.branch}' is the branch checked out here",
                                   hint="publish from your log's branch"))
    return problems


# -- what is published: the working tree, and how it differs from HEAD --------------------------
def uncommitted_files(repo: Repo, config: SiteConfig) -> tuple[Uncommitted, ...]:
    """Files under the log (relative to it, POSIX) that are modified, added, deleted or untracked.

    Ignored files, the cache and the output folder are not the log's content. `--no-optional-locks`:
    asking must not rewrite the user's index."""
    root = config.root.resolve()
    skip = [config.path("cache_dir").resolve(), config.path("output_dir").resolve()]
    out = repo.git("--no-optional-locks", "status", "--porcelain", "-z", "--untracked-files=all", "--", ".",
                   cwd=root, strip=False)
    found = []
    for status, name in porcelain_entries(out):
        path = Path(repo.top, name)
        if not any(path == s or s in path.parents for s in skip):
            found.append(Uncommitted(path.relative_to(root).as_posix(), _kind(status)))
    return tuple(sorted(found, key=lambda u: u.path))


def porcelain_entries(out: str) -> list[tuple[str, str]]:
    """(XY, path) from `git status --porcelain -z`, paths relative to the repository. A rename's
    entry is `XY new NUL old NUL`: the old name is not in the working tree any more."""
    fields = out.split("\0")
    entries, i = [], 0
    while i < len(fields):
        entry = fields[i]
        i += 1
        if len(entry) > 3:
            entries.append((entry[:2], entry[3:]))
            if entry[0] in "RC":
                i += 1
    return entries


def _kind(status: str) -> str:
    for code, kind in (("?", "new"), ("D", "deleted"), ("R", "renamed"), ("A", "added")):
        if code in status:
            return kind
    return "modified"


def uncommitted_warnings(repo: Repo, where: str, changes: tuple[Uncommitted, ...]) -> list[Diagnostic]:
    """One warning for the whole log, then one per file (the first SHOWN_CHANGES)."""
    if not changes:
        return []
    head = repo.git("rev-parse", "--short", "HEAD", check=False) or "an unborn branch"
    summary = Diagnostic(where, None, f"publishing the working tree, which has {_changes(len(changes))} "
                         f"since {head}", "warning", hint="commit them to publish exactly a commit")
    listed = [Diagnostic(c.path, None, f"not committed ({c.kind}); published as it is in the working tree",
                         "warning") for c in changes[:SHOWN_CHANGES]]
    more = len(changes) - SHOWN_CHANGES
    rest = [Diagnostic(where, None, f"and {more} more uncommitted file(s)", "warning")] if more > 0 else []
    return [summary, *listed, *rest]


def _changes(n: int) -> str:
    return f"{n} uncommitted change{'' if n == 1 else 's'}"


def commit_message(repo: Repo, options: PublishOptions, changes: tuple[Uncommitted, ...]) -> str:
    """Names the commit the site comes from, and says when the working tree was not that commit."""
    head = repo.git("rev-parse", "--short", "HEAD", check=False) or "an unborn branch"
    source = f"{head} with {_changes(len(changes))}" if changes else head
    if options.message is None:
        subject = f"Publish the site from {source} (logbuild {__version__})"
        return subject + ("\n\n" + _file_list(changes) if changes else "")
    return options.message + (f"\n\nBuilt from {source}:\n" + _file_list(changes) if changes else "")


def _file_list(changes: tuple[Uncommitted, ...]) -> str:
    shown = [f"  {c.path} ({c.kind})" for c in changes[:SHOWN_CHANGES]]
    more = len(changes) - SHOWN_CHANGES
    return "\n".join(shown + ([f"  and {more} more"] if more > 0 else []))


# -- where it is built: a folder of its own under the cache -------------------------------------
@contextlib.contextmanager
def publish_folder(cache_dir: Path) -> Iterator[Path]:
    """`<cache>/publish/<pid>-<random>/`, removed afterwards; first, the folders of publishes that
    died (their process is gone) are removed, with their build's records in the cache."""
    parent = cache_dir / WORK_DIR
    parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(cache_dir)
    work = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=parent)).resolve()
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def remove_leftovers(cache_dir: Path) -> list[Path]:
    """Remove (and return) the publish folders whose owner process is gone."""
    parent = cache_dir / WORK_DIR
    gone = [p for p in sorted(parent.iterdir()) if _owner_gone(p.name)] if parent.is_dir() else []
    for folder in gone:
        forget_output(cache_dir, folder.resolve() / "site")
        shutil.rmtree(folder, ignore_errors=True)
    return gone


def _owner_gone(name: str) -> bool:
    pid, dash, _ = name.partition("-")
    if not (dash and pid.isdigit()):
        return False  # not one of ours: leave it
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    return False


def _refused(diagnostic: Diagnostic) -> PublishReport:
    return PublishReport("refused", (diagnostic,))


def _refusal(report: BuildReport, options: PublishOptions, where: str) -> Diagnostic | None:
    if errors_in(report.diagnostics):
        return Diagnostic(where, None, "the build has errors, so nothing was published")
    failed = sorted(r.name for r in report.snippet_results if r.status != "ok")
    if failed and not options.allow_failures:
        return Diagnostic(where, None, f"snippets failed ({', '.join(failed)}), so nothing was "
                          "published", hint="fix them, or pass --allow-failures to publish their tracebacks")
    return None


def _base_url_warning(config: SiteConfig, options: PublishOptions) -> list[Diagnostic]:
    """The pages link each other relatively and work at any address (README); the feed and the
    sitemap need the site's full URL, which a path such as "/" is not."""
    base_url = options.base_url or config.base_url
    if url_host(base_url):
        return []
    example = f"https://{config.cname}/" if config.cname else "https://you.github.io/log/"
    return [Diagnostic(config.source or "configuration", None,
                       f"base_url is '{base_url}': the pages work at any address, but the feed and sitemap "
                       "need the site's full URL", "warning", hint=f"set base_url, or pass --base-url {example}")]


def published_cname(repo: Repo, published: str | None) -> str:
    """The CNAME the Pages branch holds (GitHub's settings page commits one there), or ""."""
    if not published:
        return ""
    text = repo.git("show", f"{published}:CNAME", check=False).strip()
    return text if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]{0,252}", text) else ""  # a host name, nothing else


def _add_pages_files(site: Path, cname: str) -> None:
    """`.nojekyll` and CNAME exactly as ghp-import writes them, so the tree compared is the one committed."""
    (site / ".nojekyll").write_bytes(b"")
    if cname:
        (site / "CNAME").write_text(cname, encoding="utf-8")
    elif (site / "CNAME").exists():
        (site / "CNAME").unlink()


def _commit_and_push(repo: Repo, work: Path, config: SiteConfig, options: PublishOptions,
                     report: BuildReport, diagnostics: list[Diagnostic], changes: tuple[Uncommitted, ...]
                     ) -> PublishReport:
    site = work / "site"
    published = fetch_branch(repo, options.remote, options.branch)
    kept = published_cname(repo, published)
    cname = config.cname or kept
    if kept and kept != config.cname:
        fate = f"replaced by cname '{config.cname}'" if config.cname else "kept"
        diagnostics.append(Diagnostic(config.source or CONFIG_FILE, None, f"{options.branch} has a CNAME ({kept}) "
                                      f"that the configuration does not name; it is {fate}", "warning",
                                      hint=f'set cname = "{cname}" to say so'))
    _add_pages_files(site, cname)
    tree = site_tree(repo, site, work / "index")
    files = sum(1 for p in site.rglob("*") if p.is_file())

    def outcome(kind: Outcome, commit: str) -> PublishReport:
        return PublishReport(kind, tuple(diagnostics), report, files, tree, commit, changes)

    if published and repo.git("rev-parse", f"{published}^{{tree}}") == tree:
        return outcome("up-to-date", published)
    if options.dry_run:
        return outcome("would-push", published or "")
    local = repo.git("rev-parse", "--verify", "--quiet", f"refs/heads/{options.branch}^{{tree}}", check=False)
    if published or local != tree:  # otherwise the local branch already holds this site: push it as is
        _ghp_import(repo, site, cname, options, commit_message(repo, options, changes))
        if repo.git("rev-parse", f"refs/heads/{options.branch}^{{tree}}") != tree:
            raise GitError(f"ghp-import did not commit the site to '{options.branch}'")
    repo.git("push", "--quiet", options.remote, f"refs/heads/{options.branch}:refs/heads/{options.branch}")
    return outcome("pushed", repo.git("rev-parse", f"refs/heads/{options.branch}"))


def site_tree(repo: Repo, site: Path, index: Path) -> str:
    """The git tree id of `site`, through a throwaway index file (the user's index is not used)."""
    env = {**os.environ, "GIT_INDEX_FILE": str(index)}
    base = ["--git-dir", str(repo.git_dir), "--work-tree", str(site),
            "-c", "core.autocrlf=false", "-c", "core.fileMode=true"]
    repo.git(*base, "add", "--all", "--force", ".", cwd=site, env=env)
    return repo.git(*base, "write-tree", cwd=site, env=env)


def fetch_branch(repo: Repo, remote: str, branch: str) -> str | None:
    """The commit the remote's branch points at (fetched into its remote-tracking ref), or None."""
    tracking = f"refs/remotes/{remote}/{branch}"
    heads = repo.git("ls-remote", "--heads", remote, f"refs/heads/{branch}")
    if not heads:
        # ghp-import starts from a remote-tracking ref when there is one: drop a stale one.
        repo.git("update-ref", "-d", tracking, check=False)
        return None
    repo.git("fetch", "--quiet", "--no-tags", remote, f"+refs/heads/{branch}:{tracking}")
    return heads.split()[0]


def _ghp_import(repo: Repo, site: Path, cname: str, options: PublishOptions, message: str) -> None:
    args = [sys.executable, "-m", "ghp_import", str(site), "--no-jekyll", "--message", message,
            "--remote", options.remote, "--branch", options.branch]
    if cname:
        args += ["--cname", cname]
    env = dict(os.environ)
    if not (env.get("GIT_COMMITTER_NAME") or repo.git("config", "user.name", check=False)):
        env["GIT_COMMITTER_NAME"] = "logbuild"
    if not (env.get("GIT_COMMITTER_EMAIL") or repo.git("config", "user.email", check=False)):
        env["GIT_COMMITTER_EMAIL"] = "logbuild@localhost"
    done = subprocess.run(args, cwd=repo.top, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0 or "Failed to process commit" in done.stdout:
        raise GitError(f"ghp-import failed: {(done.stderr or done.stdout).strip()}")
