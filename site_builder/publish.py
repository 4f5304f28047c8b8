"""PUBLISH (an edge): build with the production base_url into a temporary folder, then commit it
to the Pages branch with ghp-import and push it.

The user's working tree, index and current branch are never touched: the site is built outside
the tree, its git tree is computed with a throwaway index, and ghp-import writes the branch with
`git fast-import`. When the published tree already equals the new site, nothing is committed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from . import __version__
from .build import BuildOptions, Progress, build_site
from .config import SiteConfig
from .errors import Diagnostic, errors_in
from .model import BuildReport
from .state import state_path
from .streaks import today_in

log = logging.getLogger(__name__)

Outcome = Literal["pushed", "up-to-date", "would-push", "refused"]


@dataclass(frozen=True)
class PublishOptions:
    remote: str = "origin"
    branch: str = "gh-pages"
    message: str | None = None
    dry_run: bool = False
    allow_failures: bool = False  # publish even when snippets failed (build errors always stop it)
    base_url: str | None = None


@dataclass(frozen=True)
class PublishReport:
    outcome: Outcome
    diagnostics: tuple[Diagnostic, ...] = ()
    build: BuildReport | None = None
    files: int = 0
    tree: str = ""  # the git tree of the new site
    commit: str = ""  # the branch's commit on the remote afterwards ("" when it has none)


class GitError(Exception):
    pass


@dataclass(frozen=True)
class Repo:
    """The git repository holding the log; every command runs with an explicit work tree."""

    top: Path
    git_dir: Path

    def git(self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            check: bool = True) -> str:
        done = subprocess.run(["git", *args], cwd=cwd or self.top, env=env, capture_output=True, text=True,
                              check=False)
        if check and done.returncode != 0:
            raise GitError(f"git {' '.join(args)}: {(done.stderr or done.stdout).strip()}")
        return done.stdout.strip() if done.returncode == 0 else ""


def find_repo(root: Path) -> Repo:
    probe = Repo(root, root)
    top = probe.git("rev-parse", "--show-toplevel", cwd=root)
    return Repo(Path(top), Path(probe.git("rev-parse", "--absolute-git-dir", cwd=root)))


def publish_site(config: SiteConfig, options: PublishOptions = PublishOptions(),
                 progress: Progress | None = None) -> PublishReport:
    """Build, compare with what the remote branch holds, and commit and push only what changed."""
    try:
        repo = find_repo(config.root)
        problems = _preflight(repo, options)
    except GitError as exc:
        return _refused(Diagnostic(str(config.root), None, f"not a git repository we can publish from: {exc}"))
    if problems:
        return PublishReport("refused", tuple(problems))
    with tempfile.TemporaryDirectory(prefix="logbuild-publish-") as tmp:
        site = Path(tmp) / "site"
        build_options = BuildOptions(out=site, base_url=options.base_url, today=publish_today(config, repo))
        with _state_kept(config.path("cache_dir")):
            report = build_site(config, build_options, progress)
        diagnostics = list(report.diagnostics) + _base_url_warning(config, options)
        refusal = _refusal(report, options)
        if refusal is not None:
            return PublishReport("refused", tuple(diagnostics + [refusal]), report)
        _add_pages_files(site, config.cname)
        try:
            return _commit_and_push(repo, site, config, options, report, diagnostics)
        except GitError as exc:
            diagnostics.append(Diagnostic(str(repo.top), None, str(exc)))
            return PublishReport("refused", tuple(diagnostics), report)


def publish_today(config: SiteConfig, repo: Repo) -> dt.date:
    """SOURCE_DATE_EPOCH, else the commit time of HEAD: the same commit always gives the same site."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH") or repo.git("log", "-1", "--format=%ct", check=False)
    moment = dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc) if epoch else dt.datetime.now(dt.timezone.utc)
    return today_in(moment, config.timezone, config.day_ends_at)


def _preflight(repo: Repo, options: PublishOptions) -> list[Diagnostic]:
    problems = []
    if repo.git("remote", "get-url", options.remote, check=False) == "":
        problems.append(Diagnostic(str(repo.top), None, f"no git remote named '{options.remote}'",
                                   hint="add one with 'git remote add', or pass --remote"))
    if repo.git("symbolic-ref", "--quiet", "--short", "HEAD", check=False) == options.branch:
        problems.append(Diagnostic(str(repo.top), None, f"'{options.branch}' is the branch checked out here",
                                   hint="publish from your log's branch"))
    return problems


def _refused(diagnostic: Diagnostic) -> PublishReport:
    return PublishReport("refused", (diagnostic,))


