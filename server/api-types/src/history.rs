//! The Apply history of an org and restoring an earlier version, for the org admin
//! (`/api/org/history...`) and the provider (`/api/v1/orgs/{slug}/history...`).
//!
//! Every Apply keeps the configuration it applied. Restoring a version copies it into the
//! **draft** (nothing reaches FreeSWITCH until the next Apply). SIP passwords and voicemail
//! PINs of extensions that exist in the draft keep their current values unless
//! `restore_secrets` is true; extensions that no longer exist come back with the credentials
//! they had.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

/// One Apply of the org.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct HistoryEntry {
    /// The applied version this Apply made.
    pub version: i64,
    /// Milliseconds since the epoch.
    pub applied_at: i64,
    /// The admin's e-mail, `provider`, `reset`...
    pub applied_by: String,
    /// How long the Apply waited for the org's calls to end, when it waited.
    pub waited_seconds: Option<u64>,
    /// What changed, one sentence per extension, number or setting ("Extension 102 'Front
    /// desk': rings 20 s instead of 25 s, then voicemail."). Secrets are named, never shown.
    pub changes: Vec<String>,
    /// False for Applies made before versions were kept whole: they can be read, not restored.
    pub restorable: bool,
}

/// A page of the history, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct HistoryPage {
    pub entries: Vec<HistoryEntry>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

/// Paging of the history: entries with a version below `before` (default: from the newest),
/// at most `limit` (default 20, at most 100).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct HistoryQuery {
    pub before: Option<i64>,
    pub limit: Option<u32>,
}

/// What restoring a version would do to the current draft, before doing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RestorePreview {
    pub entry: HistoryEntry,
    /// The draft's revision this preview was computed on (name it when restoring).
    pub draft_revision: i64,
    /// The draft after the restore compared with the draft now, in sentences.
    pub changes: Vec<String>,
    /// Extensions (numbers) of the draft whose SIP password or voicemail PIN differ in that
    /// version: they keep their current values unless `restore_secrets` is true.
    pub secrets_differ: Vec<String>,
    /// Numbers routed in that version that the org no longer has: their routes are left out.
    pub numbers_gone: Vec<String>,
    /// Extensions deleted since that version: they come back with the SIP password and
    /// voicemail PIN they had then.
    pub returning: Vec<String>,
}

/// Restore a version into the draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RestoreRequest {
    /// The draft revision the restore was decided on (from the preview); when someone changed
    /// the draft since, the answer is 409 and nothing is written. The provider may leave it
    /// out.
    pub based_on_revision: Option<i64>,
    /// Also bring back that version's SIP passwords and voicemail PINs for extensions that
    /// exist now (phones set up since then stop registering).
    #[serde(default)]
    pub restore_secrets: bool,
}

/// After a restore: the draft's new revision and its changes waiting for Apply, in sentences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RestoreResult {
    pub version: i64,
    pub draft_revision: i64,
    /// The draft compared with the applied configuration, in sentences (what Apply will do).
    pub pending: Vec<String>,
}
