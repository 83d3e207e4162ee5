//! The phone help pages' content: for each supported phone or app, how to set it up step by
//! step (menu paths written out, the fields to fill), how to check it works, and the usual
//! problems.
//!
//! The text is ours, written from facts in the vendors' public manuals (menu and field names);
//! nothing is copied, and there are no vendor images. Values specific to an org are written as
//! placeholders, `{sip_domain}`: the org-level ones ([`ORG_PLACEHOLDERS`]) are the values of
//! `GET /api/org/phones` (`PhonesView::values`), the extension-level ones
//! ([`EXTENSION_PLACEHOLDERS`]) come from the extension the admin picked. No placeholder is
//! ever filled with a password by the server: `{password}` becomes a hint saying which password
//! goes there ([`FilledField::password`] marks those fields).
//!
//! The web app does not compile this content in (size): it asks the server for the list
//! (`GET /api/org/phones/guides`, [`GuideList`]) and for one guide filled for the org and an
//! extension (`GET /api/org/phones/guides/{id}?extension=N`, [`FilledGuide`]).
//!
//! Plain data, no IO: builds for wasm32.

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
];

/// Placeholders the page fills from the extension the admin chose.
pub const EXTENSION_PLACEHOLDERS: &[&str] =
    &["extension", "display_name", "password", "other_extension"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    DeskPhone,
    Dect,
    MobileApp,
    DesktopApp,
}

impl DeviceKind {
    pub fn label(self) -> &'static str {
        match self {
            DeviceKind::DeskPhone => "Desk phones",
            DeviceKind::Dect => "Cordless (DECT) phones",
            DeviceKind::MobileApp => "Mobile apps",
            DeviceKind::DesktopApp => "Desktop apps",
        }
    }
}

/// One field to fill: its label as the device shows it, and the value (with placeholders).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Field {
    pub label: &'static str,
    pub value: &'static str,
}

/// One step: what to do, where (the menu path, one item per level), and the fields to fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Step {
    pub text: &'static str,
    pub menu: &'static [&'static str],
    pub fields: &'static [Field],
}

/// A symptom and what to do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Trouble {
    pub symptom: &'static str,
    pub fix: &'static str,
}

/// The help page of one phone family or app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Guide {
    /// Stable, URL-safe: `/phones/<id>`.
    pub id: &'static str,
    pub name: &'static str,
    pub vendor: &'static str,
    pub kind: DeviceKind,
    /// The models or platforms the page is for.
    pub covers: &'static str,
    pub intro: &'static str,
    pub steps: &'static [Step],
    /// "Check it works".
    pub check: &'static [Step],
    pub problems: &'static [Trouble],
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
    pub fn texts(&self) -> Vec<&'static str> {
        let mut texts = vec![self.name, self.covers, self.intro];
        for step in self.steps.iter().chain(self.check) {
            texts.push(step.text);
            texts.extend(step.menu.iter().copied());
            for field in step.fields {
                texts.push(field.label);
                texts.push(field.value);
            }
        }
        for trouble in self.problems {
            texts.push(trouble.symptom);
            texts.push(trouble.fix);
        }
        texts
    }
}

/// The guide with this id.
pub fn guide(id: &str) -> Option<&'static Guide> {
    GUIDES.iter().find(|g| g.id == id)
}

impl Guide {
    /// Linphone reads its whole configuration from a single-use provisioning link (a QR code on
    /// the help page, or the link pasted into the desktop app).
    pub fn takes_provisioning_link(&self) -> bool {
        self.id.starts_with("linphone")
    }

    pub fn summary(&self) -> GuideSummary {
        GuideSummary {
            id: self.id.to_owned(),
            name: self.name.to_owned(),
            vendor: self.vendor.to_owned(),
            covers: self.covers.to_owned(),
            provisioning_link: self.takes_provisioning_link(),
        }
    }

    /// The guide with every placeholder replaced by `value(name)` (unknown names stay).
    pub fn filled(&self, extension: &str, value: impl Fn(&str) -> Option<String>) -> FilledGuide {
        let fill = |text: &str| fill(text, &value);
        let step = |s: &Step| FilledStep {
            text: fill(s.text),
            menu: s.menu.iter().map(|m| fill(m)).collect(),
            fields: s
                .fields
                .iter()
                .map(|f| FilledField {
                    label: fill(f.label),
                    value: fill(f.value),
                    password: placeholders_in(f.value).contains(&"password"),
                })
                .collect(),
        };
        FilledGuide {
            id: self.id.to_owned(),
            name: self.name.to_owned(),
            vendor: self.vendor.to_owned(),
            kind: self.kind,
            covers: fill(self.covers),
            intro: fill(self.intro),
            extension: extension.to_owned(),
            provisioning_link: self.takes_provisioning_link(),
            steps: self.steps.iter().map(step).collect(),
            check: self.check.iter().map(step).collect(),
            problems: self
                .problems
                .iter()
                .map(|t| FilledTrouble {
                    symptom: fill(t.symptom),
                    fix: fill(t.fix),
                })
                .collect(),
        }
    }
}

