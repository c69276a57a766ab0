//! `GET /search/repositories` and its ground truth [`Universe::search`].
//! Matching scans a packed per-repository index (lowercased name and
//! description, numbers, owner and language indices) built on first use; a
//! `created:` range narrows the scan by binary search because `created_at`
//! increases with the id. Deleted repositories never match (hidden ones are
//! not in the universe at all). Sorting: `sort=stars|forks|updated` with
//! `order=desc` (default) or `asc`, ties by id ascending; without `sort` (or an
//! unknown one) "best match" is id ascending. Only the first 1000 results of a
//! query can be paged to (422 beyond); `total_count` is the true count.

use crate::http::{Request, Response};
use crate::json_write;
use crate::paging;
use crate::query::{self, Forks, IN_DESCRIPTION, IN_NAME, IN_TOPICS, Query, QueryError};
use crate::routes::Ctx;
use crate::universe::{Owner, Repo, Universe};
use crate::words;
use serde_json::json;
use std::fmt::Write as _;

/// Results beyond this many are unavailable, as on GitHub.
pub(crate) const RESULT_CAP: usize = 1000;
const DOC: &str = "https://docs.github.com/v3/search/";
const UNKNOWN_OWNER: &str = "The listed users and repositories cannot be searched either because the resources do not exist or you do not have permission to view them.";

const NO_LANGUAGE: u8 = u8::MAX;
const SEPARATOR: char = '\0';
const FORK: u8 = 1;
const ARCHIVED: u8 = 2;
const DELETED: u8 = 4;

#[derive(Clone, Copy, Debug)]
struct Row {
    created: i64,
    pushed: i64,
    /// `updated_at` as u32 epoch seconds (sort key only).
    updated: u32,
    stars: u32,
    forks: u32,
    size: u32,
    owner: u32,
    /// Name at `text[name..desc - 1]`, description at `text[desc..end]`; each
    /// is followed by `SEPARATOR`, so no word match spans two fields.
    name: u32,
    desc: u32,
    end: u32,
    lang: u8,
    flags: u8,
}

/// Packed search fields of every repository (parallel to `Universe::repos`).
pub(crate) struct SearchIndex {
    rows: Vec<Row>,
    text: String,
    /// `created` ascending with the index (always, for generated universes).
    created_sorted: bool,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").field("rows", &self.rows.len()).finish_non_exhaustive()
    }
}

/// A parsed query resolved against a universe.
struct Compiled<'q> {
    q: &'q Query,
    /// Bit i = `words::LANGUAGES[i]`; None = any language.
    languages: Option<u64>,
    /// Sorted owner indices; None = any owner.
    owners: Option<Vec<u32>>,
}

impl SearchIndex {
    pub(crate) fn build(repos: &[Repo], owners: &[Owner]) -> SearchIndex {
        let mut owner_of = vec![0u32; repos.len()];
        for (o, owner) in owners.iter().enumerate() {
            for &r in &owner.repo_indices {
                if let Some(slot) = owner_of.get_mut(r as usize) {
                    *slot = o as u32;
                }
            }
        }
        let mut text = String::with_capacity(repos.len() * 48);
        let rows: Vec<Row> = repos
            .iter()
            .zip(owner_of)
            .map(|(r, owner)| {
                let name = text.len() as u32;
                text.push_str(&r.name().to_lowercase());
                text.push(SEPARATOR);
                let desc = text.len() as u32;
                if let Some(d) = &r.description {
                    text.push_str(&d.to_lowercase().replace(SEPARATOR, " "));
                }
                let lang = r
                    .language
                    .and_then(|l| words::LANGUAGES.iter().position(|&(name, _)| name == l))
                    .map_or(NO_LANGUAGE, |i| i as u8);
                let flags = if r.fork { FORK } else { 0 }
                    | if r.archived { ARCHIVED } else { 0 }
                    | if r.deleted { DELETED } else { 0 };
                let row = Row {
                    created: r.created_at.0,
                    pushed: r.pushed_at.0,
                    updated: r.updated_at.0.clamp(0, i64::from(u32::MAX)) as u32,
                    stars: r.stargazers_count,
                    forks: r.forks_count,
                    size: r.size,
                    owner,
                    name,
                    desc,
                    end: text.len() as u32,
                    lang,
                    flags,
                };
                text.push(SEPARATOR);
                row
            })
            .collect();
        let created_sorted = rows.windows(2).all(|w| w[0].created <= w[1].created);
        SearchIndex { rows, text, created_sorted }
    }

