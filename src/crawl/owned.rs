//! An owner's repositories and a user's stars through GraphQL: `repositoryOwner(login:)
//! { repositories }` and `user(login:) { starredRepositories }`, 100 a page with every detail
//! field, so a page of 100 repositories costs one point (the connection's request plus one per
//! repository for its topics: 101 requests) where the REST listing followed by detail queries
//! spent a request and most of a point. The cursor is GitHub's `endCursor` (`after:` prefixed), so
//! a killed crawl goes on from the page after the last one stored. Without a token there is no
//! GraphQL: the REST listing (`paged`) serves those crawls with its listing fields.

use serde_json::{Value, json};

use crate::github::{GithubError, RequestKind};
use crate::plan::{OwnerKind, WorkItem};
use crate::store::{Page, RepositoryRow, Store, StreamStart, WorkStatus};

use super::{CrawlError, ItemOutcome, Progress, ShardContext, detail};

/// Where a GraphQL listing stands in its work item's cursor: after this `endCursor`.
const AFTER: &str = "after:";

/// The cursor of a listing whose every page is stored (its streams may still wait).
const LISTED: &str = "0";

/// The query for one page of `item`'s repositories with `fields`, and the JSON pointer of its
/// connection in the answer.
fn query(item: &WorkItem, fields: &str) -> (String, &'static str) {
    let page = "first: 100, after: $after";
    let (root, connection, pointer) = match item {
        WorkItem::OwnerRepos { .. } => (
            "repositoryOwner(login: $login) { __typename",
            format!(
                "repositories({page}, ownerAffiliations: [OWNER], privacy: PUBLIC, orderBy: {{field: NAME, direction: ASC}})"
            ),
            "/repositoryOwner/repositories",
        ),
        WorkItem::Starred { .. } => (
            "user(login: $login) { __typename",
            format!("starredRepositories({page}, orderBy: {{field: STARRED_AT, direction: DESC}})"),
            "/user/starredRepositories",
        ),
        _ => unreachable!("not an owner listing"),
    };
    let text = format!(
        "query($login: String!, $after: String) {{\n  rateLimit {{ cost remaining resetAt limit }}\n  {root}\n    {connection} {{\n      totalCount\n      pageInfo {{ hasNextPage endCursor }}\n      nodes {{\n        {fields}\n      }}\n    }}\n  }}\n}}"
    );
    (text, pointer)
}

/// The login an owner listing is for.
fn login(item: &WorkItem) -> &str {
    match item {
        WorkItem::OwnerRepos { login, .. } | WorkItem::Starred { login } => login,
        _ => unreachable!("not an owner listing"),
    }
}

