//! Files changed by commits, and comparisons of two commits of the default
//! branch: the ground truth behind `GET /repos/{owner}/{repo}/compare/{basehead}`
//! (`rest_compare.rs`).
//!
//! Every repository has a seeded pool of 5-40 paths (`README.md`, a few
//! usual files, sources with its language's extension; the first ones are
//! touched most). Every commit changes 1-4 of them, chosen from its sha
//! alone, with seeded line counts. Statuses follow the history from the
//! first commit on: a path not present is `added`, a present one is
//! `modified` or (6%) `removed`. Advances only add commits on top, so what
//! an old commit changed never changes.
//!
//! A comparison `base...head` is `git log base..head` in chronological order
//! plus the three-dot diff (merge base to head), as GitHub computes them.
//! The default branch is linear, so `status` is `ahead` (head is newer),
//! `behind` (older: no commits, no files) or `identical`, never `diverged`.
//! The diff holds one entry per path changed by the commits in (base, head]:
//! `modified` (its additions and deletions summed over the commits), `added`
//! (all of its lines at head), `removed` (all of its lines at base); a path
//! added and removed again within the range is left out, as git does.
//! Entries are sorted by path, like git's diff.

use crate::deep::Deep;
use crate::hash::{mix, mix_all, sha};
use crate::universe::{Repo, Universe, skewed, weighted};
use crate::words;
use fastrand::Rng;
use std::collections::{BTreeMap, HashMap};

/// What a commit or a comparison did to a file (REST `status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileStatus {
    Added,
    Modified,
    Removed,
}

impl FileStatus {
    /// `added` / `modified` / `removed`.
    pub fn rest(self) -> &'static str {
        match self {
            FileStatus::Added => "added",
            FileStatus::Modified => "modified",
            FileStatus::Removed => "removed",
        }
    }
}

/// One changed file (REST's "diff entry").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileChange {
    pub filename: String,
    pub status: FileStatus,
    pub additions: u32,
    pub deletions: u32,
    /// The file's blob: after the change, or the removed one.
    pub sha: String,
}

impl FileChange {
    /// `additions + deletions` (REST `changes`).
    pub fn changes(&self) -> u32 {
        self.additions + self.deletions
    }
}

/// `ahead`, `behind` or `identical` (the default branch is linear: never `diverged`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CompareStatus {
    Ahead,
    Behind,
    Identical,
}

impl CompareStatus {
    pub fn rest(self) -> &'static str {
        match self {
            CompareStatus::Ahead => "ahead",
            CompareStatus::Behind => "behind",
            CompareStatus::Identical => "identical",
        }
    }
}

/// A comparison of two commits of the default branch. Indices are into
/// `Deep::commits` (newest first) of the repository's deep data as it is now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    pub status: CompareStatus,
    pub ahead_by: usize,
    pub behind_by: usize,
    pub base: usize,
    pub head: usize,
    /// The older of the two.
    pub merge_base: usize,
    /// The commits in (base, head], oldest first (REST `total_commits` is their number).
    pub commits: Vec<usize>,
    /// Every file changed from the merge base to head, by path (REST shows the first 300).
    pub files: Vec<FileChange>,
}

impl Universe {
    /// The files commit `sha` (a full sha of the default branch) changed, by
    /// path; `None` for unknown, hidden or deleted repositories, unknown
    /// commits and when deep data is off.
    pub fn commit_files(&self, repo_id: u64, sha: &str) -> Option<Vec<FileChange>> {
        let repo = self.visible(repo_id)?;
        let deep = self.deep(repo_id)?;
        let index = deep.commits.iter().position(|c| c.sha == sha)?;
        Some(history(self.config().seed, repo, &deep).swap_remove(index))
    }

    /// What `GET /repos/{o}/{r}/compare/{base}...{head}` compares: `base`
    /// and `head` are full shas, prefixes of at least 7 hex digits, or the
    /// default branch's name. `None` when either is unknown, for unknown,
    /// hidden or deleted repositories and when deep data is off (REST: 404).
    pub fn compare(&self, repo_id: u64, base: &str, head: &str) -> Option<Comparison> {
        let repo = self.visible(repo_id)?;
        let deep = self.deep(repo_id)?;
        let (base, head) = (resolve(repo, &deep, base)?, resolve(repo, &deep, head)?);
        Some(comparison(self.config().seed, repo, &deep, base, head))
    }
}

