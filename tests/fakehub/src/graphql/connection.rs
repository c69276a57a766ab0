//! Connections: paging arguments, windows, cursors and the connection
//! object's fields (`totalCount`, `pageInfo`, `nodes`, `edges { cursor node }`).
//!
//! Paging errors, as GitHub words them: items (`nodes`/`edges`) without
//! `first`/`last` is MISSING_PAGINATION_BOUNDARIES ("You must provide a
//! `first` or `last` value to properly paginate the `issues` connection."),
//! more than 100 is EXCESSIVE_PAGINATION ("Requesting 101 records on the
//! `issues` connection exceeds the `first` limit of 100 records."), an
//! undecodable cursor INVALID_CURSOR_ARGUMENTS. Cursors are opaque base64:
//! keyset ones (sort key and number) for issues and pull requests, so `after`
//! continues exactly after that item even when others changed meanwhile;
//! `"{sha} {n}"` for commit history (GitHub's own form); offsets otherwise.
//! Edges are typed by their connection (`schema::edge_of`): a
//! `StarredRepositoryEdge` also has `starredAt`.

use super::args::{Field, SelectionSet, int_arg, str_arg};
use super::exec::{Bubble, Exec, Obj, Resolved};
use super::schema;
use crate::ids::{base64_decode, base64_encode};
use crate::time::Timestamp;
use serde_json::{Value, json};
use std::cell::Cell;

/// Most items one connection may return.
pub(crate) const MAX_PAGE: i64 = 100;

/// A resolved connection: the window's items with their cursors.
pub(crate) struct Conn<'a> {
    pub type_name: &'static str,
    pub total: usize,
    pub items: Vec<(String, Obj<'a>)>,
    pub has_next: bool,
    pub has_prev: bool,
    /// The items were counted as returned (once, for `nodes` and `edges` together).
    pub counted: Cell<bool>,
    /// Per item, when it was starred: `StarredRepositoryEdge.starredAt`, the
    /// one edge field that is not `cursor`/`node` (empty for other connections).
    pub starred_at: Vec<Timestamp>,
}

/// The paging arguments of a connection field.
#[derive(Clone, Debug, Default)]
pub(crate) struct Paging {
    pub first: Option<usize>,
    pub last: Option<usize>,
    pub after: Option<String>,
    pub before: Option<String>,
}

/// Read and check a connection field's paging arguments. `wants_items`: the
/// selection asks for `nodes` or `edges`.
pub(crate) fn paging(exec: &mut Exec, field: &Field, wants_items: bool, path: &[Value]) -> Result<Paging, Bubble> {
    let first = int_arg(field, "first", exec.vars);
    let last = int_arg(field, "last", exec.vars);
    let name = field.name.as_str();
    if wants_items && first.is_none() && last.is_none() {
        let message =
            format!("You must provide a `first` or `last` value to properly paginate the `{name}` connection.");
        exec.error(path, field, Some("MISSING_PAGINATION_BOUNDARIES"), message);
        return Err(Bubble);
    }
    for (arg, value) in [("first", first), ("last", last)] {
        match value {
            Some(n) if n > MAX_PAGE => {
                let message = format!(
                    "Requesting {n} records on the `{name}` connection exceeds the `{arg}` limit of {MAX_PAGE} records."
                );
                exec.error(path, field, Some("EXCESSIVE_PAGINATION"), message);
                return Err(Bubble);
            }
            Some(n) if n < 0 => {
                let message = format!("`{arg}` on the `{name}` connection cannot be less than zero.");
                exec.error(path, field, Some("INVALID_ARGUMENTS"), message);
                return Err(Bubble);
            }
            _ => {}
        }
    }
    Ok(Paging {
        first: first.map(|n| n as usize),
        last: last.map(|n| n as usize),
        after: str_arg(field, "after", exec.vars),
        before: str_arg(field, "before", exec.vars),
    })
}

/// Report an undecodable cursor.
pub(crate) fn bad_cursor(exec: &mut Exec, field: &Field, path: &[Value], cursor: &str) -> Bubble {
    exec.error(
        path,
        field,
        Some("INVALID_CURSOR_ARGUMENTS"),
        format!("`{cursor}` does not appear to be a valid cursor."),
    );
    Bubble
}

/// The window of an offset-cursor connection over `total` items: `after`
/// and `before` decoded (an undecodable one is INVALID_CURSOR_ARGUMENTS),
/// then [`window`].
pub(crate) fn offset_window(
    exec: &mut Exec,
    field: &Field,
    path: &[Value],
    p: &Paging,
    total: usize,
) -> Result<(usize, usize, bool, bool), Bubble> {
    let lo = match p.after.as_deref() {
        None => 0,
        Some(c) => decode_offset(c).ok_or_else(|| bad_cursor(exec, field, path, c))?.saturating_add(1),
    };
    let hi = match p.before.as_deref() {
        None => total,
        Some(c) => decode_offset(c).ok_or_else(|| bad_cursor(exec, field, path, c))?,
    };
    Ok(window(total, lo, hi, p))
}

/// The window `[start, end)` of `total` items given the positions after the
/// `after` cursor (`lo`) and before the `before` cursor (`hi`), plus
/// (has_next, has_prev).
pub(crate) fn window(total: usize, lo: usize, hi: usize, p: &Paging) -> (usize, usize, bool, bool) {
    let hi = hi.min(total);
    let lo = lo.min(hi);
    let (mut start, mut end) = (lo, hi);
    if p.first.is_none() && p.last.is_none() {
        end = start;
    }
    if let Some(first) = p.first {
        end = end.min(start + first);
    }
    if let Some(last) = p.last {
        start = start.max(end.saturating_sub(last));
    }
    (start, end, end < total, start > 0)
}

