//! The default analyzer: deterministic rules, documented in docs/ANALYZE.md and printable as YAML
//! (`octoshard analyze --print-default-rules`), replaceable by a rules file (`--rules`).
//!
//! **Category.** Three passes over the ordered categories, the first match winning: a topic of
//! the repository listed by a category, then a keyword of a category found in the description
//! (case-insensitive, as whole words), then the repository's language. Topics are what the owner
//! chose, keywords what they wrote, the language only a hint, hence the order. No match: the
//! fallback category (`other`).
//!
//! **Score.** Each component is a number in 0..1, weighted; the score is the weighted mean times
//! 100, so it stays in 0..100 whatever the weights. Activity counts whole days from the day of the
//! newest `fetched_at` in the database (the reference day), never the wall clock, so the same
//! database gives the same scores on any day.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::input::Repository;

/// The rules format and scoring formulas this build implements; part of every analyzer version.
pub const RULES_FORMAT: &str = "rules-1";

/// A rule set: the categories in order, the fallback, the score weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Categories, in order: the first that matches (topics, then keywords, then language) wins.
    pub categories: Vec<Category>,
    /// The category of a repository no rule matches.
    #[serde(default = "default_fallback")]
    pub fallback: String,
    /// How the quality score is weighted.
    #[serde(default)]
    pub score: ScoreRules,
}

/// One category and what puts a repository in it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// Its name, stored in `analyzed_repositories.category`.
    pub name: String,
    /// Topics (exact, case-insensitive).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    /// Words or phrases of the description (case-insensitive, whole words).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// GitHub languages (exact, case-insensitive).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
}

/// The score's weights (any non-negative numbers; they are normalised to 100) and the points of
/// its scales.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoreRules {
    /// Stars, on a log scale: log10(stars + 1) / log10(stars_full + 1), at most 1.
    pub stars: f64,
    /// Stars that earn the whole stars weight.
    pub stars_full: u64,
    /// Forks, on a log scale like stars.
    pub forks: f64,
    /// Forks that earn the whole forks weight.
    pub forks_full: u64,
    /// Recent activity: 1 when pushed within `active_days` of the reference day, falling linearly
    /// to 0 at `inactive_days` (0 when never pushed).
    pub activity: f64,
    /// Days since the last push that still count as fully active.
    pub active_days: u32,
    /// Days since the last push that count as inactive.
    pub inactive_days: u32,
    /// A license is declared.
    pub license: f64,
    /// A description that is not blank.
    pub description: f64,
    /// At least one topic.
    pub topics: f64,
    /// Not archived.
    pub not_archived: f64,
    /// Not a fork.
    pub not_fork: f64,
    /// Few open issues for its audience: 1 - open_issues / (stars + 1), at least 0.
    pub issues: f64,
}

impl Default for ScoreRules {
    fn default() -> ScoreRules {
        ScoreRules {
            stars: 30.0,
            stars_full: 10_000,
            forks: 10.0,
            forks_full: 1_000,
            activity: 25.0,
            active_days: 90,
            inactive_days: 730,
            license: 10.0,
            description: 5.0,
            topics: 5.0,
            not_archived: 5.0,
            not_fork: 5.0,
            issues: 5.0,
        }
    }
}

fn default_fallback() -> String {
    "other".into()
}

