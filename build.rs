//! Records the commit octoshard is built from, for `octoshard --version`: `OCTOSHARD_BUILD_COMMIT`
//! when the build sets it (the release workflow does), else `git rev-parse HEAD` of the checkout,
//! else `unknown` (a source tarball without git). Only the commit, never a date, so the same
//! commit builds the same binary.

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    (output.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}

fn main() {
    println!("cargo:rerun-if-env-changed=OCTOSHARD_BUILD_COMMIT");
    let commit = std::env::var("OCTOSHARD_BUILD_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| git(&["rev-parse", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_string());
    // Rebuild when the checkout moves to another commit: HEAD, the branch it names, packed refs.
    if let Some(dir) = git(&["rev-parse", "--git-dir"]).map(PathBuf::from) {
        println!("cargo:rerun-if-changed={}", dir.join("HEAD").display());
        println!("cargo:rerun-if-changed={}", dir.join("packed-refs").display());
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            println!("cargo:rerun-if-changed={}", dir.join(branch).display());
        }
    }
    let short: String = commit.chars().take(12).collect();
    println!("cargo:rustc-env=OCTOSHARD_COMMIT={short}");
}
