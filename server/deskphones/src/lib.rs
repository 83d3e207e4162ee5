//! Desk phone provisioning, the pure part: the catalogue of phone models LittlePBX
//! provisions, MAC addresses, the file names phones fetch, and each vendor's
//! configuration file. No IO: the HTTP server looks the device up and serves
//! what [`render`] writes.

mod files;
mod mac;
mod render;

pub use files::{file_names, kind_for, parse_file_name, FileKind};
pub use mac::{Mac, MacError};
pub use render::{render, RenderError, Rendered};

use serde::Serialize;

/// The phone maker, which decides the file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Vendor {
    Yealink,
    Poly,
    Grandstream,
    Snom,
    Fanvil,
    Cisco,
}

/// A family of phones that share one configuration file format.
#[derive(Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Model {
    /// The same id as the model's help page, e.g. `yealink-t4x-t5x`.
    pub id: &'static str,
    pub vendor: Vendor,
    /// e.g. "Yealink T4x / T5x"
    pub label: &'static str,
    /// The models of the family, e.g. "T41, T42, T46U, T54W ..."
    pub covers: &'static str,
}

static MODELS: [Model; 7] = [
    Model {
        id: "yealink-t4x-t5x",
        vendor: Vendor::Yealink,
        label: "Yealink T4x / T5x",
        covers: "T41, T42, T43U, T46U, T48U, T53, T54W, T57W, T58 and similar",
    },
    Model {
        id: "yealink-w",
        vendor: Vendor::Yealink,
        label: "Yealink W-series DECT base",
        covers: "W60B, W70B and W80B base stations (handset 1 uses the line)",
    },
    Model {
        id: "poly-vvx-edge-e",
        vendor: Vendor::Poly,
        label: "Poly VVX / Edge E",
        covers: "VVX 150 to 601, Edge E100 to E550 with the UC Software / PVOS firmware",
    },
    Model {
        id: "grandstream-gxp-grp",
        vendor: Vendor::Grandstream,
        label: "Grandstream GXP / GRP",
        covers: "GXP1600, GXP2100, GXP2200 series and GRP2600 series",
    },
    Model {
        id: "snom-d",
        vendor: Vendor::Snom,
        label: "Snom D-series",
        covers: "D120, D3xx, D7xx and D8xx",
    },
    Model {
        id: "fanvil",
        vendor: Vendor::Fanvil,
        label: "Fanvil X-series",
        covers: "X1 to X7 series, X210, X301 to X305 and similar",
    },
    Model {
        id: "cisco-mpp",
        vendor: Vendor::Cisco,
        label: "Cisco 7800 / 8800 (multiplatform firmware)",
        covers: "IP Phone 7811 to 7861 and 8811 to 8865 running the multiplatform (3PCC) firmware",
    },
];

/// Every model LittlePBX provisions, in the order the UI lists them.
pub fn models() -> &'static [Model] {
    &MODELS
}

/// The model with this id.
pub fn model(id: &str) -> Option<&'static Model> {
    MODELS.iter().find(|m| m.id == id)
}

/// How often a phone asks for its file again (its next check after a change), in minutes.
pub const CHECK_EVERY_MINUTES: u32 = 60;

/// Everything one phone's configuration file says.
#[derive(Debug, Clone)]
pub struct DeviceConfig {
    pub mac: Mac,
    pub model: &'static Model,
    /// Where the phone fetches its files next time and the HTTP digest credentials it
    /// uses (written into the file so the phone keeps using them).
    pub provisioning: ProvisioningServer,
    /// The line; None when the phone is not assigned to an extension (then the line is
    /// disabled and any previous account cleared).
    pub account: Option<Account>,
    /// The organization's LDAP phone book; None turns the phone's LDAP directory off.
    pub phonebook: Option<LdapPhonebook>,
}

/// The provisioning server as the phone reaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisioningServer {
    /// The base the phone appends its file names to, with the scheme and a final `/`,
    /// e.g. `https://pbx.acme.example.com/provision/device/`.
    pub url: String,
    pub username: String,
    pub password: String,
}

/// SIP transport between phone and proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    Udp,
    Tcp,
    Tls,
}

/// The phone's line 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The extension number: SIP user and digest user.
    pub number: String,
    pub display_name: String,
    /// The SIP password.
    pub password: String,
    /// The registrar domain, which is also the digest realm, e.g. `pbx.acme.example.com`.
    pub sip_domain: String,
    /// The outbound proxy the phone connects to, e.g. `sip.example.com`.
    pub proxy_host: String,
    pub proxy_port: u16,
    pub transport: Transport,
    /// Registration expiry in seconds.
    pub expiry_secs: u32,
    /// What the message key dials, e.g. `*97`.
    pub voicemail_number: String,
    /// The line key's label.
    pub label: String,
}

/// The organization's phone book, searched by the phone over LDAP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapPhonebook {
    /// The directory's title on phones that show one, e.g. the organization's name.
    pub name: String,
    pub host: String,
    pub port: u16,
    /// The search base, e.g. `o=acme`.
    pub base: String,
    /// The bind DN, e.g. `cn=phonebook,o=acme`.
    pub bind_dn: String,
    pub password: String,
    /// The filter for a search by name; `%` stands for what the person typed,
    /// e.g. `(cn=%*)`. Used by Yealink, Grandstream and Snom.
    pub name_filter: String,
    /// The filter for a lookup by number (caller name on incoming calls), e.g.
    /// `(telephoneNumber=%)`. Used by Yealink, Grandstream and Snom.
    pub number_filter: String,
    /// The attribute holding the name shown, e.g. `cn`.
    pub name_attr: String,
    /// The attribute holding the number dialled, e.g. `telephoneNumber`.
    pub number_attr: String,
    /// The most entries one search returns.
    pub max_hits: u16,
}