/// `(name, topics, keywords, languages)` of a built-in category.
type DefaultCategory = (&'static str, &'static [&'static str], &'static [&'static str], &'static [&'static str]);

/// The built-in categories, in order.
const DEFAULT_CATEGORIES: &[DefaultCategory] = &[
    (
        "documentation",
        &["awesome-list", "awesome", "tutorial", "documentation", "docs", "book", "cheatsheet", "learning-resources"],
        &["awesome", "awesome list", "tutorial", "documentation", "cheatsheet", "cheat sheet", "curated list"],
        &["TeX"],
    ),
    (
        "machine-learning",
        &[
            "machine-learning",
            "deep-learning",
            "nlp",
            "ai",
            "artificial-intelligence",
            "neural-network",
            "computer-vision",
            "llm",
            "pytorch",
            "tensorflow",
        ],
        &["machine learning", "machine-learning", "deep learning", "deep-learning", "neural network", "llm", "nlp"],
        &[],
    ),
    (
        "security",
        &["security", "cybersecurity", "pentesting", "ctf", "cryptography", "infosec", "vulnerability", "malware"],
        &["security", "vulnerability", "exploit", "pentest", "pentesting", "malware", "encryption"],
        &[],
    ),
    (
        "devops",
        &[
            "devops",
            "docker",
            "kubernetes",
            "github-actions",
            "ci",
            "terraform",
            "ansible",
            "self-hosted",
            "infrastructure",
            "monitoring",
        ],
        &["devops", "docker", "kubernetes", "deployment", "ci/cd", "infrastructure", "monitoring", "self-hosted"],
        &["Dockerfile", "HCL", "Nix"],
    ),
    (
        "data",
        &["database", "data-science", "data", "sql", "etl", "analytics", "big-data", "visualization", "json"],
        &["database", "dataset", "data-science", "data science", "analytics", "sql", "etl", "crawler", "parser"],
        &["Jupyter Notebook", "R", "PLpgSQL", "TSQL"],
    ),
    (
        "mobile",
        &["android", "ios", "flutter", "react-native", "mobile", "swiftui"],
        &["android", "ios", "mobile app", "mobile"],
        &["Kotlin", "Swift", "Objective-C", "Dart"],
    ),
    (
        "game",
        &["game", "gamedev", "game-engine", "unity", "godot", "minecraft"],
        &["game", "games", "game engine"],
        &["GDScript", "ShaderLab"],
    ),
    (
        "web",
        &[
            "web", "react", "nodejs", "graphql", "http", "api", "vue", "angular", "frontend", "backend", "css", "html",
            "wasm",
        ],
        &["web", "web app", "website", "frontend", "backend", "http", "rest api", "dashboard", "react"],
        &["HTML", "CSS", "JavaScript", "TypeScript", "PHP", "Vue"],
    ),
    (
        "cli",
        &["cli", "terminal", "command-line", "shell", "dotfiles", "vim", "linux", "bash"],
        &["command-line", "command line", "cli", "terminal", "shell", "dotfiles", "scripts", "configuration"],
        &["Shell", "Vim Script", "Emacs Lisp", "PowerShell"],
    ),
    (
        "library",
        &["library", "sdk", "framework", "package", "crate", "compiler"],
        &["library", "toolkit", "framework", "sdk", "bindings", "package", "compiler"],
        &[],
    ),
];

impl Default for Rules {
    fn default() -> Rules {
        let strings = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
        Rules {
            categories: DEFAULT_CATEGORIES
                .iter()
                .map(|(name, topics, keywords, languages)| Category {
                    name: name.to_string(),
                    topics: strings(topics),
                    keywords: strings(keywords),
                    languages: strings(languages),
                })
                .collect(),
            fallback: default_fallback(),
            score: ScoreRules::default(),
        }
    }
}

/// How a category was chosen: which pass, which category, which value.
#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    /// The category.
    pub category: String,
    /// `topic`, `keyword`, `language` or `fallback`.
    pub by: &'static str,
    /// The topic, keyword or language that matched (empty for the fallback).
    pub value: String,
}

/// One component of the score.
#[derive(Clone, Debug, PartialEq)]
pub struct Component {
    /// Its name (the weight's name in [`ScoreRules`]).
    pub name: &'static str,
    /// The input it was computed from.
    pub input: Value,
    /// Its value, 0..1.
    pub value: f64,
    /// The points it earned of the score's 100.
    pub points: f64,
}

/// The verdict of the rules on one repository.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// The category and why.
    pub matched: Match,
    /// The score, 0..100, rounded to two decimals.
    pub score: f64,
    /// Every component of the score.
    pub components: Vec<Component>,
}

impl Verdict {
    /// The `signals` JSON: the category's match, each component (input, value, points) and the
    /// reference day.
    pub fn signals(&self, reference_day: &str) -> Value {
        let mut components = serde_json::Map::new();
        for c in &self.components {
            components.insert(
                c.name.into(),
                json!({"input": c.input, "value": round(c.value, 4), "points": round(c.points, 2)}),
            );
        }
        json!({
            "category": {"by": self.matched.by, "value": self.matched.value},
            "score": components,
            "reference_day": reference_day,
        })
    }
}

impl Rules {
    /// Reads and checks a rules file; the error is one line naming the problem (the caller adds
    /// the file's name).
    pub fn load(path: &Path) -> Result<Rules, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read it ({e})"))?;
        Rules::parse(&text)
    }

    /// Parses and checks rules from YAML text.
    pub fn parse(text: &str) -> Result<Rules, String> {
        let rules: Rules = serde_yaml::from_str(text).map_err(|e| one_line(&e.to_string()))?;
        rules.check()?;
        Ok(rules)
    }

    /// The rules as YAML, with a header saying what the file is; [`Rules::parse`] reads it back.
    pub fn to_yaml(&self) -> String {
        let body = serde_yaml::to_string(self).expect("rules serialize");
        format!(
            "# octoshard analyze rules ({RULES_FORMAT}): categories in order (topics, then description\n\
             # keywords, then language; first match wins), the fallback, and the score's weights.\n\
             # Use with `octoshard analyze --rules FILE`; see docs/ANALYZE.md.\n{body}"
        )
    }

    /// The analyzer version stored with every row: the format and a hash of these rules, so a
    /// changed rule re-analyses everything and the same rules (from any file) nothing.
    pub fn version(&self) -> String {
        let canonical = serde_yaml::to_string(self).expect("rules serialize");
        format!("{RULES_FORMAT}+{}", &super::input::sha256_hex(canonical.as_bytes())[..12])
    }

    /// Every category name a repository can get, the fallback last.
    pub fn category_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.categories.iter().map(|c| c.name.clone()).collect();
        names.push(self.fallback.clone());
        names
    }

    fn check(&self) -> Result<(), String> {
        if self.categories.is_empty() {
            return Err("`categories` is empty: give at least one".into());
        }
        let mut seen = BTreeSet::new();
        for category in &self.categories {
            let name = category.name.trim();
            if name.is_empty() || name != category.name {
                return Err(format!("category name `{}` is blank or has surrounding spaces", category.name));
            }
            if !seen.insert(name) || name == self.fallback {
                return Err(format!("category `{name}` is named twice (or is the fallback)"));
            }
            let lists = [&category.topics, &category.keywords, &category.languages];
            if lists.iter().flat_map(|l| l.iter()).any(|m| m.trim().is_empty()) {
                return Err(format!("category `{name}` has a blank topic, keyword or language"));
            }
            if lists.iter().all(|l| l.is_empty()) {
                return Err(format!("category `{name}` has no topics, keywords or languages: nothing can match it"));
            }
        }
        if self.fallback.trim().is_empty() {
            return Err("`fallback` is blank".into());
        }
        let s = &self.score;
        let weights = s.weights();
        if let Some((name, w)) = weights.iter().find(|(_, w)| !w.is_finite() || *w < 0.0) {
            return Err(format!("score weight `{name}` is {w}: weights are numbers of at least 0"));
        }
        if weights.iter().map(|(_, w)| w).sum::<f64>() <= 0.0 {
            return Err("the score weights are all 0".into());
        }
        if s.stars_full == 0 || s.forks_full == 0 {
            return Err("`stars_full` and `forks_full` must be at least 1".into());
        }
        if s.inactive_days <= s.active_days {
            return Err(format!(
                "`inactive_days` ({}) must be more than `active_days` ({})",
                s.inactive_days, s.active_days
            ));
        }
        Ok(())
    }

    /// The category of a repository: topics, then keywords, then language, each over the
    /// categories in order; the fallback when nothing matches.
    pub fn categorize(&self, repo: &Repository) -> Match {
        self.matcher().categorize(repo)
    }

    /// The rules' topics, keywords and languages lowercased once, for judging many repositories.
    pub fn matcher(&self) -> Matcher<'_> {
        let lower = |list: &[String]| list.iter().map(|m| m.to_lowercase()).collect();
        let lowered =
            self.categories.iter().map(|c| [lower(&c.topics), lower(&c.keywords), lower(&c.languages)]).collect();
        Matcher { rules: self, lowered }
    }

    /// The verdict on a repository (see [`Matcher::judge`]).
    pub fn judge(&self, repo: &Repository, reference_day: i64) -> Verdict {
        self.matcher().judge(repo, reference_day)
    }

    /// The score of a repository and its components, activity counted back from `reference_day`
    /// (days since the epoch).
    pub fn score_of(&self, repo: &Repository, reference_day: i64) -> (f64, Vec<Component>) {
        let s = &self.score;
        let log_share = |n: i64, full: u64| ((n.max(0) as f64 + 1.0).log10() / (full as f64 + 1.0).log10()).min(1.0);
        let flag = |on: bool| if on { 1.0 } else { 0.0 };
        let stars = repo.stars.unwrap_or(0);
        let forks = repo.forks.unwrap_or(0);
        let open_issues = repo.open_issues.unwrap_or(0).max(0);
        let days = repo.pushed_day().map(|d| reference_day - d);
        let activity = match days {
            None => 0.0,
            Some(d) if d <= i64::from(s.active_days) => 1.0,
            Some(d) if d >= i64::from(s.inactive_days) => 0.0,
            Some(d) => (f64::from(s.inactive_days) - d as f64) / f64::from(s.inactive_days - s.active_days),
        };
        let described = repo.description.as_deref().is_some_and(|d| !d.trim().is_empty());
        let values: [(&'static str, Value, f64); 9] = [
            ("stars", json!(stars), log_share(stars, s.stars_full)),
            ("forks", json!(forks), log_share(forks, s.forks_full)),
            ("activity", json!(days), activity),
            ("license", json!(repo.license), flag(repo.license.is_some())),
            ("description", json!(described), flag(described)),
            ("topics", json!(repo.topics.len()), flag(!repo.topics.is_empty())),
            ("not_archived", json!(!repo.archived), flag(!repo.archived)),
            ("not_fork", json!(!repo.fork), flag(!repo.fork)),
            ("issues", json!(open_issues), (1.0 - open_issues as f64 / (stars.max(0) as f64 + 1.0)).max(0.0)),
        ];
        let weights = s.weights();
        let total: f64 = weights.iter().map(|(_, w)| w).sum();
        let components: Vec<Component> = values
            .into_iter()
            .zip(weights)
            .map(|((name, input, value), (_, weight))| Component {
                name,
                input,
                value,
                points: weight / total * 100.0 * value,
            })
            .collect();
        let score = round(components.iter().map(|c| c.points).sum::<f64>(), 2).clamp(0.0, 100.0);
        (score, components)
    }
}

