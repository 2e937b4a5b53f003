//! config.yaml: strict reading, lossless edits that keep every key and comment nxr does not own, and
//! the routing slots. A file that does not parse strictly is never written; an edit whose result does
//! not read back exactly is refused.

use super::*;

/// A value nxr writes into config.yaml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigValue {
    Str(String),
    Bool(bool),
    Null,
    /// Delete the key (nothing happens when it is absent).
    Remove,
    /// A list of flat mappings of strings, in order (e.g. `fallback_providers`).
    Entries(Vec<Vec<(String, String)>>),
}

/// An error when `path` is a symlink whose target is missing: such a link is the user's, and writing
/// through it (or replacing it) would lose it.
pub fn check_not_dangling(path: &Path) -> Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if meta.file_type().is_symlink() && std::fs::metadata(path).is_err() {
        let target = std::fs::read_link(path)
            .map(|t| t.display().to_string())
            .unwrap_or_else(|_| "?".into());
        return Err(HermesError::DanglingLink {
            link: path.display().to_string(),
            target,
        });
    }
    Ok(())
}

/// Reads and strictly parses a config file. A missing file is an empty mapping; a symlink to a
/// missing file is an error.
pub(super) fn read_config(config_path: &Path) -> Result<(String, serde_norway::Value)> {
    check_not_dangling(config_path)?;
    let text = match std::fs::read_to_string(config_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(HermesError::io("read", config_path, e)),
    };
    let value = parse_strict(config_path, &text)?;
    Ok((text, value))
}

pub(super) fn parse_strict(config_path: &Path, text: &str) -> Result<serde_norway::Value> {
    let value: serde_norway::Value = if text.trim().is_empty() {
        serde_norway::Value::Null
    } else {
        serde_norway::from_str(text).map_err(|e| {
            let (line, column) = e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((0, 0));
            HermesError::BrokenConfig {
                path: config_path.display().to_string(),
                line,
                column,
                message: e.to_string(),
            }
        })?
    };
    match value {
        serde_norway::Value::Null => Ok(serde_norway::Value::Mapping(Default::default())),
        serde_norway::Value::Mapping(_) => Ok(value),
        _ => Err(HermesError::NotAMapping {
            path: config_path.display().to_string(),
        }),
    }
}

pub(super) fn lookup<'a>(
    root: &'a serde_norway::Value,
    dotted: &str,
) -> Option<&'a serde_norway::Value> {
    let mut cur = root;
    for part in dotted.split('.') {
        cur = cur.as_mapping()?.get(part)?;
    }
    Some(cur)
}

pub(super) fn scalar_string(v: &serde_norway::Value) -> Option<String> {
    use serde_norway::Value as V;
    match v {
        V::Null => None,
        V::Bool(b) => Some(b.to_string()),
        V::Number(n) => Some(n.to_string()),
        V::String(s) => Some(s.clone()),
        other => serde_norway::to_string(other)
            .ok()
            .map(|s| s.trim_end().to_string()),
    }
}

pub(super) fn check_dotted(config_path: &Path, dotted: &str) -> Result<()> {
    let ok = !dotted.is_empty()
        && dotted.split('.').all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        });
    if ok {
        Ok(())
    } else {
        Err(HermesError::Edit {
            path: config_path.display().to_string(),
            key: dotted.to_string(),
            message: "a key path is dot-separated names of letters, digits, `_` and `-`".into(),
        })
    }
}

/// Reads one value by dotted path (`model.default`). `None` when absent or null. Mappings and lists come
/// back as YAML text.
pub fn get_config(config_path: &Path, dotted: &str) -> Result<Option<String>> {
    let (_, value) = read_config(config_path)?;
    Ok(lookup(&value, dotted).and_then(scalar_string))
}

