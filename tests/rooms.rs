//! The domain's rooms keep their direction: every `crate::domain::…` path in `src/domain` names the
//! file's own room or a room below it (`nxr::domain::ROOMS`, from the ground up), and no `super::`
//! climbs out of a room. So no import circle can run between files of different rooms. The map in
//! docs/architecture.md names every source file, and no function in src is over 100 lines.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its comment lines (doc links may name any room).
fn code(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first segment of every `crate::domain::` path in `code`, groups (`{a, b::c}`) included.
fn domain_roots(code: &str) -> Vec<String> {
    const PREFIX: &str = "crate::domain::";
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(PREFIX) {
        rest = &rest[at + PREFIX.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The group's top-level items, up to its closing brace.
            let (mut depth, mut item, mut end) = (1, String::new(), group.len());
            for (i, ch) in group.char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 || (ch == ',' && depth == 1) {
                    out.push(first_ident(&item));
                    item.clear();
                    if depth == 0 {
                        end = i;
                        break;
                    }
                } else {
                    item.push(ch);
                }
            }
            rest = &group[end..];
        } else {
            out.push(first_ident(rest));
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

fn first_ident(s: &str) -> String {
    s.trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

#[test]
fn a_domain_module_imports_only_its_own_room_and_the_rooms_below() {
    let rooms = nxr::domain::ROOMS;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/domain");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut wrong = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&root).unwrap();
        let parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        if parts.len() == 1 {
            assert_eq!(parts[0], "mod.rs", "a file outside every room: {rel:?}");
            continue;
        }
        let own = rooms
            .iter()
            .position(|r| *r == parts[0])
            .unwrap_or_else(|| panic!("{} is not a room in ROOMS", parts[0]));
        let code = code(file);
        for target in domain_roots(&code) {
            match rooms.iter().position(|r| *r == target) {
                Some(t) if t <= own => {}
                Some(_) => wrong.push(format!(
                    "{} imports the higher room {target}",
                    rel.display()
                )),
                None => wrong.push(format!(
                    "{} names {target}, which is no room",
                    rel.display()
                )),
            }
        }
        // `super::` may climb to the room's own folder, never past it (a test module's
        // `use super::*;` names its own file).
        let depth = parts.len() - 1 - usize::from(parts.last().is_some_and(|f| f == "mod.rs"));
        let climbs = code
            .lines()
            .filter(|l| l.trim() != "use super::*;")
            .map(|l| l.matches("super::").count())
            .max()
            .unwrap_or(0);
        if climbs > depth {
            wrong.push(format!(
                "{} climbs out of its room with super::",
                rel.display()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_checker_sees_grouped_and_inline_paths() {
    let roots = domain_roots(
        "use crate::domain::{agents::{self, Agent}, store::Store};\nlet x = crate::domain::budget::load(s);",
    );
    assert_eq!(roots, ["agents", "store", "budget"]);
}

#[test]
fn every_room_is_a_folder_and_every_source_file_is_on_the_map() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for room in nxr::domain::ROOMS {
        assert!(
            root.join("src/domain").join(room).join("mod.rs").is_file(),
            "room {room} has no folder"
        );
    }
    let map = std::fs::read_to_string(root.join("docs/architecture.md")).unwrap();
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut missing: Vec<String> = files
        .iter()
        .map(|f| f.strip_prefix(root).unwrap().display().to_string())
        .filter(|f| !map.contains(f.as_str()))
        .collect();
    missing.sort();
    assert!(
        missing.is_empty(),
        "docs/architecture.md does not name:\n{}",
        missing.join("\n")
    );
}

/// The length in lines of every `fn` in `text` (from its `fn` line to the `}` at the same indent).
fn fn_lengths(text: &str) -> Vec<(String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let body = line.trim_start();
        let indent = &line[..line.len() - body.len()];
        let rest = [
            "pub ",
            "pub(crate) ",
            "pub(super) ",
            "async ",
            "const ",
            "unsafe ",
        ]
        .iter()
        .fold(body, |b, p| b.strip_prefix(p).unwrap_or(b));
        let rest = rest.strip_prefix("async ").unwrap_or(rest);
        let Some(sig) = rest.strip_prefix("fn ") else {
            continue;
        };
        let close = format!("{indent}}}");
        if let Some(end) = lines[i + 1..].iter().position(|l| *l == close) {
            out.push((first_ident(sig), end + 2));
        }
    }
    out
}

#[test]
fn no_function_in_src_is_over_100_lines() {
    assert_eq!(
        fn_lengths("fn a() {\n    x();\n}\n    pub async fn b(\n        y: u8,\n    ) {\n    }\n"),
        vec![("a".to_string(), 3), ("b".to_string(), 4)]
    );
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let long: Vec<String> = files
        .iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            fn_lengths(&text)
                .into_iter()
                .filter(|(_, n)| *n > 100)
                .map(move |(name, n)| format!("{}: fn {name} is {n} lines", f.display()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(files.len() > 100, "the sources were not found");
    assert!(
        long.is_empty(),
        "split these into named blocks:\n{}",
        long.join("\n")
    );
}
