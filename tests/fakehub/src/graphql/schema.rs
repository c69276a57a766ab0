//! The part of GitHub's GraphQL schema fakehub serves, as static tables: for
//! each type its fields (scalar, object or connection), their arguments and
//! required arguments, and which concrete types each interface stands for.
//! Validation, the cost analysis and the executor all read these tables, so a
//! field exists in exactly one place. Connection types (`IssueConnection`)
//! list their node type; edge types (`IssueEdge`) their connection, so two
//! connections of one node type (`RepositoryConnection`,
//! `StarredRepositoryConnection`) keep their own edges (`starredAt`).

/// What a field returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    Scalar,
    /// An object, interface or union type (by name).
    Object(&'static str),
    /// A list of objects of that type (`nodes(ids:)`).
    List(&'static str),
    /// A connection: its type name, its node type and whether it serves items
    /// (count-only connections have just `totalCount`).
    Connection {
        name: &'static str,
        node: &'static str,
        items: bool,
    },
}

/// One field of a type.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FieldDef {
    pub name: &'static str,
    pub ty: Ty,
    pub args: &'static [&'static str],
    pub required: &'static [&'static str],
}

const fn s(name: &'static str) -> FieldDef {
    FieldDef { name, ty: Ty::Scalar, args: &[], required: &[] }
}

const fn o(name: &'static str, ty: &'static str) -> FieldDef {
    FieldDef { name, ty: Ty::Object(ty), args: &[], required: &[] }
}

const PAGING: &[&str] = &["first", "last", "after", "before"];

