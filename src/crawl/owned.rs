//! An owner's repositories and a user's stars through GraphQL: `repositoryOwner(login:)
//! { repositories }` and `user(login:) { starredRepositories }` with every detail field, paged
//! from both ends at once. GitHub charges a query one request per page plus one per repository
//! and paged connection (the topics), divided by 100 and rounded: a page of 100 forward and one of
//! 47 backward make 149 requests, one point for 147 repositories, where the REST listing plus
//! detail queries spent a request and most of a point per 100. Both pages stay inside the window
//! between the forward and the backward cursor, so nothing is asked twice but in the last query,
//! where the pages meet. The cursor (JSON: both GitHub cursors) lets a killed crawl go on from
//! the last stored query. Without a token there is no GraphQL: the REST listing (`paged`) serves
//! those crawls with its listing fields.

use serde_json::{Value, json};

use crate::github::graphql::GraphqlError;
use crate::github::{GithubError, RequestKind};
use crate::plan::{OwnerKind, WorkItem};
use crate::store::{Page, RepositoryRow, Store, StreamStart};

use super::{CrawlError, ItemOutcome, Progress, ShardContext, detail, packing};

/// The cursor of a listing whose every page is stored (its streams may still wait).
const LISTED: &str = "0";

/// Where a listing stands: the window not yet listed, between two GitHub cursors.
#[derive(Debug, Default, PartialEq, serde::Deserialize, serde::Serialize)]
struct Window {
    /// The forward pages stored everything up to this cursor (from the start when absent).
    after: Option<String>,
    /// The backward pages stored everything from this cursor on (to the end when absent).
    before: Option<String>,
}

/// The connection field of `item` with its fixed arguments, and where its answer sits.
fn connection(item: &WorkItem) -> (&'static str, &'static str, &'static str) {
    match item {
        WorkItem::OwnerRepos { .. } => (
            "repositoryOwner(login: $login) { __typename",
            "repositories(ownerAffiliations: [OWNER], privacy: PUBLIC, orderBy: {field: NAME, direction: ASC}",
            "/repositoryOwner",
        ),
        WorkItem::Starred { .. } => (
            "user(login: $login) { __typename",
            "starredRepositories(orderBy: {field: STARRED_AT, direction: DESC}",
            "/user",
        ),
        _ => unreachable!("not an owner listing"),
    }
}

/// The query for one step of `item`'s listing: `forward` items after `$after` and, when
/// `backward` is not 0, that many before `$before`, both within the window, with `fields`.
fn query(item: &WorkItem, fields: &str, (forward, backward): (usize, usize)) -> String {
    let (root, field, _) = connection(item);
    let page = |alias: &str, size: &str, info: &str| {
        format!(
            "    {alias}: {field}, {size}, after: $after, before: $before) {{\n      pageInfo {{ {info} }}\n      nodes {{\n        {fields}\n      }}\n    }}\n"
        )
    };
    let mut text = format!(
        "query($login: String!, $after: String, $before: String) {{\n  rateLimit {{ cost remaining resetAt limit }}\n  {root}\n"
    );
    text.push_str(&page("forward", &format!("first: {forward}"), "endCursor"));
    if backward > 0 {
        text.push_str(&page("backward", &format!("last: {backward}"), "startCursor"));
    }
    text.push_str("  }\n}");
    text
}

/// The login an owner listing is for.
fn login(item: &WorkItem) -> &str {
    match item {
        WorkItem::OwnerRepos { login, .. } | WorkItem::Starred { login } => login,
        _ => unreachable!("not an owner listing"),
    }
}

/// The owner object in `data`, unless the account is missing or of the other kind than asked
/// (GitHub lists a user's repositories for `org:` too, but the user asked for an organization),
/// or GitHub answered the account without the page (then `errors` say why).
fn listing<'d>(item: &WorkItem, data: &'d Value, errors: &[GraphqlError]) -> Result<&'d Value, String> {
    let (_, _, pointer) = connection(item);
    let login = login(item);
    let Some(owner) = data.pointer(pointer).filter(|owner| owner.is_object()) else {
        return Err(match item {
            WorkItem::Starred { .. } => format!(
                "GitHub has no user `{login}` (misspelled, renamed, deleted, or an organization, which stars nothing)"
            ),
            _ => format!("GitHub has no account `{login}`: misspelled, renamed or deleted"),
        });
    };
    match (item, owner.get("__typename").and_then(Value::as_str)) {
        (WorkItem::OwnerRepos { owner: OwnerKind::Org, .. }, Some("User")) => {
            Err(format!("`{login}` is a user, not an organization: use user:{login}"))
        }
        (WorkItem::OwnerRepos { owner: OwnerKind::User, .. }, Some("Organization")) => {
            Err(format!("`{login}` is an organization, not a user: use org:{login}"))
        }
        _ if !owner.get("forward").is_some_and(Value::is_object) => {
            Err(format!("GitHub answered `{login}` without the page of {item}: {}", messages(errors)))
        }
        _ => Ok(owner),
    }
}

