//! The org admin's API (`/api/org/...`), used by the web app. Session-authenticated; the org
//! is the one of the page's host name and of the session, which must agree.
//!
//! Editing contract: every object carries a `revision`. A change names the revision it was made
//! on; when someone else changed the object since, the answer is 409 with `current_revision`
//! and nothing is written. Every change is saved at once into the **draft**; FreeSWITCH keeps
//! using the **applied** configuration until an Apply.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// What every page shows about the org, also before login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OrgInfo {
    pub slug: String,
    pub name: String,
    pub sip_domain: String,
    /// `/api/org/logo` when the org has a logo.
    pub logo_url: Option<String>,
    /// The logged-in admin, if any.
    pub me: Option<Me>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Me {
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// The whole PBX page in one answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PbxView {
    pub dids: Vec<DidView>,
    pub extensions: Vec<ExtensionView>,
    pub options: OptionsView,
    /// What blocks Apply, each next to its field.
    pub issues: Vec<IssueView>,
    /// What Apply would change ("N changes not applied yet").
    pub changes: Vec<ChangeView>,
    pub applied_version: i64,
    /// The org's unfinished Apply, or its last one.
    pub job: Option<JobView>,
}

/// An inbound number, read-only, and the extension it rings (editable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DidView {
    /// E.164 (`+15550100100`).
    pub number: String,
    /// `None`: calls to this number are refused.
    pub extension: Option<String>,
    pub revision: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RouteUpdate {
    pub revision: i64,
    pub extension: Option<String>,
}

/// No-answer actions: `voicemail`, `forward_extension`, `forward_external`, `hangup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ExtensionView {
    pub number: String,
    pub display_name: String,
    pub voicemail_enabled: bool,
    pub voicemail_pin: String,
    pub voicemail_email: Option<String>,
    pub ring_seconds: u16,
    pub no_answer_action: String,
    pub no_answer_target: Option<String>,
    pub do_not_disturb: bool,
    /// One of the org's DIDs, or `None` for the org's default caller ID.
    pub outbound_caller_id: Option<String>,
    pub revision: i64,
}

/// A new extension. Omitted fields get the defaults: voicemail on with a random PIN, ring 20 s
/// then voicemail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NewExtension {
    pub number: String,
    pub display_name: String,
    #[serde(default)]
    pub voicemail_enabled: Option<bool>,
    #[serde(default)]
    pub voicemail_pin: Option<String>,
    #[serde(default)]
    pub voicemail_email: Option<String>,
    #[serde(default)]
    pub ring_seconds: Option<u16>,
    #[serde(default)]
    pub no_answer_action: Option<String>,
    #[serde(default)]
    pub no_answer_target: Option<String>,
}

/// The new extension and its SIP password, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreatedExtension {
    pub extension: ExtensionView,
    pub sip_password: String,
}

/// A change to one extension: only the fields present change. For the optional text fields an
/// empty string clears them. `no_answer_action` and `no_answer_target` go together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ExtensionPatch {
    pub revision: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voicemail_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voicemail_pin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voicemail_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ring_seconds: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_answer_action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_answer_target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub do_not_disturb: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbound_caller_id: Option<String>,
}

/// Names the revision a delete or a new password is based on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RevisionRef {
    pub revision: i64,
}

/// A new SIP password, shown this once, with the extension's new revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NewPassword {
    pub sip_password: String,
    pub extension: ExtensionView,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OptionsView {
    pub moh_enabled: bool,
    /// True when the org uploaded its own music.
    pub has_moh_file: bool,
    pub default_caller_id: Option<String>,
    pub voicemail_attach_audio: bool,
    pub revision: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OptionsPatch {
    pub revision: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moh_enabled: Option<bool>,
    /// Empty string: no default caller ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_caller_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voicemail_attach_audio: Option<bool>,
    /// `true` removes the uploaded music (the provider's default plays).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_moh_file: Option<bool>,
}

/// A problem that blocks Apply. `subject_kind`: `extension`, `did_route` or `options`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct IssueView {
    pub subject_kind: String,
    pub subject_id: Option<String>,
    pub field: String,
    pub code: String,
    pub message: String,
}

/// One object Apply would change. `kind`: `added`, `removed` or `modified`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ChangeView {
    pub subject_kind: String,
    pub subject_id: Option<String>,
    pub kind: String,
    pub fields: Vec<String>,
}

/// Options of an Apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApplyRequest {
    /// Wait until the org's calls in progress have ended (at most `max_wait_seconds`).
    pub wait_for_calls: bool,
    pub max_wait_seconds: u32,
    /// E-mail me when the Apply is done (only when it had to wait).
    pub email_me: bool,
}

/// An Apply job. `state`: `waiting`, `applying`, `syncing`, `done`, `failed` or `stopped`.
///
/// The draft is taken when the job applies (after the wait), not when it was requested: edits
/// made while waiting are included. Stop cancels a waiting job and changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct JobView {
    pub id: i64,
    pub state: String,
    pub requested_by: String,
    /// Milliseconds since the epoch.
    pub requested_at: i64,
    pub wait_for_calls: bool,
    pub max_wait_seconds: u32,
    pub email_me: bool,
    /// While waiting: the org's calls still in progress.
    pub calls_in_progress: Option<u32>,
    /// While waiting: when the job applies anyway (ms since the epoch).
    pub deadline_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub applied_version: Option<i64>,
    /// What happened, for a person ("Applied; FreeSWITCH not yet told: ...").
    pub message: Option<String>,
    /// When the draft could not be applied.
    pub issues: Vec<IssueView>,
    /// `sent`, `failed: ...`, `off`, or absent when no e-mail was asked for.
    pub email_status: Option<String>,
    /// `told` when FreeSWITCH has received every command, `pending` while it has not.
    pub freeswitch: Option<String>,
}

/// Reset needs `confirm` to be exactly `"RESET"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ResetRequest {
    pub confirm: String,
}

/// After Reset: the draft holds the defaults; the reception extension's new credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ResetResult {
    pub reception_number: String,
    pub reception_sip_password: String,
    pub reception_voicemail_pin: String,
}

/// Accept an invitation: choose a password (at least 10 characters); logs the admin in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct InviteAccept {
    pub token: String,
    pub password: String,
}

/// The header every changing request of the org API must carry (CSRF defence: a cross-site form
/// cannot set it, and a cross-site script cannot send it without a CORS permission we never give).
pub const CSRF_HEADER: &str = "x-littlepbx";
