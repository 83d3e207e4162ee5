//! The provider's REST API (`/api/v1/...`), bearer API keys. Secrets are write-only: trunk
//! passwords and keys are accepted, never returned.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Per-org limits. Omitted on create: 1000 extensions, 10 outside calls at once, 2 new outside
/// calls per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"max_extensions": 1000, "max_outbound_calls": 10, "max_calls_per_second": 2})))]
pub struct Limits {
    pub max_extensions: u32,
    pub max_outbound_calls: u32,
    pub max_calls_per_second: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"slug": "acme", "name": "Acme Inc."})))]
pub struct OrgCreate {
    /// 2-32 of a-z, 0-9 and single hyphens, starting with a letter. Fixed for the org's life.
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$",
            min_length = 2,
            max_length = 32
        )
    )]
    pub slug: String,
    /// The company name shown on the org's pages: 1 to 100 characters, none of `< > $ { } \`.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: String,
    /// Default (also when blank) `pbx.<slug>.<base domain>`. Fixed for the org's life (SIP
    /// passwords depend on it).
    #[serde(default)]
    pub sip_domain: Option<String>,
    #[serde(default)]
    pub limits: Option<Limits>,
}

/// A new org with its reception extension's credentials (shown this once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "org": {"slug": "acme", "name": "Acme Inc.", "sip_domain": "pbx.acme.example.com",
        "status": "active", "limits": {"max_extensions": 1000, "max_outbound_calls": 10, "max_calls_per_second": 2},
        "has_logo": false, "url": "https://pbx.acme.example.com", "applied_version": 1,
        "created_at": 1764300000000_i64, "updated_at": 1764300000000_i64},
    "reception_number": "100", "reception_sip_password": "k3XbQ7mPw9RtZa2D",
    "reception_voicemail_pin": "482913"
})))]
pub struct OrgCreated {
    pub org: OrgView,
    pub reception_number: String,
    pub reception_sip_password: String,
    pub reception_voicemail_pin: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "slug": "acme", "name": "Acme Inc.", "sip_domain": "pbx.acme.example.com", "status": "active",
    "limits": {"max_extensions": 1000, "max_outbound_calls": 10, "max_calls_per_second": 2},
    "has_logo": false, "url": "https://pbx.acme.example.com", "applied_version": 1,
    "created_at": 1764300000000_i64, "updated_at": 1764300000000_i64
})))]
pub struct OrgView {
    pub slug: String,
    pub name: String,
    pub sip_domain: String,
    /// `active` or `suspended`.
    pub status: String,
    pub limits: Limits,
    pub has_logo: bool,
    /// The org admins' web address.
    pub url: String,
    pub applied_version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"name": "Acme Corporation", "status": "suspended"})))]
pub struct OrgPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `active` or `suspended` (a suspended org's phones cannot register or call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Limits>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OrgList {
    pub items: Vec<OrgView>,
    pub total: u64,
    pub offset: u64,
    pub limit: u64,
}

/// Create an admin with a password, or (without one) with an invitation link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"email": "boss@acme.example"})))]
pub struct AdminCreate {
    pub email: String,
    /// 10 to 200 characters. Omit to get an invitation link instead.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_length = 10, max_length = 200))]
    pub password: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"id": 7, "email": "boss@acme.example", "invite_pending": false, "created_at": 1764300000000_i64})))]
pub struct AdminView {
    pub id: i64,
    pub email: String,
    /// True until the admin has set a password through the invitation.
    pub invite_pending: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "admin": {"id": 8, "email": "new@acme.example", "invite_pending": true, "created_at": 1764300000000_i64},
    "invite_url": "https://pbx.acme.example.com/invite/Jc1mT4pQ0v8bXr2sLk9wYz3dFh6nAe5uGi7oRt1qWs0"
})))]
pub struct AdminCreated {
    pub admin: AdminView,
    /// Present when no password was given: valid for 7 days, works once.
    pub invite_url: Option<String>,
}

/// Set a given password, or omit it to get a generated one back (shown this once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"password": "correct horse battery"})))]
pub struct AdminPasswordReset {
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"password": "Hq3vX9pLm2Tz8sWk"})))]
pub struct AdminPasswordResult {
    /// The generated password, when none was given.
    pub password: Option<String>,
}

