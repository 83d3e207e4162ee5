//! The phone help pages on the wire: the list of pages (`GET /api/org/phones/guides`,
//! [`GuideList`]) and one page filled for the org and an extension
//! (`GET /api/org/phones/guides/{id}?extension=N`, [`FilledGuide`]).
//!
//! The pages' content stays on the server (the web app does not compile it in, for size): it
//! fills the placeholders of each text, `{sip_domain}`, with the org's and the extension's
//! values. No field is ever filled with a password: [`FilledField::password`] marks the fields
//! whose value names the password that goes there.
//!
//! Plain data, no IO: builds for wasm32.

use serde::{Deserialize, Serialize};

/// The kind of device a page is for; the list groups the pages by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    DeskPhone,
    Dect,
    MobileApp,
    DesktopApp,
}

/// `GET /api/org/phones/guides`: the help pages there are, by kind of device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuideList {
    /// Desk phones, cordless (DECT) phones, mobile apps, desktop apps.
    pub groups: Vec<GuideGroup>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuideGroup {
    pub kind: DeviceKind,
    /// For people: "Desk phones".
    pub label: String,
    pub guides: Vec<GuideSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuideSummary {
    pub id: String,
    pub name: String,
    pub vendor: String,
    pub covers: String,
    /// The page offers a single-use provisioning link (QR code) for it.
    pub provisioning_link: bool,
}

/// Query of `GET /api/org/phones/guides/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GuideQuery {
    /// The applied extension the guide is for.
    #[serde(default)]
    pub extension: Option<String>,
}

/// `GET /api/org/phones/guides/{id}?extension=N`: one guide with the org's and the extension's
/// values in place. Never a password: fields marked [`FilledField::password`] say which
/// password goes there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilledGuide {
    pub id: String,
    pub name: String,
    pub vendor: String,
    pub kind: DeviceKind,
    pub covers: String,
    pub intro: String,
    /// The extension it was filled for.
    pub extension: String,
    /// The page offers a single-use provisioning link (QR code) for it.
    pub provisioning_link: bool,
    pub steps: Vec<FilledStep>,
    /// "Check it works".
    pub check: Vec<FilledStep>,
    pub problems: Vec<FilledTrouble>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilledStep {
    pub text: String,
    /// The menu path, one item per level (empty: no menu to open).
    pub menu: Vec<String>,
    pub fields: Vec<FilledField>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilledField {
    pub label: String,
    pub value: String,
    /// The field takes the extension's SIP password: `value` names it, it is not the password.
    pub password: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilledTrouble {
    pub symptom: String,
    pub fix: String,
}
