//! Softphone provisioning and the org phonebook: what a phone is told about its account,
//! rendered for Linphone, Acrobits (Groundwire), Yealink, vCard and our own JSON.
//!
//! Invariants:
//! - Everything is built from the org's **applied** snapshot: a phone is never told about an
//!   extension FreeSWITCH does not know yet.
//! - A provisioned account carries the extension's a1-hash (Linphone `ha1`), never a password;
//!   the only password ever written is the one the client itself just sent (Acrobits, which has
//!   no HA1 form), and it is never stored or logged.
//! - The directory holds only the org's own extensions.

pub mod auth;
pub mod device;
pub mod formats;
pub mod guard;
pub mod guides;
pub mod help;
pub mod links;
pub mod login;
pub mod qr;

use api_types::provisioning::{FeatureCode, PhonebookEntry, SipTransport};
use domain::{Extension, ExtensionNumber};
use freeswitch::names;
use store::snapshot::AppliedSnapshot;

use engine::config::Config;

/// Seconds a provisioned registration lasts.
pub const REGISTRATION_EXPIRY_SECS: u32 = 600;
/// How long a QR provisioning link works.
pub const LINK_LIFETIME_SECS: u32 = 600;

/// A SIP transport phones can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
    Tls,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
        }
    }
}

/// Where phones register: the same for every org (one FreeSWITCH).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// The host name phones send requests to.
    pub server: String,
    /// Offered transports, the one recommended for apps first.
    pub transports: Vec<(Transport, u16)>,
}

impl Site {
    /// Apps get TCP first: SIP messages with many codecs exceed one UDP packet on mobile
    /// networks, and a TCP connection keeps the NAT binding open between registrations.
    pub fn from_config(config: &Config) -> Self {
        let fs = &config.freeswitch;
        Self {
            server: config.sip_host(),
            transports: vec![
                (Transport::Tcp, fs.sip_port),
                (Transport::Udp, fs.sip_port),
                (Transport::Tls, fs.sip_tls_port),
            ],
        }
    }

    pub fn preferred(&self) -> (Transport, u16) {
        self.transports
            .first()
            .copied()
            .unwrap_or((Transport::Udp, 5060))
    }

    pub fn port_of(&self, transport: Transport) -> Option<u16> {
        self.transports
            .iter()
            .find(|(t, _)| *t == transport)
            .map(|(_, p)| *p)
    }

    pub fn transport_views(&self) -> Vec<SipTransport> {
        self.transports
            .iter()
            .map(|(t, port)| SipTransport {
                transport: t.as_str().to_owned(),
                port: *port,
            })
            .collect()
    }
}

/// One directory entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub number: String,
    pub name: String,
}

/// An org's directory: its own extensions only, by number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directory {
    pub org_slug: String,
    pub org_name: String,
    pub sip_domain: String,
    pub entries: Vec<Entry>,
}

impl Directory {
    pub fn from_snapshot(snapshot: &AppliedSnapshot) -> Self {
        let mut entries: Vec<Entry> = snapshot
            .config
            .extensions
            .iter()
            .map(|e| Entry {
                number: e.number.to_string(),
                name: e.display_name.to_string(),
            })
            .collect();
        entries.sort_by(|a, b| a.number.cmp(&b.number));
        Self {
            org_slug: snapshot.org.slug.to_string(),
            org_name: snapshot.org.name.to_string(),
            sip_domain: snapshot.org.sip_domain.to_string(),
            entries,
        }
    }

    pub fn entry_views(&self) -> Vec<PhonebookEntry> {
        self.entries
            .iter()
            .map(|e| PhonebookEntry {
                number: e.number.clone(),
                name: e.name.clone(),
            })
            .collect()
    }
}

/// Everything one extension's provisioning answer is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioned {
    pub directory: Directory,
    pub site: Site,
    pub number: String,
    pub display_name: String,
    pub a1_hash: String,
}

impl Provisioned {
    pub fn new(snapshot: &AppliedSnapshot, extension: &Extension, site: Site) -> Self {
        Self {
            directory: Directory::from_snapshot(snapshot),
            site,
            number: extension.number.to_string(),
            display_name: extension.display_name.to_string(),
            a1_hash: extension.a1_hash.to_string(),
        }
    }

    pub fn domain(&self) -> &str {
        &self.directory.sip_domain
    }

    pub fn voicemail_number(&self) -> &'static str {
        names::FEATURE_OWN_VOICEMAIL
    }

    pub fn voicemail_uri(&self) -> String {
        format!("sip:{}@{}", self.voicemail_number(), self.domain())
    }
}

/// The org's applied extension with this number.
pub fn find_extension<'a>(snapshot: &'a AppliedSnapshot, number: &str) -> Option<&'a Extension> {
    let number = ExtensionNumber::parse(number).ok()?;
    snapshot
        .config
        .extensions
        .iter()
        .find(|e| e.number == number)
}

/// The feature codes every extension can dial, described for people.
pub fn feature_codes() -> Vec<FeatureCode> {
    let code = |code: &str, id: &str, description: &str| FeatureCode {
        code: code.to_owned(),
        id: id.to_owned(),
        description: description.to_owned(),
    };
    vec![
        code(
            names::FEATURE_OWN_VOICEMAIL,
            "own_voicemail",
            "Your own voicemail box",
        ),
        code(
            names::FEATURE_ANY_VOICEMAIL,
            "any_voicemail",
            "Any voicemail box of the organization (asks for the box number)",
        ),
        code(
            &format!("{}N", names::FEATURE_INTERCOM_PREFIX),
            "intercom",
            "Intercom: N is an extension number; its phone answers at once on speaker",
        ),
        code(
            names::FEATURE_CONFERENCE,
            "conference",
            "The organization's conference room",
        ),
        code(
            names::FEATURE_ECHO,
            "echo_test",
            "Echo test: you hear yourself, to check sound in both directions",
        ),
    ]
}

