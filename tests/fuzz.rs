//! Property tests (proptest) of everything that parses outside input: source specs, shard
//! manifests, `Link` headers and merge input detection. They must never panic, accept exactly
//! what they document, and round-trip what they accept. `PROPTEST_CASES` sets the number of cases
//! (default 256; the merge properties run an eighth of it, at least 32); `scripts/fuzz.sh` runs a
//! long session.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use octoshard::github::link::{next_link, query_number};
use octoshard::merge::{MergeReport, MergeRequest};
use octoshard::plan::{Budget, Collect, Manifest, OwnerKind, ShardId, Source, WorkItem};
use octoshard::store::{Page, RepositoryRow, Store};
use proptest::prelude::*;
use proptest::sample::{Index, select};

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

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

/// Strings that YAML, Display and trimming find awkward, mixed with arbitrary text.
fn awkward_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[A-Za-z0-9._-]{0,12}",
        3 => "\\PC{0,16}",
        1 => any::<String>(),
        3 => select(vec![
            "", " ", "  x  ", "\t", "\n", "yes", "no", "~", "null", "true", "1", "-1", "0x1F", "1e3", ".inf", "- a",
            "a: b", "'", "\"", "#c", "&a", "*a", "!!str", "|", ">", "\u{85}", "\u{2028}", "\u{feff}", "\u{a0}x\u{a0}",
            "é", "日本語", "🦀", "a\\b", "stars:>10 language:rust",
        ])
        .prop_map(String::from),
    ]
}

/// Mostly valid GitHub logins (1-39 of `[A-Za-z0-9-]`), sometimes too long or with other characters.
fn login_text() -> impl Strategy<Value = String> {
    prop_oneof![4 => "[A-Za-z0-9-]{1,39}", 1 => "[A-Za-z0-9-]{38,42}", 2 => awkward_text()]
}

/// What `Source::from_str` accepts as a login, written out independently.
fn is_login(text: &str) -> bool {
    !text.is_empty() && text.len() <= 39 && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// The text of a repository id: a number, perhaps with `_` separators and surrounding spaces, or junk.
fn id_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (any::<u64>(), any::<Index>(), any::<bool>(), select(vec!["", " ", "\u{a0}"])).prop_map(
            |(n, at, underscore, pad)| {
                let mut digits = n.to_string();
                if underscore {
                    digits.insert(at.index(digits.len() + 1), '_');
                }
                format!("{pad}{digits}{pad}")
            }
        ),
        2 => (0u64..20).prop_map(|n| n.to_string()),
        1 => "[0-9_ +-]{0,25}",
        1 => "[0-9]{19,22}",
        1 => "[0-9.]{0,6}",
    ]
}

/// The reference reading of one side of an id range.
fn id_value(text: &str) -> Option<u64> {
    text.trim().replace('_', "").parse().ok()
}

/// `valid` 19 times in 20, else `other` (which may or may not be valid).
fn mostly<T: std::fmt::Debug + Clone + 'static>(
    valid: impl Strategy<Value = T> + 'static,
    other: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<T> {
    prop_oneof![19 => valid, 1 => other].boxed()
}

fn name_text() -> BoxedStrategy<String> {
    mostly("[A-Za-z0-9][A-Za-z0-9._-]{0,20}", awkward_text())
}

fn work_item() -> impl Strategy<Value = WorkItem> {
    let login = || mostly("[A-Za-z0-9-]{1,39}", login_text());
    let full_name = mostly(
        "[A-Za-z0-9-]{1,12}/[A-Za-z0-9._-]{1,20}",
        prop_oneof![awkward_text(), (login_text(), awkward_text()).prop_map(|(o, n)| format!("{o}/{n}"))],
    );
    let sort = mostly(
        select(vec!["stars", "forks", "updated"]).prop_map(String::from),
        select(vec!["best-match", "STARS", "", " stars"]).prop_map(String::from),
    );
    // Queries keep their awkward characters but are rarely blank.
    let query = mostly(awkward_text().prop_map(|q| format!("q{q}")), awkward_text());
    let id_range = mostly(
        (any::<u64>(), 1u64..1_000_000).prop_map(|(from, len)| (from, from.saturating_add(len))),
        (0u64..20, 0u64..20),
    );
    prop_oneof![
        id_range.prop_map(|(from, to)| WorkItem::IdRange { from, to, discover: None }),
        (query, prop::option::of(sort), prop::option::of(any::<u32>()))
            .prop_map(|(query, sort, limit)| WorkItem::Search { query, sort, limit }),
        (login(), any::<bool>()).prop_map(|(login, org)| WorkItem::OwnerRepos {
            login,
            owner: if org { OwnerKind::Org } else { OwnerKind::User }
        }),
        login().prop_map(|login| WorkItem::Starred { login }),
        mostly(prop::collection::vec(full_name, 1..4), Just(Vec::new()))
            .prop_map(|names| WorkItem::RepoNames { names }),
    ]
}

