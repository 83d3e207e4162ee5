//! The provisioning and phonebook documents, as pure functions of [`Provisioned`] and
//! [`Directory`]. Checked against golden files (`golden/`) and parsed back field by field in
//! the integration tests.
//!
//! Formats, as their vendors read them:
//! - Linphone remote provisioning: the linphonerc sections as XML (`lpconfig.xsd`):
//!   `[proxy_0]` (`reg_identity`, `reg_proxy`, `reg_route`, `reg_expires`, `reg_sendregister`,
//!   `realm`, `voicemail_uri`), `[auth_info_0]` (`username`, `userid`, `ha1`, `realm`,
//!   `domain`, `algorithm`), and one `[friend_N]` per extension (`url`, `pol`, `subscribe`).
//!   Every entry is `overwrite="true"` so a re-provisioned app takes the new values.
//! - Acrobits external provisioning (Groundwire, Cloud Softphone): an `<account>` document.
//!   It has no HA1 form, so `<password>` is written only when the client itself sent the
//!   password (Basic or form); otherwise it is left out and the app keeps the one it has.
//! - Yealink remote phonebook: `<YealinkIPPhoneDirectory>` with `<DirectoryEntry>` entries.
//! - vCard 4.0 (RFC 6350): one card per extension, CRLF lines folded at 75 octets, text
//!   values escaped (`\\`, `,`, `;`, newlines).

use api_types::provisioning::{
    Phonebook, ProvisionedOrg, ProvisioningConfig, SipAccount, CONFIG_VERSION,
};

use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::{feature_codes, Directory, Provisioned, Transport, REGISTRATION_EXPIRY_SECS};

/// An XML document written by quick-xml, which escapes every text and attribute value,
/// indented by two spaces.
struct XmlDoc(Writer<Vec<u8>>);

impl XmlDoc {
    fn new() -> Self {
        Self(Writer::new_with_indent(Vec::with_capacity(4096), b' ', 2))
    }

    fn start(&mut self, name: &str, attributes: &[(&str, &str)]) {
        let mut start = BytesStart::new(name);
        for (key, value) in attributes {
            start.push_attribute((*key, without_controls(value).as_str()));
        }
        self.write(Event::Start(start));
    }

    fn end(&mut self, name: &str) {
        self.write(Event::End(BytesEnd::new(name)));
    }

    /// `<name attributes>text</name>`.
    fn element(&mut self, name: &str, attributes: &[(&str, &str)], text: &str) {
        self.start(name, attributes);
        self.write(Event::Text(BytesText::new(&without_controls(text))));
        self.end(name);
    }

    fn write(&mut self, event: Event<'_>) {
        // Writing into a Vec cannot fail.
        let _ = self.0.write_event(event);
    }

    fn finish(self) -> String {
        let mut out = String::from(XML_DECLARATION);
        out.push_str(&String::from_utf8_lossy(&self.0.into_inner()));
        out.push('\n');
        out
    }
}

/// Tenant strings are validated without control characters; never emit one anyway.
fn without_controls(text: &str) -> String {
    text.replace(char::is_control, " ")
}

const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// `"Name" <sip:number@domain>`: display names never contain `"` or `\` (see
/// `domain::DisplayName`), so quoting them is enough.
fn name_addr(name: &str, number: &str, domain: &str) -> String {
    format!("\"{name}\" <sip:{number}@{domain}>")
}

/// The Linphone remote provisioning document for one extension.
pub fn linphone_xml(p: &Provisioned) -> String {
    let domain = p.domain();
    let (transport, port) = p.site.preferred();
    let proxy = format!(
        "<sip:{}:{port};transport={}>",
        p.site.server,
        transport.as_str()
    );
    let mut sections: Vec<(String, Vec<(&str, String)>)> = vec![
        ("sip".to_owned(), vec![("default_proxy", "0".to_owned())]),
        (
            "proxy_0".to_owned(),
            vec![
                (
                    "reg_identity",
                    name_addr(&p.display_name, &p.number, domain),
                ),
                ("reg_proxy", proxy.clone()),
                // The proxy is also the route: every request goes to our server even when the
                // SIP domain has no DNS records of its own.
                ("reg_route", proxy),
                ("reg_expires", REGISTRATION_EXPIRY_SECS.to_string()),
                ("reg_sendregister", "1".to_owned()),
                ("realm", domain.to_owned()),
                ("voicemail_uri", p.voicemail_uri()),
                ("publish", "0".to_owned()),
                ("dial_escape_plus", "0".to_owned()),
            ],
        ),
        (
            "auth_info_0".to_owned(),
            vec![
                ("username", p.number.clone()),
                ("userid", p.number.clone()),
                ("ha1", p.a1_hash.clone()),
                ("realm", domain.to_owned()),
                ("domain", domain.to_owned()),
                ("algorithm", "MD5".to_owned()),
            ],
        ),
    ];
    for (i, entry) in p.directory.entries.iter().enumerate() {
        sections.push((
            format!("friend_{i}"),
            vec![
                ("url", name_addr(&entry.name, &entry.number, domain)),
                ("pol", "accept".to_owned()),
                ("subscribe", "0".to_owned()),
            ],
        ));
    }
    let mut doc = XmlDoc::new();
    doc.start(
        "config",
        &[
            ("xmlns", "http://www.linphone.org/xsds/lpconfig.xsd"),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            (
                "xsi:schemaLocation",
                "http://www.linphone.org/xsds/lpconfig.xsd lpconfig.xsd",
            ),
        ],
    );
    for (name, entries) in sections {
        doc.start("section", &[("name", &name)]);
        for (key, value) in entries {
            doc.element("entry", &[("name", key), ("overwrite", "true")], &value);
        }
        doc.end("section");
    }
    doc.end("config");
    doc.finish()
}

