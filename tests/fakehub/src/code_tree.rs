//! A repository's files at a commit of its default branch: the ground truth
//! behind `GET .../git/trees/{sha}` (`rest_code.rs`) and the tarballs
//! (`tarball.rs`, served by `codeload.rs`).
//!
//! The files are the paths `compare.rs` has the commits add, modify and
//! remove, with the same blob shas, so a tree agrees with `/compare` and a
//! push changes some files while an unchanged head keeps every byte. Sizes
//! (0 bytes to about 6 KB) come from the blob sha; contents are text lines
//! seeded by (repository id, blob sha, path). Scripts (`*.sh`, `scripts/*`)
//! are executable (100755). About one repository in eight also has a
//! symlink (mode 120000, type blob, size = its target's length) since its
//! first commit. A big archive (`Options::big_archives`) adds
//! `assets/big-{id}.bin` of pseudo-random bytes sized so that the `.tar.gz`
//! is about the asked size. Tree shas are git's (SHA-1 of the tree object
//! over the entries), so equal trees have equal shas.

use crate::compare::{self, FileStatus};
use crate::deep::Deep;
use crate::hash::{mix, mix_all, sha, unit};
use crate::time::Timestamp;
use crate::universe::{Repo, Universe};
use std::collections::BTreeMap;

/// A blob's git mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    File,
    Exec,
    Link,
}

impl Mode {
    /// `100644`, `100755`, `120000`.
    pub fn git(self) -> &'static str {
        match self {
            Mode::File => "100644",
            Mode::Exec => "100755",
            Mode::Link => "120000",
        }
    }
}

/// How a blob's bytes are made (`tarball.rs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Content {
    /// Text lines from this seed.
    Text(u64),
    /// Incompressible bytes from this seed (big archives).
    Random(u64),
    /// A symlink to this target (its bytes are the target).
    Link(String),
}

/// A tree entry's kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Tree,
    Blob { mode: Mode, size: u64, content: Content },
}

/// One entry of a recursive listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Relative to the root, no trailing slash.
    pub path: String,
    pub sha: String,
    pub kind: Kind,
}

impl Entry {
    pub fn is_tree(&self) -> bool {
        self.kind == Kind::Tree
    }
}

/// A commit's whole tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CodeTree {
    pub commit_sha: String,
    /// The commit's committer date (the tar entries' mtime).
    pub committed_at: Timestamp,
    /// The root tree's sha.
    pub sha: String,
    /// Every directory and blob below the root, depth first in git's order
    /// (a directory right before its contents), like `git ls-tree -r -t`.
    pub entries: Vec<Entry>,
}

impl CodeTree {
    /// Blobs (symlinks included).
    pub fn blobs(&self) -> impl Iterator<Item = (&Entry, Mode, u64)> {
        self.entries.iter().filter_map(|e| match &e.kind {
            Kind::Blob { mode, size, .. } => Some((e, *mode, *size)),
            Kind::Tree => None,
        })
    }

    /// The entries under the directory at `index` (or the root for `None`),
    /// with paths relative to it: all of them, or only its direct children.
    pub fn listing(&self, dir: Option<usize>, recursive: bool) -> Vec<Entry> {
        let (start, prefix) = match dir {
            None => (0, String::new()),
            Some(i) => (i + 1, format!("{}/", self.entries[i].path)),
        };
        self.entries[start..]
            .iter()
            .take_while(|e| e.path.starts_with(&prefix))
            .filter_map(|e| {
                let rest = &e.path[prefix.len()..];
                (recursive || !rest.contains('/')).then(|| Entry { path: rest.to_string(), ..e.clone() })
            })
            .collect()
    }
}

/// Why there is no tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Missing {
    /// The repository has no commits (REST 409 "Git Repository is empty.").
    Empty,
    /// Unknown repository, ref or sha (REST 404).
    NotFound,
}

/// Ground truth of a repository's head: what a crawler downloading its code should record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotTruth {
    /// The default branch's head (40 hex digits).
    pub commit_sha: String,
    /// Its committer date: GraphQL `committedDate`, every tar entry's mtime.
    pub committed_at: Timestamp,
    /// Blobs, symlinks included (the tree's `type: blob` entries).
    pub file_count: usize,
    /// Sum of the blobs' `size` (a symlink counts its target's length).
    pub size_bytes: u64,
    /// Tree entries, directories included (what `?recursive=1` lists untruncated).
    pub entries: usize,
}

/// Symlinks some repositories have: (path, target).
const LINKS: [(&str, &str); 3] = [("README", "README.md"), ("docs/latest", "index.md"), ("current", "src")];
const BIG_DIR: &str = "assets";

