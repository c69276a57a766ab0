//! The optional LLM analyzer's text: the instructions, one line per repository, batches sized to
//! fit a context window (tokens estimated as characters / 4), and the strict check of an answer.
//! Sending is [`super::endpoint`]'s job.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use serde_json::json;

use super::input::Repository;
use super::rules::Rules;

/// The prompt format and answer rules this build implements; part of every LLM analyzer version.
pub const LLM_FORMAT: &str = "llm-1";

/// Tokens reserved for the answer about one repository (`{"id":...,"category":...,"score":...}`).
pub const ANSWER_TOKENS_PER_REPOSITORY: u64 = 24;

/// Tokens for the chat framing of a request (roles, message separators) and the answer's brackets.
pub const FRAMING_TOKENS: u64 = 24;

/// The most repositories in one request, whatever the context: long answers are where models
/// stop early or drift.
pub const MAX_BATCH: usize = 100;

/// Description characters sent per repository; longer ones are cut (the rest rarely changes the
/// category).
const DESCRIPTION_CHARS: usize = 300;

/// Topics sent per repository.
const TOPICS: usize = 10;

/// The analyzer version stored with LLM rows: the format and the model.
pub fn version(model: &str) -> String {
    format!("{LLM_FORMAT}:{model}")
}

/// Estimated tokens of `chars` characters: a quarter, rounded up.
pub fn estimate_tokens(chars: usize) -> u64 {
    (chars as u64).div_ceil(4)
}

/// The system message: the allowed categories (with a few of each one's topics as hints), the
/// score's meaning and the exact answer format.
pub fn instructions(rules: &Rules) -> String {
    let mut text = String::from(
        "You classify GitHub repositories. The user sends one JSON object per line, one per repository. \
         For each repository choose exactly one category from this list:\n",
    );
    for category in &rules.categories {
        let hints: Vec<&str> = category.topics.iter().take(5).map(String::as_str).collect();
        text.push_str(&format!("- {}: {}\n", category.name, hints.join(", ")));
    }
    text.push_str(&format!("- {}: anything else\n", rules.fallback));
    text.push_str(
        "and give a quality score from 0 to 100 (how useful, maintained and popular it looks). \
         Answer with only a JSON array, no other text and no code fences, with one object per repository \
         and every repository once: [{\"id\": <the repository's id>, \"category\": \"<a category of the list>\", \
         \"score\": <a number from 0 to 100>}]",
    );
    text
}

/// One repository as the model sees it: a compact JSON line, the description and topics cut to a
/// bounded size.
pub fn line(repo: &Repository) -> String {
    let description: Option<String> = repo.description.as_deref().map(|d| d.chars().take(DESCRIPTION_CHARS).collect());
    let topics: Vec<&str> = repo.topics.iter().take(TOPICS).map(|t| t.as_str()).collect();
    let name: String = repo.full_name.chars().take(140).collect();
    json!({
        "id": repo.id,
        "name": name,
        "description": description,
        "language": repo.language,
        "topics": topics,
        "stars": repo.stars,
        "archived": repo.archived,
        "fork": repo.fork,
        "pushed_at": repo.pushed_at,
    })
    .to_string()
}

/// The estimated tokens of one request: the instructions, the lines (one per line) and the
/// answer reserved for them.
pub fn request_tokens(instructions_chars: usize, lines_chars: usize, count: usize) -> u64 {
    estimate_tokens(instructions_chars + lines_chars + count.saturating_sub(1))
        + FRAMING_TOKENS
        + ANSWER_TOKENS_PER_REPOSITORY * count as u64
}

/// The smallest context that holds the instructions and one repository of the largest size.
pub fn minimum_context(instructions: &str) -> u64 {
    let largest = DESCRIPTION_CHARS + 140 + TOPICS * 60 + 200;
    request_tokens(instructions.chars().count(), largest, 1)
}

/// Cuts `lines` into consecutive batches, each as long as fits `context` tokens (and at most
/// [`MAX_BATCH`]); a line too long even alone still goes, alone.
pub fn batches(instructions: &str, lines: &[String], context: u64) -> Vec<Range<usize>> {
    let base = instructions.chars().count();
    let mut batches = Vec::new();
    let mut start = 0;
    let mut chars = 0;
    for (i, line) in lines.iter().enumerate() {
        let size = line.chars().count();
        let count = i - start;
        if count > 0 && (count >= MAX_BATCH || request_tokens(base, chars + size, count + 1) > context) {
            batches.push(start..i);
            start = i;
            chars = 0;
        }
        chars += size;
    }
    if start < lines.len() {
        batches.push(start..lines.len());
    }
    batches
}

/// One repository's verdict from the model.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// The repository id.
    pub id: i64,
    /// A category of the list.
    pub category: String,
    /// 0..100.
    pub score: f64,
}

