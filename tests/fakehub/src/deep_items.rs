//! Makers of single deep items (an issue, a pull request, a commit, a run)
//! for one repository, shared by the initial generation ([`crate::deep_gen`])
//! and by [`crate::advance`]. Authors come from the universe's users; about
//! 3% of issue and pull request authors are deleted accounts (`None`).

use crate::deep::{
    Account, Commit, Conclusion, Contributor, GitActor, Issue, Pull, Run, RunStatus, State, StateReason, WEB_FLOW_ID,
    WEB_FLOW_LOGIN, Workflow, issue_id, pull_id,
};
use crate::deep_words as w;
use crate::hash;
use crate::time::Timestamp;
use crate::universe::{OwnerType, Repo, Universe, skewed, weighted};
use fastrand::Rng;
use std::collections::HashMap;

/// 2022-06-01: issues closed before this may have no `state_reason` (it did not exist yet).
const STATE_REASON_SINCE: i64 = 1_654_041_600;

pub(crate) fn pick<T: Copy>(rng: &mut Rng, list: &[T]) -> T {
    list[rng.usize(..list.len())]
}

/// What item makers need to know about the repository.
pub(crate) struct Gen<'a> {
    pub u: &'a Universe,
    pub repo: &'a Repo,
    /// Commit authors (linked accounts), most active first.
    pub team: Vec<Account>,
    pub labels: Vec<&'static str>,
}

impl<'a> Gen<'a> {
    /// The account of owner `index`.
    pub fn account(&self, index: u32) -> Account {
        let owner = &self.u.owners()[index as usize];
        Account { login: owner.login.clone(), id: owner.id }
    }

    /// Any user of the universe (skewed towards the first ones), if there is one.
    pub fn random_user(&self, rng: &mut Rng) -> Option<Account> {
        let users = self.u.user_indices();
        if users.is_empty() {
            return None;
        }
        let x = rng.f64();
        Some(self.account(users[((x * x) * users.len() as f64) as usize % users.len()]))
    }

    /// The repository owner's account when it is a user.
    pub fn owner_account(&self) -> Option<Account> {
        (self.repo.owner_type == OwnerType::User)
            .then(|| Account { login: self.repo.owner_login().to_string(), id: self.repo.owner_id })
    }

    /// An issue or pull request author: the owner, a teammate or anyone; 3% deleted.
    pub fn author(&self, rng: &mut Rng) -> Option<Account> {
        let roll = rng.f64();
        if roll < 0.03 {
            None
        } else if roll < 0.3 {
            self.owner_account().or_else(|| self.random_user(rng))
        } else if roll < 0.5 && !self.team.is_empty() {
            Some(self.team[rng.usize(..self.team.len())].clone())
        } else {
            self.random_user(rng)
        }
    }

    /// A team member, most often the first ones.
    pub fn teammate(&self, rng: &mut Rng) -> Option<Account> {
        if self.team.is_empty() {
            return self.random_user(rng);
        }
        let x = rng.f64();
        Some(self.team[((x * x) * self.team.len() as f64) as usize % self.team.len()].clone())
    }

