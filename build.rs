//! Build facts for `--version`: the target triple and the commit the binary was built from.

use std::process::Command;

fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo:rustc-env=SFREFRESH_TARGET={target}");
    println!("cargo:rerun-if-env-changed=SFREFRESH_COMMIT");
    let commit = std::env::var("SFREFRESH_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| {
            let out = Command::new("git")
                .args(["rev-parse", "--short=12", "HEAD"])
                .output()
                .ok()?;
            let hash = String::from_utf8(out.stdout).ok()?;
            out.status.success().then(|| hash.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=SFREFRESH_COMMIT={commit}");
    // A new commit moves HEAD or the branch it names; `git rev-parse --git-dir` finds
    // the right files in a worktree too, where .git is a file.
    if let Ok(out) = Command::new("git")
        .args(["rev-parse", "--git-dir"])
        .output()
        && out.status.success()
    {
        let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
        println!("cargo:rerun-if-changed={dir}/HEAD");
        println!("cargo:rerun-if-changed={dir}/refs/heads");
    }
}