/// Checks an answer strictly: a JSON array (a code fence around it is tolerated), one object per
/// asked id, every category allowed, every score in 0..100. Any fault rejects the whole answer.
pub fn validate(content: &str, ids: &[i64], categories: &[String]) -> Result<Vec<Answer>, String> {
    let text = strip_fence(content.trim());
    let answers: Vec<Answer> =
        serde_json::from_str(text).map_err(|e| format!("the answer is not the JSON array asked for ({e})"))?;
    let mut by_id: BTreeMap<i64, Answer> = BTreeMap::new();
    for answer in answers {
        if !ids.contains(&answer.id) {
            return Err(format!("the answer names id {}, which was not asked about", answer.id));
        }
        if !categories.contains(&answer.category) {
            return Err(format!("category `{}` (id {}) is not one of the list", answer.category, answer.id));
        }
        if !(0.0..=100.0).contains(&answer.score) {
            return Err(format!("score {} (id {}) is outside 0..100", answer.score, answer.id));
        }
        let id = answer.id;
        if by_id.insert(id, answer).is_some() {
            return Err(format!("id {id} is answered twice"));
        }
    }
    let missing: Vec<String> = ids.iter().filter(|id| !by_id.contains_key(id)).map(|id| id.to_string()).collect();
    if !missing.is_empty() {
        return Err(format!("{} id(s) are not answered: {}", missing.len(), missing.join(", ")));
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// The text inside a Markdown code fence (```json ... ```), or the text itself.
fn strip_fence(text: &str) -> &str {
    let Some(rest) = text.strip_prefix("```") else { return text };
    let Some(body) = rest.strip_suffix("```") else { return text };
    body.trim_start_matches(|c: char| c.is_ascii_alphanumeric()).trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn categories() -> Vec<String> {
        vec!["web".into(), "other".into()]
    }

    #[test]
    fn batches_fill_the_context_and_never_pass_it() {
        let instructions = "x".repeat(400); // 100 tokens
        let lines: Vec<String> = (0..10).map(|_| "y".repeat(199)).collect(); // 50 tokens with the newline
        // One line: 100 + 50 + 24 framing + 24 answer = 198 (rounding aside); each more adds 74.
        let one = request_tokens(400, 199, 1);
        assert_eq!(one, 100 + 50 + 24 + 24);
        assert_eq!(request_tokens(400, 398, 2), one + 74);
        let context = one + 74 * 2; // three lines per batch
        let cut = batches(&instructions, &lines, context);
        assert_eq!(cut, vec![0..3, 3..6, 6..9, 9..10]);
        assert_eq!(batches(&instructions, &lines, context - 1), vec![0..2, 2..4, 4..6, 6..8, 8..10]);
        // A context too small for even one line still sends each alone.
        assert_eq!(batches(&instructions, &lines, 10).len(), 10);
        assert!(batches(&instructions, &[], 1000).is_empty());
        // Never more than MAX_BATCH, however large the context.
        let many: Vec<String> = (0..250).map(|_| "z".into()).collect();
        assert_eq!(batches("", &many, 1_000_000), vec![0..100, 100..200, 200..250]);
    }

    #[test]
    fn lines_are_bounded_and_the_minimum_context_holds_one() {
        let repo = Repository {
            id: 7,
            full_name: "o/".to_string() + &"n".repeat(500),
            description: Some("d".repeat(5000)),
            language: Some("Rust".into()),
            topics: (0..30).map(|i| format!("topic-{i:0>40}")).collect(),
            stars: Some(1),
            forks: None,
            open_issues: None,
            fork: false,
            archived: false,
            license: None,
            pushed_at: Some("2024-01-01T00:00:00Z".into()),
        };
        let text = line(&repo);
        let instructions = instructions(&Rules::default());
        assert!(
            request_tokens(instructions.chars().count(), text.chars().count(), 1) <= minimum_context(&instructions)
        );
        assert!(instructions.contains("- machine-learning: machine-learning, deep-learning"));
        assert!(instructions.contains("- other: anything else"));
    }

    #[test]
    fn answers_are_checked_strictly() {
        let ids = [1, 2];
        let good = r#"[{"id": 2, "category": "web", "score": 40}, {"id": 1, "category": "other", "score": 0.5}]"#;
        let answers = validate(good, &ids, &categories()).unwrap();
        assert_eq!(answers.iter().map(|a| a.id).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(answers[1].score, 40.0);
        let fenced = format!("```json\n{good}\n```");
        assert_eq!(validate(&fenced, &ids, &categories()).unwrap().len(), 2);
        for (bad, says) in [
            ("not json", "not the JSON array"),
            (r#"{"id": 1}"#, "not the JSON array"),
            (r#"[{"id": 1, "category": "web", "score": 1}]"#, "not answered: 2"),
            (r#"[{"id": 1, "category": "web", "score": 1}, {"id": 3, "category": "web", "score": 1}]"#, "id 3"),
            (r#"[{"id": 1, "category": "cars", "score": 1}, {"id": 2, "category": "web", "score": 1}]"#, "`cars`"),
            (r#"[{"id": 1, "category": "web", "score": 101}, {"id": 2, "category": "web", "score": 1}]"#, "101"),
            (r#"[{"id": 1, "category": "web", "score": -1}, {"id": 2, "category": "web", "score": 1}]"#, "-1"),
            (r#"[{"id": 1, "category": "web", "score": 1}, {"id": 1, "category": "web", "score": 1}]"#, "twice"),
            (r#"[{"id": 1, "category": "web", "score": "high"}, {"id": 2, "category": "web", "score": 1}]"#, "JSON"),
            (
                r#"[{"id": 1, "category": "web", "score": 1, "why": "x"}, {"id": 2, "category": "web", "score": 1}]"#,
                "why",
            ),
        ] {
            let error = validate(bad, &ids, &categories()).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }
}