    fn compile<'q>(&self, universe: &Universe, q: &'q Query) -> Result<Compiled<'q>, QueryError> {
        let languages = (!q.languages.is_empty()).then(|| {
            words::LANGUAGES
                .iter()
                .enumerate()
                .filter(|(_, (name, _))| q.languages.contains(&query::normalize_language(name)))
                .fold(0u64, |mask, (i, _)| mask | (1 << i))
        });
        let owners = if q.owners.is_empty() {
            None
        } else {
            let mut found = Vec::with_capacity(q.owners.len());
            for login in &q.owners {
                let index = universe.owner_index(login).ok_or_else(|| QueryError::Invalid(UNKNOWN_OWNER.into()))?;
                found.push(index as u32);
            }
            found.sort_unstable();
            Some(found)
        };
        Ok(Compiled { q, languages, owners })
    }

    fn matches(&self, repos: &[Repo], i: usize, c: &Compiled) -> bool {
        let row = &self.rows[i];
        let q = c.q;
        let within = |v: i64, (lo, hi): (i64, i64)| lo <= v && v <= hi;
        if row.flags & DELETED != 0
            || match q.forks {
                Forks::Exclude => row.flags & FORK != 0,
                Forks::Include => false,
                Forks::Only => row.flags & FORK == 0,
            }
            || q.archived.is_some_and(|a| a != (row.flags & ARCHIVED != 0))
            || !within(row.created, q.created)
            || !within(row.pushed, q.pushed)
            || !within(i64::from(row.stars), q.stars)
            || !within(i64::from(row.forks), q.forks_count)
            || !within(i64::from(row.size), q.size)
            || c.languages.is_some_and(|mask| row.lang == NO_LANGUAGE || mask & (1 << row.lang) == 0)
            || c.owners.as_ref().is_some_and(|o| o.binary_search(&row.owner).is_err())
        {
            return false;
        }
        q.topics.is_empty() || {
            let topics = &repos[i].topics;
            q.topics.iter().all(|t| topics.iter().any(|have| have.eq_ignore_ascii_case(t)))
        }
    }

    /// Which rows of `lo..hi` hold `word` in their name or description (as
    /// `fields` allows): one pass of the substring searcher over the rows'
    /// text, jumping to the next row after a hit.
    fn word_hits(&self, lo: usize, hi: usize, word: &str, fields: u8) -> Vec<bool> {
        let mut hits = vec![false; hi - lo];
        if lo >= hi || word.contains(SEPARATOR) || fields & (IN_NAME | IN_DESCRIPTION) == 0 {
            return hits;
        }
        let step = word.chars().next().map_or(1, char::len_utf8);
        let end = self.rows[hi - 1].end as usize;
        let (mut pos, mut row) = (self.rows[lo].name as usize, lo);
        while let Some(found) = self.text[pos..end].find(word) {
            let at = pos + found;
            while (self.rows[row].end as usize) < at {
                row += 1;
            }
            let in_name = at < self.rows[row].desc as usize;
            if fields & (if in_name { IN_NAME } else { IN_DESCRIPTION }) != 0 {
                hits[row - lo] = true;
                if row + 1 >= hi {
                    break;
                }
                row += 1;
                pos = self.rows[row].name as usize;
            } else {
                pos = at + step;
            }
        }
        hits
    }

    /// Indices (into `repos`) of every match, ascending.
    fn matching(&self, universe: &Universe, q: &Query) -> Result<Vec<u32>, QueryError> {
        let c = self.compile(universe, q)?;
        if q.private_only || q.created.0 > q.created.1 {
            return Ok(Vec::new());
        }
        let (lo, hi) = if self.created_sorted {
            let lo = self.rows.partition_point(|r| r.created < q.created.0);
            (lo, self.rows.partition_point(|r| r.created <= q.created.1).max(lo))
        } else {
            (0, self.rows.len())
        };
        let repos = universe.repos();
        let mut found: Vec<u32> = (lo..hi).filter(|&i| self.matches(repos, i, &c)).map(|i| i as u32).collect();
        if q.words.is_empty() {
            return Ok(found);
        }
        let in_topics = |i: usize, w: &str| q.fields & IN_TOPICS != 0 && repos[i].topics.iter().any(|t| t.contains(w));
        if found.len() * 2 < hi - lo {
            // Per candidate costs about what the whole-text pass costs per row.
            found
                .retain(|&i| q.words.iter().all(|w| self.row_has(i as usize, w, q.fields) || in_topics(i as usize, w)));
        } else {
            let hits: Vec<Vec<bool>> = q.words.iter().map(|w| self.word_hits(lo, hi, w, q.fields)).collect();
            found.retain(|&i| {
                let i = i as usize;
                q.words.iter().zip(&hits).all(|(w, hits)| hits[i - lo] || in_topics(i, w))
            });
        }
        Ok(found)
    }

    /// Whether row `i` holds `word` in its name or description (as `fields` allows).
    fn row_has(&self, i: usize, word: &str, fields: u8) -> bool {
        let row = &self.rows[i];
        (fields & IN_NAME != 0 && self.text[row.name as usize..row.desc as usize - 1].contains(word))
            || (fields & IN_DESCRIPTION != 0 && self.text[row.desc as usize..row.end as usize].contains(word))
    }
}