/// Applies `edits` (dotted path → value) to config.yaml in one atomic write, keeping every other key and
/// comment. A missing file is created (mode 0600: it may hold API keys). A broken file is refused with its
/// line; a value with control characters is refused; nothing is written on any error.
pub fn set_config(config_path: &Path, edits: &[(String, ConfigValue)]) -> Result<()> {
    let (text, _) = read_config(config_path)?;
    for (key, value) in edits {
        check_dotted(config_path, key)?;
        let strings: Vec<&str> = match value {
            ConfigValue::Str(s) => vec![s.as_str()],
            ConfigValue::Entries(list) => list
                .iter()
                .flatten()
                .flat_map(|(k, v)| [k.as_str(), v.as_str()])
                .collect(),
            _ => Vec::new(),
        };
        if let Some(s) = strings.iter().find(|s| s.chars().any(|c| c.is_control())) {
            return Err(HermesError::Edit {
                path: config_path.display().to_string(),
                key: key.clone(),
                message: format!("the value {s:?} contains control characters or line breaks"),
            });
        }
    }
    let edit_err = |key: &str, message: String| HermesError::Edit {
        path: config_path.display().to_string(),
        key: key.to_string(),
        message,
    };
    let file = yaml_edit::YamlFile::from_str(&text).map_err(|e| HermesError::BrokenConfig {
        path: config_path.display().to_string(),
        line: 0,
        column: 0,
        message: e.to_string(),
    })?;
    let doc = file.ensure_document();
    for (key, value) in edits {
        if matches!(value, ConfigValue::Remove) {
            match doc.try_remove_path(key) {
                Ok(_) | Err(PathError::NotFound { .. }) => {}
                Err(PathError::TypeMismatch { .. }) => {}
                Err(e) => return Err(edit_err(key, format!("{e:?}"))),
            }
            continue;
        }
        // A scalar where a mapping is needed (`model: some/id`, Hermes' older form) is replaced by a mapping.
        let mut tries = 0;
        loop {
            let r = match value {
                ConfigValue::Str(s) => doc.try_set_path(key, s.as_str()),
                ConfigValue::Bool(b) => doc.try_set_path(key, *b),
                ConfigValue::Null => doc.try_set_path(key, yaml_edit::ScalarValue::null()),
                ConfigValue::Remove => Ok(()),
                ConfigValue::Entries(list) => doc.try_set_path(key, entries_yaml(list)),
            };
            match r {
                Ok(()) => break,
                Err(PathError::TypeMismatch { at }) if tries < 4 && at != *key => {
                    tries += 1;
                    doc.try_remove_path(&at)
                        .map_err(|e| edit_err(key, format!("{e:?}")))?;
                }
                Err(e) => return Err(edit_err(key, format!("{e:?}"))),
            }
        }
    }
    let mut out = file.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    // Read the result back strictly and check every edit landed exactly; otherwise write nothing.
    let check = parse_strict(config_path, &out).map_err(|e| {
        edit_err(
            edits.first().map(|e| e.0.as_str()).unwrap_or(""),
            format!("the edited file would not parse ({e})"),
        )
    })?;
    for (key, value) in edits {
        let got = lookup(&check, key);
        let ok = match value {
            ConfigValue::Str(s) => got.and_then(|v| v.as_str()) == Some(s.as_str()),
            ConfigValue::Bool(b) => got.and_then(|v| v.as_bool()) == Some(*b),
            ConfigValue::Null => got.is_some_and(|v| v.is_null()),
            ConfigValue::Remove => got.is_none(),
            ConfigValue::Entries(list) => got.and_then(|v| v.as_sequence()).is_some_and(|seq| {
                seq.len() == list.len()
                    && seq.iter().zip(list).all(|(item, pairs)| {
                        item.as_mapping().is_some_and(|m| {
                            m.len() == pairs.len()
                                && pairs.iter().all(|(k, v)| {
                                    m.get(k.as_str()).and_then(|x| x.as_str()) == Some(v.as_str())
                                })
                        })
                    })
            }),
        };
        if !ok {
            return Err(edit_err(
                key,
                "the edit did not read back as written".into(),
            ));
        }
    }
    if let Some(dir) = config_path.parent()
        && !dir.as_os_str().is_empty()
    {
        ensure_dir(dir)?;
    }
    write_atomic(config_path, out.as_bytes(), 0o600)
}

