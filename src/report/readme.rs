//! An awesome-list README of the crawled repositories: one section per category of the analysis,
//! each listing its best repositories by quality score (then stars) with stars, language, last
//! push and a one-line description. Descriptions come from GitHub's users: they are flattened to
//! one line and escaped, so none can break the list or inject markup.

use rusqlite::Connection;

/// One listed repository.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// `owner/name`.
    pub full_name: String,
    /// Stars.
    pub stars: u64,
    /// Primary language.
    pub language: Option<String>,
    /// Last push (`YYYY-MM-DD`).
    pub pushed: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Quality score.
    pub score: f64,
}

/// The categories and their top entries, best categories (most repositories) first.
pub fn entries(conn: &Connection, analyzer: &str, top: usize) -> rusqlite::Result<Vec<(String, u64, Vec<Entry>)>> {
    let mut categories = conn.prepare(
        "SELECT a.category, count(*) AS n FROM analyzed_repositories a JOIN repositories r ON r.id = a.repo_id
         WHERE a.analyzer = ?1 GROUP BY a.category ORDER BY n DESC, a.category",
    )?;
    let categories: Vec<(String, i64)> =
        categories.query_map([analyzer], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    let mut listing = conn.prepare(
        "SELECT r.full_name, coalesce(r.stargazers_count, 0), r.language, substr(r.pushed_at, 1, 10), r.description,
                a.score
         FROM analyzed_repositories a JOIN repositories r ON r.id = a.repo_id
         WHERE a.analyzer = ?1 AND a.category = ?2
         ORDER BY a.score DESC, r.stargazers_count DESC, r.full_name LIMIT ?3",
    )?;
    categories
        .into_iter()
        .map(|(category, count)| {
            let rows = listing.query_map(rusqlite::params![analyzer, category, top as i64], |r| {
                Ok(Entry {
                    full_name: r.get(0)?,
                    stars: r.get::<_, i64>(1)?.max(0) as u64,
                    language: r.get(2)?,
                    pushed: r.get(3)?,
                    description: r.get(4)?,
                    score: r.get(5)?,
                })
            })?;
            Ok((category, count as u64, rows.collect::<rusqlite::Result<_>>()?))
        })
        .collect()
}

/// Text safe in a Markdown list item: one line, Markdown and HTML characters escaped, at most
/// 200 characters.
pub fn escape(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut short: String = flat.chars().take(200).collect();
    if flat.chars().count() > 200 {
        short.push('…');
    }
    let mut out = String::with_capacity(short.len());
    for c in short.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '#' | '|' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// GitHub's heading anchor for a heading text (lowercase, spaces to dashes, punctuation dropped).
pub fn anchor(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Renders the README: a title, what it was made from, contents, one section per category.
pub fn render(
    categories: &[(String, u64, Vec<Entry>)],
    title: &str,
    data_as_of: Option<&str>,
    web_url: &str,
) -> String {
    let total: u64 = categories.iter().map(|(_, n, _)| n).sum();
    let mut text = format!("# {}\n\n", escape(title));
    text.push_str(&format!(
        "{total} repositories in {} categories, ranked by octoshard's quality score{}.\n\n## Contents\n\n",
        categories.len(),
        data_as_of.map(|at| format!(" (data as of {})", &at[..at.len().min(10)])).unwrap_or_default()
    ));
    for (category, count, _) in categories {
        let heading = heading(category);
        text.push_str(&format!("- [{}](#{}) ({count})\n", escape(&heading), anchor(&heading)));
    }
    for (category, _, entries) in categories {
        text.push_str(&format!("\n## {}\n\n", escape(&heading(category))));
        for e in entries {
            let mut facts = vec![format!("★ {}", e.stars)];
            facts.extend(e.language.as_deref().map(escape));
            facts.extend(e.pushed.as_deref().map(|p| format!("pushed {p}")));
            let description = e.description.as_deref().map(escape).filter(|d| !d.is_empty());
            text.push_str(&format!(
                "- [{}]({}/{}) ({}){}\n",
                escape(&e.full_name),
                web_url.trim_end_matches('/'),
                e.full_name,
                facts.join(" · "),
                description.map(|d| format!(" — {d}")).unwrap_or_default()
            ));
        }
    }
    text
}

/// A category name as a heading (`machine-learning` -> `Machine learning`).
fn heading(category: &str) -> String {
    let words = category.replace(['-', '_'], " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "Other".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_cannot_break_the_list() {
        assert_eq!(escape("a\n[b](c) <script>*x*"), "a \\[b\\]\\(c\\) &lt;script&gt;\\*x\\*");
        assert_eq!(escape(&"é".repeat(300)).chars().count(), 201);
        assert_eq!(anchor("Machine learning"), "machine-learning");
        assert_eq!(heading("machine-learning"), "Machine learning");
    }
}