/// An offset cursor.
pub(crate) fn offset_cursor(i: usize) -> String {
    base64_encode(format!("cursor:v2:o{i}").as_bytes())
}

/// The offset inside an offset cursor.
pub(crate) fn decode_offset(cursor: &str) -> Option<usize> {
    let text = String::from_utf8(base64_decode(cursor)?).ok()?;
    text.strip_prefix("cursor:v2:o")?.parse().ok()
}

/// A keyset cursor: the item's sort key and number.
pub(crate) fn key_cursor(key: i64, number: u32) -> String {
    base64_encode(format!("cursor:v2:k{key}:{number}").as_bytes())
}

/// (sort key, number) inside a keyset cursor.
pub(crate) fn decode_key(cursor: &str) -> Option<(i64, u32)> {
    let text = String::from_utf8(base64_decode(cursor)?).ok()?;
    let (key, number) = text.strip_prefix("cursor:v2:k")?.split_once(':')?;
    Some((key.parse().ok()?, number.parse().ok()?))
}

/// A commit history cursor: where the history started and the item's offset in it.
pub(crate) fn history_cursor(start_sha: &str, offset: usize) -> String {
    base64_encode(format!("{start_sha} {offset}").as_bytes())
}

/// (start sha, offset) inside a history cursor.
pub(crate) fn decode_history(cursor: &str) -> Option<(String, usize)> {
    let text = String::from_utf8(base64_decode(cursor)?).ok()?;
    let (sha, offset) = text.split_once(' ')?;
    (sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit())).then_some(())?;
    Some((sha.to_string(), offset.parse().ok()?))
}

/// A field of a connection object.
pub(crate) fn field<'q, 'u>(
    exec: &mut Exec<'q, 'u>,
    conn: &Conn<'u>,
    field: &Field,
    subs: &[&'q SelectionSet],
    path: &mut Vec<Value>,
) -> Resolved {
    match field.name.as_str() {
        "totalCount" => Ok(json!(conn.total)),
        "pageInfo" => {
            let info = Obj::PageInfo {
                has_next: conn.has_next,
                has_prev: conn.has_prev,
                start: conn.items.first().map(|(c, _)| c.clone()),
                end: conn.items.last().map(|(c, _)| c.clone()),
            };
            exec.object(&info, subs, path)
        }
        "nodes" | "edges" => {
            if !conn.counted.replace(true) {
                exec.returned += conn.items.len() as u64;
            }
            let mut out = Vec::with_capacity(conn.items.len());
            for (i, (_, obj)) in conn.items.iter().enumerate() {
                path.push(json!(i));
                let value = if field.name == "nodes" {
                    exec.object(obj, subs, path).unwrap_or(Value::Null)
                } else {
                    edge(exec, conn, i, subs, path)
                };
                path.pop();
                out.push(value);
            }
            Ok(Value::Array(out))
        }
        _ => Ok(Value::Null),
    }
}

/// Edge `i` of `conn`: `cursor`, `node`, `starredAt` (and `__typename`).
fn edge<'q, 'u>(
    exec: &mut Exec<'q, 'u>,
    conn: &Conn<'u>,
    i: usize,
    subs: &[&'q SelectionSet],
    path: &mut Vec<Value>,
) -> Value {
    let (cursor, node) = &conn.items[i];
    let edge_type = schema::edge_of(conn.type_name).unwrap_or("Edge");
    let mut map = serde_json::Map::new();
    for (k, group) in exec.group(subs, edge_type) {
        let value = match group[0].name.as_str() {
            "cursor" => json!(cursor),
            "__typename" => json!(edge_type),
            "starredAt" => conn.starred_at.get(i).map_or(Value::Null, |t| json!(t.to_string())),
            _ => {
                let node_subs: Vec<&'q SelectionSet> = group.iter().map(|f| &f.selection_set).collect();
                path.push(json!(k));
                let v = exec.object(node, &node_subs, path).unwrap_or(Value::Null);
                path.pop();
                v
            }
        };
        map.insert(k.to_string(), value);
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paging(first: Option<usize>, last: Option<usize>) -> Paging {
        Paging { first, last, ..Paging::default() }
    }

    #[test]
    fn windows() {
        assert_eq!(window(10, 0, 10, &paging(Some(3), None)), (0, 3, true, false));
        assert_eq!(window(10, 8, 10, &paging(Some(3), None)), (8, 10, false, true));
        assert_eq!(window(10, 0, 10, &paging(None, Some(3))), (7, 10, false, true));
        assert_eq!(window(10, 2, 6, &paging(None, Some(3))), (3, 6, true, true));
        assert_eq!(window(10, 0, 10, &paging(None, None)), (0, 0, true, false), "totalCount only");
        assert_eq!(window(0, 0, 0, &paging(Some(5), None)), (0, 0, false, false));
        assert_eq!(window(5, 9, 3, &paging(Some(5), None)), (3, 3, true, true), "crossed cursors: empty");
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(decode_offset(&offset_cursor(17)), Some(17));
        assert_eq!(decode_key(&key_cursor(-5, 42)), Some((-5, 42)));
        let sha = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(decode_history(&history_cursor(sha, 99)), Some((sha.to_string(), 99)));
        for bad in ["", "nope", "!!!", &offset_cursor(3)] {
            assert_eq!(decode_key(bad), None, "{bad}");
        }
        assert_eq!(decode_history(&key_cursor(1, 2)), None);
        assert_eq!(decode_offset(&key_cursor(1, 2)), None);
    }
}