const fn c(name: &'static str, conn: &'static str, node: &'static str, args: &'static [&'static str]) -> FieldDef {
    FieldDef { name, ty: Ty::Connection { name: conn, node, items: true }, args, required: &[] }
}

const fn count_only(name: &'static str, conn: &'static str, node: &'static str) -> FieldDef {
    FieldDef { name, ty: Ty::Connection { name: conn, node, items: false }, args: PAGING, required: &[] }
}

const QUERY: &[FieldDef] = &[
    FieldDef { name: "rateLimit", ty: Ty::Object("RateLimit"), args: &["dryRun"], required: &[] },
    FieldDef { name: "nodes", ty: Ty::List("Node"), args: &["ids"], required: &["ids"] },
    FieldDef { name: "node", ty: Ty::Object("Node"), args: &["id"], required: &["id"] },
    FieldDef {
        name: "repository",
        ty: Ty::Object("Repository"),
        args: &["owner", "name", "followRenames"],
        required: &["owner", "name"],
    },
    FieldDef { name: "repositoryOwner", ty: Ty::Object("RepositoryOwner"), args: &["login"], required: &["login"] },
    FieldDef { name: "user", ty: Ty::Object("User"), args: &["login"], required: &["login"] },
    FieldDef { name: "organization", ty: Ty::Object("Organization"), args: &["login"], required: &["login"] },
];

const RATE_LIMIT: &[FieldDef] = &[s("cost"), s("remaining"), s("resetAt"), s("limit"), s("used"), s("nodeCount")];

const REPOSITORY: &[FieldDef] = &[
    s("id"),
    s("databaseId"),
    s("nameWithOwner"),
    s("name"),
    o("owner", "RepositoryOwner"),
    s("description"),
    s("url"),
    o("primaryLanguage", "Language"),
    c("repositoryTopics", "RepositoryTopicConnection", "RepositoryTopic", PAGING),
    s("stargazerCount"),
    s("forkCount"),
    count_only("watchers", "UserConnection", "User"),
    c(
        "issues",
        "IssueConnection",
        "Issue",
        &["first", "last", "after", "before", "states", "orderBy", "filterBy", "labels"],
    ),
    c(
        "pullRequests",
        "PullRequestConnection",
        "PullRequest",
        &["first", "last", "after", "before", "states", "orderBy", "labels", "baseRefName", "headRefName"],
    ),
    o("licenseInfo", "License"),
    o("defaultBranchRef", "Ref"),
    s("isFork"),
    s("isArchived"),
    s("isPrivate"),
    s("isDisabled"),
    s("isTemplate"),
    s("isEmpty"),
    s("visibility"),
    s("diskUsage"),
    s("hasIssuesEnabled"),
    s("hasWikiEnabled"),
    s("createdAt"),
    s("updatedAt"),
    s("pushedAt"),
];

const ISSUE: &[FieldDef] = &[
    s("id"),
    s("databaseId"),
    s("number"),
    s("title"),
    s("state"),
    s("stateReason"),
    o("author", "Actor"),
    s("createdAt"),
    s("updatedAt"),
    s("closedAt"),
    s("closed"),
    s("url"),
    o("repository", "Repository"),
    c("labels", "LabelConnection", "Label", PAGING),
    count_only("comments", "IssueCommentConnection", "IssueComment"),
];

const PULL_REQUEST: &[FieldDef] = &[
    s("id"),
    s("databaseId"),
    s("number"),
    s("title"),
    s("state"),
    s("isDraft"),
    o("author", "Actor"),
    s("createdAt"),
    s("updatedAt"),
    s("closedAt"),
    s("mergedAt"),
    s("merged"),
    s("closed"),
    s("url"),
    o("mergeCommit", "Commit"),
    s("baseRefName"),
    s("headRefName"),
    s("headRefOid"),
    o("headRepository", "Repository"),
    o("repository", "Repository"),
    c("labels", "LabelConnection", "Label", PAGING),
    s("additions"),
    s("deletions"),
    s("changedFiles"),
    count_only("comments", "IssueCommentConnection", "IssueComment"),
    count_only("reviews", "PullRequestReviewConnection", "PullRequestReview"),
    count_only("commits", "PullRequestCommitConnection", "PullRequestCommit"),
];

const COMMIT: &[FieldDef] = &[
    s("id"),
    s("oid"),
    s("abbreviatedOid"),
    s("messageHeadline"),
    s("message"),
    s("messageBody"),
    s("committedDate"),
    s("authoredDate"),
    s("url"),
    s("commitUrl"),
    o("author", "GitActor"),
    o("committer", "GitActor"),
    c("history", "CommitHistoryConnection", "Commit", &["first", "last", "after", "before", "since", "until"]),
];

const GIT_ACTOR: &[FieldDef] = &[s("name"), s("email"), s("date"), o("user", "User")];
/// `RepositoryOwner.repositories` (and User's, Organization's): GitHub's
/// arguments except `affiliations` (the viewer's, which fakehub has none of).
const REPOSITORIES: FieldDef = c(
    "repositories",
    "RepositoryConnection",
    "Repository",
    &[
        "first",
        "last",
        "after",
        "before",
        "ownerAffiliations",
        "privacy",
        "visibility",
        "isFork",
        "isArchived",
        "isLocked",
        "hasIssuesEnabled",
        "orderBy",
    ],
);
/// `User.starredRepositories` (GitHub's `ownedByViewer` is left out: no viewer).
const STARRED: FieldDef = c(
    "starredRepositories",
    "StarredRepositoryConnection",
    "Repository",
    &["first", "last", "after", "before", "orderBy"],
);
const USER: &[FieldDef] =
    &[s("id"), s("databaseId"), s("login"), s("name"), s("avatarUrl"), s("url"), REPOSITORIES, STARRED];
const ORGANIZATION: &[FieldDef] =
    &[s("id"), s("databaseId"), s("login"), s("name"), s("avatarUrl"), s("url"), REPOSITORIES];
const ACTOR: &[FieldDef] = &[s("login"), s("avatarUrl"), s("url")];
const OWNER: &[FieldDef] = &[s("id"), s("login"), s("avatarUrl"), s("url"), REPOSITORIES];
const NODE: &[FieldDef] = &[s("id")];
const GIT_OBJECT: &[FieldDef] = &[s("id"), s("oid"), s("abbreviatedOid"), s("commitUrl")];
const LANGUAGE: &[FieldDef] = &[s("name"), s("color")];
const LICENSE: &[FieldDef] = &[s("spdxId"), s("key"), s("name"), s("url")];
const REF: &[FieldDef] = &[s("id"), s("name"), s("prefix"), o("target", "GitObject")];
const REPOSITORY_TOPIC: &[FieldDef] = &[o("topic", "Topic"), s("url")];
const TOPIC: &[FieldDef] = &[s("id"), s("name")];
const LABEL: &[FieldDef] = &[s("id"), s("name"), s("color")];
const PAGE_INFO: &[FieldDef] = &[s("hasNextPage"), s("hasPreviousPage"), s("startCursor"), s("endCursor")];
const COUNT_ONLY: &[FieldDef] = &[s("totalCount")];

/// Object and interface types with their fields.
const TYPES: &[(&str, &[FieldDef])] = &[
    ("Query", QUERY),
    ("RateLimit", RATE_LIMIT),
    ("Repository", REPOSITORY),
    ("Issue", ISSUE),
    ("PullRequest", PULL_REQUEST),
    ("Commit", COMMIT),
    ("GitActor", GIT_ACTOR),
    ("User", USER),
    ("Organization", ORGANIZATION),
    ("Bot", ACTOR),
    ("Actor", ACTOR),
    ("RepositoryOwner", OWNER),
    ("Node", NODE),
    ("GitObject", GIT_OBJECT),
    ("Language", LANGUAGE),
    ("License", LICENSE),
    ("Ref", REF),
    ("RepositoryTopic", REPOSITORY_TOPIC),
    ("Topic", TOPIC),
    ("Label", LABEL),
    ("PageInfo", PAGE_INFO),
];

/// Abstract types and the concrete types they stand for.
const POSSIBLE: &[(&str, &[&str])] = &[
    ("Node", &["Repository", "Issue", "PullRequest", "Commit", "User", "Organization", "Bot", "Label", "Topic", "Ref"]),
    ("Actor", &["User", "Organization", "Bot"]),
    ("RepositoryOwner", &["User", "Organization"]),
    ("GitObject", &["Commit"]),
];

/// Connection types and their node types (for fields of `XConnection` / `XEdge`).
const CONNECTIONS: &[(&str, &str, bool)] = &[
    ("RepositoryTopicConnection", "RepositoryTopic", true),
    ("UserConnection", "User", false),
    ("IssueConnection", "Issue", true),
    ("PullRequestConnection", "PullRequest", true),
    ("LabelConnection", "Label", true),
    ("IssueCommentConnection", "IssueComment", false),
    ("PullRequestReviewConnection", "PullRequestReview", false),
    ("PullRequestCommitConnection", "PullRequestCommit", false),
    ("CommitHistoryConnection", "Commit", true),
    ("RepositoryConnection", "Repository", true),
    ("StarredRepositoryConnection", "Repository", true),
];

/// Edge types: (edge, its connection, its node type, fields beyond `cursor` and `node`).
const EDGES: &[(&str, &str, &str, &[FieldDef])] = &[
    ("RepositoryTopicEdge", "RepositoryTopicConnection", "RepositoryTopic", &[]),
    ("IssueEdge", "IssueConnection", "Issue", &[]),
    ("PullRequestEdge", "PullRequestConnection", "PullRequest", &[]),
    ("LabelEdge", "LabelConnection", "Label", &[]),
    ("CommitEdge", "CommitHistoryConnection", "Commit", &[]),
    ("RepositoryEdge", "RepositoryConnection", "Repository", &[]),
    ("StarredRepositoryEdge", "StarredRepositoryConnection", "Repository", &[s("starredAt")]),
];

/// The edge type of a connection type (`IssueConnection` -> `IssueEdge`).
pub(crate) fn edge_of(connection: &str) -> Option<&'static str> {
    EDGES.iter().find(|(_, conn, _, _)| *conn == connection).map(|(edge, ..)| *edge)
}