/// A list of flat string mappings as a YAML value.
fn entries_yaml(list: &[Vec<(String, String)>]) -> Vec<yaml_edit::YamlValue> {
    list.iter()
        .map(|pairs| {
            let map: std::collections::BTreeMap<String, yaml_edit::YamlValue> = pairs
                .iter()
                .map(|(k, v)| (k.clone(), yaml_edit::YamlValue::from(v.as_str())))
                .collect();
            yaml_edit::YamlValue::from(map)
        })
        .collect()
}

/// The models of the profile's `fallback_providers` list, in order (empty when there is none).
pub fn fallback_models(config_path: &Path) -> Result<Vec<String>> {
    let (_, root) = read_config(config_path)?;
    Ok(lookup(&root, "fallback_providers")
        .and_then(|v| v.as_sequence())
        .map(|seq| {
            seq.iter()
                .filter_map(|e| e.as_mapping()?.get("model")?.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default())
}

/// One routing slot: the main model or an `auxiliary.<name>` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Slot {
    pub name: String,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub base_url: Option<String>,
}

/// The main model (`model.default`, or `model.model`, or a bare `model: id`), the 7 standard auxiliary
/// slots (empty when absent), then every other `auxiliary.<name>` mapping in the file, in file order.
pub fn routing_slots(config_path: &Path) -> Result<Vec<Slot>> {
    let (_, root) = read_config(config_path)?;
    let field = |v: Option<&serde_norway::Value>, f: &str| {
        v.and_then(|m| m.as_mapping())
            .and_then(|m| m.get(f))
            .and_then(scalar_string)
    };
    let model = lookup(&root, "model");
    let main_model = match model {
        Some(serde_norway::Value::String(s)) => Some(s.clone()),
        _ => field(model, "default").or_else(|| field(model, "model")),
    };
    let mut slots = vec![Slot {
        name: MAIN_SLOT.into(),
        provider: field(model, "provider"),
        model: main_model,
        base_url: field(model, "base_url"),
    }];
    let aux = lookup(&root, "auxiliary").and_then(|a| a.as_mapping());
    let slot_of = |name: &str| {
        let v = aux.and_then(|a| a.get(name));
        Slot {
            name: name.to_string(),
            provider: field(v, "provider"),
            model: field(v, "model"),
            base_url: field(v, "base_url"),
        }
    };
    for name in AUX_SLOTS {
        slots.push(slot_of(name));
    }
    if let Some(aux) = aux {
        for (k, v) in aux {
            if let Some(name) = k.as_str()
                && v.is_mapping()
                && !AUX_SLOTS.contains(&name)
            {
                slots.push(slot_of(name));
            }
        }
    }
    Ok(slots)
}

/// Points one slot at a provider/model (`main` = `model.default` + `model.provider`). `base_url: None`
/// removes a stale base URL.
pub fn set_slot(
    config_path: &Path,
    slot_name: &str,
    provider: &str,
    model: &str,
    base_url: Option<&str>,
) -> Result<()> {
    let base = if slot_name == MAIN_SLOT {
        "model".to_string()
    } else {
        check_dotted(config_path, slot_name)?;
        if slot_name.contains('.') {
            return Err(HermesError::Invalid(format!(
                "{slot_name:?} is not a routing slot name; slots are `main` or names under `auxiliary` such as {}",
                AUX_SLOTS.join(", ")
            )));
        }
        format!("auxiliary.{slot_name}")
    };
    let mut edits = Vec::new();
    if slot_name == MAIN_SLOT {
        edits.push(("model.default".to_string(), ConfigValue::Str(model.into())));
        // Keep a `model.model` key (another spelling Hermes accepts) in step when the file has one.
        if get_config(config_path, "model.model")?.is_some() {
            edits.push(("model.model".to_string(), ConfigValue::Str(model.into())));
        }
    } else {
        edits.push((format!("{base}.model"), ConfigValue::Str(model.into())));
    }
    edits.push((
        format!("{base}.provider"),
        ConfigValue::Str(provider.into()),
    ));
    edits.push((
        format!("{base}.base_url"),
        match base_url {
            Some(u) => ConfigValue::Str(u.into()),
            None => ConfigValue::Remove,
        },
    ));
    set_config(config_path, &edits)
}