def _refusal(report: BuildReport, options: PublishOptions) -> Diagnostic | None:
    if errors_in(report.diagnostics):
        return Diagnostic(report.output_dir, None, "the build has errors, so nothing was published")
    failed = sorted(r.name for r in report.snippet_results if r.status != "ok")
    if failed and not options.allow_failures:
        return Diagnostic(report.output_dir, None, f"snippets failed ({', '.join(failed)}), so nothing was "
                          "published", hint="fix them, or pass --allow-failures to publish their tracebacks")
    return None


def _base_url_warning(config: SiteConfig, options: PublishOptions) -> list[Diagnostic]:
    if (options.base_url or config.base_url) == "/" and not config.cname:
        return [Diagnostic(config.source or "configuration", None,
                           "base_url is '/': links only work when the site is served from a domain's root",
                           "warning", hint="set base_url, or pass --base-url https://you.github.io/log/")]
    return []


def _add_pages_files(site: Path, cname: str) -> None:
    """`.nojekyll` and CNAME exactly as ghp-import writes them, so the tree compared is the one committed."""
    (site / ".nojekyll").write_bytes(b"")
    if cname:
        (site / "CNAME").write_text(cname, encoding="utf-8")
    elif (site / "CNAME").exists():
        (site / "CNAME").unlink()


def _commit_and_push(repo: Repo, site: Path, config: SiteConfig, options: PublishOptions,
                     report: BuildReport, diagnostics: list[Diagnostic]) -> PublishReport:
    tree = site_tree(repo, site)
    files = sum(1 for p in site.rglob("*") if p.is_file())
    published = fetch_branch(repo, options.remote, options.branch)
    done = PublishReport("up-to-date", tuple(diagnostics), report, files, tree, published or "")
    if published and repo.git("rev-parse", f"{published}^{{tree}}") == tree:
        return done
    if options.dry_run:
        return PublishReport("would-push", tuple(diagnostics), report, files, tree, published or "")
    local = repo.git("rev-parse", "--verify", "--quiet", f"refs/heads/{options.branch}^{{tree}}", check=False)
    if published or local != tree:  # otherwise the local branch already holds this site: push it as is
        _ghp_import(repo, site, config, options)
        if repo.git("rev-parse", f"refs/heads/{options.branch}^{{tree}}") != tree:
            raise GitError(f"ghp-import did not commit the site to '{options.branch}'")
    repo.git("push", "--quiet", options.remote, f"refs/heads/{options.branch}:refs/heads/{options.branch}")
    commit = repo.git("rev-parse", f"refs/heads/{options.branch}")
    return PublishReport("pushed", tuple(diagnostics), report, files, tree, commit)


def site_tree(repo: Repo, site: Path) -> str:
    """The git tree id of `site`, through a throwaway index (the user's index is not used)."""
    with tempfile.TemporaryDirectory(prefix="logbuild-index-") as tmp:
        env = {**os.environ, "GIT_INDEX_FILE": str(Path(tmp) / "index")}
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


def _ghp_import(repo: Repo, site: Path, config: SiteConfig, options: PublishOptions) -> None:
    head = repo.git("rev-parse", "--short", "HEAD", check=False) or "an unborn branch"
    message = options.message or f"Publish the site from {head} (logbuild {__version__})"
    args = [sys.executable, "-m", "ghp_import", str(site), "--no-jekyll", "--message", message,
            "--remote", options.remote, "--branch", options.branch]
    if config.cname:
        args += ["--cname", config.cname]
    env = dict(os.environ)
    if not (env.get("GIT_COMMITTER_NAME") or repo.git("config", "user.name", check=False)):
        env["GIT_COMMITTER_NAME"] = "logbuild"
    if not (env.get("GIT_COMMITTER_EMAIL") or repo.git("config", "user.email", check=False)):
        env["GIT_COMMITTER_EMAIL"] = "logbuild@localhost"
    done = subprocess.run(args, cwd=repo.top, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0 or "Failed to process commit" in done.stdout:
        raise GitError(f"ghp-import failed: {(done.stderr or done.stdout).strip()}")


@contextlib.contextmanager
def _state_kept(cache_dir: Path) -> Iterator[None]:
    """Leave the incremental build state of site/ as it was: a build elsewhere would replace it."""
    folder = state_path(cache_dir).parent  # the build's own records; snippet outputs are shared
    saved = {p.name: p.read_bytes() for p in _files(folder)}
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            for path in _files(folder):
                if path.name not in saved:
                    path.unlink()
            for name, data in saved.items():
                tmp = folder / f".{name}.publish-{os.getpid()}"
                tmp.write_bytes(data)
                os.replace(tmp, folder / name)


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