/// The commit a ref names: the default branch (`main`, `refs/heads/main`,
/// `heads/main`, `HEAD`) or a commit sha (7 to 40 hex digits).
pub(crate) fn resolve(repo: &Repo, deep: &Deep, name: &str) -> Option<usize> {
    let branch = name.strip_prefix("refs/heads/").or_else(|| name.strip_prefix("heads/")).unwrap_or(name);
    if name == "HEAD" || branch == repo.default_branch {
        return (!deep.commits.is_empty()).then_some(0);
    }
    compare::resolve(repo, deep, name)
}

/// The tree of commit `commit` (an index into `deep.commits`).
pub(crate) fn build(seed: u64, repo: &Repo, deep: &Deep, commit: usize, big: Option<u64>) -> CodeTree {
    let per_commit = compare::history(seed, repo, deep);
    let mut present = BTreeMap::new();
    for files in per_commit[commit..].iter().rev() {
        apply(&mut present, files);
    }
    assemble(seed, repo, deep, commit, &present, big)
}

/// The commit whose tree is, or contains, the tree `tree_sha`: (tree, index of
/// the directory entry or `None` for the root). Heads first, then older commits.
pub(crate) fn find_tree(
    seed: u64,
    repo: &Repo,
    deep: &Deep,
    tree_sha: &str,
    big: Option<u64>,
) -> Option<(CodeTree, Option<usize>)> {
    let hit = |tree: CodeTree| -> Option<(CodeTree, Option<usize>)> {
        if tree.sha == tree_sha {
            return Some((tree, None));
        }
        let at = tree.entries.iter().position(|e| e.is_tree() && e.sha == tree_sha)?;
        Some((tree, Some(at)))
    };
    if let Some(found) = hit(build(seed, repo, deep, 0, big)) {
        return Some(found);
    }
    let per_commit = compare::history(seed, repo, deep);
    let mut present = BTreeMap::new();
    for commit in (1..per_commit.len()).rev() {
        apply(&mut present, &per_commit[commit]);
        if let Some(found) = hit(assemble(seed, repo, deep, commit, &present, big)) {
            return Some(found);
        }
    }
    None
}

fn apply(present: &mut BTreeMap<String, String>, files: &[compare::FileChange]) {
    for f in files {
        if f.status == FileStatus::Removed {
            present.remove(&f.filename);
        } else {
            present.insert(f.filename.clone(), f.sha.clone());
        }
    }
}

/// The big file's target bytes of a repository in `Options::big_archives`.
pub(crate) fn big_bytes(big_archives: &[(u64, u64)], repo_id: u64) -> Option<u64> {
    big_archives.iter().find(|(id, _)| *id == repo_id).map(|&(_, bytes)| bytes)
}

/// The first 64 bits of a hex sha.
pub(crate) fn sha_bits(hex: &str) -> u64 {
    hex.get(..16).and_then(|s| u64::from_str_radix(s, 16).ok()).unwrap_or(0)
}

fn path_hash(path: &str) -> u64 {
    path.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3))
}

/// A text blob's size from its sha: 4% empty, most under 2 KB, at most about 6 KB.
fn text_size(repo_id: u64, blob: &str) -> u64 {
    let h = mix(repo_id, sha_bits(blob));
    if unit(mix(h, 0x512E)) < 0.04 {
        return 0;
    }
    let v = unit(mix(h, 0x512F));
    (1.0 + v * v * v * 6000.0) as u64
}

fn mode_of(path: &str) -> Mode {
    if path.ends_with(".sh") || path.starts_with("scripts/") { Mode::Exec } else { Mode::File }
}

/// Blobs present at `commit` -> the tree.
fn assemble(
    seed: u64,
    repo: &Repo,
    deep: &Deep,
    commit: usize,
    present: &BTreeMap<String, String>,
    big: Option<u64>,
) -> CodeTree {
    let mut files: Vec<(String, String, Mode, u64, Content)> = present
        .iter()
        .map(|(path, blob)| {
            let content = Content::Text(mix_all(&[repo.id, sha_bits(blob), path_hash(path)]));
            (path.clone(), blob.clone(), mode_of(path), text_size(repo.id, blob), content)
        })
        .collect();
    let link = mix_all(&[seed, repo.id, 0x5E11]);
    if unit(link) < 0.125 {
        let (path, target) = LINKS[(link % LINKS.len() as u64) as usize];
        if !present.keys().any(|p| p == path || p.starts_with(&format!("{path}/"))) {
            let blob = sha(&[seed, repo.id, 0x5E11]);
            files.push((path.into(), blob, Mode::Link, target.len() as u64, Content::Link(target.into())));
        }
    }
    if let Some(bytes) = big {
        let other = crate::tarball::tar_bytes_of(files.iter().map(|f| (f.0.as_str(), f.2, f.3)));
        let size = big_file_size(bytes, other);
        let blob = sha(&[seed, repo.id, 0xB16, bytes]);
        let seed = mix_all(&[repo.id, sha_bits(&blob), 0xB16]);
        files.push((format!("{BIG_DIR}/big-{}.bin", repo.id), blob, Mode::File, size, Content::Random(seed)));
    }
    let mut root = Dir::default();
    for (path, blob, mode, size, content) in files {
        root.insert(&path, Kind::Blob { mode, size, content }, blob);
    }
    let mut entries = Vec::new();
    let sha = root.emit("", &mut entries);
    let head = &deep.commits[commit];
    CodeTree { commit_sha: head.sha.clone(), committed_at: head.committer.date, sha, entries }
}