/// One of the org's trunks (`inbound` or `outbound`). For `outbound`, `same_as_inbound: true`
/// means outside calls use the inbound trunk; the other fields are then ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "username": "acme-trunk", "password": "s3cret", "host": "sip.carrier.example", "port": 5060,
    "transport": "udp", "register": true, "allowed_cidrs": ["203.0.113.10/32"]
})))]
pub struct TrunkPut {
    #[serde(default)]
    pub same_as_inbound: bool,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub auth_username: Option<String>,
    /// Write-only: never returned. Omit (or `null`) to keep the current password, `""` to
    /// remove it.
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub proxy: Option<String>,
    #[serde(default)]
    pub port: Option<u32>,
    /// `udp`, `tcp` or `tls`; default `udp`.
    #[serde(default)]
    pub transport: Option<String>,
    #[serde(default)]
    pub register: bool,
    #[serde(default)]
    pub realm: Option<String>,
    #[serde(default)]
    pub from_user: Option<String>,
    #[serde(default)]
    pub from_domain: Option<String>,
    #[serde(default)]
    pub caller_id_in_from: bool,
    /// Default 3600.
    #[serde(default)]
    pub expire_seconds: Option<u32>,
    /// Addresses the carrier sends calls from.
    #[serde(default)]
    pub allowed_cidrs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "role": "inbound", "gateway": "acme.in", "same_as_inbound": false, "username": "acme-trunk",
    "auth_username": null, "has_password": true, "host": "sip.carrier.example", "proxy": null,
    "port": 5060, "transport": "udp", "register": true, "realm": null, "from_user": null,
    "from_domain": null, "caller_id_in_from": false, "expire_seconds": 3600,
    "allowed_cidrs": ["203.0.113.10/32"], "updated_at": 1764300000000_i64,
    "state": {"state": "REGED", "status": "UP", "checked_at": 1764300005000_i64, "pending_commands": 0}
})))]
pub struct TrunkView {
    /// `inbound` or `outbound`.
    pub role: String,
    /// The FreeSWITCH gateway this trunk is (`<slug>.in`, `<slug>.out`).
    pub gateway: String,
    pub same_as_inbound: bool,
    pub username: Option<String>,
    pub auth_username: Option<String>,
    pub has_password: bool,
    pub host: Option<String>,
    pub proxy: Option<String>,
    pub port: Option<u16>,
    pub transport: Option<String>,
    pub register: bool,
    pub realm: Option<String>,
    pub from_user: Option<String>,
    pub from_domain: Option<String>,
    pub caller_id_in_from: bool,
    pub expire_seconds: Option<u32>,
    pub allowed_cidrs: Vec<String>,
    pub updated_at: i64,
    pub state: GatewayState,
}

/// A gateway's registration state as FreeSWITCH last reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"state": "REGED", "status": "UP", "checked_at": 1764300005000_i64, "pending_commands": 0})))]
pub struct GatewayState {
    /// `REGED`, `NOREG`, `TRYING`, `FAIL_WAIT`, ... or `unknown` when FreeSWITCH is not reachable.
    pub state: String,
    /// `UP`/`DOWN` (ping status) when known.
    pub status: Option<String>,
    /// When LittlePBX learnt it (ms since the epoch).
    pub checked_at: Option<i64>,
    /// Commands for this org FreeSWITCH has not been told yet.
    pub pending_commands: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"number": "+15550100123"})))]
pub struct DidCreate {
    /// E.164 (`+15550100100`); spaces, dots, hyphens and parentheses are ignored.
    #[cfg_attr(feature = "openapi", schema(pattern = r"^\+[1-9][0-9]{6,14}$"))]
    pub number: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"numbers": ["+15550100100", "+15550100123"]})))]
pub struct DidList {
    pub numbers: Vec<String>,
}

/// An org at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "slug": "acme", "status": "active", "applied_version": 3, "pending_changes": 2,
    "apply_job_state": "done",
    "gateways": [{"gateway": "acme.in", "state": {"state": "REGED", "status": "UP",
        "checked_at": 1764300005000_i64, "pending_commands": 0}}],
    "pending_freeswitch_commands": 0
})))]
pub struct OrgStatusView {
    pub slug: String,
    pub status: String,
    pub applied_version: i64,
    /// Changes in the draft not applied yet.
    pub pending_changes: u64,
    /// The unfinished Apply job or the last one: its state.
    pub apply_job_state: Option<String>,
    pub gateways: Vec<TrunkGatewayState>,
    /// Phones of the org registered right now (from FreeSWITCH's database when LittlePBX reads
    /// it, else from FreeSWITCH over the event socket); `None` when neither could tell.
    pub registered_phones: Option<u32>,
    /// FreeSWITCH commands for this org not delivered yet.
    pub pending_freeswitch_commands: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TrunkGatewayState {
    pub gateway: String,
    pub state: GatewayState,
}

/// A new API key, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"id": 3, "name": "billing", "key": "lpbx_Qm9yZS1yYW5kb20tYnl0ZXMtaGVyZS1hbmQtbW9yZQ"})))]
pub struct ApiKeyCreated {
    pub id: i64,
    pub name: String,
    pub key: String,
}

/// An org's admins, ordered by e-mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AdminList {
    pub items: Vec<AdminView>,
}

/// An org's trunks that are set (none, `inbound`, or both).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TrunkList {
    pub items: Vec<TrunkView>,
}

/// Create a provider-wide API key (org-scoped keys are made with `littlepbx api-key create
/// NAME --org SLUG`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"name": "billing"})))]
pub struct ApiKeyCreate {
    /// 1 to 100 printable characters.
    pub name: String,
}

/// An API key as listed: never the key itself, only its first characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"id": 3, "name": "billing", "prefix": "lpbx_Qm9yZS1", "org": null, "created_at": 1764300000000_i64})))]
pub struct ApiKeyView {
    pub id: i64,
    pub name: String,
    /// The first 12 characters of the key (`lpbx_` and 7 more), to recognise it.
    pub prefix: String,
    /// The org the key is limited to; absent for provider-wide keys.
    pub org: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApiKeyList {
    pub items: Vec<ApiKeyView>,
}