/// GitHub's messages, for a failure's reason.
fn messages(errors: &[GraphqlError]) -> String {
    let texts: Vec<&str> = errors.iter().map(|e| e.message.as_str()).filter(|m| !m.is_empty()).collect();
    if texts.is_empty() { "no error given".to_string() } else { texts.join("; ") }
}

/// The nodes of page `alias` of `owner`.
fn nodes<'o>(owner: &'o Value, alias: &str) -> &'o [Value] {
    owner.pointer(&format!("/{alias}/nodes")).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// Whether a step's pages leave nothing between them: a page came back short (the window ran
/// out), or the two pages met (an item in both).
fn met(forward: &[Value], backward: Option<&[Value]>, (forward_size, backward_size): (usize, usize)) -> bool {
    let Some(backward) = backward else { return forward.len() < forward_size };
    let behind: std::collections::HashSet<u64> = backward.iter().filter_map(id_of).collect();
    forward.len() < forward_size
        || backward.len() < backward_size
        || forward.iter().filter_map(id_of).any(|i| behind.contains(&i))
}

/// A listed repository's database id (`None` for a node GitHub answered `null`).
fn id_of(node: &Value) -> Option<u64> {
    node.get("databaseId").and_then(Value::as_u64).filter(|id| *id > 0)
}