/// The commit a ref names: the default branch's name, or a sha (7 to 40 hex digits, any case).
pub(crate) fn resolve(repo: &Repo, deep: &Deep, name: &str) -> Option<usize> {
    if deep.commits.is_empty() {
        return None;
    }
    if name == repo.default_branch {
        return Some(0);
    }
    let lower = name.to_ascii_lowercase();
    if !(7..=40).contains(&lower.len()) || !lower.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    deep.commits.iter().position(|c| c.sha.starts_with(&lower))
}

/// Compare commits `base` and `head` (indices into `deep.commits`).
pub(crate) fn comparison(seed: u64, repo: &Repo, deep: &Deep, base: usize, head: usize) -> Comparison {
    let merge_base = base.max(head);
    let (status, ahead_by, behind_by) = match head.cmp(&base) {
        std::cmp::Ordering::Less => (CompareStatus::Ahead, base - head, 0),
        std::cmp::Ordering::Greater => (CompareStatus::Behind, 0, head - base),
        std::cmp::Ordering::Equal => (CompareStatus::Identical, 0, 0),
    };
    let commits: Vec<usize> = (head..base).rev().collect();
    let files = if commits.is_empty() { Vec::new() } else { diff(&history(seed, repo, deep), &commits) };
    Comparison { status, ahead_by, behind_by, base, head, merge_base, commits, files }
}

/// The net change of `commits` (indices into `per_commit`, oldest first).
fn diff(per_commit: &[Vec<FileChange>], commits: &[usize]) -> Vec<FileChange> {
    struct Net {
        existed: bool,
        exists: bool,
        additions: i64,
        deletions: i64,
        sha: String,
    }
    let mut net: BTreeMap<&str, Net> = BTreeMap::new();
    for &i in commits {
        for f in &per_commit[i] {
            let entry = net.entry(f.filename.as_str()).or_insert_with(|| Net {
                existed: f.status != FileStatus::Added,
                exists: true,
                additions: 0,
                deletions: 0,
                sha: String::new(),
            });
            entry.exists = f.status != FileStatus::Removed;
            entry.additions += i64::from(f.additions);
            entry.deletions += i64::from(f.deletions);
            entry.sha.clone_from(&f.sha);
        }
    }
    net.into_iter()
        .filter_map(|(filename, n)| {
            let lines = |x: i64| u32::try_from(x.max(0)).unwrap_or(u32::MAX);
            let (status, additions, deletions) = match (n.existed, n.exists) {
                (true, true) => (FileStatus::Modified, lines(n.additions), lines(n.deletions)),
                (false, true) => (FileStatus::Added, lines(n.additions - n.deletions), 0),
                (true, false) => (FileStatus::Removed, 0, lines(n.deletions - n.additions)),
                (false, false) => return None,
            };
            Some(FileChange { filename: filename.to_string(), status, additions, deletions, sha: n.sha })
        })
        .collect()
}

/// The files each commit changed, parallel to `deep.commits` (newest first).
pub(crate) fn history(seed: u64, repo: &Repo, deep: &Deep) -> Vec<Vec<FileChange>> {
    let paths = pool(seed, repo);
    let n = deep.commits.len();
    let mut out = vec![Vec::new(); n];
    // Present paths: (lines, blob sha).
    let mut present: HashMap<usize, (u32, String)> = HashMap::new();
    for k in (0..n).rev() {
        let seq = (n - 1 - k) as u64;
        let mut changes: Vec<FileChange> = touched(&deep.commits[k].sha, paths.len())
            .into_iter()
            .map(|(path, additions, deletions, roll)| {
                let blob = sha(&[seed, repo.id, path as u64, seq, 0xB10B]);
                let filename = paths[path].clone();
                match present.get(&path).cloned() {
                    None => {
                        present.insert(path, (additions, blob.clone()));
                        FileChange { filename, status: FileStatus::Added, additions, deletions: 0, sha: blob }
                    }
                    Some((lines, old_blob)) if roll < 0.06 && present.len() > 1 => {
                        present.remove(&path);
                        FileChange {
                            filename,
                            status: FileStatus::Removed,
                            additions: 0,
                            deletions: lines,
                            sha: old_blob,
                        }
                    }
                    Some((lines, _)) => {
                        let deletions = deletions.min(lines);
                        let additions = if additions == 0 && deletions == 0 { 1 } else { additions };
                        present.insert(path, (lines + additions - deletions, blob.clone()));
                        FileChange { filename, status: FileStatus::Modified, additions, deletions, sha: blob }
                    }
                }
            })
            .collect();
        changes.sort_by(|a, b| a.filename.cmp(&b.filename));
        out[k] = changes;
    }
    out
}