/// Manifests built as values: about half are valid, the others break one rule or more.
fn manifest() -> impl Strategy<Value = Manifest> {
    let collect = select(vec![
        Collect::Metadata,
        Collect::Pulls,
        Collect::Issues,
        Collect::Runs,
        Collect::Contributors,
        Collect::Commits,
        Collect::Snapshot,
        Collect::Archive,
    ]);
    let deadline = mostly(
        select(vec!["5h30m", "90s", "2h 15m", "1d", " 3m ", "1h30m15s"]).prop_map(String::from),
        prop_oneof![select(vec!["soon", "", "5x", "-1h"]).prop_map(String::from), awkward_text()],
    );
    let shard = mostly((1u32..6).prop_flat_map(|count| (0..count, Just(count))), (any::<u32>(), any::<u32>()));
    (
        mostly(Just(1u32), any::<u32>()),
        name_text(),
        (shard, name_text()),
        awkward_text(),
        mostly(prop::collection::vec(collect, 1..4), Just(Vec::new())),
        mostly(prop::collection::vec(work_item(), 1..4), Just(Vec::new())),
        any::<u32>(),
        prop::option::of(deadline),
    )
        .prop_map(
            |(version, plan_id, ((index, count), name), source, collect, work, requests_per_hour, deadline)| Manifest {
                version,
                plan_id,
                shard: ShardId { index, count, name },
                source,
                collect,
                work,
                budget: Budget { requests_per_hour, deadline },
                archive: None,
            },
        )
}

/// Text shaped like a manifest: known and unknown keys, odd YAML values, random indentation.
fn yamlish_text() -> impl Strategy<Value = String> {
    let key = select(vec![
        "version",
        "plan_id",
        "shard",
        "index",
        "count",
        "name",
        "source",
        "collect",
        "work",
        "kind",
        "from",
        "to",
        "query",
        "sort",
        "limit",
        "login",
        "owner",
        "names",
        "budget",
        "requests_per_hour",
        "deadline",
        "<<",
        "? x",
        "extra",
        "- kind",
        "-",
    ]);
    let value = prop_oneof![
        4 => select(vec![
            "", "1", "0", "-1", "18446744073709551616", "1.5", "~", "null", "true", "[metadata]", "[]", "{}",
            "id_range", "search", "owner_repos", "repo_names", "starred", "org", "user",
            "{ kind: id_range, from: 0, to: 5 }", "{ index: 0, count: 1, name: shard-0000 }",
            "{ requests_per_hour: 5000 }", "&a 1", "*a", "!!binary aGk=", "!id_range", "'x'", "\"\\u0000\"", "|",
            ">-", "- metadata", "5h30m", "shard-0000", "stars", "[a/b, c/d]", "{", "[", "'", "\"",
        ])
        .prop_map(String::from),
        1 => "\\PC{0,10}",
    ];
    (any::<bool>(), prop::collection::vec((0usize..4, key, value), 0..24)).prop_map(|(versioned, lines)| {
        let mut text = if versioned { "version: 1\n".to_string() } else { String::new() };
        for (indent, key, value) in lines {
            text.push_str(&format!("{}{key}: {value}\n", "  ".repeat(indent)));
        }
        text
    })
}

/// `rel` values that are not `next` (some only look like it).
const OTHER_RELS: &[&str] = &["first", "prev", "last", "previous", "nextish", "next-page", "prefetch", "nex"];

