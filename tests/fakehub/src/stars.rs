//! Who starred what, generated from the seed after (and independently of) the
//! repositories, so adding it changed no repository. Only users star; each
//! stars distinct repositories that are not deleted, half of the picks among
//! repositories that have stars. Most users star 0-20 (Pareto-like); about one
//! user in 400 (at least one) is a heavy starrer with 250-1500, capped at half
//! the visible repositories. A star's time lies between the repository's
//! creation and 2026-01-01; lists are kept newest first (ties: lower id first),
//! the order of `GET /users/{login}/starred`.

use crate::universe::{Owner, OwnerType, Repo};
use std::collections::HashSet;

/// Per owner (parallel to `owners`): (starred_at epoch second, repo index), newest first.
pub(crate) fn generate(seed: u64, owners: &[Owner], repos: &[Repo], now: i64) -> Vec<Vec<(i64, u32)>> {
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x57A2_5EED_0DDB_A11D);
    let visible: Vec<u32> = (0..repos.len() as u32).filter(|&i| !repos[i as usize].deleted).collect();
    let popular: Vec<u32> = visible.iter().copied().filter(|&i| repos[i as usize].stargazers_count > 0).collect();
    let users: Vec<usize> = (0..owners.len()).filter(|&i| owners[i].owner_type == OwnerType::User).collect();
    let mut heavy = HashSet::new();
    if !users.is_empty() {
        let wanted = (users.len() / 400).max(1);
        while heavy.len() < wanted {
            heavy.insert(users[rng.usize(..users.len())]);
        }
    }
    let cap = visible.len() / 2;
    let mut out = vec![Vec::new(); owners.len()];
    for &user in &users {
        let count = if heavy.contains(&user) { rng.usize(250..=1500) } else { pareto(&mut rng) };
        let count = count.min(cap);
        let mut chosen = HashSet::with_capacity(count);
        let mut stars = Vec::with_capacity(count);
        while stars.len() < count {
            let pool = if rng.bool() && !popular.is_empty() { &popular } else { &visible };
            let index = pool[rng.usize(..pool.len())];
            if chosen.insert(index) {
                let created = repos[index as usize].created_at.0;
                let at = created + ((now - created).max(0) as f64 * rng.f64()) as i64;
                stars.push((at, index));
            }
        }
        stars.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        out[user] = stars;
    }
    out
}

/// 35% zero, else a Pareto(0.9) count capped at 1500.
fn pareto(rng: &mut fastrand::Rng) -> usize {
    if rng.f64() < 0.35 {
        return 0;
    }
    let u = 1.0 - rng.f64();
    (u.powf(-1.0 / 0.9).min(1500.0)) as usize
}
