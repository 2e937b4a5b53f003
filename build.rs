//! Names the git commit nxr was built from in `NXR_GIT_COMMIT` (`nxr --version` shows it), or
//! "unknown" when the source is not a git checkout (a crate downloaded from a registry) or git is
//! missing.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]);
    // Build again when HEAD moves: HEAD itself, the branch it names, and the packed refs.
    for rel in ["HEAD", "packed-refs"] {
        if let Some(p) = git(&["rev-parse", "--git-path", rel]) {
            println!("cargo:rerun-if-changed={p}");
        }
    }
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"])
        && let Some(p) = git(&["rev-parse", "--git-path", &branch])
    {
        println!("cargo:rerun-if-changed={p}");
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!(
        "cargo:rustc-env=NXR_GIT_COMMIT={}",
        commit.as_deref().unwrap_or("unknown")
    );
}
