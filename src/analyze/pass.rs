//! The two passes over a database: page by page (by id), skip the repositories whose stored
//! input hash is current, judge the rest and upsert them, one transaction per page (rules) or per
//! batch (LLM, so a kill loses at most the answer in flight).

use rusqlite::{Transaction, params};
use serde_json::{Value, json};

use super::endpoint::{CallError, Endpoint, LlmConfig};
use super::input::{self, Repository};
use super::rules::Rules;
use super::{AnalyzeError, AnalyzeSummary, llm};
use crate::store::Store;

/// How many batch failures the summary keeps as examples.
const FAILURE_EXAMPLES: usize = 3;

/// One analysis to store.
struct Row {
    repo_id: i64,
    category: String,
    score: f64,
    signals: Value,
    input_hash: String,
}

fn upsert(tx: &Transaction<'_>, analyzer: &str, version: &str, at: &str, rows: &[Row]) -> rusqlite::Result<()> {
    let mut statement = tx.prepare_cached(
        "INSERT INTO analyzed_repositories
            (repo_id, analyzer, analyzer_version, category, score, signals, input_hash, analyzed_at, fetched_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
         ON CONFLICT (repo_id, analyzer) DO UPDATE SET analyzer_version = excluded.analyzer_version,
            category = excluded.category, score = excluded.score, signals = excluded.signals,
            input_hash = excluded.input_hash, analyzed_at = excluded.analyzed_at, fetched_at = excluded.fetched_at",
    )?;
    for row in rows {
        statement.execute(params![
            row.repo_id,
            analyzer,
            version,
            row.category,
            row.score,
            row.signals.to_string(),
            row.input_hash,
            at
        ])?;
    }
    Ok(())
}

/// The rules analyzer over every repository.
/// Repositories to go through (the progress bar's length).
fn repository_count(store: &Store) -> Result<u64, AnalyzeError> {
    store
        .conn()
        .query_row("SELECT count(*) FROM repositories", [], |r| r.get::<_, i64>(0))
        .map(|n| n.max(0) as u64)
        .map_err(|e| store.error(e).into())
}

pub(super) fn rules(store: &mut Store, rules: &Rules, page_rows: usize) -> Result<AnalyzeSummary, AnalyzeError> {
    let version = rules.version();
    let reference_day = input::reference_day(store.conn()).map_err(|e| store.error(e))?;
    let mut summary = AnalyzeSummary {
        analyzer: "rules".into(),
        analyzer_version: version.clone(),
        reference_day: reference_day.clone(),
        ..AnalyzeSummary::default()
    };
    let day = reference_day.unwrap_or_default();
    let epoch_day = input::epoch_day(&day).unwrap_or(0);
    let matcher = rules.matcher();
    let bar = crate::bars::Bar::new(Some(repository_count(store)?), "analyze");
    let mut after = i64::MIN;
    loop {
        let page = input::page(store.conn(), "rules", after, page_rows).map_err(|e| store.error(e))?;
        let Some(last) = page.last() else { break };
        after = last.repo.id;
        summary.repositories += page.len() as u64;
        bar.inc(page.len() as u64);
        let mut rows = Vec::new();
        for stored in page {
            let hash = stored.repo.input_hash(&version, &day);
            if stored.input_hash.as_deref() == Some(hash.as_str()) {
                summary.unchanged += 1;
                continue;
            }
            let verdict = matcher.judge(&stored.repo, epoch_day);
            *summary.categories.entry(verdict.matched.category.clone()).or_default() += 1;
            rows.push(Row {
                repo_id: stored.repo.id,
                category: verdict.matched.category.clone(),
                score: verdict.score,
                signals: verdict.signals(&day),
                input_hash: hash,
            });
        }
        summary.analysed += rows.len() as u64;
        if !rows.is_empty() {
            let at = crate::time::now_rfc3339();
            store.write(|tx| upsert(tx, "rules", &version, &at, &rows))?;
        }
        tracing::debug!("analyzed up to id {after}: {} analysed, {} unchanged", summary.analysed, summary.unchanged);
    }
    Ok(summary)
}

/// The LLM analyzer over every repository: batches sized to the context, each answer checked,
/// a rejected answer asked once more, the cost cap checked before every batch.
pub(super) async fn llm(
    store: &mut Store,
    rules: &Rules,
    config: &LlmConfig,
    page_rows: usize,
) -> Result<AnalyzeSummary, AnalyzeError> {
    let version = llm::version(&config.model);
    let instructions = llm::instructions(rules);
    let minimum = llm::minimum_context(&instructions);
    if config.context_tokens < minimum {
        return Err(AnalyzeError::Config(format!(
            "--llm-context-tokens {} is too small: the instructions and one repository need {minimum}",
            config.context_tokens
        )));
    }
    let mut endpoint = Endpoint::new(config).map_err(AnalyzeError::Config)?;
    let categories = rules.category_names();
    let mut summary =
        AnalyzeSummary { analyzer: "llm".into(), analyzer_version: version.clone(), ..AnalyzeSummary::default() };
    let bar = crate::bars::Bar::new(Some(repository_count(store)?), "analyze");
    let mut after = i64::MIN;
    loop {
        let page = input::page(store.conn(), "llm", after, page_rows).map_err(|e| store.error(e))?;
        let Some(last) = page.last() else { break };
        after = last.repo.id;
        summary.repositories += page.len() as u64;
        bar.inc(page.len() as u64);
        let mut pending: Vec<(Repository, String)> = Vec::new();
        for stored in page {
            let hash = stored.repo.input_hash(&version, "");
            if stored.input_hash.as_deref() == Some(hash.as_str()) {
                summary.unchanged += 1;
            } else {
                pending.push((stored.repo, hash));
            }
        }
        let lines: Vec<String> = pending.iter().map(|(repo, _)| llm::line(repo)).collect();
        for batch in llm::batches(&instructions, &lines, config.context_tokens) {
            let size = batch.len() as u64;
            if summary.stopped.is_some() {
                summary.not_sent += size;
                continue;
            }
            let user = lines[batch.clone()].join("\n");
            let chars: usize = lines[batch.clone()].iter().map(|l| l.chars().count()).sum();
            let estimate = llm::request_tokens(instructions.chars().count(), chars, batch.len());
            if let Some(cap) = config.max_tokens
                && summary.tokens + estimate > cap
            {
                summary.stopped = Some(format!(
                    "the cost cap of {cap} tokens is reached ({} spent; the next batch needs about {estimate})",
                    summary.tokens
                ));
                summary.not_sent += size;
                continue;
            }
            let ids: Vec<i64> = pending[batch.clone()].iter().map(|(repo, _)| repo.id).collect();
            let max_completion = llm::ANSWER_TOKENS_PER_REPOSITORY * size + llm::FRAMING_TOKENS;
            match ask(&mut endpoint, &mut summary, &instructions, &user, &ids, &categories, max_completion).await {
                Ok(answers) => {
                    let rows: Vec<Row> = answers
                        .into_iter()
                        .zip(&pending[batch])
                        .map(|(answer, (_, hash))| {
                            *summary.categories.entry(answer.category.clone()).or_default() += 1;
                            Row {
                                repo_id: answer.id,
                                signals: json!({"model": config.model, "batch": size}),
                                category: answer.category,
                                score: (answer.score * 100.0).round() / 100.0,
                                input_hash: hash.clone(),
                            }
                        })
                        .collect();
                    summary.analysed += size;
                    let at = crate::time::now_rfc3339();
                    store.write(|tx| upsert(tx, "llm", &version, &at, &rows))?;
                }
                Err(Failure::Batch(reason)) => {
                    tracing::warn!("a batch of {size} repositories failed: {reason}");
                    summary.failed += size;
                    if summary.failures.len() < FAILURE_EXAMPLES {
                        summary.failures.push(reason);
                    }
                }
                Err(Failure::Stop(reason)) => {
                    tracing::warn!("stopped asking the endpoint: {reason}");
                    summary.failed += size;
                    summary.stopped = Some(reason);
                }
            }
            tracing::info!(
                "llm: {} analysed, {} failed, {} tokens, {} requests",
                summary.analysed,
                summary.failed,
                summary.tokens,
                endpoint.requests
            );
        }
    }
    summary.requests = endpoint.requests;
    Ok(summary)
}

/// Why a batch has no answers.
enum Failure {
    /// This batch only (its answer was rejected twice).
    Batch(String),
    /// The endpoint is unusable: send nothing more.
    Stop(String),
}

/// Asks about one batch, twice at most when the answer is rejected; counts the tokens.
async fn ask(
    endpoint: &mut Endpoint,
    summary: &mut AnalyzeSummary,
    instructions: &str,
    user: &str,
    ids: &[i64],
    categories: &[String],
    max_completion: u64,
) -> Result<Vec<llm::Answer>, Failure> {
    let mut rejected = String::new();
    for attempt in 1..=2 {
        let completion = match endpoint.complete(instructions, user, max_completion).await {
            Ok(completion) => completion,
            Err(CallError::Unavailable(reason)) => return Err(Failure::Stop(reason)),
            Err(CallError::Refused(reason)) => return Err(Failure::Stop(reason)),
        };
        summary.tokens += completion.tokens;
        match llm::validate(&completion.content, ids, categories) {
            Ok(answers) => return Ok(answers),
            Err(reason) => {
                tracing::debug!("answer {attempt} rejected: {reason}");
                rejected = reason;
            }
        }
    }
    Err(Failure::Batch(format!("answer rejected twice: {rejected}")))
}
