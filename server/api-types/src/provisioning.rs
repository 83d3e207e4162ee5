//! Provisioning: what phones and softphone apps are told about their account, and what the
//! phone help pages of the web app are given.
//!
//! `/provision/v1/...` is a versioned contract for third-party apps: fields are only ever added
//! within `v1`; a change of meaning gets a `v2`. It is described in the OpenAPI document.
//! Nothing here ever carries a SIP password.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// The version of the JSON provisioning document (`/provision/v1/config.json`).
pub const CONFIG_VERSION: u32 = 1;

/// `GET /provision/v1/config.json`: everything an app needs to register the extension whose
/// credentials it authenticated with, and the org's directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProvisioningConfig {
    /// Always 1 for this document.
    pub version: u32,
    pub organization: ProvisionedOrg,
    pub account: SipAccount,
    /// The feature codes every extension can dial.
    pub feature_codes: Vec<FeatureCode>,
    /// Every extension of the org (applied configuration), by number.
    pub extensions: Vec<PhonebookEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProvisionedOrg {
    /// Short name, as in the org's web address.
    pub slug: String,
    pub name: String,
}

/// How to register one extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SipAccount {
    /// The name shown to people called.
    pub display_name: String,
    /// The SIP user: the extension number.
    pub username: String,
    /// The user for digest authentication (the same number).
    pub auth_username: String,
    /// The SIP domain (`sip:<username>@<domain>`), also the digest realm.
    pub domain: String,
    /// The digest realm (equal to the domain).
    pub realm: String,
    /// The host to send every request to (outbound proxy / registrar address).
    pub proxy: String,
    /// Transports the server listens on, the recommended one first.
    pub transports: Vec<SipTransport>,
    /// Seconds a registration lasts before the app renews it.
    pub registration_expiry_seconds: u32,
    /// Number to dial for the own voicemail box.
    pub voicemail_number: String,
    /// `sip:` URI of the voicemail box.
    pub voicemail_uri: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SipTransport {
    /// `udp`, `tcp` or `tls`.
    pub transport: String,
    pub port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FeatureCode {
    /// What to dial, e.g. `*97`; a trailing `N` stands for an extension number (`*80N`).
    pub code: String,
    /// Stable identifier: `own_voicemail`, `any_voicemail`, `intercom`, `conference`,
    /// `echo_test`.
    pub id: String,
    /// What it does, for people.
    pub description: String,
}

/// One entry of the org's directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PhonebookEntry {
    pub number: String,
    pub name: String,
}

/// `GET /provision/v1/phonebook.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Phonebook {
    pub version: u32,
    pub organization: ProvisionedOrg,
    pub entries: Vec<PhonebookEntry>,
}

/// `POST /api/org/provisioning-links`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NewProvisioningLink {
    /// The extension number the link provisions.
    pub extension: String,
}

/// A single-use link that provisions a Linphone app, shown as a QR code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProvisioningLink {
    pub extension: String,
    /// `https://pbx.<org>.<base>/provision/t/<token>`; works once.
    pub url: String,
    /// When the link stops working (ms since the Unix epoch).
    pub expires_at: i64,
    pub expires_in_seconds: u32,
    /// The URL as a QR code: a standalone SVG document.
    pub qr_svg: String,
}

/// `GET /api/org/phones`: the org's values for the phone help pages (see [`crate::phones`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PhonesView {
    pub org_name: String,
    pub sip_domain: String,
    /// The host phones send their requests to.
    pub server: String,
    /// Transports the server listens on, the recommended one for apps first.
    pub transports: Vec<SipTransport>,
    pub registration_expiry_seconds: u32,
    pub feature_codes: Vec<FeatureCode>,
    /// The org-level placeholders of the help content and their values
    /// (`sip_domain` -> `pbx.acme.example.com`, ...). The extension-level ones
    /// (`extension`, `display_name`, `password`, `other_extension`) are filled by the server
    /// from the chosen extension when it sends one page.
    pub values: BTreeMap<String, String>,
    /// The org's extensions as phones know them (applied configuration).
    pub extensions: Vec<PhonebookEntry>,
}
