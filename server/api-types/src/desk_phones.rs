//! Desk phones that provision themselves (`/api/org/desk-phones`, provider
//! `/api/v1/orgs/{slug}/desk-phones`).
//!
//! An org adds a phone by MAC address, model and (optionally) extension. The phone fetches its
//! file from `provisioning_url` + its vendor's file name, with its own HTTP credentials (a user
//! name and password made for this phone, shown here to put into the phone, the DHCP option 66
//! URL or the vendor's redirect service). The file is made from the **applied** configuration:
//! a phone on an extension that is not applied yet, or without an extension, gets a file
//! without an account. A removed phone is told to forget its account at its next check.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A phone model the files are made for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DeskPhoneModel {
    /// `yealink-t4x-t5x`, `poly-vvx-edge-e`, ...: also the id of the model's help page.
    pub id: String,
    pub label: String,
    /// The models this covers ("T41, T42, T46U, ...").
    pub covers: String,
}

/// Where a phone stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeskPhoneState {
    /// Its file carries the extension's account.
    Ready,
    /// Not on an extension: its file has no account.
    NoExtension,
    /// On an extension that is not applied yet (Apply to give it the account).
    WaitingForApply,
    /// The extension's SIP password was set before passwords were kept for desk phones: give
    /// the extension a new SIP password and Apply.
    NeedsNewPassword,
}

/// One desk phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DeskPhone {
    /// `00:15:65:aa:bb:cc`.
    pub mac: String,
    pub model: String,
    pub model_label: String,
    pub extension: Option<String>,
    pub state: DeskPhoneState,
    /// The state in a sentence for people.
    pub state_text: String,
    /// The base URL to give the phone (its vendor's file name is added by the phone).
    pub provisioning_url: String,
    /// The file the phone asks for first.
    pub file_name: String,
    /// The phone's own HTTP credentials for fetching its files.
    pub username: String,
    pub password: String,
    /// When it last fetched its file (ms since the epoch), and from where.
    pub last_fetch_at: Option<i64>,
    pub last_fetch_ip: Option<String>,
}

/// The org's desk phones and the models it can add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DeskPhoneList {
    pub phones: Vec<DeskPhone>,
    pub models: Vec<DeskPhoneModel>,
}

/// A phone to add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NewDeskPhone {
    /// `00:15:65:aa:bb:cc`, `00-15-65-AA-BB-CC`, `0015.65aa.bbcc` or `001565aabbcc`.
    pub mac: String,
    /// A model id from `models`.
    pub model: String,
    /// The extension it carries; absent or empty: none yet.
    #[serde(default)]
    pub extension: Option<String>,
}

/// Several phones at once (a shipment): all are added, or none (each error names
/// `phones[i].field`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NewDeskPhones {
    pub phones: Vec<NewDeskPhone>,
}

/// A phone's new model and extension (absent or empty extension: none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DeskPhoneChange {
    pub model: String,
    #[serde(default)]
    pub extension: Option<String>,
}