/// `sort=` of a repository search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sort {
    BestMatch,
    Stars,
    Forks,
    Updated,
}

impl Sort {
    fn parse(value: Option<&str>) -> Sort {
        match value.map(str::to_ascii_lowercase).as_deref() {
            Some("stars") => Sort::Stars,
            Some("forks") => Sort::Forks,
            Some("updated") => Sort::Updated,
            _ => Sort::BestMatch,
        }
    }
}

/// Order `matches` (ascending indices) so that at least the first `need` are
/// final. Sort keys (value, then index) come from the packed rows.
fn order(index: &SearchIndex, matches: &mut [u32], sort: Sort, ascending: bool, need: usize) {
    if sort == Sort::BestMatch || need == 0 {
        return;
    }
    let mut keys: Vec<u64> = matches
        .iter()
        .map(|&i| {
            let row = &index.rows[i as usize];
            let value = match sort {
                Sort::Stars => row.stars,
                Sort::Forks => row.forks,
                _ => row.updated,
            };
            let v = if ascending { value } else { u32::MAX - value };
            (u64::from(v) << 32) | u64::from(i)
        })
        .collect();
    if need < keys.len() {
        keys.select_nth_unstable(need - 1);
        keys[..need].sort_unstable();
    } else {
        keys.sort_unstable();
    }
    for (slot, key) in matches.iter_mut().zip(keys) {
        *slot = key as u32;
    }
}

impl Universe {
    /// Ground truth of a repository search query (the `q` of
    /// `/search/repositories`, decoded): every match in id order, ignoring the
    /// 1000-result cap. `Err` carries the message of the 422 the API would give.
    pub fn search(&self, q: &str) -> Result<Vec<&Repo>, String> {
        let query = query::parse(q).map_err(|e| e.to_string())?;
        let matches = self.search_index().matching(self, &query).map_err(|e| e.to_string())?;
        Ok(matches.into_iter().map(|i| &self.repos()[i as usize]).collect())
    }

    /// `search(q)?.len()`, i.e. the `total_count` the API reports.
    pub fn search_count(&self, q: &str) -> Result<usize, String> {
        self.search(q).map(|r| r.len())
    }
}

