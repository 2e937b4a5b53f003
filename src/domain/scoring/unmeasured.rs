//! The free models known to have no evaluation figure of a role's main kind, with the reason
//! (`data/unmeasured.yaml`, embedded). `nxr evals list` shows them; a test keeps the list in step with
//! the dated catalogs, so a new model without figures is noticed instead of silently falling back to
//! the size estimate.

use crate::domain::base::roles::Role;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

/// The embedded list.
pub const EMBEDDED_UNMEASURED_YAML: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/unmeasured.yaml"));

/// One model without figures of the main kind of `roles`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unmeasured {
    /// The OpenRouter id, as in the catalog.
    pub id: String,
    pub roles: Vec<Role>,
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    models: Vec<Unmeasured>,
}

static LIST: LazyLock<Vec<Unmeasured>> = LazyLock::new(|| {
    // The file is part of the binary and checked by a unit test; an unreadable one lists nothing.
    serde_norway::from_str::<File>(EMBEDDED_UNMEASURED_YAML)
        .map(|f| f.models)
        .unwrap_or_default()
});

/// Every listed model, in id order.
pub fn all() -> &'static [Unmeasured] {
    &LIST
}

/// Why `id` has no figure of `role`'s main kind, when it is listed.
pub fn reason(id: &str, role: Role) -> Option<&'static str> {
    LIST.iter()
        .find(|u| u.id == id && u.roles.contains(&role))
        .map(|u| u.reason.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_list_parses_and_every_entry_has_roles_and_a_reason() {
        let parsed: File = serde_norway::from_str(EMBEDDED_UNMEASURED_YAML).expect("valid YAML");
        assert!(!parsed.models.is_empty());
        for u in &parsed.models {
            assert!(!u.roles.is_empty(), "{}", u.id);
            assert!(!u.reason.trim().is_empty(), "{}", u.id);
        }
        assert_eq!(all().len(), parsed.models.len());
    }
}
