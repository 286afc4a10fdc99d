//! Tells the program what it was built as, for `--version`: the target triple
//! (`SFREFRESH_TARGET`) and the source commit (`SFREFRESH_COMMIT`).
//!
//! The commit is `$SFREFRESH_COMMIT` when set and not empty (a packager building from a
//! tarball names it), otherwise the short hash of `HEAD` when this crate is the top of
//! a git work tree (a worktree's `.git` file included), otherwise `unknown`. Nothing
//! here depends on the time or the machine, so two builds of one commit are the same.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=SFREFRESH_COMMIT");
    let target = env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=SFREFRESH_TARGET={target}");
    let commit = match env::var("SFREFRESH_COMMIT") {
        Ok(c) if !c.trim().is_empty() => c.trim().to_string(),
        _ => git_commit().unwrap_or_else(|| "unknown".into()),
    };
    println!("cargo:rustc-env=SFREFRESH_COMMIT={commit}");
}

/// The short hash of HEAD, and rerun-if-changed lines for the files that move when
/// HEAD does; None when git is missing or this directory is not the top of a work tree
/// (an unpacked crate inside someone else's repository must not take its commit).
fn git_commit() -> Option<String> {
    let dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR")?);
    let top = git(&dir, &["rev-parse", "--show-toplevel"])?;
    if !same_dir(Path::new(&top), &dir) {
        return None;
    }
    // HEAD, the branch it points at (a loose ref, in the common dir of a worktree),
    // and packed-refs: a commit, checkout or gc changes one of these.
    let mut watch = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(branch) = git(&dir, &["symbolic-ref", "-q", "HEAD"]) {
        watch.push(branch);
    }
    for name in watch {
        if let Some(path) = git(&dir, &["rev-parse", "--git-path", &name]) {
            let path = dir.join(path);
            // A missing path would make cargo rerun this script on every build.
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    git(&dir, &["rev-parse", "--short=12", "HEAD"])
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (out.status.success() && !text.is_empty()).then(|| text.to_string())
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