/// Whether a lowercased matcher matches the repository at hand.
type MatchFn<'a> = dyn Fn(&str) -> bool + 'a;

/// [`Rules`] ready to judge many repositories: the matchers lowercased once.
pub struct Matcher<'a> {
    rules: &'a Rules,
    /// Per category: topics, keywords, languages, lowercased.
    lowered: Vec<[Vec<String>; 3]>,
}

impl Matcher<'_> {
    /// The category of a repository: topics, then keywords, then language, each over the
    /// categories in order; the fallback when nothing matches. `value` is the rule's own spelling.
    pub fn categorize(&self, repo: &Repository) -> Match {
        let topics: Vec<String> = repo.topics.iter().map(|t| t.to_lowercase()).collect();
        let description = repo.description.as_deref().unwrap_or("").to_lowercase();
        let language = repo.language.as_deref().unwrap_or("").to_lowercase();
        let passes: [(&'static str, &MatchFn<'_>); 3] = [
            ("topic", &|t| topics.iter().any(|x| x == t)),
            ("keyword", &|k| contains_words(&description, k)),
            ("language", &|l| !language.is_empty() && l == language),
        ];
        for (pass, (by, matches)) in passes.iter().enumerate() {
            for (category, lowered) in self.rules.categories.iter().zip(&self.lowered) {
                if let Some(at) = lowered[pass].iter().position(|m| matches(m)) {
                    let original = [&category.topics, &category.keywords, &category.languages][pass];
                    return Match { category: category.name.clone(), by, value: original[at].clone() };
                }
            }
        }
        Match { category: self.rules.fallback.clone(), by: "fallback", value: String::new() }
    }

    /// The verdict on a repository: its category and score, activity counted back from
    /// `reference_day` (days since the epoch).
    pub fn judge(&self, repo: &Repository, reference_day: i64) -> Verdict {
        let (score, components) = self.rules.score_of(repo, reference_day);
        Verdict { matched: self.categorize(repo), score, components }
    }
}