/// The big file's size for a `.tar.gz` of about `target` bytes: stored
/// (gzip's 18 bytes, 5 per block of at most 65,535 bytes) next to `other`
/// tar bytes, its own header and about half a record of trailer.
fn big_file_size(target: u64, other: u64) -> u64 {
    let block = crate::tarball::STORED_BLOCK as u64;
    let overhead = 18 + 5 + 512 + 10_240 / 2 + target.div_ceil(block) * 5;
    target.saturating_sub(other + overhead)
}

#[derive(Default)]
struct Dir {
    /// By git's sort key (a directory's name sorts as `name/`).
    children: BTreeMap<String, Node>,
}

enum Node {
    Dir(String, Dir),
    Blob(String, Kind, String),
}

impl Dir {
    fn insert(&mut self, path: &str, kind: Kind, blob: String) {
        match path.split_once('/') {
            None => {
                self.children.insert(path.to_string(), Node::Blob(path.to_string(), kind, blob));
            }
            Some((dir, rest)) => {
                let node = self
                    .children
                    .entry(format!("{dir}/"))
                    .or_insert_with(|| Node::Dir(dir.to_string(), Dir::default()));
                if let Node::Dir(_, sub) = node {
                    sub.insert(rest, kind, blob);
                }
            }
        }
    }

    /// Append this directory's entries (under `prefix`) depth first; returns its tree sha.
    fn emit(&self, prefix: &str, out: &mut Vec<Entry>) -> String {
        let mut object = Vec::new();
        for node in self.children.values() {
            let (mode, name, sha) = match node {
                Node::Dir(name, dir) => {
                    let path = format!("{prefix}{name}");
                    let at = out.len();
                    out.push(Entry { path: path.clone(), sha: String::new(), kind: Kind::Tree });
                    let sha = dir.emit(&format!("{path}/"), out);
                    out[at].sha.clone_from(&sha);
                    ("40000", name, sha)
                }
                Node::Blob(name, kind, sha) => {
                    out.push(Entry { path: format!("{prefix}{name}"), sha: sha.clone(), kind: kind.clone() });
                    let mode = match kind {
                        Kind::Blob { mode, .. } => mode.git(),
                        Kind::Tree => "40000",
                    };
                    (mode, name, sha.clone())
                }
            };
            object.extend_from_slice(format!("{mode} {name}\0").as_bytes());
            object.extend(
                (0..20).map(|i| u8::from_str_radix(sha.get(2 * i..2 * i + 2).unwrap_or("00"), 16).unwrap_or(0)),
            );
        }
        git_object_sha("tree", &object)
    }
}

/// Git's object id: SHA-1 of `{kind} {len}\0{body}`.
fn git_object_sha(kind: &str, body: &[u8]) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
    ctx.update(format!("{kind} {}\0", body.len()).as_bytes());
    ctx.update(body);
    ctx.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

impl Universe {
    /// The tree a ref or sha names in a visible repository with commits, and the
    /// directory entry when `name` is a subtree's sha. `big`: the big file's target bytes.
    pub(crate) fn code_tree(
        &self,
        repo: &Repo,
        name: &str,
        big: Option<u64>,
    ) -> Result<(CodeTree, Option<usize>), Missing> {
        let deep = self.deep(repo.id).filter(|d| !d.commits.is_empty()).ok_or(Missing::Empty)?;
        let seed = self.config().seed;
        if let Some(commit) = resolve(repo, &deep, name) {
            return Ok((build(seed, repo, &deep, commit, big), None));
        }
        // A tree's sha (git accepts any tree-ish here); only full ones.
        let full = name.len() == 40 && name.bytes().all(|b| b.is_ascii_hexdigit());
        if !full {
            return Err(Missing::NotFound);
        }
        find_tree(seed, repo, &deep, &name.to_ascii_lowercase(), big).ok_or(Missing::NotFound)
    }

