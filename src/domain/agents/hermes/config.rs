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

/// The UTF-8 byte order mark some editors put at the start of a file.
const BOM: char = '\u{feff}';

/// Reads and strictly parses a config file. A missing file is an empty mapping; a symlink to a
/// missing file is an error. A UTF-8 byte order mark at the start is accepted (and not part of the
/// text returned; [`set_config`] writes it back).
pub(super) fn read_config(config_path: &Path) -> Result<(String, serde_norway::Value)> {
    let (_, text, value) = read_config_bom(config_path)?;
    Ok((text, value))
}

/// [`read_config`], telling whether the file started with a byte order mark.
fn read_config_bom(config_path: &Path) -> Result<(bool, String, serde_norway::Value)> {
    check_not_dangling(config_path)?;
    let text = match std::fs::read_to_string(config_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(HermesError::io("read", config_path, e)),
    };
    let (bom, text) = match text.strip_prefix(BOM) {
        Some(rest) => (true, rest.to_string()),
        None => (false, text),
    };
    let value = parse_strict(config_path, &text)?;
    Ok((bom, text, value))
}

/// A YAML path error in words: what is in the way and what to do about it.
fn path_error_text(e: &PathError) -> String {
    match e {
        PathError::TypeMismatch { at } => format!(
            "`{at}` is not a mapping, so nxr cannot write a key under it; make `{at}` a mapping of `key: value` lines (or set the value by hand)"
        ),
        PathError::NotFound { at } => format!("`{at}` is not in the file"),
        PathError::AliasRefused { at, alias } => format!(
            "`{at}` is the YAML alias *{alias}, shared with every other place that uses &{alias}; nxr does not edit through an alias, as that would change them all: write `{at}` out in full instead of *{alias}, then try again"
        ),
        PathError::UndefinedAlias { at, alias } => format!(
            "`{at}` refers to the anchor &{alias}, which the file does not define; define it or write the value out"
        ),
        PathError::InvalidMergeOperand { at, .. } => {
            format!("a `<<` merge key under `{at}` is not a mapping; fix or remove that merge key")
        }
        PathError::IndexTooFar { at, len, index } => {
            format!("`{at}` has {len} entries, so entry {index} is out of reach")
        }
        PathError::NoRoot => {
            "the file's top level is not a mapping; Hermes expects `key: value` lines".into()
        }
        other => other.to_string(),
    }
}

/// Whether `set_config` may replace the node at `at` (in the way of a key under it) by a mapping:
/// an empty (null) node, or Hermes' older bare `model: id`, whose meaning nxr keeps by writing
/// `model.default`. Anything else there (a list, a scalar) is the user's and is never replaced.
fn replaceable(current: &serde_norway::Value, at: &str) -> bool {
    match lookup(current, at) {
        None | Some(serde_norway::Value::Null) => true,
        Some(serde_norway::Value::String(_)) => at == "model",
        Some(_) => false,
    }
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
    let out = edited(config_path, edits)?;
    if let Some(dir) = config_path.parent()
        && !dir.as_os_str().is_empty()
    {
        ensure_dir(dir)?;
    }
    write_atomic(config_path, out.as_bytes(), 0o600)
}

/// The error [`set_config`] would give for `edits`, without writing anything (a check made before
/// a change of several files starts).
pub fn check_config_edits(config_path: &Path, edits: &[(String, ConfigValue)]) -> Result<()> {
    edited(config_path, edits).map(|_| ())
}

/// The text config.yaml would have after `edits`, checked to read back exactly.
fn edited(config_path: &Path, edits: &[(String, ConfigValue)]) -> Result<String> {
    let (bom, text, current) = read_config_bom(config_path)?;
    check_edit_values(config_path, edits)?;
    let file = yaml_edit::YamlFile::from_str(&text).map_err(|e| HermesError::BrokenConfig {
        path: config_path.display().to_string(),
        line: 0,
        column: 0,
        message: e.to_string(),
    })?;
    let doc = file.ensure_document();
    for (key, value) in edits {
        apply_edit(config_path, &doc, &current, key, value)?;
    }
    let mut out = file.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    // Read the result back strictly and check every edit landed exactly; otherwise write nothing.
    check_read_back(config_path, &out, edits)?;
    if bom {
        out.insert(0, BOM);
    }
    Ok(out)
}

/// The error for an edit of `key` in `config_path` that cannot be made.
fn edit_error(config_path: &Path, key: &str, message: String) -> HermesError {
    HermesError::Edit {
        path: config_path.display().to_string(),
        key: key.to_string(),
        message,
    }
}

/// Refuses a key that is not a dotted path of names, and a value with control characters or line
/// breaks, before any edit is made.
fn check_edit_values(config_path: &Path, edits: &[(String, ConfigValue)]) -> Result<()> {
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
            return Err(edit_error(
                config_path,
                key,
                format!("the value {s:?} contains control characters or line breaks"),
            ));
        }
    }
    Ok(())
}