const fn edge_field(name: &'static str, node: &'static str) -> FieldDef {
    FieldDef { name, ty: Ty::Object(node), args: &[], required: &[] }
}

/// Whether `name` is a type fakehub knows.
pub(crate) fn known_type(name: &str) -> bool {
    TYPES.iter().any(|(t, _)| *t == name)
        || CONNECTIONS.iter().any(|(t, _, _)| *t == name)
        || EDGES.iter().any(|(t, ..)| *t == name)
}

/// The field `name` of type `type_name` (`__typename` is handled by callers).
pub(crate) fn field(type_name: &str, name: &str) -> Option<FieldDef> {
    if let Some((_, fields)) = TYPES.iter().find(|(t, _)| *t == type_name) {
        return fields.iter().find(|f| f.name == name).copied();
    }
    if let Some(&(_, node, items)) = CONNECTIONS.iter().find(|(t, _, _)| *t == type_name) {
        let edge = edge_of(type_name);
        return match name {
            "totalCount" => Some(s("totalCount")),
            "pageInfo" if items => Some(o("pageInfo", "PageInfo")),
            "nodes" if items => Some(FieldDef { name: "nodes", ty: Ty::List(node), args: &[], required: &[] }),
            "edges" if items => edge.map(|e| FieldDef { name: "edges", ty: Ty::List(e), args: &[], required: &[] }),
            _ => COUNT_ONLY.iter().find(|f| f.name == name).copied(),
        };
    }
    if let Some(&(_, _, node, extra)) = EDGES.iter().find(|(t, ..)| *t == type_name) {
        return match name {
            "cursor" => Some(s("cursor")),
            "node" => Some(edge_field("node", node)),
            _ => extra.iter().find(|f| f.name == name).copied(),
        };
    }
    None
}