/// The Acrobits `<account>` document; `password` only when the client sent it.
pub fn acrobits_xml(p: &Provisioned, password: Option<&str>) -> String {
    let (transport, port) = p.site.preferred();
    let mut fields: Vec<(&str, String)> = vec![
        ("title", format!("{} {}", p.directory.org_name, p.number)),
        ("username", p.number.clone()),
        ("authUsername", p.number.clone()),
    ];
    if let Some(password) = password {
        fields.push(("password", password.to_owned()));
    }
    fields.extend([
        ("userDisplayName", p.display_name.clone()),
        ("host", p.domain().to_owned()),
        ("proxy", format!("{}:{port}", p.site.server)),
        ("transport", transport.as_str().to_owned()),
        ("expires", REGISTRATION_EXPIRY_SECS.to_string()),
        ("voiceMailNumber", p.voicemail_number().to_owned()),
    ]);
    let mut doc = XmlDoc::new();
    doc.start("account", &[]);
    for (key, value) in fields {
        doc.element(key, &[], &value);
    }
    doc.end("account");
    doc.finish()
}

/// Our own versioned JSON document.
pub fn config_json(p: &Provisioned) -> ProvisioningConfig {
    ProvisioningConfig {
        version: CONFIG_VERSION,
        organization: org(&p.directory),
        account: SipAccount {
            display_name: p.display_name.clone(),
            username: p.number.clone(),
            auth_username: p.number.clone(),
            domain: p.domain().to_owned(),
            realm: p.domain().to_owned(),
            proxy: p.site.server.clone(),
            transports: p.site.transport_views(),
            registration_expiry_seconds: REGISTRATION_EXPIRY_SECS,
            voicemail_number: p.voicemail_number().to_owned(),
            voicemail_uri: p.voicemail_uri(),
        },
        feature_codes: feature_codes(),
        extensions: p.directory.entry_views(),
    }
}

fn org(directory: &Directory) -> ProvisionedOrg {
    ProvisionedOrg {
        slug: directory.org_slug.clone(),
        name: directory.org_name.clone(),
    }
}

pub fn phonebook_json(directory: &Directory) -> Phonebook {
    Phonebook {
        version: CONFIG_VERSION,
        organization: org(directory),
        entries: directory.entry_views(),
    }
}

/// The Yealink remote phonebook.
pub fn yealink_phonebook(directory: &Directory) -> String {
    let mut doc = XmlDoc::new();
    doc.start("YealinkIPPhoneDirectory", &[]);
    for entry in &directory.entries {
        doc.start("DirectoryEntry", &[]);
        doc.element("Name", &[], &entry.name);
        doc.element("Telephone", &[], &entry.number);
        doc.end("DirectoryEntry");
    }
    doc.end("YealinkIPPhoneDirectory");
    doc.finish()
}

/// Escapes a vCard text value (RFC 6350 section 3.4).
pub fn vcard_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\,"),
            ';' => out.push_str("\\;"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line at 75 octets (RFC 6350 section 3.2) without splitting a character.
pub fn vcard_fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            // The leading space of a continuation line counts towards its 75 octets.
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
    out
}