/// Parameters that are not `rel` (some carry `next`, `,`, `;` or `<` inside their quotes).
fn decoy_param() -> impl Strategy<Value = String> {
    (
        select(vec!["title", "type", "anchor", "hreflang", "media", "relx", "xrel"]),
        select(vec!["next", "plain", "text/html", "\"next\"", "\"a b\"", "\"next last\""]),
    )
        .prop_map(|(key, value)| format!("{key}={value}"))
}

/// Decoys with separators inside quoted strings (legal per RFC 8288; GitHub sends none).
fn hard_decoy_param() -> impl Strategy<Value = String> {
    select(vec![
        "title=\"a, b\"",
        "title=\"x; rel=next\"",
        "title=\"rel=\\\"next\\\", <https://evil.example/>; rel=next\"",
        "title=\"<https://evil.example/>\"",
        "title=\";,;,\"",
    ])
    .prop_map(String::from)
}

#[derive(Clone, Debug)]
struct LinkShape {
    others: Vec<(String, Vec<String>)>,
    own_params: Vec<String>,
    position: Index,
    space: &'static str,
    eq_space: &'static str,
}

fn link_header(shape: &LinkShape, next: &str) -> String {
    let LinkShape { others, own_params, position, space, eq_space } = shape;
    let format_link = |url: &str, params: &[String]| {
        let params: Vec<String> =
            params.iter().map(|p| p.replacen('=', &format!("{eq_space}={eq_space}"), 1)).collect();
        format!("<{url}>{space};{space}{}", params.join(&format!("{space};{space}")))
    };
    let mut links: Vec<String> = others.iter().map(|(url, params)| format_link(url, params)).collect();
    links.insert(position.index(links.len() + 1), format_link(next, own_params));
    links.join(&format!("{space},{space}"))
}

fn link_shape(decoy: BoxedStrategy<String>) -> impl Strategy<Value = LinkShape> {
    let rel_value =
        (prop::collection::vec(select(OTHER_RELS.to_vec()), 1..3), any::<bool>()).prop_map(|(rels, quote)| {
            if rels.len() > 1 || quote { format!("\"{}\"", rels.join(" ")) } else { rels[0].to_string() }
        });
    let rel_key = select(vec!["rel", "REL", "Rel"]);
    let other_link =
        (0u32..1000, rel_key.clone(), rel_value, prop::collection::vec(decoy.clone(), 0..3), any::<Index>()).prop_map(
            |(page, key, value, mut params, at)| {
                params.insert(at.index(params.len() + 1), format!("{key}={value}"));
                (format!("https://api.github.com/repositories?page={page}"), params)
            },
        );
    let own_rel = (
        select(vec!["next", "Next", "NEXT"]),
        prop::collection::vec(select(OTHER_RELS.to_vec()), 0..3),
        any::<Index>(),
        any::<bool>(),
        rel_key,
    )
        .prop_map(|(next, mut rels, at, quote, key)| {
            rels.insert(at.index(rels.len() + 1), next);
            if rels.len() > 1 || quote { format!("{key}=\"{}\"", rels.join(" ")) } else { format!("{key}={next}") }
        });
    (
        prop::collection::vec(other_link, 0..4),
        own_rel,
        prop::collection::vec(decoy, 0..3),
        any::<Index>(),
        any::<Index>(),
        select(vec!["", " ", "  ", "\t"]),
        select(vec!["", " "]),
    )
        .prop_map(|(others, rel, mut own_params, at, position, space, eq_space)| {
            own_params.insert(at.index(own_params.len() + 1), rel);
            LinkShape { others, own_params, position, space, eq_space }
        })
}

// ---------------------------------------------------------------------------------------------
// Source specs
// ---------------------------------------------------------------------------------------------

