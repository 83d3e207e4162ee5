//! The phone help pages: for each supported phone or app, how to set it up step by step (menu
//! paths written out, the fields to fill), how to check it works, and the usual problems.
//!
//! The text is ours, written from facts in the vendors' public manuals (menu and field names);
//! nothing is copied, and there are no vendor images. It lives in TOML files under
//! `server/web/guides/` (one per page, plus `common.toml` for the steps and problems many
//! pages share), built into the binary and parsed once, on first use.
//!
//! Values specific to an org are written as placeholders, `{sip_domain}`: the org-level ones
//! ([`ORG_PLACEHOLDERS`]) are the values of `GET /api/org/phones` (`PhonesView::values`), the
//! extension-level ones ([`EXTENSION_PLACEHOLDERS`]) come from the extension the admin picked.
//! No placeholder is ever filled with a SIP password by the server: `{password}` becomes a hint
//! saying which password goes there (`FilledField::password` marks those fields). The one
//! secret filled in is `{ldap_password}`, the org's read-only phone-book password, which is
//! there to be typed into the org's phones.
//!
//! The web app does not compile this content in (size): it asks the server for the list
//! (`GET /api/org/phones/guides`, [`GuideList`]) and for one guide filled for the org and an
//! extension (`GET /api/org/phones/guides/{id}?extension=N`, [`FilledGuide`]).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use api_types::phones::{
    DeviceKind, FilledField, FilledGuide, FilledStep, FilledTrouble, GuideGroup, GuideList,
    GuideSummary,
};
use serde::{Deserialize, Serialize};

/// Placeholders the server fills for the org (`PhonesView::values`).
pub const ORG_PLACEHOLDERS: &[&str] = &[
    "org_name",
    "sip_domain",
    "server",
    "port",
    "tls_port",
    "transport",
    "expiry",
    "voicemail",
    "any_voicemail",
    "echo_test",
    "conference",
    "intercom_prefix",
    "org_url",
    "linphone_url",
    "acrobits_url",
    "yealink_phonebook_url",
    "vcard_url",
    "device_url",
    "ldap_server",
    "ldap_port",
    "ldap_base",
    "ldap_user",
    "ldap_password",
    "ldap_name_filter",
    "ldap_number_filter",
];

/// Placeholders the page fills from the extension the admin chose.
pub const EXTENSION_PLACEHOLDERS: &[&str] =
    &["extension", "display_name", "password", "other_extension"];

/// The shared steps and problems (`guides/common.toml`).
const COMMON_FILE: &str = include_str!("../../guides/common.toml");

/// `(id, text)` of one page's file, `guides/<id>.toml`.
macro_rules! guide_file {
    ($id:literal) => {
        ($id, include_str!(concat!("../../guides/", $id, ".toml")))
    };
}

/// Every help page, desk phones first, in the order the app lists them.
const GUIDE_FILES: &[(&str, &str)] = &[
    guide_file!("yealink-t4x-t5x"),
    guide_file!("poly-vvx-edge-e"),
    guide_file!("grandstream-gxp-grp"),
    guide_file!("snom-d"),
    guide_file!("cisco-mpp"),
    guide_file!("fanvil"),
    guide_file!("yealink-w"),
    guide_file!("gigaset-n"),
    guide_file!("linphone-mobile"),
    guide_file!("zoiper-mobile"),
    guide_file!("groundwire"),
    guide_file!("linphone-desktop"),
    guide_file!("microsip"),
    guide_file!("telephone-macos"),
    guide_file!("zoiper-desktop"),
];

/// One field to fill: its label as the device shows it, and the value (with placeholders).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub label: String,
    pub value: String,
}

/// One step: what to do, where (the menu path, one item per level), and the fields to fill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub text: String,
    #[serde(default)]
    pub menu: Vec<String>,
    #[serde(default)]
    pub fields: Vec<Field>,
}

/// A symptom and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trouble {
    pub symptom: String,
    pub fix: String,
}

/// The help page of one phone family or app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Guide {
    /// Stable, URL-safe: `/phones/<id>`.
    pub id: String,
    pub name: String,
    pub vendor: String,
    pub kind: DeviceKind,
    /// The models or platforms the page is for.
    pub covers: String,
    pub intro: String,
    pub steps: Vec<Step>,
    /// "Check it works".
    pub check: Vec<Step>,
    pub problems: Vec<Trouble>,
}

/// `guides/common.toml`: shared steps and problems by name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Common {
    steps: BTreeMap<String, Step>,
    problems: BTreeMap<String, Trouble>,
}

/// A step or problem as a page's file has it: its own, or a shared one by name.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Entry<T> {
    Common { common: String },
    Own(T),
}

/// One page's file, before the shared entries are put in.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GuideFile {
    id: String,
    name: String,
    vendor: String,
    kind: DeviceKind,
    covers: String,
    intro: String,
    steps: Vec<Entry<Step>>,
    check: Vec<Entry<Step>>,
    problems: Vec<Entry<Trouble>>,
}

/// The built-in pages, parsed on first use.
static GUIDES: LazyLock<Vec<Guide>> = LazyLock::new(|| {
    parse_all(COMMON_FILE, GUIDE_FILES)
        .unwrap_or_else(|error| panic!("the built-in help pages do not parse: {error}"))
});

/// Every help page, desk phones first, in the order the app lists them.
pub fn all() -> &'static [Guide] {
    &GUIDES
}

/// The guide with this id.
pub fn guide(id: &str) -> Option<&'static Guide> {
    all().iter().find(|g| g.id == id)
}

