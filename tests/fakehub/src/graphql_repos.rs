//! Batch lookup by name: top-level `ALIAS: repository(owner:, name:)`
//! fields (without an alias the data key is `repository`). Each answers the
//! Repository object or `null` plus a NOT_FOUND error ("Could not resolve to
//! a Repository with the name 'o/n'.") for unknown, hidden and deleted
//! repositories; names match case-insensitively (see `graphql/resolve_root.rs`).
//! A lookup without `owner` or `name` is a validation error (no data), as on
//! GitHub (`graphql/validate.rs`). fakehub allows at most
//! [`crate::graphql::MAX_NODES`] lookups per query, like node ids: more is
//! `data: null` and one error.

use crate::graphql::MAX_NODES;
use graphql_parser::query::Field;
use serde_json::{Value, json};

/// The refusal body when there are too many lookups.
pub(crate) fn check_count(lookups: &[&Field<'static, String>]) -> Result<(), Value> {
    if lookups.len() <= MAX_NODES {
        return Ok(());
    }
    let extra = lookups[MAX_NODES];
    let key = extra.alias.as_deref().unwrap_or(&extra.name);
    Err(json!({"data": null, "errors": [{
        "path": [key],
        "locations": [{"line": extra.position.line, "column": extra.position.column}],
        "message": format!("fakehub allows at most {MAX_NODES} repository lookups per query, like node ids; this one has {}.", lookups.len())
    }]}))
}
