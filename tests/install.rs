//! nxr installs like a tool: `cargo install --locked --path . --root <tmp>` gives an `nxr` that names
//! its version and commit, writes its man pages and completions, and sets up the three free agents
//! offline in a clean HOME, with the source tree hidden (a private mount namespace lays an empty
//! tmpfs over it), so the catalog, the skills and the migrations all come from inside the binary.
//! Also: `nxr --version` and `nxr man` of the built binary.

mod common;

use std::path::Path;
use std::process::Command;

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn version_names_the_version_and_the_commit() {
    let out = Command::new(env!("CARGO_BIN_EXE_nxr"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    let shown = String::from_utf8_lossy(&out.stdout);
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(common::root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    assert_eq!(
        shown.trim(),
        format!("nxr {} (commit {head})", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn man_pages_go_to_stdout_or_one_per_command_into_a_directory() {
    let out = Command::new(env!("CARGO_BIN_EXE_nxr"))
        .arg("man")
        .output()
        .unwrap();
    assert!(out.status.success());
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.contains(".TH nxr 1"), "{page}");
    assert!(page.contains("doctor"), "the page lists the commands");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("share/man/man1");
    let out = Command::new(env!("CARGO_BIN_EXE_nxr"))
        .args(["man", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    for name in ["nxr.1", "nxr-doctor.1", "nxr-agents-create.1"] {
        let body = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        assert!(body.contains(".TH "), "{name}: {body}");
    }
    // A directory that cannot be made is named with the fix, non-zero.
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_nxr"))
        .args(["man", "--dir"])
        .arg(file.join("man1"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out).contains("pass a directory you may write to"),
        "{}",
        text(&out)
    );
}

/// Runs `bin ARGS` in a clean HOME, offline, from `cwd`, with the crate root hidden.
fn run_hidden(bin: &Path, home: &Path, args: &[&str]) -> std::process::Output {
    let root = common::root();
    let script = format!(
        "mount -t tmpfs nxr-hidden {root} && test -z \"$(ls -A {root})\" && exec \"$0\" \"$@\"",
        root = shell_quote(&common::path_str(&root))
    );
    Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .arg(bin)
        .args(args)
        .current_dir(home)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", home)
        .env("NXR_OPENROUTER_URL", "http://127.0.0.1:9/api/v1")
        .env("NXR_OLLAMA_URL", "http://127.0.0.1:9")
        .env("NXR_TELEGRAM_API_URL", "http://127.0.0.1:9")
        .env("NO_COLOR", "1")
        .output()
        .expect("unshare (util-linux) runs")
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Builds a release nxr from scratch (32 minutes on the shared 2-core development machine), so it is ignored by
/// default: `cargo test --test install -- --ignored` runs it.
#[test]
#[ignore = "cargo install builds a release nxr, which takes over 5 minutes"]
fn cargo_install_gives_a_working_nxr_offline_in_a_clean_home() {
    let tmp = tempfile::tempdir().unwrap();
    let prefix = tmp.path().join("prefix");
    // Its own target directory (kept between runs, so a second run only rebuilds what changed): the
    // test binaries' directory is locked while cargo test runs.
    let build_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("install-build");
    let out = Command::new(env!("CARGO"))
        .env("CARGO_TARGET_DIR", &build_dir)
        .args(["install", "--locked", "--path"])
        .arg(common::root())
        .arg("--root")
        .arg(&prefix)
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo install: {}", text(&out));
    let bin = prefix.join("bin/nxr");
    assert!(bin.is_file(), "{} installed", bin.display());
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();

    let out = run_hidden(&bin, &home, &["--version"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("(commit "), "{}", text(&out));

    let out = run_hidden(&bin, &home, &["init", "--free"]);
    let said = text(&out);
    assert!(out.status.success(), "init --free: {said}");
    assert!(
        said.contains("embedded"),
        "offline it says it used the embedded catalog: {said}"
    );
    let hermes = home.join(".hermes");
    for profile in ["pm", "engineer"] {
        let skills = hermes.join("profiles").join(profile).join("skills/nxr");
        let count = std::fs::read_dir(&skills)
            .map(|d| {
                d.flatten()
                    .filter(|e| e.path().join("SKILL.md").is_file())
                    .count()
            })
            .unwrap_or(0);
        assert!(count > 0, "{} has the embedded skills", skills.display());
    }
    let out = run_hidden(&bin, &home, &["agents", "list", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let agents: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(agents.as_array().map(Vec::len), Some(3), "{agents}");

    let out = run_hidden(&bin, &home, &["completions", "bash"]);
    assert!(
        out.status.success() && text(&out).contains("_nxr"),
        "{}",
        text(&out)
    );
    let out = run_hidden(&bin, &home, &["man"]);
    assert!(out.status.success() && text(&out).contains(".TH nxr 1"));
}
