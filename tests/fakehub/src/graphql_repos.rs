//! Batch lookup by name: top-level `ALIAS: repository(owner:, name:)`
//! fields (without an alias the data key is `repository`). Each answers the
//! Repository object or `null` plus a NOT_FOUND error ("Could not resolve to
//! a Repository with the name 'o/n'.") for unknown, hidden and deleted
//! repositories; names match case-insensitively (see `graphql/resolve_root.rs`).
//! A lookup without `owner` or `name` is a validation error (no data), as on
//! GitHub (`graphql/validate.rs`). GitHub documents no cap on lookups per
//! query (their cost is the formula's: one request per paged connection of
//! each); what it has is a timeout for queries too big to answer in time.
//! fakehub stands in for that with [`MAX_LOOKUPS`]: more is `data: null` and
//! one error.

/// Most `repository` lookups fakehub answers in one query (GitHub's timeout, which has no
/// documented size, made definite).
pub(crate) const MAX_LOOKUPS: usize = 500;
use graphql_parser::query::Field;
use serde_json::{Value, json};

/// The refusal body when there are too many lookups.
pub(crate) fn check_count(lookups: &[&Field<'static, String>]) -> Result<(), Value> {
    if lookups.len() <= MAX_LOOKUPS {
        return Ok(());
    }
    let extra = lookups[MAX_LOOKUPS];
    let key = extra.alias.as_deref().unwrap_or(&extra.name);
    Err(json!({"data": null, "errors": [{
        "path": [key],
        "locations": [{"line": extra.position.line, "column": extra.position.column}],
        "message": format!("fakehub answers at most {MAX_LOOKUPS} repository lookups per query (its stand-in for GitHub's timeout); this one has {}.", lookups.len())
    }]}))
}
