//! The executor: walks the selection sets over runtime objects ([`Obj`]),
//! collecting fields per the GraphQL spec (fragments whose type condition
//! applies, `@skip`/`@include`, fields with the same response key merged),
//! and writes the response in query order with aliases. Field errors are
//! recorded with their `path`; a failing connection (bad paging arguments)
//! makes its enclosing object `null` (connections are non-null in GitHub's
//! schema, so the null moves up to the nearest nullable place: a list item or
//! an object field), the rest of the answer stays.

use super::args::{Field, FragmentDefinition, Selection, SelectionSet, Vars, included, key, location};
use super::connection::Conn;
use super::schema;
use crate::deep::{Account, Deep};
use crate::universe::{License, Owner, Repo, Universe};
use graphql_parser::query::TypeCondition;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// A runtime object the executor can select fields of.
pub(crate) enum Obj<'a> {
    Query,
    RateLimit,
    Repository(&'a Repo),
    /// The repository's owner (a User or an Organization).
    Owner(&'a Repo),
    /// A user account (an author or committer of deep data).
    User(Account),
    /// A user or organization of the universe, looked up by login or node id:
    /// its type (`User` / `Organization`) is the owner's, so `__typename` and
    /// `... on Organization` tell them apart.
    Account(&'a Owner),
    Language(&'static str),
    License(&'static License),
    /// A `RepositoryTopic` (wrapping its `Topic`).
    RepositoryTopic(&'static str),
    Topic(&'static str),
    /// The default branch of a repository that has one.
    Ref(&'a Repo),
    /// Commit `index` of the default branch.
    Commit(&'a Repo, Arc<Deep>, usize),
    /// A commit off the default branch (a pull request's merge commit): oid and date only.
    MergeCommit(&'a Repo, Arc<Deep>, usize),
    /// The author (`true`) or committer of commit `index`.
    GitActor(Arc<Deep>, usize, bool),
    Issue(&'a Repo, Arc<Deep>, usize),
    PullRequest(&'a Repo, Arc<Deep>, usize),
    Label(&'a Repo, &'static str),
    Connection(Box<Conn<'a>>),
    PageInfo {
        has_next: bool,
        has_prev: bool,
        start: Option<String>,
        end: Option<String>,
    },
}

impl Obj<'_> {
    /// The concrete GraphQL type.
    pub fn typename(&self) -> &'static str {
        match self {
            Obj::Query => "Query",
            Obj::RateLimit => "RateLimit",
            Obj::Repository(_) => "Repository",
            Obj::Owner(r) => r.owner_type.as_str(),
            Obj::User(_) => "User",
            Obj::Account(owner) => owner.owner_type.as_str(),
            Obj::Language(_) => "Language",
            Obj::License(_) => "License",
            Obj::RepositoryTopic(_) => "RepositoryTopic",
            Obj::Topic(_) => "Topic",
            Obj::Ref(..) => "Ref",
            Obj::Commit(..) | Obj::MergeCommit(..) => "Commit",
            Obj::GitActor(..) => "GitActor",
            Obj::Issue(..) => "Issue",
            Obj::PullRequest(..) => "PullRequest",
            Obj::Label(..) => "Label",
            Obj::Connection(c) => c.type_name,
            Obj::PageInfo { .. } => "PageInfo",
        }
    }
}

/// A field error made the enclosing object null.
#[derive(Debug)]
pub(crate) struct Bubble;

/// Result of resolving one field.
pub(crate) type Resolved = Result<Value, Bubble>;

/// Fields grouped by response key, in query order.
pub(crate) type Grouped<'q> = Vec<(&'q str, Vec<&'q Field>)>;

/// Execution state of one query.
pub(crate) struct Exec<'q, 'u> {
    pub universe: &'u Universe,
    pub vars: &'q Vars,
    pub fragments: HashMap<&'q str, &'q FragmentDefinition>,
    /// Field errors so far.
    pub errors: Vec<Value>,
    /// Objects returned in connections and `nodes(ids:)` lists.
    pub returned: u64,
    /// The `rateLimit` object (every field).
    pub rate: Value,
    /// Whether next-format node ids resolve (`Options::legacy_ids_only` off).
    pub next_ids: bool,
}

impl<'q, 'u> Exec<'q, 'u> {
    /// Record an error at `path`.
    pub fn error(&mut self, path: &[Value], field: &Field, kind: Option<&str>, message: String) {
        let mut e = Map::new();
        if let Some(kind) = kind {
            e.insert("type".into(), json!(kind));
        }
        e.insert("path".into(), Value::Array(path.to_vec()));
        e.insert("locations".into(), json!([location(field.position)]));
        e.insert("message".into(), json!(message));
        self.errors.push(Value::Object(e));
    }

    fn collect(&self, sets: &[&'q SelectionSet], runtime: &str, out: &mut Grouped<'q>, depth: usize) {
        if depth > 64 {
            return;
        }
        for set in sets {
            for selection in &set.items {
                match selection {
                    Selection::Field(f) => {
                        if !included(&f.directives, self.vars) {
                            continue;
                        }
                        let k = key(f);
                        match out.iter_mut().find(|(existing, _)| *existing == k) {
                            Some((_, group)) => group.push(f),
                            None => out.push((k, vec![f])),
                        }
                    }
                    Selection::InlineFragment(fragment) => {
                        let applies = match &fragment.type_condition {
                            Some(TypeCondition::On(t)) => schema::applies(t, runtime),
                            None => true,
                        };
                        if applies && included(&fragment.directives, self.vars) {
                            self.collect(&[&fragment.selection_set], runtime, out, depth + 1);
                        }
                    }
                    Selection::FragmentSpread(spread) => {
                        let Some(fragment) = self.fragments.get(spread.fragment_name.as_str()) else { continue };
                        let TypeCondition::On(t) = &fragment.type_condition;
                        if schema::applies(t, runtime) && included(&spread.directives, self.vars) {
                            self.collect(&[&fragment.selection_set], runtime, out, depth + 1);
                        }
                    }
                }
            }
        }
    }

    /// The fields selected on an object of type `runtime`, grouped by response key.
    pub fn group(&self, sets: &[&'q SelectionSet], runtime: &str) -> Grouped<'q> {
        let mut grouped = Vec::new();
        self.collect(sets, runtime, &mut grouped, 0);
        grouped
    }

    /// The selected fields of `obj`; Err when a field error nulls it.
    pub fn object(&mut self, obj: &Obj<'u>, sets: &[&'q SelectionSet], path: &mut Vec<Value>) -> Resolved {
        let mut map = Map::new();
        for (k, group) in self.group(sets, obj.typename()) {
            let field = group[0];
            let subs: Vec<&'q SelectionSet> = group.iter().map(|f| &f.selection_set).collect();
            path.push(json!(k));
            let value = if field.name == "__typename" {
                Ok(json!(obj.typename()))
            } else {
                super::resolve::field(self, obj, field, &subs, path)
            };
            path.pop();
            map.insert(k.to_string(), value?);
        }
        Ok(Value::Object(map))
    }

    /// An object in a nullable place: `None` and bubbled errors are `null`.
    pub fn nullable(&mut self, obj: Option<Obj<'u>>, sets: &[&'q SelectionSet], path: &mut Vec<Value>) -> Value {
        match obj {
            Some(obj) => self.object(&obj, sets, path).unwrap_or(Value::Null),
            None => Value::Null,
        }
    }

    /// Whether the merged selection asks for any of `names` (fragments included).
    pub fn asks(&self, sets: &[&'q SelectionSet], runtime: &str, names: &[&str]) -> bool {
        self.group(sets, runtime).iter().any(|(_, group)| names.contains(&group[0].name.as_str()))
    }
}
