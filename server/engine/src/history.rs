//! The Apply history as org admins and the provider read it (what changed, in sentences),
//! restoring a version into the draft, and the history's retention.

use std::time::Duration;

use api_types::history::{HistoryEntry, HistoryPage, RestorePreview, RestoreResult};
use domain::history::{describe, describe_changes};
use store::history::HistoryRecord;
use store::{Layer, OrgId};

use crate::{Engine, Result};

pub const DEFAULT_PAGE: u32 = 20;
pub const MAX_PAGE: u32 = 100;
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
const DAY_MS: i64 = 86_400_000;

/// One history row as shown; `previous` is the Apply before it, when still kept.
fn entry(record: &HistoryRecord, previous: Option<&HistoryRecord>) -> HistoryEntry {
    let before = previous.and_then(|p| p.config.as_ref());
    let mut changes = match (before, &record.config) {
        (Some(before), Some(now)) => describe(before, now),
        _ => describe_changes(&record.changes),
    };
    if changes.is_empty() {
        changes.push(if previous.is_none() && record.changes.is_empty() {
            "The organization's first configuration.".to_owned()
        } else {
            "Nothing changed in the configuration.".to_owned()
        });
    }
    HistoryEntry {
        version: record.version,
        applied_at: record.applied_at_ms,
        applied_by: record.applied_by.clone(),
        waited_seconds: record
            .waited_ms
            .map(|ms| u64::try_from(ms.max(0)).unwrap_or(0).div_ceil(1000)),
        changes,
        restorable: record.config.is_some(),
    }
}

/// The org's Applies below version `before`, newest first.
pub async fn page(
    engine: &Engine,
    org: OrgId,
    before: Option<i64>,
    limit: Option<u32>,
) -> Result<HistoryPage> {
    let limit = limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE) as usize;
    // One more than the page: the Apply before the last one shown, to describe it.
    let records = engine
        .store()
        .history(org, before, limit as u64 + 1)
        .await?;
    let entries: Vec<HistoryEntry> = records
        .iter()
        .take(limit)
        .enumerate()
        .map(|(i, record)| entry(record, records.get(i + 1)))
        .collect();
    let next_before = (records.len() > limit)
        .then(|| entries.last().map(|e| e.version))
        .flatten();
    Ok(HistoryPage {
        entries,
        next_before,
    })
}

/// What restoring `version` would change in the draft as it is now.
pub async fn preview(engine: &Engine, org: OrgId, version: i64) -> Result<RestorePreview> {
    let (record, plan, draft, draft_revision) =
        engine.store().restore_preview(org, version).await?;
    let previous = engine.store().history(org, Some(version), 1).await?;
    Ok(RestorePreview {
        entry: entry(&record, previous.first()),
        draft_revision,
        changes: describe(&draft, &plan.config),
        secrets_differ: plan
            .secrets_differ
            .iter()
            .map(ToString::to_string)
            .collect(),
        numbers_gone: plan.numbers_gone.iter().map(ToString::to_string).collect(),
        returning: plan.returning.iter().map(ToString::to_string).collect(),
    })
}

/// Copies `version` into the draft (one transaction) and says what Apply would now do.
pub async fn restore(
    engine: &Engine,
    org: OrgId,
    version: i64,
    based_on_revision: Option<i64>,
    restore_secrets: bool,
    by: &str,
) -> Result<RestoreResult> {
    let restored = engine
        .store()
        .restore_version(org, version, based_on_revision, restore_secrets)
        .await?;
    tracing::info!(
        org = org.0,
        version,
        by,
        restore_secrets,
        "version restored into the draft"
    );
    let applied = engine.store().load_layer(org, Layer::Applied).await?;
    Ok(RestoreResult {
        version,
        draft_revision: restored.revision,
        pending: describe(&applied, &restored.plan.config),
    })
}

/// Deletes history rows past the retention, keeping every org's last versions.
pub async fn prune_once(engine: &Engine, now_ms: i64) -> store::StoreResult<u64> {
    let config = engine.config();
    let cutoff = now_ms - i64::from(config.history_retention_days) * DAY_MS;
    engine
        .store()
        .prune_history(cutoff, u64::from(config.history_keep_versions))
        .await
}

/// Prunes the history every hour; returns when the engine stops.
pub async fn run_retention(engine: Engine) {
    loop {
        match prune_once(&engine, store::now_ms()).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "old Apply history pruned"),
            Err(err) => tracing::warn!(error = %err, "pruning the Apply history"),
        }
        tokio::select! {
            () = tokio::time::sleep(PRUNE_EVERY) => {}
            () = engine.shutting_down() => return,
        }
    }
}
