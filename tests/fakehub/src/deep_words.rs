//! Vocabulary for deep data: labels, workflow names, titles, commit messages,
//! branch names and people's names. Kept apart from `words.rs` (repository
//! names and descriptions) so each list stays short to read.

/// Labels a repository may define (each repository picks a handful).
pub(crate) const LABELS: &[&str] = &[
    "bug",
    "enhancement",
    "documentation",
    "good first issue",
    "help wanted",
    "question",
    "wontfix",
    "duplicate",
    "invalid",
    "dependencies",
    "needs triage",
    "priority: high",
    "priority: low",
    "performance",
    "security",
    "breaking change",
    "area/api",
    "area/cli",
    "stale",
    "🐛 regression",
];

/// Workflow names (and file stems).
pub(crate) const WORKFLOWS: &[(&str, &str)] = &[
    ("CI", "ci"),
    ("Release", "release"),
    ("Docs", "docs"),
    ("Lint", "lint"),
    ("Tests", "tests"),
    ("CodeQL", "codeql"),
    ("Deploy", "deploy"),
    ("Nightly", "nightly"),
];

pub(crate) const ISSUE_OPENERS: &[&str] = &[
    "Crash when",
    "Error while",
    "Feature request:",
    "Support for",
    "Question about",
    "Unexpected behaviour with",
    "Docs: explain",
    "Panic on",
    "Slow",
    "Cannot build",
];

pub(crate) const PULL_VERBS: &[&str] =
    &["Fix", "Add", "Update", "Remove", "Refactor", "Support", "Improve", "Document", "Bump", "Simplify"];

pub(crate) const THINGS: &[&str] = &[
    "the parser",
    "config loading",
    "CLI flags",
    "README",
    "error messages",
    "the cache",
    "Windows paths",
    "unicode input",
    "the HTTP client",
    "tests",
    "CI workflow",
    "logging",
    "dependencies",
    "the build script",
    "empty input",
    "large files",
    "timeouts",
    "the docs site",
];

pub(crate) const BRANCH_PREFIXES: &[&str] = &["fix/", "feature/", "patch-", "dependabot/npm_and_yarn/", "docs/", ""];

pub(crate) const FIRST_NAMES: &[&str] =
    &["Alex", "Sam", "Maria", "Jun", "Priya", "Lukas", "Fatima", "Chen", "Olga", "Diego", "Amara", "Noah"];

pub(crate) const LAST_NAMES: &[&str] =
    &["Smith", "García", "Müller", "Wang", "Kumar", "Okafor", "Rossi", "Nowak", "Silva", "Kim", "Dubois"];

pub(crate) const BODY_LINES: &[&str] = &[
    "Closes an old issue.",
    "Signed-off-by: a contributor",
    "Co-authored-by: someone <someone@example.com>",
    "This keeps the old behaviour behind a flag.",
    "See the discussion in the tracker.",
];