fn check_source_outcome(
    spec: &str,
    parsed: &Result<Source, octoshard::plan::SourceError>,
) -> Result<(), TestCaseError> {
    match parsed {
        Ok(source) => {
            let again: Source = source.to_string().parse().map_err(|e| {
                TestCaseError::fail(format!(
                    "{spec:?} parsed to {source:?}, whose print {:?} is refused: {e}",
                    source.to_string()
                ))
            })?;
            prop_assert_eq!(&again, source, "{:?} does not round-trip", spec);
        }
        Err(error) => {
            prop_assert_eq!(&error.spec, spec);
            prop_assert!(error.to_string().contains(spec), "the error does not name the spec: {}", error);
            prop_assert!(!error.reason.is_empty());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(ProptestConfig::default().cases))]

    #[test]
    fn any_source_spec_parses_or_is_refused_and_accepted_ones_round_trip(spec in "\\PC{0,40}") {
        check_source_outcome(&spec, &spec.parse::<Source>())?;
    }

    #[test]
    fn near_valid_source_specs_round_trip(
        kind in select(vec!["ids", "search", "starred", "user", "org", "repos", "leftovers", "trending", "idz", "", "IDS"]),
        body in prop_oneof!["[ -~]{0,30}", awkward_text(), "[0-9.]{0,12}"],
    ) {
        let spec = format!("{kind}:{body}");
        check_source_outcome(&spec, &spec.parse::<Source>())?;
    }

    #[test]
    fn id_ranges_are_accepted_exactly_when_both_ends_are_ids_and_non_empty(
        from in id_text(),
        to in prop_oneof![2 => id_text(), 1 => select(vec!["", " ", "..", "1..2", "."]).prop_map(String::from)],
    ) {
        let spec = format!("ids:{from}..{to}");
        let parsed = spec.parse::<Source>();
        check_source_outcome(&spec, &parsed)?;
        let expected = match (id_value(&from), to.trim().is_empty()) {
            (Some(from), true) => Some(Source::Ids { from, to: None }),
            (Some(from), false) => id_value(&to).filter(|&to| from < to).map(|to| Source::Ids { from, to: Some(to) }),
            (None, _) => None,
        };
        prop_assert_eq!(parsed.ok(), expected, "{:?}", spec);
    }

    #[test]
    fn exact_id_ranges_need_from_below_to(from in any::<u64>(), to in any::<u64>(), open in any::<bool>()) {
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
    fn logins_are_accepted_exactly_when_valid(
        kind in select(vec!["starred", "user", "org"]),
        login in login_text(),
        pad in select(vec!["", " ", "\t"]),
    ) {
        let spec = format!("{kind}:{pad}{login}{pad}");
        let parsed = spec.parse::<Source>();
        check_source_outcome(&spec, &parsed)?;
        let login = login.trim().to_string();
        let expected = is_login(&login).then(|| match kind {
            "starred" => Source::Starred(login.clone()),
            "user" => Source::User(login.clone()),
            _ => Source::Org(login.clone()),
        });
        prop_assert_eq!(parsed.ok(), expected, "{:?}", spec);
    }

    #[test]
    fn queries_and_paths_are_kept_trimmed_and_refused_only_when_blank(
        kind in select(vec!["search", "repos", "leftovers"]),
        body in awkward_text(),
    ) {
        let spec = format!("{kind}:{body}");
        let parsed = spec.parse::<Source>();
        check_source_outcome(&spec, &parsed)?;
        let value = body.trim().to_string();
        let expected = (!value.is_empty()).then(|| match kind {
            "search" => Source::Search(value.clone()),
            "repos" => Source::Repos(PathBuf::from(&value)),
            _ => Source::Leftovers(PathBuf::from(&value)),
        });
        prop_assert_eq!(parsed.ok(), expected, "{:?}", spec);
    }

    #[test]
    fn trending_days_are_accepted_exactly_between_1_and_366(
        days in prop_oneof![(0u64..400).prop_map(|d| d.to_string()), any::<u64>().prop_map(|d| d.to_string()), "[0-9 +-]{0,5}"],
        bare in any::<bool>(),
    ) {
        let spec = if bare { "trending".to_string() } else { format!("trending:{days}") };
        let parsed = spec.parse::<Source>();
        check_source_outcome(&spec, &parsed)?;
        let expected = if bare {
            Some(7)
        } else {
            days.trim().parse::<u32>().ok().filter(|d| (1..=366).contains(d))
        };
        prop_assert_eq!(parsed.ok(), expected.map(|days| Source::Trending { days }), "{:?}", spec);
    }
}

// ---------------------------------------------------------------------------------------------
// Manifests
// ---------------------------------------------------------------------------------------------

fn check_accepted_manifest(text: &str) -> Result<(), TestCaseError> {
    if let Ok(manifest) = Manifest::parse(text) {
        prop_assert!(manifest.validate().is_ok());
        let yaml = manifest.to_yaml();
        prop_assert_eq!(Manifest::parse(&yaml), Ok(manifest), "{:?} does not round-trip", text);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(ProptestConfig::default().cases))]

    #[test]
    fn mutated_manifests_never_panic_and_accepted_ones_round_trip(
        seed in select(vec![MANIFEST.to_string(), Manifest::parse(MANIFEST).unwrap().to_yaml()]),
        edits in prop::collection::vec((any::<Index>(), 0u8..3, prop_oneof![any::<u8>(), 0x20u8..0x7f]), 1..4),
    ) {
        let mut bytes = seed.into_bytes();
        for (at, op, byte) in edits {
            let i = at.index(bytes.len() + 1);
            match op {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ if i < bytes.len() => { bytes.remove(i); }
                _ => {}
            }
        }
        check_accepted_manifest(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn yamlish_text_never_panics_and_accepted_manifests_round_trip(text in yamlish_text()) {
        check_accepted_manifest(&text)?;
    }

    #[test]
    fn arbitrary_text_is_never_a_panic(text in prop_oneof!["\\PC{0,200}", any::<String>()]) {
        check_accepted_manifest(&text)?;
    }

    #[test]
    fn generated_manifests_round_trip_exactly_when_valid(manifest in manifest()) {
        let yaml = manifest.to_yaml();
        match Manifest::parse(&yaml) {
            Ok(back) => {
                prop_assert_eq!(manifest.version, 1);
                prop_assert!(manifest.validate().is_ok());
                prop_assert_eq!(back.to_yaml(), yaml.clone(), "not deterministic");
                prop_assert_eq!(back, manifest, "{}", yaml);
            }
            Err(error) => prop_assert!(
                manifest.version != 1 || manifest.validate().is_err(),
                "a valid manifest is refused after printing ({}):\n{}", error, yaml
            ),
        }
    }

    #[test]
    fn unknown_manifest_fields_are_refused_wherever_they_are(
        name in "[A-Za-z_][A-Za-z0-9_]{0,11}",
        at in 0usize..7,
    ) {
        // Where the field goes, the line it follows and the fields known there.
        let places: [(&str, &str, &[&str]); 7] = [
            ("top", "budget:\n", &["version", "plan_id", "shard", "source", "collect", "work", "budget"]),
            ("shard", "  index: 0\n", &["index", "count", "name"]),
            ("budget", "  requests_per_hour: 5000\n", &["requests_per_hour", "deadline"]),
            ("id_range", "  from: 0\n", &["kind", "from", "to"]),
            ("search", "  sort: stars\n", &["kind", "query", "sort", "limit"]),
            ("owner_repos", "  owner: org\n", &["kind", "login", "owner"]),
            ("repo_names", "  - octo-org/octo.repo\n", &["kind", "names"]),
        ];
        let (place, after, known) = places[at];
        prop_assume!(!known.contains(&name.as_str()));
        let field = if place == "top" { format!("{name}: 1\n") } else { format!("  {name}: 1\n") };
        let text = if place == "top" {
            MANIFEST.replacen(after, &format!("{field}{after}"), 1)
        } else {
            MANIFEST.replacen(after, &format!("{after}{field}"), 1)
        };
        prop_assert_ne!(&text, MANIFEST);
        match Manifest::parse(&text) {
            Ok(_) => prop_assert!(false, "`{}` in {} was accepted:\n{}", name, place, text),
            Err(error) => prop_assert!(error.contains(&name), "{} in {}: {}", name, place, error),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Link headers
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(ProptestConfig::default().cases))]

    #[test]
    fn any_link_header_is_read_without_panicking(
        header in prop_oneof!["\\PC{0,200}", "[<>;,=\" a-zA-Z]{0,80}", any::<String>()],
    ) {
        if let Some(url) = next_link(&header) {
            prop_assert!(header.contains(&url));
        }
    }

    #[test]
    fn the_next_link_is_found_whatever_the_order_spacing_quoting_and_params(
        since in any::<u64>(),
        shape in link_shape(decoy_param().boxed()),
    ) {
        let next = format!("https://api.github.com/repositories?per_page=100&since={since}");
        let header = link_header(&shape, &next);
        prop_assert_eq!(next_link(&header), Some(next.clone()), "{}", header);
        let without: Vec<(String, Vec<String>)> = shape.others.clone();
        let none = LinkShape { others: without, own_params: vec!["rel=prev".into()], ..shape };
        prop_assert_eq!(next_link(&link_header(&none, &next)), None, "no next link in {}", link_header(&none, &next));
    }

    #[test]
    fn separators_inside_quoted_params_do_not_hide_or_fake_the_next_link(
        since in any::<u64>(),
        shape in link_shape(prop_oneof![decoy_param(), hard_decoy_param()].boxed()),
    ) {
        let next = format!("https://api.github.com/repositories?since={since}");
        let header = link_header(&shape, &next);
        prop_assert_eq!(next_link(&header), Some(next.clone()), "{}", header);
        let none = LinkShape { own_params: vec!["rel=prev".into()], ..shape };
        prop_assert_eq!(next_link(&link_header(&none, &next)), None, "no next link in {}", link_header(&none, &next));
    }

    #[test]
    fn query_number_reads_only_the_named_parameter(
        pairs in prop::collection::vec(
            (
                select(vec!["since", "sinc", "since_id", "xsince", "Since", "page", "per_page", "q", ""]),
                prop_oneof![
                    any::<u64>().prop_map(|n| n.to_string()),
                    select(vec!["", "abc", "12a", "-1", "+5", "18446744073709551616", " 7", "7=8"]).prop_map(String::from),
                ],
            ),
            0..6,
        ),
        wanted in select(vec!["since", "page", "per_page", "sinc"]),
    ) {
        let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let url = format!("https://api.github.com/repositories?{}", query.join("&"));
        let expected = pairs.iter().find(|(k, _)| *k == wanted).and_then(|(_, v)| v.parse::<u64>().ok());
        prop_assert_eq!(query_number(&url, wanted), expected, "{} in {}", wanted, url);
        prop_assert_eq!(query_number("https://api.github.com/repositories", wanted), None);
    }
}

// ---------------------------------------------------------------------------------------------
// Merge input detection
// ---------------------------------------------------------------------------------------------

const PLAN_ID: &str = "fuzz-plan";
const SHARD: &str = "shard-0000";

/// A small, complete octoshard shard written through the library's store: (plain, gzip).
fn good_shard() -> &'static (Vec<u8>, Vec<u8>) {
    static SHARD_BYTES: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    SHARD_BYTES.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("good.sqlite");
        let mut store = Store::open(&path).unwrap();
        for (key, value) in [
            ("plan_id", PLAN_ID),
            ("shard", SHARD),
            ("shard_count", "1"),
            ("source", "ids:0..10"),
            ("collect", "[\"metadata\"]"),
        ] {
            store.set_meta(key, value).unwrap();
        }
        store.init_work(PLAN_ID, SHARD, &[WorkItem::IdRange { from: 0, to: 10, discover: None }]).unwrap();
        let run = store.start_run(PLAN_ID, SHARD).unwrap();
        let rows: Vec<RepositoryRow> = (3..5)
            .map(|id| RepositoryRow {
                id,
                full_name: format!("octo/r{id}"),
                owner: "octo".into(),
                name: format!("r{id}"),
                fetched_at: octoshard::time::now_rfc3339(),
                ..Default::default()
            })
            .collect();
        let page = Page { rows: &rows, cursor: "10", completed: true, records: &[], etag: None, streams: None };
        store.commit_page(SHARD, 0, &page).unwrap();
        store.finish_run(run, "completed", None).unwrap();
        store.close_for_transfer().unwrap();
        let plain = std::fs::read(&path).unwrap();
        let packed = gzip(&plain);
        (plain, packed)
    })
}