/// Crawls `item` from `cursor` (the start when absent).
pub(super) async fn crawl(
    context: &ShardContext<'_>,
    store: &mut Store,
    progress: &mut Progress,
    idx: u32,
    item: &WorkItem,
    cursor: Option<&str>,
) -> Result<ItemOutcome, CrawlError> {
    let mut listed = cursor == Some(LISTED);
    let mut window: Window =
        cursor.filter(|c| *c != LISTED).and_then(|c| serde_json::from_str(c).ok()).unwrap_or_default();
    let fields = detail::fields(context);
    let per_repository = packing::paged_connections(&fields);
    while !listed {
        let sizes = packing::page_sizes(per_repository, context.packing.packs());
        let text = query(item, &fields, sizes);
        let variables = json!({ "login": login(item), "after": window.after, "before": window.before });
        let step = context.github.graphql(&text, variables, RequestKind::Listing);
        let Some(response) = progress.before_deadline(step).await else {
            return Ok(ItemOutcome::Deadline);
        };
        let mut response = response?;
        let data = std::mem::take(&mut response.data);
        let found = listing(item, &data, &response.errors).and_then(|owner| {
            let (forward, backward) = (nodes(owner, "forward"), (sizes.1 > 0).then(|| nodes(owner, "backward")));
            // A repository GitHub could not give (a null node) must not pass for one that is not
            // there: the item fails, and its pages are asked again.
            let gaps = forward.iter().chain(backward.unwrap_or_default()).filter(|n| id_of(n).is_none()).count();
            match gaps {
                0 => Ok((owner, forward, backward)),
                _ => Err(format!("GitHub left out {gaps} repositories of {item}: {}", messages(&response.errors))),
            }
        });
        let (owner, forward, backward) = match found {
            Ok(found) => found,
            Err(reason) => {
                crate::github::ledger::spill(std::mem::take(&mut response.records));
                return Err(GithubError::Unexpected { url: context.github.graphql_url().to_string(), reason }.into());
            }
        };
        let planned = packing::pages_points(sizes, per_repository);
        context.packing.check_charge(progress.shard(), sizes.1 > 0, planned, &response.records);
        listed = met(forward, backward, sizes);
        let now = crate::time::now_rfc3339();
        let mut rows: Vec<RepositoryRow> = Vec::new();
        let mut streams = StreamStart::default();
        let mut seen = std::collections::HashSet::new();
        for node in forward.iter().chain(backward.unwrap_or_default()) {
            let row = detail::row(0, node, &now);
            if !seen.insert(row.id) {
                continue;
            }
            super::streams::start(context, row.id, node, &mut streams)?;
            super::code::start(context, row.id, node, &mut streams)?;
            rows.push(row);
        }
        let text_of = |pointer: &str| owner.pointer(pointer).and_then(Value::as_str).map(str::to_string);
        if let Some(after) = text_of("/forward/pageInfo/endCursor") {
            window.after = Some(after);
        }
        if let Some(before) = text_of("/backward/pageInfo/startCursor") {
            window.before = Some(before);
        }
        let cursor =
            if listed { LISTED.to_string() } else { serde_json::to_string(&window).expect("cursors serialize") };
        store.commit_page(
            progress.shard(),
            idx,
            &Page {
                rows: &rows,
                cursor: &cursor,
                completed: false,
                records: &response.records,
                etag: None,
                streams: Some(&streams),
            },
        )?;
        progress.page(rows.len() as u64, &response.records, || format!("a page of {item}"));
        if let Some(outcome) = super::drain(context, store, progress, detail::batch(context) - 1).await? {
            return Ok(outcome);
        }
    }
    super::finish(context, store, progress, idx).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_pages_both_ends_of_the_window_with_the_detail_fields() {
        let owner = WorkItem::OwnerRepos { login: "rust-lang".into(), owner: OwnerKind::Org };
        let text = query(&owner, "databaseId stargazerCount", (100, 47));
        assert!(text.contains("repositoryOwner(login: $login)"), "{text}");
        assert!(text.contains("forward: repositories(ownerAffiliations: [OWNER], privacy: PUBLIC, orderBy: {field: NAME, direction: ASC}, first: 100, after: $after, before: $before)"), "{text}");
        assert!(text.contains("backward: repositories(ownerAffiliations: [OWNER], privacy: PUBLIC, orderBy: {field: NAME, direction: ASC}, last: 47, after: $after, before: $before)"), "{text}");
        assert!(text.contains("nodes {\n        databaseId stargazerCount\n      }"), "{text}");
        let text = query(&WorkItem::Starred { login: "octocat".into() }, "id", (100, 0));
        assert!(text.contains("user(login: $login)") && text.contains("forward: starredRepositories("), "{text}");
        assert!(!text.contains("backward"), "{text}");
    }

    #[test]
    fn the_pages_meet_when_one_is_short_or_they_share_an_item() {
        let page = |ids: std::ops::Range<u64>| -> Vec<Value> { ids.map(|i| json!({ "databaseId": i })).collect() };
        let (forward, backward) = (page(0..100), page(200..247));
        assert!(!met(&forward, Some(&backward), (100, 47)), "a window of more than 147 left");
        assert!(met(&page(0..100), Some(&page(99..146)), (100, 47)), "they overlap");
        assert!(met(&page(0..60), Some(&page(13..60)), (100, 47)), "the window was short");
        assert!(met(&page(0..10), None, (100, 0)) && !met(&page(0..100), None, (100, 0)));
        // A null node is no repository: the crawl fails the item on it rather than skip it.
        assert_eq!((id_of(&Value::Null), id_of(&json!({ "databaseId": 7 }))), (None, Some(7)));
    }

    #[test]
    fn a_missing_or_other_kind_of_account_says_which() {
        let org = WorkItem::OwnerRepos { login: "octocat".into(), owner: OwnerKind::Org };
        let user = WorkItem::OwnerRepos { login: "github".into(), owner: OwnerKind::User };
        let as_user = json!({ "repositoryOwner": { "__typename": "User", "forward": {} } });
        let error = listing(&org, &as_user, &[]).unwrap_err();
        assert_eq!(error, "`octocat` is a user, not an organization: use user:octocat");
        assert!(listing(&user, &as_user, &[]).is_ok());
        let as_org = json!({ "repositoryOwner": { "__typename": "Organization", "forward": {} } });
        let error = listing(&user, &as_org, &[]).unwrap_err();
        assert_eq!(error, "`github` is an organization, not a user: use org:github");
        let missing = json!({ "repositoryOwner": null });
        let error = listing(&user, &missing, &[]).unwrap_err();
        assert_eq!(error, "GitHub has no account `github`: misspelled, renamed or deleted");
        let no_user = json!({ "user": null });
        let stars = listing(&WorkItem::Starred { login: "github".into() }, &no_user, &[]);
        assert!(stars.unwrap_err().starts_with("GitHub has no user `github`"));
        // The account without its page: GitHub's errors say why, never "no such account".
        let errors: Vec<GraphqlError> = serde_json::from_value(json!([{ "message": "timeout" }])).unwrap();
        let pageless = json!({ "repositoryOwner": { "__typename": "User", "forward": null } });
        let error = listing(&user, &pageless, &errors).unwrap_err();
        assert_eq!(error, "GitHub answered `github` without the page of repositories of user github: timeout");
    }

    #[test]
    fn the_window_is_the_cursor() {
        let window = Window { after: Some("Y3Vyc29yOnYyOm8xMDA=".into()), before: None };
        let text = serde_json::to_string(&window).unwrap();
        assert_eq!(serde_json::from_str::<Window>(&text).unwrap(), window);
    }
}