/// (path index, additions, deletions, roll) of the 1-4 paths a commit touches, from its sha.
fn touched(commit_sha: &str, pool: usize) -> Vec<(usize, u32, u32, f64)> {
    let h = commit_sha.get(..16).and_then(|s| u64::from_str_radix(s, 16).ok()).unwrap_or(0);
    let mut rng = Rng::with_seed(mix(h, 0xF11E5));
    let count = weighted(&mut rng, &[(1usize, 50), (2, 30), (3, 15), (4, 5)]).min(pool);
    let mut out: Vec<(usize, u32, u32, f64)> = Vec::with_capacity(count);
    while out.len() < count {
        let path = (rng.f64().powf(1.6) * pool as f64) as usize % pool;
        if out.iter().all(|t| t.0 != path) {
            let additions = 1 + skewed(&mut rng, 0.0, 1.0, 2000);
            let deletions = skewed(&mut rng, 0.3, 1.0, 2000);
            out.push((path, additions, deletions, rng.f64()));
        }
    }
    out
}

/// The file extension of a language's sources.
fn extension(language: Option<&str>) -> &'static str {
    match language {
        Some("JavaScript") => "js",
        Some("Python") => "py",
        Some("Java") => "java",
        Some("TypeScript") => "ts",
        Some("HTML") => "html",
        Some("C++") => "cpp",
        Some("C#") => "cs",
        Some("PHP") => "php",
        Some("Go") => "go",
        Some("C") => "c",
        Some("Ruby") => "rb",
        Some("Shell") => "sh",
        Some("CSS") => "css",
        Some("Jupyter Notebook") => "ipynb",
        Some("Rust") => "rs",
        Some("Kotlin") => "kt",
        Some("Swift") => "swift",
        Some("Objective-C") => "m",
        Some("Vim Script") => "vim",
        Some("Emacs Lisp") => "el",
        Some("Haskell") => "hs",
        Some("F#") => "fs",
        _ => "txt",
    }
}

/// The repository's paths, most often touched first.
fn pool(seed: u64, repo: &Repo) -> Vec<String> {
    let mut rng = Rng::with_seed(mix_all(&[seed, repo.id, 0xF11E]));
    let ext = extension(repo.language);
    let sources = rng.usize(3..=34);
    let mut paths: Vec<String> = Vec::with_capacity(sources + 6);
    let dirs = ["src", "src", "lib", "app", "tests", "examples", "scripts", "pkg"];
    while paths.len() < sources {
        let dir = dirs[rng.usize(..dirs.len())];
        let word = words::NAME_WORDS[rng.usize(..words::NAME_WORDS.len())];
        let path = if rng.f64() < 0.15 { format!("{word}.{ext}") } else { format!("{dir}/{word}.{ext}") };
        if !paths.contains(&path) {
            paths.push(path);
        }
    }
    let at = rng.usize(..=paths.len().min(2));
    paths.insert(at, "README.md".to_string());
    for extra in [".gitignore", "LICENSE", "docs/index.md", ".github/workflows/ci.yml", "CHANGELOG.md"] {
        if rng.f64() < 0.5 {
            paths.push(extra.to_string());
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::universe::UniverseConfig;

    #[test]
    fn histories_are_consistent_and_stable() {
        let u = Universe::generate(&UniverseConfig::new(400, 2));
        let mut compared = 0;
        for r in u.repos().iter().filter(|r| !r.deleted && !r.is_empty()) {
            let deep = u.deep(r.id).expect("deep");
            let per = history(u.config().seed, r, &deep);
            assert_eq!(per.len(), deep.commits.len());
            for files in &per {
                assert!((1..=4).contains(&files.len()));
                assert!(files.windows(2).all(|w| w[0].filename < w[1].filename));
            }
            // The first commit only adds.
            assert!(per.last().is_some_and(|f| f.iter().all(|c| c.status == FileStatus::Added)));
            // Walking the whole history keeps every status possible.
            let mut present = std::collections::HashSet::new();
            for files in per.iter().rev() {
                for f in files {
                    match f.status {
                        FileStatus::Added => assert!(present.insert(f.filename.clone())),
                        FileStatus::Modified => assert!(present.contains(&f.filename)),
                        FileStatus::Removed => assert!(present.remove(&f.filename)),
                    }
                }
            }
            // From the first commit to the head: one entry per path, by path.
            let n = deep.commits.len();
            if n >= 2 {
                let all = comparison(u.config().seed, r, &deep, n - 1, 0);
                assert_eq!((all.ahead_by, all.commits.len(), all.status), (n - 1, n - 1, CompareStatus::Ahead));
                assert!(all.files.windows(2).all(|w| w[0].filename < w[1].filename));
                compared += 1;
            }
        }
        assert!(compared > 100);
    }
}