/// A SQLite database that is not octoshard's, gzipped.
fn foreign_sqlite_gz() -> &'static Vec<u8> {
    static FOREIGN: OnceLock<Vec<u8>> = OnceLock::new();
    FOREIGN.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("other.sqlite");
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("CREATE TABLE t (x BLOB); INSERT INTO t VALUES (randomblob(3000));").unwrap();
        drop(conn);
        gzip(&std::fs::read(&db).unwrap())
    })
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Hostile file contents; `true` when the file can never be a usable shard (byte flips may leave
/// a SQLite file intact).
fn hostile_bytes(bytes: Vec<u8>, shape: u8, cut: Index, flips: &[(Index, u8)]) -> (Vec<u8>, bool) {
    let (plain, packed) = good_shard();
    match shape {
        0 => (bytes, true),
        1 => (gzip(&bytes), true),
        2 => {
            // SQLite's magic, then garbage.
            let mut page = b"SQLite format 3\0".to_vec();
            page.extend_from_slice(&bytes);
            (page, true)
        }
        3 => (packed[..cut.index(packed.len())].to_vec(), true),
        4 => {
            let foreign = foreign_sqlite_gz();
            (foreign[..cut.index(foreign.len() + 1)].to_vec(), true)
        }
        5 => {
            // The good shard with its first page (header and schema) mangled.
            let mut copy = plain.clone();
            for (at, byte) in flips {
                let i = 16 + at.index(4096 - 16);
                copy[i] ^= byte | 1;
            }
            (copy, false)
        }
        6 => {
            // The good shard with bytes flipped anywhere.
            let mut copy = plain.clone();
            for (at, byte) in flips {
                let i = at.index(copy.len());
                copy[i] ^= byte | 1;
            }
            (copy, false)
        }
        _ => {
            // The good shard's gzip with bytes flipped: the CRC must catch it, unless the flips
            // hit bytes that change nothing (header time and OS, unused bits of the last byte).
            let mut copy = packed.clone();
            for (at, byte) in flips {
                let i = at.index(copy.len());
                copy[i] ^= byte | 1;
            }
            let mut unpacked = Vec::new();
            let intact = std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&copy[..]), &mut unpacked)
                .is_ok()
                && &unpacked == plain;
            (copy, !intact)
        }
    }
}