/// The concrete types an abstract type stands for (itself for a concrete type).
pub(crate) fn possible(type_name: &str) -> Vec<&'static str> {
    match POSSIBLE.iter().find(|(t, _)| *t == type_name) {
        Some((_, types)) => types.to_vec(),
        None => TYPES
            .iter()
            .map(|(t, _)| *t)
            .chain(CONNECTIONS.iter().map(|(t, _, _)| *t))
            .chain(EDGES.iter().map(|(t, ..)| *t))
            .filter(|t| *t == type_name)
            .collect(),
    }
}

/// Whether a fragment on `condition` can apply where `parent` is expected.
pub(crate) fn overlaps(condition: &str, parent: &str) -> bool {
    let a = possible(condition);
    possible(parent).iter().any(|t| a.contains(t))
}

/// Whether a fragment on `condition` applies to an object of concrete type `runtime`.
pub(crate) fn applies(condition: &str, runtime: &str) -> bool {
    condition == runtime || possible(condition).contains(&runtime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        assert_eq!(
            field("Repository", "issues").map(|f| f.ty),
            Some(Ty::Connection { name: "IssueConnection", node: "Issue", items: true })
        );
        assert!(field("Repository", "nope").is_none());
        assert_eq!(field("IssueConnection", "nodes").map(|f| f.ty), Some(Ty::List("Issue")));
        assert_eq!(field("IssueConnection", "edges").map(|f| f.ty), Some(Ty::List("IssueEdge")));
        assert_eq!(field("IssueEdge", "node").map(|f| f.ty), Some(Ty::Object("Issue")));
        assert!(field("IssueCommentConnection", "nodes").is_none());
        assert!(field("IssueCommentConnection", "totalCount").is_some());
        assert!(
            applies("Node", "Repository") && applies("Repository", "Repository") && !applies("Issue", "Repository")
        );
        assert!(overlaps("User", "Actor") && overlaps("Actor", "User") && !overlaps("Commit", "Repository"));
        assert!(known_type("CommitEdge") && !known_type("Nope"));
        // Two connections of repositories, each with its own edge type.
        assert_eq!(edge_of("RepositoryConnection"), Some("RepositoryEdge"));
        assert_eq!(
            field("StarredRepositoryConnection", "edges").map(|f| f.ty),
            Some(Ty::List("StarredRepositoryEdge"))
        );
        assert!(
            field("StarredRepositoryEdge", "starredAt").is_some() && field("RepositoryEdge", "starredAt").is_none()
        );
        assert_eq!(field("StarredRepositoryEdge", "node").map(|f| f.ty), Some(Ty::Object("Repository")));
        assert!(
            field("User", "starredRepositories").is_some() && field("Organization", "starredRepositories").is_none()
        );
        assert!(field("RepositoryOwner", "repositories").is_some() && field("Organization", "repositories").is_some());
        // Every type's fields are unique.
        for (t, fields) in TYPES {
            for (i, f) in fields.iter().enumerate() {
                assert!(fields[i + 1..].iter().all(|g| g.name != f.name), "{t}.{}", f.name);
            }
        }
    }
}