/// One vCard 4.0 per extension.
pub fn vcards(directory: &Directory) -> String {
    let domain = &directory.sip_domain;
    let org = vcard_escape(&directory.org_name);
    let mut out = String::new();
    for entry in &directory.entries {
        let sip = format!("sip:{}@{domain}", entry.number);
        for line in [
            "BEGIN:VCARD".to_owned(),
            "VERSION:4.0".to_owned(),
            "KIND:individual".to_owned(),
            format!("FN:{}", vcard_escape(&entry.name)),
            format!("ORG:{org}"),
            format!(
                "TEL;VALUE=text;TYPE=work,voice:{}",
                vcard_escape(&entry.number)
            ),
            format!("IMPP;PREF=1:{sip}"),
            format!("UID:{sip}"),
            "END:VCARD".to_owned(),
        ] {
            out.push_str(&vcard_fold(&line));
        }
    }
    out
}

/// `udp`/`tcp`/`tls` as phones' menus write them.
pub fn transport_label(transport: Transport) -> &'static str {
    match transport {
        Transport::Udp => "UDP",
        Transport::Tcp => "TCP",
        Transport::Tls => "TLS",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::path::PathBuf;

    use super::super::{Entry, Site};
    use super::*;

    fn sample() -> Provisioned {
        Provisioned {
            directory: Directory {
                org_slug: "acme".into(),
                org_name: "Acme & Sons; Ltd, Paris".into(),
                sip_domain: "pbx.acme.example.com".into(),
                entries: vec![
                    Entry {
                        number: "101".into(),
                        name: "Ann O'Neil".into(),
                    },
                    Entry {
                        number: "102".into(),
                        name: "Smith, Bob & Co".into(),
                    },
                ],
            },
            site: Site {
                server: "sip.example.com".into(),
                transports: vec![
                    (Transport::Tcp, 5060),
                    (Transport::Udp, 5060),
                    (Transport::Tls, 5061),
                ],
            },
            number: "101".into(),
            display_name: "Ann O'Neil".into(),
            a1_hash: "0123456789abcdef0123456789abcdef".into(),
        }
    }

    /// Compares with `golden/<name>`; `UPDATE_GOLDEN=1` rewrites the file instead.
    fn golden(name: &str, actual: &str) {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("src/provisioning/golden")
            .join(name);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, actual).unwrap();
        }
        let expected = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
        if expected != actual {
            let diff: Vec<String> = expected
                .lines()
                .zip(actual.lines())
                .enumerate()
                .filter(|(_, (e, a))| e != a)
                .map(|(i, (e, a))| format!("line {}:\n- {e}\n+ {a}", i + 1))
                .collect();
            panic!(
                "{name} differs from its golden file ({} vs {} lines):\n{}\n--- actual:\n{actual}",
                expected.lines().count(),
                actual.lines().count(),
                diff.join("\n")
            );
        }
    }

    #[test]
    fn linphone_document_matches_its_golden_file() {
        golden("linphone.xml", &linphone_xml(&sample()));
    }

    #[test]
    fn acrobits_document_matches_its_golden_file() {
        golden("acrobits.xml", &acrobits_xml(&sample(), None));
        let with = acrobits_xml(&sample(), Some("s3cret<&>"));
        assert!(
            with.contains("<password>s3cret&lt;&amp;&gt;</password>"),
            "{with}"
        );
    }

    #[test]
    fn json_document_matches_its_golden_file() {
        let json = serde_json::to_string_pretty(&config_json(&sample())).unwrap() + "\n";
        golden("config.json", &json);
    }

    #[test]
    fn phonebooks_match_their_golden_files() {
        let directory = sample().directory;
        golden("yealink-phonebook.xml", &yealink_phonebook(&directory));
        golden("phonebook.vcf", &vcards(&directory));
        let json = serde_json::to_string_pretty(&phonebook_json(&directory)).unwrap() + "\n";
        golden("phonebook.json", &json);
    }

    #[test]
    fn vcard_text_is_escaped() {
        assert_eq!(vcard_escape(r"a,b;c\d"), r"a\,b\;c\\d");
        assert_eq!(vcard_escape("two\r\nlines"), r"two\nlines");
    }

    #[test]
    fn vcard_lines_fold_at_75_octets_between_characters() {
        let long = format!("FN:{}", "é".repeat(60));
        let folded = vcard_fold(&long);
        for line in folded.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{} octets: {line}", line.len());
        }
        let unfolded = folded.replace("\r\n ", "");
        assert_eq!(unfolded.trim_end(), long);
        assert_eq!(vcard_fold("FN:Ann"), "FN:Ann\r\n");
    }

    #[test]
    fn xml_values_are_escaped_and_cannot_add_markup() {
        let mut doc = XmlDoc::new();
        doc.element("t", &[("a", "\"/><x y=\"")], "<a href=\"x\">'&'</a>\u{7}");
        assert_eq!(
            doc.finish(),
            format!(
                "{XML_DECLARATION}<t a=\"&quot;/&gt;&lt;x y=&quot;\">\
                 &lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt; </t>\n"
            )
        );
    }
}
