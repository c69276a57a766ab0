//! Property tests (proptest) of everything that parses outside input: source specs, shard
//! manifests, `Link` headers and merge input detection. They must never panic, accept exactly
//! what they document, and round-trip what they accept. `PROPTEST_CASES` sets the number of cases
//! (default 256; `scripts/fuzz.sh` runs a long session).

use octoshard::github::link::{next_link, query_number};
use octoshard::plan::{Manifest, Source};
use proptest::prelude::*;

const MANIFEST: &str = "version: 1
plan_id: ids-9e58a0180c721b2b
shard:
  index: 0
  count: 3
  name: shard-0000
source: ids:0..1000
collect:
- metadata
work:
- kind: id_range
  from: 0
  to: 334
- kind: search
  query: language:rust stars:>10 created:2020-01-01..2020-12-31
  sort: stars
  limit: 1000
- kind: owner_repos
  login: rust-lang
  owner: org
- kind: repo_names
  names:
  - rust-lang/rust
  - octo-org/octo.repo
budget:
  requests_per_hour: 5000
  deadline: 5h30m
";

proptest! {
    #[test]
    fn any_source_spec_parses_or_is_refused_and_accepted_ones_round_trip(spec in "\\PC{0,40}") {
        if let Ok(source) = spec.parse::<Source>() {
            let again: Source = source.to_string().parse().expect("a printed source parses");
            prop_assert_eq!(again, source);
        }
    }

    #[test]
    fn near_valid_source_specs_round_trip(
        kind in prop::sample::select(vec!["ids", "search", "starred", "user", "org", "repos", "leftovers", "trending", "idz", ""]),
        body in "[ -~]{0,30}",
    ) {
        let spec = format!("{kind}:{body}");
        if let Ok(source) = spec.parse::<Source>() {
            let again: Source = source.to_string().parse().expect("a printed source parses");
            prop_assert_eq!(again, source);
        }
    }

    #[test]
    fn id_ranges_are_accepted_exactly_when_non_empty(from in any::<u64>(), to in any::<u64>(), open in any::<bool>()) {
        let spec = if open { format!("ids:{from}..") } else { format!("ids:{from}..{to}") };
        let parsed = spec.parse::<Source>();
        match (open, parsed) {
            (true, Ok(Source::Ids { from: f, to: None })) => prop_assert_eq!(f, from),
            (false, Ok(Source::Ids { from: f, to: Some(t) })) => prop_assert!(f == from && t == to && from < to),
            (false, Err(_)) => prop_assert!(from >= to, "{} refused", spec),
            (_, other) => prop_assert!(false, "{} gave {:?}", spec, other),
        }
    }

    #[test]
    fn mutated_manifests_never_panic_and_accepted_ones_round_trip(
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<u8>()), 1..6),
    ) {
        let mut bytes = MANIFEST.as_bytes().to_vec();
        for (at, op, byte) in edits {
            let i = at.index(bytes.len() + 1);
            match op {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ if i < bytes.len() => { bytes.remove(i); }
                _ => {}
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(manifest) = Manifest::parse(&text) {
            prop_assert_eq!(Manifest::parse(&manifest.to_yaml()), Ok(manifest));
        }
    }

    #[test]
    fn unknown_manifest_fields_are_refused(name in "[a-z_]{1,12}", at_top in any::<bool>()) {
        let known = ["version", "plan_id", "shard", "source", "collect", "work", "budget", "index", "count", "name",
            "requests_per_hour", "deadline"];
        prop_assume!(!known.contains(&name.as_str()));
        let text = if at_top {
            format!("{MANIFEST}{name}: 1\n")
        } else {
            MANIFEST.replace("  requests_per_hour: 5000\n", &format!("  requests_per_hour: 5000\n  {name}: 1\n"))
        };
        prop_assert!(Manifest::parse(&text).is_err(), "{} was accepted", name);
    }

    #[test]
    fn any_link_header_is_read_without_panicking(header in "\\PC{0,200}") {
        if let Some(url) = next_link(&header) {
            prop_assert!(header.contains(&url));
        }
    }

    #[test]
    fn the_next_link_is_found_whatever_the_order_spacing_and_quoting(
        since in any::<u64>(),
        others in prop::collection::vec(prop::sample::select(vec!["first", "prev", "last"]), 0..3),
        position in any::<prop::sample::Index>(),
        quoted in any::<bool>(),
        space in prop::sample::select(vec!["", " ", "  "]),
        extra in any::<bool>(),
    ) {
        let next = format!("https://api.github.com/repositories?per_page=100&since={since}");
        let rel = |r: &str| if quoted { format!("rel=\"{r}\"") } else { format!("rel={r}") };
        let mut links: Vec<String> = others
            .iter()
            .enumerate()
            .map(|(i, r)| format!("<https://api.github.com/repositories?page={i}>;{space}{}", rel(r)))
            .collect();
        let mut own = format!("<{next}>;{space}{}", rel("next"));
        if extra {
            own.push_str(&format!(";{space}title=\"more\""));
        }
        links.insert(position.index(links.len() + 1), own);
        let header = links.join(&format!(",{space}"));
        prop_assert_eq!(next_link(&header), Some(next.clone()));
        prop_assert_eq!(query_number(&next, "since"), Some(since));
        prop_assert_eq!(query_number(&next, "per_page"), Some(100));
        prop_assert_eq!(query_number(&next, "page"), None);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse::<u32>().ok()).map_or(32, |c| (c / 8).max(32))
    ))]

    #[test]
    fn hostile_merge_inputs_are_refused_by_name_never_a_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..4096),
        shape in 0u8..4,
        cut in any::<prop::sample::Index>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("input.sqlite.gz");
        let content = match shape {
            0 => bytes,
            1 => gzip(&bytes),
            2 => {
                // SQLite's magic, then garbage.
                let mut page = b"SQLite format 3\0".to_vec();
                page.extend_from_slice(&bytes);
                page
            }
            _ => {
                // A real SQLite file (not octoshard's), gzipped and cut anywhere.
                let db = dir.path().join("other.sqlite");
                let conn = rusqlite::Connection::open(&db).unwrap();
                conn.execute_batch("CREATE TABLE t (x BLOB); INSERT INTO t VALUES (randomblob(3000));").unwrap();
                drop(conn);
                let packed = gzip(&std::fs::read(&db).unwrap());
                packed[..cut.index(packed.len() + 1)].to_vec()
            }
        };
        std::fs::write(&input, &content).unwrap();
        let _ = octoshard::artifact::detect(&input);
        let out = dir.path().join("merged.sqlite");
        let request = octoshard::merge::MergeRequest {
            inputs: vec![input.clone()],
            out: out.clone(),
            plan_dir: None,
            leftovers_dir: dir.path().join("leftovers"),
        };
        let error = octoshard::merge::merge(&request).expect_err("nothing usable");
        let message = error.to_string();
        prop_assert!(message.contains(&input.display().to_string()), "{}", message);
        prop_assert!(!out.exists(), "no output from nothing");
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn the_seed_manifest_is_valid_so_mutations_start_from_an_accepted_file() {
    let manifest = Manifest::parse(MANIFEST).expect("the seed manifest parses");
    assert_eq!(manifest.work.len(), 4);
    assert_eq!(Manifest::parse(&manifest.to_yaml()), Ok(manifest));
}