/// `cases` cases, and no regression files written into the source tree (a failure prints its
/// minimal input; keep it as a unit test beside the fix).
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Merges are slow next to parsing: 32 cases unless `PROPTEST_CASES` is set (proptest lets it
/// override every property's count).
fn merge_cases() -> u32 {
    32
}

fn mentions(report: &MergeReport, path: &Path) -> bool {
    report.taken.iter().any(|t| t.path == path)
        || report.superseded.iter().any(|r| r.path == path)
        || report.refused.iter().any(|r| r.path == path)
}

proptest! {
    #![proptest_config(config(merge_cases()))]

    #[test]
    fn hostile_merge_inputs_are_refused_by_name_never_a_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..4096),
        shape in select(vec![0u8, 1, 2, 3, 4, 7]),
        cut in any::<Index>(),
        flips in prop::collection::vec((any::<Index>(), any::<u8>()), 1..4),
    ) {
        let (content, never_usable) = hostile_bytes(bytes, shape, cut, &flips);
        prop_assume!(never_usable);
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("input.sqlite.gz");
        std::fs::write(&input, &content).unwrap();
        let _ = octoshard::artifact::detect(&input);
        let out = dir.path().join("merged.sqlite");
        let request = MergeRequest {
            inputs: vec![input.clone()],
            out: out.clone(),
            plan_dir: None,
            leftovers_dir: dir.path().join("leftovers"),
            keep_requests: true,
            search_index: true,
        };
        let error = octoshard::merge::merge(&request).expect_err("nothing usable");
        let message = error.to_string();
        prop_assert!(message.contains(&input.display().to_string()), "{}", message);
        prop_assert!(!out.exists(), "no output from nothing");
    }

    #[test]
    fn a_good_shard_merges_beside_a_hostile_file_which_is_refused_by_name(
        bytes in prop::collection::vec(any::<u8>(), 0..4096),
        shape in 0u8..8,
        cut in any::<Index>(),
        flips in prop::collection::vec((any::<Index>(), any::<u8>()), 1..4),
        hostile_name in select(vec!["a-hostile.sqlite.gz", "a-hostile.sqlite", "z-hostile.sqlite.gz", "z-hostile.sqlite"]),
        good_packed in any::<bool>(),
    ) {
        let (plain, packed) = good_shard();
        let (content, never_usable) = hostile_bytes(bytes, shape, cut, &flips);
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("artifacts");
        std::fs::create_dir(&folder).unwrap();
        let good = folder.join(if good_packed { "good.sqlite.gz" } else { "good.sqlite" });
        std::fs::write(&good, if good_packed { packed } else { plain }).unwrap();
        let hostile = folder.join(hostile_name);
        std::fs::write(&hostile, &content).unwrap();
        let out = dir.path().join("out").join("merged.sqlite");
        let request = MergeRequest {
            inputs: vec![folder.clone()],
            out: out.clone(),
            plan_dir: None,
            leftovers_dir: dir.path().join("leftovers"),
            keep_requests: true,
            search_index: true,
        };
        let report = match octoshard::merge::merge(&request) {
            Ok(report) => report,
            Err(error) => return Err(TestCaseError::fail(format!("shape {shape}: the merge failed: {error}"))),
        };
        prop_assert!(mentions(&report, &good) && mentions(&report, &hostile), "every input is accounted for: {:?}", report);
        if never_usable {
            prop_assert_eq!(report.taken.len(), 1);
            prop_assert_eq!(&report.taken[0].path, &good);
            prop_assert_eq!(report.taken[0].repositories, 2);
            prop_assert_eq!(report.refused.len(), 1, "{:?}", report.refused);
            prop_assert_eq!(&report.refused[0].path, &hostile);
            prop_assert!(!report.refused[0].reason.is_empty());
        } else if let Some(refused) = report.refused.iter().find(|r| r.path == hostile) {
            prop_assert!(!refused.reason.is_empty());
            prop_assert!(report.taken.iter().any(|t| t.path == good));
        }
        if report.plan_id != PLAN_ID {
            // A flipped byte made the copy a valid shard of another plan, and it came first.
            prop_assert!(!never_usable);
            let refused = report.refused.iter().find(|r| r.path == good);
            prop_assert!(refused.is_some_and(|r| r.reason.contains("belongs to plan")), "{:?}", report);
            return Ok(());
        }
        // The output is one valid, self-contained SQLite file holding the good shard.
        prop_assert_eq!(octoshard::artifact::detect(&out).unwrap(), octoshard::artifact::FileKind::Sqlite);
        let conn = rusqlite::Connection::open_with_flags(&out, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let integrity: String = conn.query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap();
        prop_assert_eq!(integrity, "ok");
        let plan: String = conn.query_row("SELECT value FROM meta WHERE key = 'plan_id'", [], |row| row.get(0)).unwrap();
        prop_assert_eq!(plan, PLAN_ID);
        if never_usable {
            let ids: Vec<u64> = conn
                .prepare("SELECT id FROM repositories ORDER BY id").unwrap()
                .query_map([], |row| row.get(0)).unwrap()
                .collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(ids, vec![3, 4]);
        }
        // The inputs are left as they were. (A plain SQLite header that claims WAL mode makes
        // SQLite create empty -wal and -shm files beside it even for a read-only open: tolerated.)
        prop_assert_eq!(&std::fs::read(&good).unwrap(), if good_packed { packed } else { plain });
        prop_assert_eq!(std::fs::read(&hostile).unwrap(), content);
        for entry in std::fs::read_dir(&folder).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            let sidecar = name.strip_suffix("-wal").or(name.strip_suffix("-shm")) == Some(hostile_name);
            prop_assert!(sidecar || name == hostile_name || good.ends_with(&name), "{} appeared", name);
        }
    }
}

#[test]
fn the_seed_manifest_is_valid_so_mutations_start_from_an_accepted_file() {
    let manifest = Manifest::parse(MANIFEST).expect("the seed manifest parses");
    assert_eq!(manifest.work.len(), 4);
    assert_eq!(Manifest::parse(&manifest.to_yaml()), Ok(manifest));
}

#[test]
fn the_good_shard_merges_alone() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("good.sqlite.gz");
    std::fs::write(&input, &good_shard().1).unwrap();
    let request = MergeRequest {
        inputs: vec![input],
        out: dir.path().join("merged.sqlite"),
        plan_dir: None,
        leftovers_dir: dir.path().join("leftovers"),
        keep_requests: true,
        search_index: true,
    };
    let report = octoshard::merge::merge(&request).unwrap();
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(report.repositories, 2);
}