/// The listing in `data`, unless the account is missing or of the other kind than asked (GitHub
/// lists a user's repositories for `org:` too, but the user asked for an organization).
fn listing<'d>(item: &WorkItem, data: &'d Value, pointer: &str) -> Result<&'d Value, String> {
    let typename = data.pointer("/repositoryOwner/__typename").or_else(|| data.pointer("/user/__typename"));
    let login = login(item);
    let wrong_kind = match (item, typename.and_then(Value::as_str)) {
        (WorkItem::OwnerRepos { owner: OwnerKind::Org, .. }, Some("User")) => {
            Some(format!("`{login}` is a user, not an organization: use user:{login}"))
        }
        (WorkItem::OwnerRepos { owner: OwnerKind::User, .. }, Some("Organization")) => {
            Some(format!("`{login}` is an organization, not a user: use org:{login}"))
        }
        _ => None,
    };
    if let Some(reason) = wrong_kind {
        return Err(reason);
    }
    data.pointer(pointer).filter(|c| c.is_object()).ok_or_else(|| match item {
        WorkItem::Starred { .. } => {
            format!(
                "GitHub has no user `{login}` (misspelled, renamed, deleted, or an organization, which stars nothing)"
            )
        }
        _ => format!("GitHub has no account `{login}`: misspelled, renamed or deleted"),
    })
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
    let mut after = match cursor {
        Some(LISTED) => None,
        Some(cursor) => cursor.strip_prefix(AFTER).map(str::to_string),
        None => None,
    };
    let mut listed = cursor == Some(LISTED);
    let (text, pointer) = query(item, &detail::fields(context));
    while !listed {
        let variables = json!({ "login": login(item), "after": after });
        let page = context.github.graphql(&text, variables, RequestKind::Listing);
        let Some(response) = progress.before_deadline(page).await else {
            return Ok(ItemOutcome::Deadline);
        };
        let mut response = response?;
        let connection = match listing(item, &response.data, pointer) {
            Ok(connection) => connection.clone(),
            Err(reason) => {
                crate::github::ledger::spill(std::mem::take(&mut response.records));
                return Err(GithubError::Unexpected { url: context.github.graphql_url().to_string(), reason }.into());
            }
        };
        let now = crate::time::now_rfc3339();
        let mut rows: Vec<RepositoryRow> = Vec::new();
        let mut streams = StreamStart::default();
        for node in connection.get("nodes").and_then(Value::as_array).into_iter().flatten() {
            let row = detail::row(0, node, &now);
            if row.id == 0 {
                continue;
            }
            super::streams::start(context, row.id, node, &mut streams)?;
            super::code::start(context, row.id, node, &mut streams)?;
            rows.push(row);
        }
        let next = connection.pointer("/pageInfo/hasNextPage").and_then(Value::as_bool).unwrap_or(false);
        let end_cursor = connection.pointer("/pageInfo/endCursor").and_then(Value::as_str);
        listed = !next || end_cursor.is_none();
        let cursor = match end_cursor {
            Some(end) if !listed => format!("{AFTER}{end}"),
            _ => LISTED.to_string(),
        };
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
        let shown = after.as_ref().map_or("first page".to_string(), |_| "next page".to_string());
        progress.page(rows.len() as u64, &response.records, || format!("{shown} of {item}"));
        after = end_cursor.map(str::to_string);
        if let Some(outcome) = super::drain(context, store, progress, detail::batch(context) - 1).await? {
            return Ok(outcome);
        }
    }
    if let Some(outcome) = super::drain(context, store, progress, 0).await? {
        return Ok(outcome);
    }
    store.set_item_status(progress.shard(), idx, WorkStatus::Completed, None)?;
    Ok(ItemOutcome::Completed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queries_page_100_with_the_detail_fields() {
        let owner = WorkItem::OwnerRepos { login: "rust-lang".into(), owner: OwnerKind::Org };
        let (text, pointer) = query(&owner, "id stargazerCount");
        assert!(text.contains("repositoryOwner(login: $login)"), "{text}");
        assert!(text.contains("repositories(first: 100, after: $after, ownerAffiliations: [OWNER], privacy: PUBLIC"));
        assert!(text.contains("nodes {\n        id stargazerCount\n      }"), "{text}");
        assert_eq!(pointer, "/repositoryOwner/repositories");
        let (text, pointer) = query(&WorkItem::Starred { login: "octocat".into() }, "id");
        assert!(text.contains("user(login: $login)") && text.contains("starredRepositories(first: 100"), "{text}");
        assert_eq!(pointer, "/user/starredRepositories");
    }

    #[test]
    fn a_missing_or_other_kind_of_account_says_which() {
        let org = WorkItem::OwnerRepos { login: "octocat".into(), owner: OwnerKind::Org };
        let user = WorkItem::OwnerRepos { login: "github".into(), owner: OwnerKind::User };
        let pointer = "/repositoryOwner/repositories";
        let as_user = json!({ "repositoryOwner": { "__typename": "User", "repositories": {} } });
        let error = listing(&org, &as_user, pointer).unwrap_err();
        assert_eq!(error, "`octocat` is a user, not an organization: use user:octocat");
        assert!(listing(&user, &as_user, pointer).is_ok());
        let as_org = json!({ "repositoryOwner": { "__typename": "Organization", "repositories": {} } });
        let error = listing(&user, &as_org, pointer).unwrap_err();
        assert_eq!(error, "`github` is an organization, not a user: use org:github");
        let missing = json!({ "repositoryOwner": null });
        let error = listing(&user, &missing, pointer).unwrap_err();
        assert_eq!(error, "GitHub has no account `github`: misspelled, renamed or deleted");
        let no_user = json!({ "user": null });
        let stars = listing(&WorkItem::Starred { login: "github".into() }, &no_user, "/user/x");
        assert!(stars.unwrap_err().starts_with("GitHub has no user `github`"));
    }
}