    /// 0-4 distinct labels of the repository's set (mostly none).
    pub fn some_labels(&self, rng: &mut Rng) -> Vec<&'static str> {
        let want = weighted(rng, &[(0usize, 55), (1, 30), (2, 10), (3, 4), (4, 1)]).min(self.labels.len());
        let mut out: Vec<&'static str> = Vec::with_capacity(want);
        while out.len() < want {
            let l = pick(rng, &self.labels);
            if !out.contains(&l) {
                out.push(l);
            }
        }
        out
    }

    fn title(rng: &mut Rng, issue: bool) -> String {
        if issue {
            format!("{} {}", pick(rng, w::ISSUE_OPENERS), pick(rng, w::THINGS))
        } else {
            format!("{} {}", pick(rng, w::PULL_VERBS), pick(rng, w::THINGS))
        }
    }

    /// An issue created at `created`, open or closed, updated no later than `now`.
    pub fn issue(&self, rng: &mut Rng, number: u32, created: i64, open: bool, now: i64) -> Issue {
        let (closed_at, updated) = times(rng, created, open, now);
        let state_reason = if open {
            (rng.f64() < 0.06).then_some(StateReason::Reopened)
        } else if closed_at.is_some_and(|c| c < STATE_REASON_SINCE) && rng.f64() < 0.3 {
            None
        } else if rng.f64() < 0.8 {
            Some(StateReason::Completed)
        } else {
            Some(StateReason::NotPlanned)
        };
        Issue {
            id: issue_id(self.repo.id, number),
            number,
            title: Gen::title(rng, true),
            state: if open { State::Open } else { State::Closed },
            state_reason,
            author: self.author(rng),
            created_at: Timestamp(created),
            updated_at: Timestamp(updated),
            closed_at: closed_at.map(Timestamp),
            labels: self.some_labels(rng),
            comments: skewed(rng, 0.35, 1.2, 300),
        }
    }

    /// A pull request created at `created`; closed ones are merged 70% of the time.
    pub fn pull(&self, rng: &mut Rng, number: u32, created: i64, open: bool, now: i64) -> Pull {
        let (closed_at, updated) = times(rng, created, open, now);
        let merged = !open && rng.f64() < 0.7;
        let seed = self.u.config().seed;
        let head_roll = rng.f64();
        let head_repo_id = if head_roll < 0.75 {
            Some(self.repo.id)
        } else if head_roll < 0.95 {
            Some(self.fork_id(rng))
        } else {
            None
        };
        let additions = skewed(rng, 0.02, 0.6, 20_000);
        let deletions = skewed(rng, 0.1, 0.6, 20_000);
        let changed_files = 1 + skewed(rng, 0.3, 0.9, 300).min(additions + deletions);
        let prefix = pick(rng, w::BRANCH_PREFIXES);
        let head_ref = format!("{prefix}{}-{number}", pick(rng, crate::words::NAME_WORDS));
        Pull {
            id: pull_id(self.repo.id, number),
            issue_id: issue_id(self.repo.id, number),
            number,
            title: Gen::title(rng, false),
            state: if open { State::Open } else { State::Closed },
            draft: open && rng.f64() < 0.15,
            author: self.author(rng),
            created_at: Timestamp(created),
            updated_at: Timestamp(updated),
            closed_at: closed_at.map(Timestamp),
            merged_at: if merged { closed_at.map(Timestamp) } else { None },
            merge_commit_sha: merged.then(|| hash::sha(&[seed, self.repo.id, u64::from(number), 0x3E4C])),
            base_ref: self.repo.default_branch.to_string(),
            head_ref,
            head_sha: hash::sha(&[seed, self.repo.id, u64::from(number), 0x4EAD]),
            head_repo_id,
            labels: self.some_labels(rng),
            additions,
            deletions,
            changed_files,
            commits: 1 + skewed(rng, 0.5, 1.0, 250),
            comments: skewed(rng, 0.4, 1.2, 200),
            review_count: skewed(rng, 0.4, 1.3, 30),
        }
    }

    /// The id of a live repository other than this one (a fork's).
    fn fork_id(&self, rng: &mut Rng) -> u64 {
        let repos = self.u.initial_repos();
        for _ in 0..8 {
            let other = &repos[rng.usize(..repos.len())];
            if other.id != self.repo.id && !other.deleted {
                return other.id;
            }
        }
        self.repo.id
    }

    /// Commit `seq` (0 = the first ever) dated `date`, authored no earlier than `earliest`.
    pub fn commit(&self, rng: &mut Rng, seq: u64, date: i64, earliest: i64) -> Commit {
        let seed = self.u.config().seed;
        let (name, email, account) = if rng.f64() < 0.8
            && let Some(account) = self.teammate(rng)
        {
            let name = capitalised(&account.login);
            let email = format!("{}+{}@users.noreply.github.com", account.id, account.login);
            (name, email, Some(account))
        } else {
            let (first, last) = (pick(rng, w::FIRST_NAMES), pick(rng, w::LAST_NAMES));
            let email = format!("{}.{}@example.com", first.to_lowercase(), last.to_lowercase());
            (format!("{first} {last}"), email, None)
        };
        let authored = date - rng.i64(0..=(date - earliest).clamp(0, 3 * 86_400));
        let author = GitActor { name, email, date: Timestamp(authored) };
        let web = rng.f64() < 0.12;
        let (committer, committer_account) = if web {
            let actor = GitActor { name: "GitHub".into(), email: "noreply@github.com".into(), date: Timestamp(date) };
            (actor, Some(Account { login: WEB_FLOW_LOGIN.into(), id: WEB_FLOW_ID }))
        } else {
            (GitActor { date: Timestamp(date), ..author.clone() }, account.clone())
        };
        let mut message = format!("{} {}", pick(rng, w::PULL_VERBS), pick(rng, w::THINGS));
        if rng.f64() < 0.3 {
            message.push_str("\n\n");
            message.push_str(pick(rng, w::BODY_LINES));
        }
        Commit {
            sha: hash::sha(&[seed, self.repo.id, seq, 0xC0]),
            message,
            author,
            committer,
            author_account: account,
            committer_account,
        }
    }

    /// Run `seq` of `workflow` created at `created`, completed unless `running`.
    /// `commits_oldest_first` gives push runs the head sha of their time.
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        &self,
        rng: &mut Rng,
        id: u64,
        workflow: &Workflow,
        run_number: u32,
        created: i64,
        running: bool,
        now: i64,
        commits_oldest_first: &[&Commit],
    ) -> Run {
        let seed = self.u.config().seed;
        let event = weighted(rng, &[("push", 50), ("pull_request", 30), ("schedule", 12), ("workflow_dispatch", 8)]);
        let (head_branch, head_sha) = if event == "pull_request" {
            let branch = format!("{}{}", pick(rng, w::BRANCH_PREFIXES), pick(rng, crate::words::NAME_WORDS));
            (branch, hash::sha(&[seed, id, 0x9E]))
        } else {
            let at = commits_oldest_first.partition_point(|c| c.committer.date.0 <= created);
            let sha = match commits_oldest_first.get(at.saturating_sub(1)) {
                Some(c) => c.sha.clone(),
                None => hash::sha(&[seed, id, 0x9E]),
            };
            (self.repo.default_branch.to_string(), sha)
        };
        let run_attempt = weighted(rng, &[(1u32, 90), (2, 8), (3, 2)]);
        let started = (created + rng.i64(0..60) + i64::from(run_attempt - 1) * rng.i64(60..7200)).min(now);
        let (status, conclusion, started, updated) = if running {
            if rng.bool() {
                (RunStatus::InProgress, None, started, started)
            } else {
                (RunStatus::Queued, None, created, created)
            }
        } else {
            let conclusion = weighted(
                rng,
                &[
                    (Conclusion::Success, 75),
                    (Conclusion::Failure, 15),
                    (Conclusion::Cancelled, 6),
                    (Conclusion::Skipped, 4),
                ],
            );
            let took = if conclusion == Conclusion::Skipped { rng.i64(0..5) } else { rng.i64(20..3600) };
            (RunStatus::Completed, Some(conclusion), started, (started + took).min(now))
        };
        Run {
            id,
            workflow_id: workflow.id,
            name: workflow.name,
            run_number,
            event,
            status,
            conclusion,
            head_sha,
            head_branch,
            run_attempt,
            actor: self.teammate(rng),
            created_at: Timestamp(created),
            run_started_at: Timestamp(started),
            updated_at: Timestamp(updated),
        }
    }
}

/// (closed_at, updated_at) of an item created at `created`.
fn times(rng: &mut Rng, created: i64, open: bool, now: i64) -> (Option<i64>, i64) {
    let span = (now - created).max(0) as f64;
    if open {
        (None, created + (span * rng.f64() * rng.f64()) as i64)
    } else {
        let closed = created + (span * rng.f64().powi(3)) as i64;
        (Some(closed), (closed + rng.i64(0..7 * 86_400)).min(now))
    }
}

/// `login` with its first letter in upper case (a plausible git author name).
fn capitalised(login: &str) -> String {
    let mut chars = login.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// Contributors counted from the commits' linked authors: most first, ties by id.
pub(crate) fn contributors(commits: &[Commit]) -> Vec<Contributor> {
    let mut counts: HashMap<&Account, u32> = HashMap::new();
    for c in commits {
        if let Some(a) = &c.author_account {
            *counts.entry(a).or_default() += 1;
        }
    }
    let mut out: Vec<Contributor> =
        counts.into_iter().map(|(a, n)| Contributor { login: a.login.clone(), id: a.id, contributions: n }).collect();
    out.sort_by(|a, b| b.contributions.cmp(&a.contributions).then(a.id.cmp(&b.id)));
    out
}