/// The values of the help content's org-level placeholders
/// ([`guides::ORG_PLACEHOLDERS`]). `org_url` is the org's web address.
pub fn placeholder_values(
    directory: &Directory,
    site: &Site,
    org_url: &str,
    phonebook: Option<&deskphones::LdapPhonebook>,
) -> std::collections::BTreeMap<String, String> {
    let (transport, port) = site.preferred();
    let tls_port = site.port_of(Transport::Tls).unwrap_or(5061);
    let pairs: [(&str, String); 17] = [
        ("org_name", directory.org_name.clone()),
        ("sip_domain", directory.sip_domain.clone()),
        ("server", site.server.clone()),
        ("port", port.to_string()),
        ("tls_port", tls_port.to_string()),
        ("transport", formats::transport_label(transport).to_owned()),
        ("expiry", REGISTRATION_EXPIRY_SECS.to_string()),
        ("voicemail", names::FEATURE_OWN_VOICEMAIL.to_owned()),
        ("any_voicemail", names::FEATURE_ANY_VOICEMAIL.to_owned()),
        ("echo_test", names::FEATURE_ECHO.to_owned()),
        ("conference", names::FEATURE_CONFERENCE.to_owned()),
        ("intercom_prefix", names::FEATURE_INTERCOM_PREFIX.to_owned()),
        ("org_url", org_url.to_owned()),
        ("linphone_url", format!("{org_url}/provision/linphone.xml")),
        ("acrobits_url", format!("{org_url}/provision/acrobits.xml")),
        (
            "yealink_phonebook_url",
            format!("{org_url}/provision/phonebook/yealink.xml"),
        ),
        ("vcard_url", format!("{org_url}/provision/phonebook.vcf")),
    ];
    let mut values: std::collections::BTreeMap<String, String> =
        pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    values.insert("device_url".into(), format!("{org_url}/provision/device/"));
    let off = || "(the LDAP phone book is not enabled on this server)".to_owned();
    let ldap: [(&str, String); 7] = match phonebook {
        Some(book) => [
            ("ldap_server", book.host.clone()),
            ("ldap_port", book.port.to_string()),
            ("ldap_base", book.base.clone()),
            ("ldap_user", book.bind_dn.clone()),
            ("ldap_password", book.password.clone()),
            ("ldap_name_filter", book.name_filter.clone()),
            ("ldap_number_filter", book.number_filter.clone()),
        ],
        None => [
            ("ldap_server", off()),
            ("ldap_port", off()),
            ("ldap_base", off()),
            ("ldap_user", off()),
            ("ldap_password", off()),
            ("ldap_name_filter", off()),
            ("ldap_number_filter", off()),
        ],
    };
    values.extend(ldap.into_iter().map(|(k, v)| (k.to_owned(), v)));
    values
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_server_fills_every_org_placeholder_of_the_help_pages() {
        let directory = Directory {
            org_slug: "acme".into(),
            org_name: "Acme".into(),
            sip_domain: "pbx.acme.example.com".into(),
            entries: vec![],
        };
        let site = Site::from_config(&Config::default());
        let book = deskphones::LdapPhonebook {
            name: "Acme".into(),
            host: "sip.example.com".into(),
            port: 3389,
            base: "o=acme".into(),
            bind_dn: "cn=phonebook,o=acme".into(),
            password: "pw".into(),
            name_filter: "(cn=%*)".into(),
            number_filter: "(telephoneNumber=%)".into(),
            name_attr: "cn".into(),
            number_attr: "telephoneNumber".into(),
            max_hits: 50,
        };
        let off = placeholder_values(&directory, &site, "https://pbx.acme.example.com", None);
        assert!(off["ldap_user"].contains("not enabled"));
        let values = placeholder_values(
            &directory,
            &site,
            "https://pbx.acme.example.com",
            Some(&book),
        );
        assert_eq!(values["ldap_user"], "cn=phonebook,o=acme");
        assert_eq!(values["ldap_port"], "3389");
        assert_eq!(
            values.keys().collect::<Vec<_>>(),
            off.keys().collect::<Vec<_>>()
        );
        let filled: Vec<&str> = values.keys().map(String::as_str).collect();
        let mut wanted = guides::ORG_PLACEHOLDERS.to_vec();
        wanted.sort_unstable();
        assert_eq!(filled, wanted);
        for name in guides::EXTENSION_PLACEHOLDERS {
            assert!(!values.contains_key(*name), "{name} is the page's to fill");
        }
        assert_eq!(values["transport"], "TCP");
        assert_eq!(values["echo_test"], "*43");
        for guide in guides::all() {
            for text in guide.texts() {
                let filled = guides::fill(text, |name| values.get(name).cloned());
                for left in guides::placeholders_in(&filled) {
                    assert!(
                        guides::EXTENSION_PLACEHOLDERS.contains(&left),
                        "{}: {{{left}}} is not filled",
                        guide.id
                    );
                }
            }
        }
    }
}