impl ScoreRules {
    /// The weights by name, in the order of the components.
    fn weights(&self) -> [(&'static str, f64); 9] {
        [
            ("stars", self.stars),
            ("forks", self.forks),
            ("activity", self.activity),
            ("license", self.license),
            ("description", self.description),
            ("topics", self.topics),
            ("not_archived", self.not_archived),
            ("not_fork", self.not_fork),
            ("issues", self.issues),
        ]
    }
}

/// Whether `phrase` occurs in `text` as whole words (no letter or digit right before or after).
pub fn contains_words(text: &str, phrase: &str) -> bool {
    if phrase.is_empty() {
        return false;
    }
    let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    text.match_indices(phrase).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + phrase.len()..].chars().next();
        !word(before) && !word(after)
    })
}

fn round(value: f64, decimals: i32) -> f64 {
    let factor = 10f64.powi(decimals);
    (value * factor).round() / factor
}

/// serde_yaml's message on one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> Repository {
        Repository {
            id: 1,
            full_name: "o/n".into(),
            description: None,
            language: None,
            topics: Vec::new(),
            stars: Some(0),
            forks: Some(0),
            open_issues: Some(0),
            fork: false,
            archived: false,
            license: None,
            pushed_at: None,
        }
    }

    #[test]
    fn topics_win_over_keywords_and_keywords_over_language() {
        let rules = Rules::default();
        let mut r = repo();
        r.language = Some("JavaScript".into());
        assert_eq!((rules.categorize(&r).category.as_str(), rules.categorize(&r).by), ("web", "language"));
        r.description = Some("A tiny game for friends".into());
        assert_eq!((rules.categorize(&r).category.as_str(), rules.categorize(&r).by), ("game", "keyword"));
        r.topics = vec!["Kubernetes".into()];
        let m = rules.categorize(&r);
        assert_eq!((m.category.as_str(), m.by, m.value.as_str()), ("devops", "topic", "kubernetes"));
        // Among topics, the earlier category wins: an awesome list about machine learning is documentation.
        r.topics = vec!["machine-learning".into(), "awesome-list".into()];
        assert_eq!(rules.categorize(&r).category, "documentation");
        assert_eq!(rules.categorize(&repo()).category, "other");
        assert_eq!(rules.categorize(&repo()).by, "fallback");
    }

    #[test]
    fn keywords_match_whole_words_only() {
        assert!(contains_words("a web app", "web"));
        assert!(contains_words("web", "web"));
        assert!(contains_words("for machine-learning.", "machine-learning"));
        assert!(!contains_words("webpack bundles", "web"));
        assert!(!contains_words("a cobweb", "web"));
        assert!(contains_words("日本 game!", "game"));
        assert!(!contains_words("anything", ""));
        let mut r = repo();
        r.description = Some("Uses webpack".into());
        assert_eq!(Rules::default().categorize(&r).category, "other");
    }

    #[test]
    fn scores_add_their_weighted_components() {
        let rules = Rules::default();
        let nothing = rules.judge(&repo(), 20_000);
        // Not archived, not a fork, no open issues: 15 of 100.
        assert_eq!(nothing.score, 15.0);
        let mut r = repo();
        r.stars = Some(10_000);
        r.forks = Some(5_000);
        r.license = Some("MIT".into());
        r.description = Some("x".into());
        r.topics = vec!["t".into()];
        r.pushed_at = Some("2024-10-01T00:00:00Z".into());
        let reference = crate::time::epoch_seconds("2024-12-01T00:00:00Z").unwrap() as i64 / 86_400;
        let full = rules.judge(&r, reference);
        assert_eq!(full.score, 100.0);
        // Half way between active and inactive days: half the activity weight.
        r.pushed_at = Some("2024-01-01T00:00:00Z".into());
        let days = reference - crate::time::epoch_seconds("2024-01-01T00:00:00Z").unwrap() as i64 / 86_400;
        let expected = 75.0 + 25.0 * (730.0 - days as f64) / 640.0;
        assert!((rules.judge(&r, reference).score - expected).abs() < 0.01);
        // Stars on a log scale: 99 stars earn half the stars weight (log10(100) / log10(10001)).
        let mut r = repo();
        r.stars = Some(99);
        let stars = rules.judge(&r, 0).components.into_iter().find(|c| c.name == "stars").unwrap();
        assert!((stars.points - 30.0 * 2.0 / 10_001f64.log10()).abs() < 1e-9);
        // Open issues against the audience: 3 issues and 1 star is none of the issues weight.
        let mut r = repo();
        r.stars = Some(1);
        r.open_issues = Some(3);
        let issues = rules.judge(&r, 0).components.into_iter().find(|c| c.name == "issues").unwrap();
        assert_eq!(issues.value, 0.0);
    }

    #[test]
    fn weights_are_normalised_to_100() {
        let rules = Rules {
            score: ScoreRules {
                stars: 0.0,
                forks: 0.0,
                activity: 0.0,
                license: 1.0,
                description: 1.0,
                topics: 0.0,
                not_archived: 0.0,
                not_fork: 0.0,
                issues: 0.0,
                ..ScoreRules::default()
            },
            ..Rules::default()
        };
        let mut r = repo();
        r.license = Some("MIT".into());
        assert_eq!(rules.judge(&r, 0).score, 50.0);
    }

    #[test]
    fn the_default_rules_round_trip_through_yaml() {
        let rules = Rules::default();
        let text = rules.to_yaml();
        let back = Rules::parse(&text).unwrap();
        assert_eq!(back, rules);
        assert_eq!(back.version(), rules.version());
        assert!(rules.version().starts_with("rules-1+"));
        let mut changed = rules.clone();
        changed.score.license = 11.0;
        assert_ne!(changed.version(), rules.version());
    }

    #[test]
    fn bad_rules_are_refused_in_one_line() {
        for (text, says) in [
            ("categories: []", "empty"),
            ("categories:\n  - name: a\n    topic: [x]\n", "unknown field `topic`"),
            ("categories:\n  - name: a\n    topics: [x]\nscore:\n  stars: -1\n", "weight `stars`"),
            ("categories:\n  - name: a\n    topics: [x]\n  - name: a\n    topics: [y]\n", "named twice"),
            ("categories:\n  - name: a\n", "nothing can match"),
            (
                "categories:\n  - name: a\n    topics: [x]\nscore:\n  active_days: 10\n  inactive_days: 5\n",
                "inactive_days",
            ),
            ("nonsense: [", ""),
        ] {
            let error = Rules::parse(text).unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
            assert!(!error.contains('\n'), "{error}");
        }
        let minimal = Rules::parse("categories:\n  - name: a\n    languages: [Rust]\n").unwrap();
        assert_eq!(minimal.fallback, "other");
        assert_eq!(minimal.score, ScoreRules::default());
    }
}