fn validation_failed(error: &QueryError) -> Response {
    let detail = match error {
        QueryError::Missing => json!({"resource": "Search", "field": "q", "code": "missing"}),
        QueryError::Invalid(message) => {
            json!({"message": message, "resource": "Search", "field": "q", "code": "invalid"})
        }
    };
    Response::json(
        422,
        &json!({"message": "Validation Failed", "errors": [detail], "documentation_url": DOC, "status": "422"}),
    )
}

/// `GET /search/repositories`.
pub(crate) fn search_repositories(request: &Request, ctx: &Ctx) -> Response {
    let parsed = query::parse(request.query_param("q").unwrap_or(""));
    let index = ctx.universe.search_index();
    let mut matches = match parsed.and_then(|q| index.matching(ctx.universe, &q)) {
        Ok(matches) => matches,
        Err(error) => return validation_failed(&error),
    };
    let (page, per_page) = paging::params(request);
    let start = (page - 1).saturating_mul(per_page);
    if start >= RESULT_CAP {
        return Response::json(
            422,
            &json!({"message": "Only the first 1000 search results are available", "documentation_url": DOC, "status": "422"}),
        );
    }
    let total = matches.len();
    let available = total.min(RESULT_CAP);
    let end = (start + per_page).min(available);
    let ascending = request.query_param("order").is_some_and(|o| o.eq_ignore_ascii_case("asc"));
    let repos = ctx.universe.repos();
    order(index, &mut matches, Sort::parse(request.query_param("sort")), ascending, end);
    let page_items = matches.get(start..end).unwrap_or_default();
    let mut body = String::with_capacity(64 + page_items.len() * 5200);
    let _ = write!(body, "{{\"total_count\":{total},\"incomplete_results\":false,\"items\":");
    json_write::array(&mut body, page_items, |out, &i| {
        json_write::listed_repo(out, ctx.base, &repos[i as usize], true)
    });
    body.push('}');
    let mut response = Response::json_bytes(200, body.into_bytes());
    let url = format!("{}/search/repositories", ctx.link_base);
    if let Some(link) = paging::link(&url, &request.query, page, available.div_ceil(per_page)) {
        response.set_header("link", link);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::universe::UniverseConfig;

    fn universe() -> Universe {
        Universe::generate(&UniverseConfig {
            repos: 6000,
            seed: 3,
            hidden_fraction: 0.3,
            deleted_fraction: 0.05,
            ..Default::default()
        })
    }

    type Predicate<'a> = Box<dyn Fn(&Repo) -> bool + 'a>;

    /// The obvious, slow definition of a match.
    fn naive(u: &Universe, pred: impl Fn(&Repo) -> bool) -> Vec<&Repo> {
        u.repos().iter().filter(|r| !r.deleted && pred(r)).collect()
    }

    fn ids(repos: &[&Repo]) -> Vec<u64> {
        repos.iter().map(|r| r.id).collect()
    }

    #[test]
    fn matches_agree_with_a_naive_filter() {
        let u = universe();
        let day = |s: &str| query::parse(&format!("created:{s}")).map(|q| q.created).unwrap_or(query::ANY);
        let (lo, hi) = (day("2012-01-01").0, day("2015-06-30").1);
        let owner = &u.owners()[1];
        let cases: Vec<(String, Predicate)> = vec![
            ("is:public".into(), Box::new(|r: &Repo| !r.fork)),
            ("fork:true".into(), Box::new(|_: &Repo| true)),
            ("fork:only".into(), Box::new(|r: &Repo| r.fork)),
            ("language:rust".into(), Box::new(|r: &Repo| !r.fork && r.language == Some("Rust"))),
            (
                "language:\"jupyter notebook\" language:c#".into(),
                Box::new(|r: &Repo| !r.fork && matches!(r.language, Some("Jupyter Notebook" | "C#"))),
            ),
            (
                "created:2012-01-01..2015-06-30 stars:>=2".into(),
                Box::new(move |r: &Repo| {
                    !r.fork && lo <= r.created_at.0 && r.created_at.0 <= hi && r.stargazers_count >= 2
                }),
            ),
            (
                "created:<2012-01-01 archived:true fork:true".into(),
                Box::new(move |r: &Repo| r.created_at.0 < lo && r.archived),
            ),
            ("pushed:>2025-06-01".into(), Box::new(|r: &Repo| !r.fork && r.pushed_at.0 >= 1_748_822_400)),
            (format!("user:{} fork:true", owner.login.to_uppercase()), Box::new(|r: &Repo| r.owner_id == owner.id)),
            (
                "CLI tool".into(),
                Box::new(|r: &Repo| {
                    let name = r.name().to_lowercase();
                    let desc = r.description.as_deref().unwrap_or("").to_lowercase();
                    !r.fork && ["cli", "tool"].iter().all(|w| name.contains(w) || desc.contains(w))
                }),
            ),
            ("in:name cli".into(), Box::new(|r: &Repo| !r.fork && r.name().to_lowercase().contains("cli"))),
            (
                "language:python web in:name,description".into(),
                Box::new(|r: &Repo| {
                    let text = format!("{}\0{}", r.name(), r.description.as_deref().unwrap_or("")).to_lowercase();
                    !r.fork && r.language == Some("Python") && text.split('\0').any(|f| f.contains("web"))
                }),
            ),
            (
                "in:description,topics rust".into(),
                Box::new(|r: &Repo| {
                    let desc = r.description.as_deref().unwrap_or("").to_lowercase();
                    !r.fork && (desc.contains("rust") || r.topics.iter().any(|t| t.contains("rust")))
                }),
            ),
            (
                "in:topics fork:only learn".into(),
                Box::new(|r: &Repo| r.fork && r.topics.iter().any(|t| t.contains("learn"))),
            ),
            (
                "\"blazing fast\"".into(),
                Box::new(|r: &Repo| {
                    !r.fork && r.description.as_deref().is_some_and(|d| d.to_lowercase().contains("blazing fast"))
                }),
            ),
            ("topic:rust".into(), Box::new(|r: &Repo| !r.fork && r.topics.contains(&"rust"))),
            ("is:private".into(), Box::new(|_: &Repo| false)),
            ("created:2015-01-01..2014-01-01".into(), Box::new(|_: &Repo| false)),
        ];
        for (q, pred) in cases {
            let got = u.search(&q).unwrap_or_else(|e| panic!("{q}: {e}"));
            let want = naive(&u, pred);
            assert_eq!(ids(&got), ids(&want), "{q}");
        }
        assert!(u.search("language:rust").is_ok_and(|r| !r.is_empty()));
        assert!(u.search("language:python web").is_ok_and(|r| !r.is_empty()));
        assert!(u.search("\"blazing fast\"").is_ok_and(|r| !r.is_empty()));
        assert!(u.search("user:no-such-login-xyz").is_err());
        assert!(u.search("wat:1").is_err());
    }

    #[test]
    fn ordering_is_deterministic_with_id_ties() {
        let u = universe();
        let all: Vec<u32> = (0..u.repos().len() as u32).collect();
        for (sort, ascending) in
            [(Sort::Stars, false), (Sort::Stars, true), (Sort::Forks, false), (Sort::Updated, true)]
        {
            let mut full = all.clone();
            let n = full.len();
            order(u.search_index(), &mut full, sort, ascending, n);
            let mut partial = all.clone();
            order(u.search_index(), &mut partial, sort, ascending, 250);
            assert_eq!(full[..250], partial[..250]);
            let value = |i: u32| {
                let r = &u.repos()[i as usize];
                match sort {
                    Sort::Stars => i64::from(r.stargazers_count),
                    Sort::Forks => i64::from(r.forks_count),
                    _ => r.updated_at.0,
                }
            };
            for w in full.windows(2) {
                let (a, b) = (value(w[0]), value(w[1]));
                assert!(if ascending { a <= b } else { a >= b });
                if a == b {
                    assert!(w[0] < w[1], "ties by id ascending");
                }
            }
        }
    }
}
