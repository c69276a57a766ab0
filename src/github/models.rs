//! The parts of GitHub's JSON shapes that octoshard reads. Unknown fields are ignored (GitHub adds
//! fields freely); missing required fields are an error with the URL.

use serde::Deserialize;

/// An item of `GET /repositories`: GitHub's "minimal repository" (no stars, language or dates).
#[derive(Clone, Debug, Deserialize)]
pub struct MinimalRepository {
    /// Repository id.
    pub id: u64,
    /// GraphQL node id.
    #[serde(default)]
    pub node_id: Option<String>,
    /// Name.
    pub name: String,
    /// `owner/name`.
    pub full_name: String,
    /// Owner.
    pub owner: Owner,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Is a fork.
    #[serde(default)]
    pub fork: bool,
}

/// A user or organization as embedded in other objects.
#[derive(Clone, Debug, Deserialize)]
pub struct Owner {
    /// Login.
    pub login: String,
}
