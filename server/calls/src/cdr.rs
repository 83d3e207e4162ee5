//! Call records from FreeSWITCH stored per org: each decoded record ([`freeswitch::cdr`]) is
//! attributed to its org or kept aside for the provider, and records older than the retention
//! time are pruned.

use std::time::Duration;

use freeswitch::cdr::{json_of_body, parse, Attribution, Malformed};
use store::cdr::{OrphanCdr, Stored};

use engine::Engine;

/// The largest record accepted (a call with many transfers is some tens of KiB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Rows deleted per statement when pruning, and the pause between statements, so that pruning
/// never holds locks for long.
pub const PRUNE_BATCH: u64 = 10_000;
const PRUNE_PAUSE: Duration = Duration::from_millis(200);
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
const DAY_MS: i64 = 86_400_000;

// ---------------------------------------------------------------------------------------
// Ingest
// ---------------------------------------------------------------------------------------

/// What happened to a record; FreeSWITCH gets 200 for each of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Stored,
    Duplicate,
    Orphan(String),
    BLeg,
}

impl Outcome {
    /// The answer's text (FreeSWITCH logs it at debug level only).
    pub fn text(&self) -> String {
        match self {
            Outcome::Stored => "stored\n".into(),
            Outcome::Duplicate => "duplicate: this call was stored before\n".into(),
            Outcome::Orphan(why) => format!("kept aside for the provider: {why}\n"),
            Outcome::BLeg => "ignored: a B leg (the A leg's record describes the call)\n".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Malformed(#[from] Malformed),
    #[error("storing the call record: {0}")]
    Store(#[from] store::StoreError),
}

/// Decodes, attributes and stores one request body from mod_json_cdr.
pub async fn ingest(
    state: &Engine,
    body: &[u8],
    query_uuid: Option<&str>,
) -> Result<Outcome, IngestError> {
    let json = json_of_body(body)?;
    let record = parse(&json, query_uuid, &state.fs_settings().public_context)?;
    if record.is_b_leg {
        tracing::debug!(uuid = %record.call_uuid, "B-leg call record ignored");
        return Ok(Outcome::BLeg);
    }
    let store = state.store();
    let reason = match record.attribution() {
        Attribution::Org(slug) => match store.org_by_slug(slug.as_str()).await? {
            Some(org) => {
                let stored = store.insert_cdr(org.id, &record.cdr).await?;
                tracing::debug!(uuid = %record.call_uuid, org = %slug, ?stored, "call record");
                return Ok(match stored {
                    Stored::New => Outcome::Stored,
                    Stored::Duplicate => Outcome::Duplicate,
                });
            }
            None => format!("unknown org {:?}", slug.as_str()),
        },
        Attribution::Orphan(reason) => reason,
    };
    let orphan = OrphanCdr {
        cdr: record.cdr.clone(),
        reason: reason.clone(),
        org_marker: record.org_marker.clone(),
        domain_name: record.domain_name.clone(),
        received_ms: store::now_ms(),
    };
    let stored = store.insert_orphan_cdr(&orphan).await?;
    if stored == Stored::Duplicate {
        return Ok(Outcome::Duplicate);
    }
    tracing::warn!(
        uuid = %record.call_uuid,
        reason = %reason,
        domain = record.domain_name.as_deref().unwrap_or("-"),
        "call record kept aside: not attributable to an org"
    );
    Ok(Outcome::Orphan(reason))
}

// ---------------------------------------------------------------------------------------
// Retention
// ---------------------------------------------------------------------------------------

/// Deletes call records (and orphans) older than the retention, in batches with pauses.
/// Returns how many were deleted.
pub async fn prune_once(state: &Engine, now_ms: i64) -> store::StoreResult<u64> {
    let days = i64::from(state.config().cdr_retention_days);
    let cutoff = now_ms - days * DAY_MS;
    let store = state.store();
    let mut deleted = 0;
    loop {
        let n = store.prune_cdrs(cutoff, PRUNE_BATCH).await?;
        deleted += n;
        if n < PRUNE_BATCH {
            break;
        }
        tokio::time::sleep(PRUNE_PAUSE).await;
    }
    loop {
        let n = store.prune_cdr_orphans(cutoff, PRUNE_BATCH).await?;
        deleted += n;
        if n < PRUNE_BATCH {
            break;
        }
        tokio::time::sleep(PRUNE_PAUSE).await;
    }
    Ok(deleted)
}

/// Prunes at start-up and every hour. Several instances may prune at once: deleting is
/// idempotent.
pub async fn run_retention(state: Engine) {
    loop {
        match prune_once(&state, store::now_ms()).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(
                deleted,
                days = state.config().cdr_retention_days,
                "old call records pruned"
            ),
            Err(err) => tracing::warn!(error = %err, "pruning call records"),
        }
        tokio::time::sleep(PRUNE_EVERY).await;
    }
}