/// Every guide's summary, grouped by kind of device in [`all`] order.
pub fn guide_list() -> GuideList {
    let mut groups: Vec<GuideGroup> = Vec::new();
    for g in all() {
        match groups.iter_mut().find(|group| group.kind == g.kind) {
            Some(group) => group.guides.push(g.summary()),
            None => groups.push(GuideGroup {
                kind: g.kind,
                label: kind_label(g.kind).to_owned(),
                guides: vec![g.summary()],
            }),
        }
    }
    GuideList { groups }
}

/// The name of a kind of device, for people.
pub fn kind_label(kind: DeviceKind) -> &'static str {
    match kind {
        DeviceKind::DeskPhone => "Desk phones",
        DeviceKind::Dect => "Cordless (DECT) phones",
        DeviceKind::MobileApp => "Mobile apps",
        DeviceKind::DesktopApp => "Desktop apps",
    }
}

/// The pages of `files` (`(id, text)`, each id naming its file), shared entries from `common`.
fn parse_all(common: &str, files: &[(&str, &str)]) -> Result<Vec<Guide>, String> {
    let common: Common = toml::from_str(common).map_err(|e| format!("common.toml: {e}"))?;
    files
        .iter()
        .map(|(id, text)| parse_guide(&common, id, text).map_err(|e| format!("{id}.toml: {e}")))
        .collect()
}

/// One page, its `common = "..."` entries replaced by the shared step or problem.
fn parse_guide(common: &Common, id: &str, text: &str) -> Result<Guide, String> {
    let file: GuideFile = toml::from_str(text).map_err(|e| e.to_string())?;
    if file.id != id {
        return Err(format!("the id is {:?}, not the file's name", file.id));
    }
    Ok(Guide {
        id: file.id,
        name: file.name,
        vendor: file.vendor,
        kind: file.kind,
        covers: file.covers,
        intro: file.intro,
        steps: resolve(file.steps, &common.steps)?,
        check: resolve(file.check, &common.steps)?,
        problems: resolve(file.problems, &common.problems)?,
    })
}

/// `entries` with each shared one looked up in `shared`.
fn resolve<T: Clone>(
    entries: Vec<Entry<T>>,
    shared: &BTreeMap<String, T>,
) -> Result<Vec<T>, String> {
    entries
        .into_iter()
        .map(|entry| match entry {
            Entry::Own(own) => Ok(own),
            Entry::Common { common } => shared
                .get(&common)
                .cloned()
                .ok_or_else(|| format!("no common entry {common:?}")),
        })
        .collect()
}

/// Every placeholder name used in `text`, in order (`{name}` with `name` of `[a-z_]`).
pub fn placeholders_in(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end)
                if end > 0
                    && after[..end]
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b == b'_') =>
            {
                found.push(&after[..end]);
                rest = &after[end + 1..];
            }
            _ => rest = after,
        }
    }
    found
}

/// `text` with each `{name}` replaced by `value(name)`; unknown names stay as written.
pub fn fill(text: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => match value(&after[..end]) {
                Some(v) => {
                    out.push_str(&v);
                    rest = &after[end + 1..];
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            },
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

impl Guide {
    /// Every text of the page, for checks and search.
    pub fn texts(&self) -> Vec<&str> {
        let mut texts = vec![self.name.as_str(), &self.covers, &self.intro];
        for step in self.steps.iter().chain(&self.check) {
            texts.push(&step.text);
            texts.extend(step.menu.iter().map(String::as_str));
            for field in &step.fields {
                texts.push(&field.label);
                texts.push(&field.value);
            }
        }
        for trouble in &self.problems {
            texts.push(&trouble.symptom);
            texts.push(&trouble.fix);
        }
        texts
    }

    /// Linphone reads its whole configuration from a single-use provisioning link (a QR code on
    /// the help page, or the link pasted into the desktop app).
    pub fn takes_provisioning_link(&self) -> bool {
        self.id.starts_with("linphone")
    }

    pub fn summary(&self) -> GuideSummary {
        GuideSummary {
            id: self.id.clone(),
            name: self.name.clone(),
            vendor: self.vendor.clone(),
            covers: self.covers.clone(),
            provisioning_link: self.takes_provisioning_link(),
        }
    }

    /// The guide with every placeholder replaced by `value(name)` (unknown names stay).
    pub fn filled(&self, extension: &str, value: impl Fn(&str) -> Option<String>) -> FilledGuide {
        let fill = |text: &str| fill(text, &value);
        FilledGuide {
            id: self.id.clone(),
            name: self.name.clone(),
            vendor: self.vendor.clone(),
            kind: self.kind,
            covers: fill(&self.covers),
            intro: fill(&self.intro),
            extension: extension.to_owned(),
            provisioning_link: self.takes_provisioning_link(),
            steps: self.steps.iter().map(|s| s.filled(fill)).collect(),
            check: self.check.iter().map(|s| s.filled(fill)).collect(),
            problems: self
                .problems
                .iter()
                .map(|t| FilledTrouble {
                    symptom: fill(&t.symptom),
                    fix: fill(&t.fix),
                })
                .collect(),
        }
    }
}

impl Step {
    /// The step with its texts passed through `fill`; a field whose value names `{password}`
    /// is marked as the password field.
    fn filled(&self, fill: impl Fn(&str) -> String) -> FilledStep {
        FilledStep {
            text: fill(&self.text),
            menu: self.menu.iter().map(|m| fill(m)).collect(),
            fields: self
                .fields
                .iter()
                .map(|f| FilledField {
                    label: fill(&f.label),
                    value: fill(&f.value),
                    password: placeholders_in(&f.value).contains(&"password"),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests;