/// Applies one edit to the document. A removal of an absent key (or of one under a non-mapping) does
/// nothing. A scalar where a mapping is needed (`model: some/id`, Hermes' older form) is replaced by a
/// mapping when [`replaceable`]; anything else in the way is refused, never replaced.
fn apply_edit(
    config_path: &Path,
    doc: &yaml_edit::Document,
    current: &serde_norway::Value,
    key: &str,
    value: &ConfigValue,
) -> Result<()> {
    if matches!(value, ConfigValue::Remove) {
        return match doc.try_remove_path(key) {
            Ok(_) | Err(PathError::NotFound { .. }) => Ok(()),
            Err(PathError::TypeMismatch { .. }) => Ok(()),
            Err(e) => Err(edit_error(config_path, key, path_error_text(&e))),
        };
    }
    let mut tries = 0;
    loop {
        match set_value(doc, key, value) {
            Ok(()) => return Ok(()),
            Err(PathError::TypeMismatch { at })
                if tries < 4 && at != key && replaceable(current, &at) =>
            {
                tries += 1;
                doc.try_remove_path(&at)
                    .map_err(|e| edit_error(config_path, key, path_error_text(&e)))?;
            }
            Err(PathError::TypeMismatch { at }) => {
                return Err(edit_error(
                    config_path,
                    key,
                    in_the_way_text(current, &at, key),
                ));
            }
            Err(e) => return Err(edit_error(config_path, key, path_error_text(&e))),
        }
    }
}

/// Writes `value` at the dotted path `key` of the document (a removal writes nothing).
fn set_value(
    doc: &yaml_edit::Document,
    key: &str,
    value: &ConfigValue,
) -> std::result::Result<(), PathError> {
    match value {
        ConfigValue::Str(s) => doc.try_set_path(key, s.as_str()),
        ConfigValue::Bool(b) => doc.try_set_path(key, *b),
        ConfigValue::Null => doc.try_set_path(key, yaml_edit::ScalarValue::null()),
        ConfigValue::Remove => Ok(()),
        ConfigValue::Entries(list) => doc.try_set_path(key, entries_yaml(list)),
    }
}

/// Why `key` cannot be written: `at`, above it, is not a mapping in the file and nxr does not
/// replace it.
fn in_the_way_text(current: &serde_norway::Value, at: &str, key: &str) -> String {
    let what = match lookup(current, at) {
        Some(serde_norway::Value::Sequence(_)) => "a list",
        Some(serde_norway::Value::String(_)) => "a text value",
        Some(serde_norway::Value::Number(_)) => "a number",
        Some(serde_norway::Value::Bool(_)) => "true/false",
        _ => "not a mapping",
    };
    format!(
        "`{at}` is {what} in the file, and nxr writes `{key}` only into a mapping: it never replaces what is there; make `{at}` a mapping of `key: value` lines (or set the value by hand)"
    )
}

/// Reads the edited text `out` back strictly and checks that every edit landed exactly.
fn check_read_back(config_path: &Path, out: &str, edits: &[(String, ConfigValue)]) -> Result<()> {
    let check = parse_strict(config_path, out).map_err(|e| {
        let why = match e {
            HermesError::BrokenConfig {
                line,
                column,
                message,
                ..
            } => format!("line {line}, column {column}: {message}"),
            other => other.to_string(),
        };
        edit_error(
            config_path,
            edits.first().map(|e| e.0.as_str()).unwrap_or(""),
            format!("the edited file would not parse ({why})"),
        )
    })?;
    for (key, value) in edits {
        if !reads_back(lookup(&check, key), value) {
            return Err(edit_error(
                config_path,
                key,
                "the edit did not read back as written".into(),
            ));
        }
    }
    Ok(())
}

/// Whether the value found at an edited key (`got`) is exactly what the edit wrote.
fn reads_back(got: Option<&serde_norway::Value>, value: &ConfigValue) -> bool {
    match value {
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
    }
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

/// What a slot write does with the slot's endpoint keys (`base_url`, `api_key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// nxr sets `base_url` (it owns it then); `api_key` is left as it is.
    Set(String),
    /// `base_url` is removed; `api_key` is left as it is.
    RemoveBaseUrl,
    /// Both stay as they are (the user's endpoint for the same provider).
    Keep,
    /// Both are removed (an endpoint nxr had set, or replaced on the user's explicit word).
    Replace,
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
    let endpoint = match base_url {
        Some(u) => Endpoint::Set(u.to_string()),
        None => Endpoint::RemoveBaseUrl,
    };
    set_slot_endpoint(config_path, slot_name, provider, model, &endpoint)
}

/// The dotted prefix of a slot's keys: `model` for the main slot, `auxiliary.<name>` otherwise.
pub fn slot_prefix(config_path: &Path, slot_name: &str) -> Result<String> {
    if slot_name == MAIN_SLOT {
        return Ok("model".to_string());
    }
    check_dotted(config_path, slot_name)?;
    if slot_name.contains('.') {
        return Err(HermesError::Invalid(format!(
            "{slot_name:?} is not a routing slot name; slots are `main` or names under `auxiliary` such as {}",
            AUX_SLOTS.join(", ")
        )));
    }
    Ok(format!("auxiliary.{slot_name}"))
}

/// [`set_slot`] with the endpoint keys handled as `endpoint` says; every other key of the slot
/// (`timeout`, `extra_body`, …) and of the file is kept.
pub fn set_slot_endpoint(
    config_path: &Path,
    slot_name: &str,
    provider: &str,
    model: &str,
    endpoint: &Endpoint,
) -> Result<()> {
    let base = slot_prefix(config_path, slot_name)?;
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
    match endpoint {
        Endpoint::Set(u) => edits.push((format!("{base}.base_url"), ConfigValue::Str(u.clone()))),
        Endpoint::RemoveBaseUrl => edits.push((format!("{base}.base_url"), ConfigValue::Remove)),
        Endpoint::Keep => {}
        Endpoint::Replace => {
            edits.push((format!("{base}.base_url"), ConfigValue::Remove));
            edits.push((format!("{base}.api_key"), ConfigValue::Remove));
        }
    }
    set_config(config_path, &edits)
}