/// Every guide's summary, grouped by kind of device in [`GUIDES`] order.
pub fn guide_list() -> GuideList {
    let mut groups: Vec<GuideGroup> = Vec::new();
    for g in GUIDES {
        match groups.iter_mut().find(|group| group.kind == g.kind) {
            Some(group) => group.guides.push(g.summary()),
            None => groups.push(GuideGroup {
                kind: g.kind,
                label: g.kind.label().to_owned(),
                guides: vec![g.summary()],
            }),
        }
    }
    GuideList { groups }
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

// ---------------------------------------------------------------------------------------
// Shared steps and problems.

const CHECK_ECHO: Step = Step {
    text: "Dial {echo_test} (echo test). You hear a short greeting, then your own voice back: sound works in both directions. Hang up.",
    menu: &[],
    fields: &[],
};
const CHECK_VOICEMAIL: Step = Step {
    text: "Dial {voicemail} to reach your own voicemail box; it asks for the voicemail PIN of extension {extension}. Hang up when you have heard the menu.",
    menu: &[],
    fields: &[],
};
const CHECK_CALL: Step = Step {
    text: "Call another extension, for example {other_extension}, and have it call you back: both phones ring and you hear each other.",
    menu: &[],
    fields: &[],
};

const DOMAIN_VS_PROXY: Trouble = Trouble {
    symptom: "Registration fails with \"not found\", \"403 Forbidden\" or a time-out although the password is right.",
    fix: "The SIP domain and the server are two different things here. The domain, {sip_domain}, goes in the field that forms your address (Domain, SIP Server, Registrar, Host). The server, {server} port {port}, is where the phone sends its requests: put it in the Outbound Proxy (or Proxy) field. If the domain field holds {server} instead of {sip_domain}, the PBX does not know which organization you belong to and refuses the phone.",
};
const WRONG_REALM: Trouble = Trouble {
    symptom: "\"401 Unauthorized\" or \"wrong password\" although you typed the password carefully.",
    fix: "The authentication realm is {sip_domain}. Leave any Realm field empty, or write exactly {sip_domain}. The user name and the authentication user are both your extension number, {extension}, without the domain. Passwords are case-sensitive; if in doubt, your administrator can make a new one (the old one then stops working on every device).",
};
const LOCKED_OUT: Trouble = Trouble {
    symptom: "After several attempts with a wrong password, even the right one is refused for a while.",
    fix: "LittlePBX pauses an address or an extension after repeated failed sign-ins, to stop password guessing. Wait about fifteen minutes, check every device that uses extension {extension} (an old phone with the old password keeps failing), then try again.",
};
const ONE_WAY_AUDIO: Trouble = Trouble {
    symptom: "Calls connect but you hear nothing, or the other side hears nothing.",
    fix: "Audio travels separately from the call set-up and is often blocked by the router. Turn off \"SIP ALG\" (sometimes called SIP helper or SIP passthrough) in the router, and keep the phone's NAT keep-alive on. The echo test ({echo_test}) shows at once whether audio flows both ways.",
};

// ---------------------------------------------------------------------------------------
// Desk phones.

const YEALINK_T: Guide = Guide {
    id: "yealink-t4x-t5x",
    name: "Yealink T4x / T5x",
    vendor: "Yealink",
    kind: DeviceKind::DeskPhone,
    covers: "T41, T42, T43U, T46U, T48U, T53, T54W, T57W, T58 and similar",
    intro: "Set up one account of the phone through its web page. You need a computer on the same network as the phone.",
    steps: &[
        Step {
            text: "Find the phone's IP address: press the OK key on the phone (or open Menu, Status). Open http:// followed by that address in a browser and sign in as the administrator (the factory user is admin, password admin; change it afterwards).",
            menu: &["Menu", "Status"],
            fields: &[],
        },
        Step {
            text: "Open the first account's registration page.",
            menu: &["Account", "Register", "Account 1"],
            fields: &[
                Field { label: "Line Active", value: "Enabled" },
                Field { label: "Label", value: "{extension}" },
                Field { label: "Display Name", value: "{display_name}" },
                Field { label: "Register Name", value: "{extension}" },
                Field { label: "User Name", value: "{extension}" },
                Field { label: "Password", value: "{password}" },
            ],
        },
        Step {
            text: "In the same page, fill the first SIP server with the organization's SIP domain, and the outbound proxy with the server phones connect to.",
            menu: &["Account", "Register", "SIP Server 1"],
            fields: &[
                Field { label: "Server Host", value: "{sip_domain}" },
                Field { label: "Port", value: "{port}" },
                Field { label: "Transport", value: "{transport}" },
                Field { label: "Server Expires", value: "{expiry}" },
                Field { label: "Outbound Proxy Server (Enabled)", value: "{server}" },
                Field { label: "Outbound Proxy Port", value: "{port}" },
            ],
        },
        Step {
            text: "Click Confirm. The account status at the top of the page turns to Registered within a few seconds.",
            menu: &[],
            fields: &[],
        },
        Step {
            text: "Set the voicemail number so the message key works.",
            menu: &["Account", "Advanced", "Voice Mail"],
            fields: &[Field { label: "Voice Mail", value: "{voicemail}" }],
        },
        Step {
            text: "Optional, the org phonebook: add a remote phone book. Where the firmware has User Name and Password fields for it, enter the extension number and its SIP password there.",
            menu: &["Directory", "Remote Phone Book"],
            fields: &[
                Field { label: "Remote URL", value: "{yealink_phonebook_url}" },
                Field { label: "Display Name", value: "{org_name}" },
            ],
        },
    ],
    check: &[
        Step {
            text: "The line key of account 1 shows a green or filled phone icon; on the web page, Status shows account 1 as Registered.",
            menu: &["Status"],
            fields: &[],
        },
        CHECK_ECHO,
        CHECK_VOICEMAIL,
        CHECK_CALL,
    ],
    problems: &[
        DOMAIN_VS_PROXY,
        WRONG_REALM,
        Trouble {
            symptom: "The phone is registered at first but stops receiving calls after a few minutes.",
            fix: "The router forgot the connection. Under Account, Advanced, set Keep Alive Type to Default (or Options) with an interval of 30 seconds, and NAT Traversal to Disabled unless you run a STUN server. Using {transport} rather than UDP also helps.",
        },
        ONE_WAY_AUDIO,
        LOCKED_OUT,
    ],
};

const POLY_VVX: Guide = Guide {
    id: "poly-vvx-edge-e",
    name: "Poly VVX / Edge E",
    vendor: "Poly (HP)",
    kind: DeviceKind::DeskPhone,
    covers: "VVX 150 to 601, Edge E100 to E550 with the open SIP (UC Software / PVOS) firmware",
    intro: "Set up line 1 through the phone's web page, in the Lines settings.",
    steps: &[
        Step {
            text: "Find the phone's IP address (Settings, Status, Network, TCP/IP Parameters). Open https:// followed by that address and sign in as Admin (the factory password is 456; the phone asks to change it).",
            menu: &["Settings", "Status", "Network", "TCP/IP Parameters"],
            fields: &[],
        },
        Step {
            text: "Open line 1 and fill its identification and authentication.",
            menu: &["Settings", "Lines", "Line 1", "Identification"],
            fields: &[
                Field { label: "Display Name", value: "{display_name}" },
                Field { label: "Address", value: "{extension}@{sip_domain}" },
                Field { label: "Label", value: "{extension}" },
                Field { label: "Authentication: User ID", value: "{extension}" },
                Field { label: "Authentication: Password", value: "{password}" },
            ],
        },
        Step {
            text: "Under Server 1, give the server phones connect to, with its port and transport. If your firmware shows a separate Outbound Proxy section, put the same address there.",
            menu: &["Settings", "Lines", "Line 1", "Server 1"],
            fields: &[
                Field { label: "Address", value: "{server}" },
                Field { label: "Port", value: "{port}" },
                Field { label: "Transport", value: "{transport}Only" },
                Field { label: "Expires (s)", value: "{expiry}" },
                Field { label: "Register", value: "Yes" },
            ],
        },
        Step {
            text: "Set the voicemail access number of the line (Message Center) and save. The phone restarts its registration.",
            menu: &["Settings", "Lines", "Line 1", "Message Center"],
            fields: &[Field { label: "Callback Contact", value: "{voicemail}" }],
        },
    ],
    check: &[
        Step {
            text: "The line key shows a registered (filled) phone icon with {extension}; Status, Lines shows Registered.",
            menu: &["Settings", "Status", "Lines"],
            fields: &[],
        },
        CHECK_ECHO,
        CHECK_VOICEMAIL,
        CHECK_CALL,
    ],
    problems: &[
        DOMAIN_VS_PROXY,
        WRONG_REALM,
        Trouble {
            symptom: "Incoming calls stop arriving after a while.",
            fix: "Keep the router's connection open: under Settings, Network, SIP (or Settings, SIP, Keep-alive on some firmware) turn on keep-alive messages every 30 seconds, or use {transport} so the phone keeps its connection open.",
        },
        ONE_WAY_AUDIO,
        LOCKED_OUT,
    ],
};

const GRANDSTREAM: Guide = Guide {
    id: "grandstream-gxp-grp",
    name: "Grandstream GXP / GRP",
    vendor: "Grandstream",
    kind: DeviceKind::DeskPhone,
    covers: "GXP1600, GXP2100, GXP2200 series and GRP2600 series",
    intro: "Set up account 1 through the phone's web page.",
    steps: &[
        Step {
            text: "Press the up arrow (or Menu, Status) on the phone to see its IP address. Open it in a browser and sign in as admin (the password is on the phone's label, or admin on older models).",
            menu: &["Menu", "Status", "Network Status"],
            fields: &[],
        },
        Step {
            text: "Open account 1's general settings.",
            menu: &["Accounts", "Account 1", "General Settings"],
            fields: &[
                Field { label: "Account Active", value: "Yes" },
                Field { label: "Account Name", value: "{extension}" },
                Field { label: "SIP Server", value: "{sip_domain}" },
                Field { label: "Outbound Proxy", value: "{server}:{port}" },
                Field { label: "SIP User ID", value: "{extension}" },
                Field { label: "Authenticate ID", value: "{extension}" },
                Field { label: "Authenticate Password", value: "{password}" },
                Field { label: "Name", value: "{display_name}" },
                Field { label: "Voice Mail Access Number", value: "{voicemail}" },
            ],
        },
        Step {
            text: "Open the account's SIP settings. Note that Grandstream counts the registration time in minutes.",
            menu: &["Accounts", "Account 1", "SIP Settings", "Basic Settings"],
            fields: &[
                Field { label: "SIP Registration", value: "Yes" },
                Field { label: "Register Expiration (m)", value: "10" },
                Field { label: "SIP Transport", value: "{transport}" },
            ],
        },
        Step {
            text: "Click Save and Apply.",
            menu: &[],
            fields: &[],
        },
    ],
    check: &[
        Step {
            text: "The account's line key lights green; Status, Account Status shows account 1 as Registered: Yes.",
            menu: &["Status", "Account Status"],
            fields: &[],
        },
        CHECK_ECHO,
        CHECK_VOICEMAIL,
        CHECK_CALL,
    ],
    problems: &[
        DOMAIN_VS_PROXY,
        WRONG_REALM,
        Trouble {
            symptom: "The phone stops ringing for incoming calls after some minutes.",
            fix: "Under Accounts, Account 1, Network Settings, set NAT Traversal to Keep-Alive (or enable SIP OPTIONS keep-alive under SIP Settings), or switch SIP Transport to {transport}.",
        },
        ONE_WAY_AUDIO,
        LOCKED_OUT,
    ],
};

const SNOM_D: Guide = Guide {
    id: "snom-d",
    name: "Snom D-series",
    vendor: "Snom",
    kind: DeviceKind::DeskPhone,
    covers: "D120, D3xx, D7xx and D8xx",
    intro: "Set up identity 1 through the phone's web page.",
    steps: &[
        Step {
            text: "Find the phone's IP address (press the settings key, then Information, or the ? key). Open it in a browser and sign in (user admin with the administrator password you set at first start).",
            menu: &["Settings", "Information"],
            fields: &[],
        },
        Step {
            text: "Open identity 1, tab Login.",
            menu: &["Setup", "Identity 1", "Login"],
            fields: &[
                Field { label: "Identity active", value: "on" },
                Field { label: "Displayname", value: "{display_name}" },
                Field { label: "Account", value: "{extension}" },
                Field { label: "Password", value: "{password}" },
                Field { label: "Registrar", value: "{sip_domain}" },
                Field { label: "Outbound Proxy", value: "{server}:{port};transport={transport}" },
                Field { label: "Authentication Username", value: "{extension}" },
                Field { label: "Mailbox", value: "{voicemail}" },
            ],
        },
        Step {
            text: "Click Apply, then Save. The identity registers at once.",
            menu: &[],
            fields: &[],
        },
    ],
    check: &[
        Step {
            text: "The display shows {extension} without a warning sign; the Status page lists identity 1 as registered.",
            menu: &["Status", "System Information"],
            fields: &[],
        },
        CHECK_ECHO,
        CHECK_VOICEMAIL,
        CHECK_CALL,
    ],
    problems: &[
        DOMAIN_VS_PROXY,
        WRONG_REALM,
        Trouble {
            symptom: "Calls to the phone stop arriving after a while.",
            fix: "Under Setup, Identity 1, NAT, set a Keepalive Interval of 30 seconds, or keep ;transport={transport} in the outbound proxy so the phone holds a connection open.",
        },
        ONE_WAY_AUDIO,
        LOCKED_OUT,
    ],
};

const CISCO_MPP: Guide = Guide {
    id: "cisco-mpp",
    name: "Cisco 8800 / 7800 (multiplatform firmware)",
    vendor: "Cisco",
    kind: DeviceKind::DeskPhone,
    covers: "IP Phone 7811 to 7861 and 8811 to 8865 running the multiplatform (3PCC) firmware",
    intro: "These phones work with LittlePBX only with the multiplatform firmware (the model name ends in 3PCC or MPP). Set up extension 1 through the phone's web page.",
    steps: &[
        Step {
            text: "Find the phone's IP address (Applications, Status, Network Status). Open it in a browser, click Admin Login, then advanced.",
            menu: &["Applications", "Status", "Network Status"],
            fields: &[],
        },
        Step {
            text: "Open Ext 1 and fill the proxy, registration and subscriber information.",
            menu: &["Admin Login", "advanced", "Voice", "Ext 1"],
            fields: &[
                Field { label: "Line Enable", value: "Yes" },
                Field { label: "SIP Transport", value: "{transport}" },
                Field { label: "Proxy", value: "{sip_domain}" },
                Field { label: "Outbound Proxy", value: "{server}:{port}" },
                Field { label: "Use Outbound Proxy", value: "Yes" },
                Field { label: "Register", value: "Yes" },
                Field { label: "Register Expires", value: "{expiry}" },
                Field { label: "Display Name", value: "{display_name}" },
                Field { label: "User ID", value: "{extension}" },
                Field { label: "Password", value: "{password}" },
                Field { label: "Use Auth ID", value: "Yes" },
                Field { label: "Auth ID", value: "{extension}" },
            ],
        },
        Step {
            text: "Set the voicemail number so the Messages button dials your box, then click Submit All Changes (the phone restarts).",
            menu: &["Admin Login", "advanced", "Voice", "Phone"],
            fields: &[Field { label: "Voice Mail Number", value: "{voicemail}" }],
        },
    ],
    check: &[
        Step {
            text: "On the web page, Info, Status shows Ext 1 Registration State: Registered; the line key shows {extension}.",
            menu: &["Info", "Status"],
            fields: &[],
        },
        CHECK_ECHO,
        CHECK_VOICEMAIL,
        CHECK_CALL,
    ],
    problems: &[
        DOMAIN_VS_PROXY,
        WRONG_REALM,
        Trouble {
            symptom: "The phone shows registered, but incoming calls stop after some minutes.",
            fix: "In Voice, Ext 1, NAT Settings, set NAT Keep Alive Enable to Yes (message $NOTIFY or an OPTIONS ping, interval 30), or use {transport} as SIP Transport.",
        },
        ONE_WAY_AUDIO,
        LOCKED_OUT,
    ],
};

const FANVIL: Guide = Guide {
    id: "fanvil",
    name: "Fanvil X-series",
    vendor: "Fanvil",
    kind: DeviceKind::DeskPhone,
    covers: "X1 to X7 series, X210, X301 to X305 and similar",
    intro: "Set up SIP line 1 through the phone's web page.",
    steps: &[
        Step {
            text: "Find the phone's IP address (press the OK key or Menu, Status). Open it in a browser and sign in as admin (factory password admin).",
            menu: &["Menu", "Status"],
            fields: &[],
        },
        Step {
            text: "Open line 1's register settings.",
            menu: &["Line", "SIP", "SIP 1", "Register Settings"],
            fields: &[
                Field { label: "Username", value: "{extension}" },
                Field { label: "Display Name", value: "{display_name}" },
                Field { label: "Authentication User", value: "{extension}" },
                Field { label: "Authentication Password", value: "{password}" },
                Field { label: "Server Address (SIP Server 1)", value: "{sip_domain}" },
                Field { label: "Server Port", value: "{port}" },
                Field { label: "Transport Protocol", value: "{transport}" },
                Field { label: "Registration Expiration", value: "{expiry}" },
                Field { label: "Proxy Server Address", value: "{server}" },
                Field { label: "Proxy Server Port", value: "{port}" },
                Field { label: "Activate", value: "checked" },
            ],
        },
        Step {
            text: "Under Basic Settings of the same line, set the voicemail number, then click Apply.",
            menu: &["Line", "SIP", "SIP 1", "Basic Settings"],
            fields: &[Field { label: "Voice Message Number", value: "{voicemail}" }],
        },
    ],
    check: &[
        Step {
            text: "Line, SIP shows line 1 as Registered and the phone's screen shows {extension} with a registered icon.",
            menu: &["Line", "SIP"],
            fields: &[],
        },
        CHECK_ECHO,
        CHECK_VOICEMAIL,
        CHECK_CALL,
    ],
    problems: &[
        DOMAIN_VS_PROXY,
        WRONG_REALM,
        Trouble {
            symptom: "Incoming calls stop after a few minutes.",
            fix: "Under Line, SIP, SIP 1, Advanced Settings, set the keep-alive (Keep Alive Type SIP Option, Keep Alive Interval 30), or use {transport}.",
        },
        ONE_WAY_AUDIO,
        LOCKED_OUT,
    ],
};

// ---------------------------------------------------------------------------------------
// DECT.

const YEALINK_W: Guide = Guide {
    id: "yealink-w",
    name: "Yealink W-series DECT",
    vendor: "Yealink",
    kind: DeviceKind::Dect,
    covers: "W60P, W70B, W73P, W76P, W78P, W80 (single base stations)",
    intro: "The base station registers to LittlePBX; the handsets register to the base station. One account per handset.",
    steps: &[
        Step {
            text: "Find the base's IP address: on a handset open OK, Status, Base. Open it in a browser and sign in as admin (factory password admin).",
            menu: &["OK", "Status", "Base"],
            fields: &[],
        },
        Step {
            text: "Register the account on the base station.",
            menu: &["Account", "Register", "Account 1"],
            fields: &[
                Field { label: "Line Active", value: "Enabled" },
                Field { label: "Label", value: "{extension}" },
                Field { label: "Display Name", value: "{display_name}" },
                Field { label: "Register Name", value: "{extension}" },
                Field { label: "User Name", value: "{extension}" },
                Field { label: "Password", value: "{password}" },
                Field { label: "Server Host", value: "{sip_domain}" },
                Field { label: "Port", value: "{port}" },
                Field { label: "Transport", value: "{transport}" },
                Field { label: "Outbound Proxy Server", value: "{server}" },
            ],
        },
        Step {
            text: "Give the account to a handset: tick it as the handset's incoming and outgoing line.",
            menu: &["Account", "Number Assignment"],
            fields: &[],
        },
        Step {
            text: "A new handset joins the base: hold the base's paging button until its LED flashes, then on the handset choose OK, Settings, Registration, Register Handset (base PIN 0000).",
            menu: &["OK", "Settings", "Registration", "Register Handset"],
            fields: &[],
        },
        Step {
            text: "Set the voicemail number of the account.",
            menu: &["Account", "Advanced", "Voice Mail"],
            fields: &[Field { label: "Voice Mail", value: "{voicemail}" }],
        },
    ],
    check: &[
        Step {
            text: "Status on the web page lists account 1 as Registered; the handset's idle screen shows {extension}.",
            menu: &["Status"],
            fields: &[],
        },
        CHECK_ECHO,
        CHECK_VOICEMAIL,
        CHECK_CALL,
    ],
    problems: &[
        DOMAIN_VS_PROXY,
        WRONG_REALM,
        Trouble {
            symptom: "The handset cannot make calls although the base shows Registered.",
            fix: "The account is not assigned to that handset: check Account, Number Assignment on the base's web page.",
        },
        Trouble {
            symptom: "Incoming calls stop after a few minutes.",
            fix: "Under Account, Advanced, set Keep Alive Type to Default with a 30 second interval, or use {transport}.",
        },
        ONE_WAY_AUDIO,
        LOCKED_OUT,
    ],
};

const GIGASET_N: Guide = Guide {
    id: "gigaset-n",
    name: "Gigaset N-series DECT",
    vendor: "Gigaset",
    kind: DeviceKind::Dect,
    covers: "N510 IP PRO, N610 IP PRO, N670 IP PRO, N870 IP PRO",
    intro: "Set up a VoIP connection on the base station's web configurator and assign it to a handset. The menu names below are those of the N510 and N610; the N670 and N870 call the same pages \"Provider or PBX profiles\" and \"Mobile devices\".",
    steps: &[
        Step {
            text: "Find the base's IP address (on a handset: Menu, Settings, System, Local Network). Open it in a browser and sign in with the system PIN (factory 0000).",
            menu: &["Menu", "Settings", "System", "Local Network"],
            fields: &[],
        },
        Step {
            text: "Edit the first IP connection.",
            menu: &["Settings", "Telephony", "Connections", "IP1", "Edit"],
            fields: &[
                Field { label: "Connection name or number", value: "{extension}" },
                Field { label: "Authentication name", value: "{extension}" },
                Field { label: "Authentication password", value: "{password}" },
                Field { label: "Username", value: "{extension}" },
                Field { label: "Display name", value: "{display_name}" },
            ],
        },
        Step {
            text: "Click Show advanced settings and fill the server part; leave STUN off.",
            menu: &["Settings", "Telephony", "Connections", "IP1", "Show advanced settings"],
            fields: &[
                Field { label: "Domain", value: "{sip_domain}" },
                Field { label: "Proxy server address", value: "{server}" },
                Field { label: "Proxy server port", value: "{port}" },
                Field { label: "Registration server", value: "{server}" },
                Field { label: "Registration server port", value: "{port}" },
                Field { label: "Registration refresh time", value: "{expiry}" },
                Field { label: "Outbound proxy mode", value: "Never" },
            ],
        },
        Step {
            text: "Assign the connection to the handset as send and receive connection.",
            menu: &["Settings", "Telephony", "Number Assignment"],
            fields: &[],
        },
        Step {
            text: "Set the network mailbox so the message key dials your voicemail.",
            menu: &["Settings", "Telephony", "Network mailboxes"],
            fields: &[Field { label: "IP1: call number", value: "{voicemail}" }],
        },
    ],
    check: &[
        Step {
            text: "Settings, Telephony, Connections shows IP1 as Registered; the handset shows {extension} on its idle screen.",
            menu: &["Settings", "Telephony", "Connections"],
            fields: &[],
        },
        CHECK_ECHO,
        CHECK_VOICEMAIL,
        CHECK_CALL,
    ],
    problems: &[
        DOMAIN_VS_PROXY,
        WRONG_REALM,
        Trouble {
            symptom: "Incoming calls stop after a few minutes.",
            fix: "Under Settings, Telephony, Advanced VoIP Settings, set the NAT refresh time to 20 seconds.",
        },
        ONE_WAY_AUDIO,
        LOCKED_OUT,
    ],
};

// ---------------------------------------------------------------------------------------
// Mobile apps.

const LINPHONE_MOBILE: Guide = Guide {
    id: "linphone-mobile",
    name: "Linphone (Android and iOS)",
    vendor: "Belledonne Communications",
    kind: DeviceKind::MobileApp,
    covers: "Linphone for Android and iOS, versions 5 and 6",
    intro: "The quickest way: your administrator shows a QR code on this page, and Linphone takes the whole configuration from it, together with the organization's phonebook. The link in the QR code works once, for ten minutes.",
    steps: &[
        Step {
            text: "With a QR code from your administrator: open Linphone; on the first screen choose Scan QR code (Linphone 5: Assistant, Fetch remote configuration, then the QR code button) and point the camera at the code. Linphone asks to apply the configuration: accept.",
            menu: &["Assistant", "Fetch remote configuration"],
            fields: &[],
        },
        Step {
            text: "Without a QR code, with the provisioning address: in the same screen type the address below instead of scanning. Linphone asks for a user name and password: enter the extension number and its SIP password.",
            menu: &["Assistant", "Fetch remote configuration"],
            fields: &[
                Field { label: "Remote provisioning URL", value: "{linphone_url}" },
                Field { label: "Username", value: "{extension}" },
                Field { label: "Password", value: "{password}" },
            ],
        },
        Step {
            text: "Or by hand: choose Use a SIP account (Linphone 6: Third-party SIP account) and fill the fields.",
            menu: &["Assistant", "Use a SIP account"],
            fields: &[
                Field { label: "Username", value: "{extension}" },
                Field { label: "Password", value: "{password}" },
                Field { label: "Domain", value: "{sip_domain}" },
                Field { label: "Display name", value: "{display_name}" },
                Field { label: "Transport", value: "{transport}" },
            ],
        },
        Step {
            text: "After a manual set-up, open the account's settings and add the server as outbound proxy.",
            menu: &["Settings", "Account", "{extension}@{sip_domain}"],
            fields: &[
                Field { label: "SIP proxy server URI", value: "<sip:{server}:{port};transport={transport}>" },
                Field { label: "Outbound proxy", value: "on" },
                Field { label: "Voicemail URI", value: "sip:{voicemail}@{sip_domain}" },
            ],
        },
    ],
    check: &[
        Step {
            text: "The dot next to your account at the top of the app turns green (Connected).",
            menu: &[],
            fields: &[],
        },
        CHECK_ECHO,
        CHECK_VOICEMAIL,
        CHECK_CALL,
    ],
    problems: &[
        DOMAIN_VS_PROXY,
        WRONG_REALM,
        Trouble {
            symptom: "The QR code gives \"link used\" or \"link expired\".",
            fix: "Each QR code works once and for ten minutes. Ask your administrator to show a new one.",
        },
        Trouble {
            symptom: "Calls do not arrive while the app is in the background.",
            fix: "LittlePBX does not send push notifications, so the app must keep its connection: on Android, allow Linphone to run in the background (battery optimisation off for Linphone) and keep the service notification on; with {transport} the connection stays open and keeps the router's NAT mapping alive.",
        },
        ONE_WAY_AUDIO,
        LOCKED_OUT,
    ],
};

const ZOIPER_MOBILE: Guide = Guide {
    id: "zoiper-mobile",
    name: "Zoiper (Android and iOS)",
    vendor: "Securax",
    kind: DeviceKind::MobileApp,
    covers: "Zoiper 5 and Zoiper IAX SIP for Android and iOS",
    intro: "Zoiper finds the server settings by itself once it knows the address and the server.",
    steps: &[
        Step {
            text: "Open Zoiper. On the first screen, enter the address and password, then Create an account (or Settings, Accounts, + and then Yes, I already have an account).",
            menu: &["Settings", "Accounts", "+"],
            fields: &[
                Field { label: "Username", value: "{extension}@{sip_domain}" },
                Field { label: "Password", value: "{password}" },
            ],
        },
        Step {
            text: "Zoiper asks for the hostname or provider: enter the SIP domain. Choose Skip for authentication and outbound proxy for now.",
            menu: &[],
            fields: &[Field { label: "Hostname", value: "{sip_domain}" }],
        },
        Step {
            text: "Zoiper tests the transports (SIP UDP, SIP TCP, SIP TLS). Pick {transport} if it is found, then Finish.",
            menu: &[],
            fields: &[],
        },
        Step {
            text: "Open the account's advanced settings and add the outbound proxy and the voicemail number.",
            menu: &["Settings", "Accounts", "{extension}@{sip_domain}", "Advanced Settings"],
            fields: &[
                Field { label: "Outbound proxy", value: "{server}:{port}" },
                Field { label: "Auth username", value: "{extension}" },
                Field { label: "Transport type", value: "{transport}" },
                Field { label: "Voicemail number", value: "{voicemail}" },
            ],
        },
    ],
    check: &[
        Step {
            text: "Settings, Accounts shows the account with a green check mark (Registered).",
            menu: &["Settings", "Accounts"],
            fields: &[],
        },
        CHECK_ECHO,
        CHECK_VOICEMAIL,
        CHECK_CALL,
    ],
    problems: &[
        DOMAIN_VS_PROXY,
        WRONG_REALM,
        Trouble {
            symptom: "The account shows \"Registered\", then calls stop arriving.",
            fix: "Enable Settings, Connectivity, Keep alive (Wi-Fi and mobile), and run Zoiper in the background (on Android: battery optimisation off for Zoiper). {transport} keeps the router's NAT mapping alive.",
        },
        ONE_WAY_AUDIO,
        LOCKED_OUT,
    ],
};

const GROUNDWIRE: Guide = Guide {
    id: "groundwire",
    name: "Groundwire (Acrobits)",
    vendor: "Acrobits",
    kind: DeviceKind::MobileApp,
    covers: "Groundwire for iOS and Android; Acrobits-based Cloud Softphone apps",
    intro: "Add a generic SIP account. Apps built on Acrobits Cloud Softphone can also be provisioned automatically from {acrobits_url} (see the last step).",
    steps: &[
        Step {
            text: "Open Groundwire, Settings, Accounts, then + (Add account) and choose Generic SIP Account.",
            menu: &["Settings", "Accounts", "+", "Generic SIP Account"],
            fields: &[
                Field { label: "Title", value: "{org_name} {extension}" },
                Field { label: "Username", value: "{extension}" },
                Field { label: "Password", value: "{password}" },
                Field { label: "Domain", value: "{sip_domain}" },
            ],
        },
        Step {
            text: "Open the account's Advanced Settings.",
            menu: &["Settings", "Accounts", "{org_name} {extension}", "Advanced Settings"],
            fields: &[
                Field { label: "Display Name", value: "{display_name}" },
                Field { label: "Auth Username", value: "{extension}" },
                Field { label: "Proxy", value: "{server}:{port}" },
                Field { label: "SIP Transport", value: "{transport}" },
                Field { label: "Expires", value: "{expiry}" },
                Field { label: "Voicemail Number", value: "{voicemail}" },
            ],
        },
        Step {
            text: "For providers of a Cloud Softphone app: set the external provisioning web service to {acrobits_url} with the POST data username=%account[username]%&password=%account[password]% and content type application/x-www-form-urlencoded, so the password never appears in the address.",
            menu: &[],
            fields: &[Field { label: "External provisioning URL", value: "{acrobits_url}" }],
        },
    ],
    check: &[
        Step {
            text: "The account shows a green dot (Registered) in Settings, Accounts.",
            menu: &["Settings", "Accounts"],
            fields: &[],
        },
        CHECK_ECHO,
        CHECK_VOICEMAIL,
        CHECK_CALL,
    ],
    problems: &[
        DOMAIN_VS_PROXY,
        WRONG_REALM,
        Trouble {
            symptom: "Calls do not arrive when the app is closed.",
            fix: "Groundwire's push service needs the SIP server to be reachable by Acrobits' push servers; LittlePBX has no push integration, so keep the app open in the background or accept that calls reach the phone only while the app runs. Use {transport} and keep NAT keep-alive on under Advanced Settings, Keep Alive.",
        },
        ONE_WAY_AUDIO,
        LOCKED_OUT,
    ],
};

// ---------------------------------------------------------------------------------------
// Desktop apps.

const LINPHONE_DESKTOP: Guide = Guide {
    id: "linphone-desktop",
    name: "Linphone desktop",
    vendor: "Belledonne Communications",
    kind: DeviceKind::DesktopApp,
    covers: "Linphone for Windows, macOS and Linux, versions 5 and 6",
    intro: "Linphone desktop can fetch its whole configuration, with the organization's phonebook, from the provisioning address.",
    steps: &[
        Step {
            text: "Open Linphone. In the assistant choose Fetch remote configuration (Linphone 6: Settings, Advanced, Remote provisioning) and enter the address. When Linphone asks for credentials, give the extension number and its SIP password.",
            menu: &["Assistant", "Fetch remote configuration"],
            fields: &[
                Field { label: "URL", value: "{linphone_url}" },
                Field { label: "Username", value: "{extension}" },
                Field { label: "Password", value: "{password}" },
            ],
        },
        Step {
            text: "Or by hand: Assistant, Use a SIP account (Linphone 6: Third-party SIP account).",
            menu: &["Assistant", "Use a SIP account"],
            fields: &[
                Field { label: "Username", value: "{extension}" },
                Field { label: "Display name", value: "{display_name}" },
                Field { label: "SIP Domain", value: "{sip_domain}" },
                Field { label: "Password", value: "{password}" },
                Field { label: "Transport", value: "{transport}" },
            ],
        },
        Step {
            text: "After a manual set-up, edit the account and add the server as proxy with the outbound proxy option on.",
            menu: &["Settings", "SIP Accounts", "Edit"],
            fields: &[
                Field { label: "Server address", value: "<sip:{server}:{port};transport={transport}>" },
                Field { label: "Outbound proxy", value: "on" },
            ],
        },
    ],
    check: &[
        Step {
            text: "The account's status dot at the top left turns green.",
            menu: &[],
            fields: &[],
        },
        CHECK_ECHO,
        CHECK_VOICEMAIL,
        CHECK_CALL,
    ],
    problems: &[
        DOMAIN_VS_PROXY,
        WRONG_REALM,
        ONE_WAY_AUDIO,
        LOCKED_OUT,
    ],
};

const MICROSIP: Guide = Guide {
    id: "microsip",
    name: "MicroSIP (Windows)",
    vendor: "MicroSIP",
    kind: DeviceKind::DesktopApp,
    covers: "MicroSIP 3 for Windows",
    intro: "Add one account in MicroSIP's account dialog.",
    steps: &[
        Step {
            text: "Open the menu (the arrow at the top right of the window) and choose Add Account.",
            menu: &["Menu", "Add Account"],
            fields: &[
                Field { label: "Account Name", value: "{org_name}" },
                Field { label: "SIP Server", value: "{sip_domain}" },
                Field { label: "SIP Proxy", value: "{server}:{port}" },
                Field { label: "Username", value: "{extension}" },
                Field { label: "Domain", value: "{sip_domain}" },
                Field { label: "Login", value: "{extension}" },
                Field { label: "Password", value: "{password}" },
                Field { label: "Display Name", value: "{display_name}" },
                Field { label: "Voicemail Number", value: "{voicemail}" },
                Field { label: "Transport", value: "{transport}" },
                Field { label: "Register Refresh", value: "{expiry}" },
                Field { label: "Keep-Alive", value: "15" },
            ],
        },
        Step {
            text: "Click Save.",
            menu: &[],
            fields: &[],
        },
    ],
    check: &[
        Step {
            text: "The status bar at the bottom of the window says Online.",
            menu: &[],
            fields: &[],
        },
        CHECK_ECHO,
        CHECK_VOICEMAIL,
        CHECK_CALL,
    ],
    problems: &[
        DOMAIN_VS_PROXY,
        WRONG_REALM,
        Trouble {
            symptom: "MicroSIP goes offline after a while or misses calls.",
            fix: "Keep the Keep-Alive field at 15 to 30 seconds in the account, and allow MicroSIP through the Windows firewall when Windows asks.",
        },
        ONE_WAY_AUDIO,
        LOCKED_OUT,
    ],
};

const TELEPHONE_MAC: Guide = Guide {
    id: "telephone-macos",
    name: "Telephone (macOS)",
    vendor: "64 Characters",
    kind: DeviceKind::DesktopApp,
    covers: "Telephone for macOS",
    intro: "Add an account in Telephone's settings.",
    steps: &[
        Step {
            text: "Open Telephone, Settings (Preferences on older macOS), Accounts, and click + to add an account.",
            menu: &["Telephone", "Settings", "Accounts", "+"],
            fields: &[
                Field { label: "Full Name", value: "{display_name}" },
                Field { label: "Domain", value: "{sip_domain}" },
                Field { label: "User Name", value: "{extension}" },
                Field { label: "Password", value: "{password}" },
            ],
        },
        Step {
            text: "Select the account, open its advanced settings and set the proxy to the server.",
            menu: &["Telephone", "Settings", "Accounts", "{extension}@{sip_domain}", "Advanced"],
            fields: &[
                Field { label: "Proxy Host", value: "{server}" },
                Field { label: "Proxy Port", value: "{port}" },
                Field { label: "Registry Server", value: "{server}:{port}" },
                Field { label: "Reregister every", value: "{expiry}" },
            ],
        },
        Step {
            text: "Tick Use this account and close the settings. The account window shows Available.",
            menu: &[],
            fields: &[],
        },
    ],
    check: &[
        Step {
            text: "The account window's status menu shows Available (not Offline).",
            menu: &[],
            fields: &[],
        },
        CHECK_ECHO,
        CHECK_VOICEMAIL,
        CHECK_CALL,
    ],
    problems: &[
        DOMAIN_VS_PROXY,
        WRONG_REALM,
        Trouble {
            symptom: "Telephone misses calls after the Mac slept.",
            fix: "Telephone registers again when the Mac wakes; if calls still do not arrive, choose Offline then Available in the account window. Keeping Reregister every at {expiry} seconds or less keeps the router's NAT mapping fresh.",
        },
        ONE_WAY_AUDIO,
        LOCKED_OUT,
    ],
};

const ZOIPER_DESKTOP: Guide = Guide {
    id: "zoiper-desktop",
    name: "Zoiper (Windows, macOS, Linux)",
    vendor: "Securax",
    kind: DeviceKind::DesktopApp,
    covers: "Zoiper 5 for Windows, macOS and Linux",
    intro: "Zoiper finds the server settings by itself from the address.",
    steps: &[
        Step {
            text: "Open Zoiper and choose Continue as a Free user (or sign in). On the login screen enter the address and password, then Login.",
            menu: &[],
            fields: &[
                Field { label: "Username / login", value: "{extension}@{sip_domain}" },
                Field { label: "Password", value: "{password}" },
            ],
        },
        Step {
            text: "Enter the SIP domain as hostname. Tick Outbound proxy and enter the server; leave Authentication / Auth username as {extension}.",
            menu: &[],
            fields: &[
                Field { label: "Hostname", value: "{sip_domain}" },
                Field { label: "Auth username", value: "{extension}" },
                Field { label: "Outbound proxy", value: "{server}:{port}" },
            ],
        },
        Step {
            text: "Zoiper tests SIP UDP, SIP TCP and SIP TLS. Choose {transport} if found, then Next.",
            menu: &[],
            fields: &[],
        },
        Step {
            text: "Set the voicemail number in the account settings.",
            menu: &["Settings", "Accounts", "{extension}@{sip_domain}", "Advanced"],
            fields: &[Field { label: "Voicemail number", value: "{voicemail}" }],
        },
    ],
    check: &[
        Step {
            text: "Settings, Accounts shows the account as Registered (green).",
            menu: &["Settings", "Accounts"],
            fields: &[],
        },
        CHECK_ECHO,
        CHECK_VOICEMAIL,
        CHECK_CALL,
    ],
    problems: &[
        DOMAIN_VS_PROXY,
        WRONG_REALM,
        Trouble {
            symptom: "Calls stop arriving after some minutes.",
            fix: "In Settings, Accounts, the account, Network settings, keep \"Use rport\" on and set a keep-alive of 30 seconds, or choose {transport}.",
        },
        ONE_WAY_AUDIO,
        LOCKED_OUT,
    ],
};

/// Every help page, desk phones first, in the order the app lists them.
pub const GUIDES: &[Guide] = &[
    YEALINK_T,
    POLY_VVX,
    GRANDSTREAM,
    SNOM_D,
    CISCO_MPP,
    FANVIL,
    YEALINK_W,
    GIGASET_N,
    LINPHONE_MOBILE,
    ZOIPER_MOBILE,
    GROUNDWIRE,
    LINPHONE_DESKTOP,
    MICROSIP,
    TELEPHONE_MAC,
    ZOIPER_DESKTOP,
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_device_of_the_issue_has_a_page() {
        let names: Vec<&str> = GUIDES.iter().map(|g| g.name).collect();
        for wanted in [
            "Yealink T4x",
            "Poly VVX",
            "Grandstream",
            "Snom D",
            "Cisco 8800",
            "Fanvil",
            "Yealink W",
            "Gigaset N",
            "Linphone (Android",
            "Zoiper (Android",
            "Groundwire",
            "Linphone desktop",
            "MicroSIP",
            "Telephone (macOS)",
            "Zoiper (Windows",
        ] {
            assert!(
                names.iter().any(|n| n.contains(wanted)),
                "no page for {wanted}: {names:?}"
            );
        }
        for kind in [
            DeviceKind::DeskPhone,
            DeviceKind::Dect,
            DeviceKind::MobileApp,
            DeviceKind::DesktopApp,
        ] {
            assert!(GUIDES.iter().any(|g| g.kind == kind), "{kind:?}");
        }
    }

    #[test]
    fn ids_are_unique_and_url_safe() {
        let ids: BTreeSet<&str> = GUIDES.iter().map(|g| g.id).collect();
        assert_eq!(ids.len(), GUIDES.len());
        for id in ids {
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{id}"
            );
            assert_eq!(guide(id).map(|g| g.id), Some(id));
        }
    }

    #[test]
    fn every_page_has_steps_a_check_and_problems() {
        for g in GUIDES {
            assert!(g.steps.len() >= 2, "{}: steps", g.id);
            assert!(
                g.steps.iter().all(|s| !s.text.trim().is_empty()),
                "{}: an empty step",
                g.id
            );
            assert!(
                g.steps.iter().any(|s| !s.menu.is_empty()),
                "{}: no menu path",
                g.id
            );
            let fields: Vec<&Field> = g.steps.iter().flat_map(|s| s.fields).collect();
            for needed in ["{extension}", "{password}", "{sip_domain}"] {
                assert!(
                    fields.iter().any(|f| f.value.contains(needed)),
                    "{}: no field takes {needed}",
                    g.id
                );
            }
            assert!(
                fields.iter().any(|f| f.value.contains("{server}")),
                "{}: the server (proxy) is never given",
                g.id
            );
            assert!(g.check.contains(&CHECK_ECHO), "{}: no echo test", g.id);
            assert!(g.check.contains(&CHECK_VOICEMAIL), "{}: no voicemail", g.id);
            assert!(g.check.contains(&CHECK_CALL), "{}: no call", g.id);
            assert!(g.check.len() >= 4, "{}: no device status check", g.id);
            assert!(g.problems.contains(&DOMAIN_VS_PROXY), "{}", g.id);
            assert!(g.problems.contains(&WRONG_REALM), "{}", g.id);
            assert!(
                g.texts().iter().any(|t| t.contains("keep-alive")
                    || t.contains("Keep Alive")
                    || t.contains("Keep-Alive")
                    || t.contains("NAT")),
                "{}: nothing about NAT keep-alive",
                g.id
            );
        }
    }

    #[test]
    fn every_placeholder_is_one_that_gets_filled() {
        let known: BTreeSet<&str> = ORG_PLACEHOLDERS
            .iter()
            .chain(EXTENSION_PLACEHOLDERS)
            .copied()
            .collect();
        let mut used = BTreeSet::new();
        for g in GUIDES {
            for text in g.texts() {
                for name in placeholders_in(text) {
                    assert!(
                        known.contains(name),
                        "{}: unknown placeholder {{{name}}} in {text:?}",
                        g.id
                    );
                    used.insert(name);
                }
                let open = text.matches('{').count();
                let close = text.matches('}').count();
                assert_eq!(open, close, "{}: unbalanced braces in {text:?}", g.id);
                assert_eq!(
                    open,
                    placeholders_in(text).len(),
                    "{}: a brace that is no placeholder in {text:?}",
                    g.id
                );
            }
        }
        for name in [
            "sip_domain",
            "server",
            "port",
            "extension",
            "password",
            "echo_test",
            "voicemail",
        ] {
            assert!(used.contains(name), "{name} never used");
        }
    }

    #[test]
    fn placeholders_are_found_and_filled() {
        let text = "{extension}@{sip_domain} {not a placeholder} {unknown}";
        assert_eq!(
            placeholders_in(text),
            vec!["extension", "sip_domain", "unknown"]
        );
        let filled = fill(text, |name| match name {
            "extension" => Some("101".into()),
            "sip_domain" => Some("pbx.acme.example.com".into()),
            _ => None,
        });
        assert_eq!(
            filled,
            "101@pbx.acme.example.com {not a placeholder} {unknown}"
        );
    }

    #[test]
    fn a_filled_guide_marks_the_password_fields() {
        let g = guide("linphone-mobile").unwrap_or(&GUIDES[0]);
        let filled = g.filled("101", |name| match name {
            "extension" => Some("101".into()),
            "password" => Some("the SIP password of extension 101".into()),
            _ => None,
        });
        assert!(filled.provisioning_link);
        let fields: Vec<&FilledField> = filled.steps.iter().flat_map(|s| &s.fields).collect();
        assert!(fields
            .iter()
            .any(|f| f.password && f.value == "the SIP password of extension 101"));
        assert!(fields
            .iter()
            .all(|f| f.password == f.value.contains("SIP password")));
        let list = guide_list();
        let kinds: Vec<DeviceKind> = list.groups.iter().map(|g| g.kind).collect();
        assert_eq!(
            kinds,
            [
                DeviceKind::DeskPhone,
                DeviceKind::Dect,
                DeviceKind::MobileApp,
                DeviceKind::DesktopApp
            ]
        );
        let count: usize = list.groups.iter().map(|g| g.guides.len()).sum();
        assert_eq!(count, GUIDES.len());
    }

    #[test]
    fn guides_serialize_for_the_app() {
        let json = serde_json::to_value(GUIDES).unwrap_or_default();
        assert_eq!(json.as_array().map(Vec::len), Some(GUIDES.len()));
        assert_eq!(json[0]["kind"], "desk_phone");
        assert!(json[0]["steps"][1]["fields"][0]["label"].is_string());
    }
}