    /// The tree of the commit a ref or commit sha names (what an archive is made of).
    pub(crate) fn commit_tree(&self, repo: &Repo, name: &str, big: Option<u64>) -> Result<CodeTree, Missing> {
        let deep = self.deep(repo.id).filter(|d| !d.commits.is_empty()).ok_or(Missing::Empty)?;
        let commit = resolve(repo, &deep, name).ok_or(Missing::NotFound)?;
        Ok(build(self.config().seed, repo, &deep, commit, big))
    }

    /// The current head's tree of a visible repository, `None` when it is
    /// empty (or deep data is off).
    pub(crate) fn head_tree(&self, repo_id: u64, big_archives: &[(u64, u64)]) -> Option<CodeTree> {
        let repo = self.visible(repo_id)?;
        self.commit_tree(repo, "HEAD", big_bytes(big_archives, repo_id)).ok()
    }

    /// Ground truth of the current head's code of a repository (no big
    /// archives): `None` for unknown, hidden, deleted and empty
    /// repositories (and when deep data is off: there are no commits).
    pub fn snapshot(&self, repo_id: u64) -> Option<SnapshotTruth> {
        self.snapshot_with(repo_id, &[])
    }

    /// [`Universe::snapshot`] with `Options::big_archives` applied.
    pub fn snapshot_with(&self, repo_id: u64, big_archives: &[(u64, u64)]) -> Option<SnapshotTruth> {
        let tree = self.head_tree(repo_id, big_archives)?;
        let (file_count, size_bytes) = tree.blobs().fold((0, 0), |(n, s), (_, _, size)| (n + 1, s + size));
        Some(SnapshotTruth {
            file_count,
            size_bytes,
            entries: tree.entries.len(),
            commit_sha: tree.commit_sha,
            committed_at: tree.committed_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UniverseConfig;

    #[test]
    fn trees_are_stable_and_consistent() {
        let u = Universe::generate(&UniverseConfig::new(300, 4));
        let (mut links, mut execs, mut empty_files, mut nested) = (0, 0, 0, 0);
        for r in u.repos().iter().filter(|r| !r.deleted) {
            let Some(tree) = u.head_tree(r.id, &[]) else {
                assert!(r.is_empty(), "only empty repositories have no tree");
                continue;
            };
            assert_eq!(Some(tree.clone()), u.head_tree(r.id, &[]));
            assert_eq!(tree.commit_sha, u.deep(r.id).unwrap().commits[0].sha);
            assert_eq!(tree.committed_at, r.pushed_at);
            assert!(tree.blobs().count() >= 1 && tree.entries.len() <= 60);
            // Directories come right before their contents, and exist for every nested path.
            for (i, e) in tree.entries.iter().enumerate() {
                if let Some((dir, _)) = e.path.rsplit_once('/') {
                    let parent = tree.entries[..i].iter().rposition(|p| p.path == dir);
                    assert!(parent.is_some_and(|p| tree.entries[p].is_tree()), "{} has its directory", e.path);
                    nested += 1;
                }
            }
            for (e, mode, size) in tree.blobs() {
                links += usize::from(mode == Mode::Link);
                execs += usize::from(mode == Mode::Exec);
                empty_files += usize::from(size == 0);
                if let Kind::Blob { content: Content::Link(target), .. } = &e.kind {
                    assert_eq!(target.len() as u64, size);
                }
            }
            // The root tree's sha and every subtree's sha find their tree again.
            let found = u.code_tree(r, &tree.sha, None).expect("root sha");
            assert_eq!((found.0.sha.as_str(), found.1), (tree.sha.as_str(), None));
            if let Some(d) = tree.entries.iter().position(Entry::is_tree) {
                let (_, at) = u.code_tree(r, &tree.entries[d].sha, None).expect("subtree sha");
                assert_eq!(tree.entries[at.unwrap()].sha, tree.entries[d].sha);
            }
        }
        assert!(links > 5 && execs > 0 && empty_files > 0 && nested > 100, "{links} {execs} {empty_files} {nested}");
    }

    #[test]
    fn a_push_changes_the_tree() {
        let u = Universe::generate(&UniverseConfig::new(200, 9));
        let before: Vec<(u64, CodeTree)> =
            u.repos().iter().filter_map(|r| Some((r.id, u.head_tree(r.id, &[])?))).collect();
        let done = u.advance(1, 0.5, 3);
        let mut changed = 0;
        for (id, tree) in &before {
            let now = u.head_tree(*id, &[]).expect("still there");
            if done.pushed.contains(id) {
                assert_ne!(now.commit_sha, tree.commit_sha);
                assert_ne!(now.sha, tree.sha, "a push changes some file");
                // The old commit's tree is still served by its sha.
                let r = u.get(*id).unwrap();
                assert_eq!(u.code_tree(r, &tree.commit_sha, None).map(|t| t.0), Ok(tree.clone()));
                changed += 1;
            } else {
                assert_eq!(&now, tree);
            }
        }
        assert!(changed > 20);
    }
}
