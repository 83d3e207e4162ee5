//! Shared test data: the captured FreeSWITCH requests, two orgs that share extension numbers
//! (acme and globex), a suspended org, and a small XML tree for structural assertions.
#![allow(dead_code)]

use std::path::PathBuf;

use domain::trunk::{Cidr, SipHost, SipUser, Transport, TrunkConfig, TrunkRole, TrunkSettings};
use domain::{
    CompanyName, DidRoute, DisplayName, Email, Extension, ExtensionNumber, MohFileId, NoAnswer,
    OrgConfig, OrgOptions, OrgSlug, OrgStatus, SipDomain, E164,
};
use freeswitch::{MemoryLookup, OrgInput, OrgView, ProviderLimits, Settings, TrunkInput};
use quick_xml::events::Event;
use quick_xml::Reader;

pub const ACME_PASSWORD_1001: &str = "secret";
pub const ACME_TRUNK_PASSWORD: &str = "in$ecret'\"<x>&${y}";

pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The raw body captured in a fixture file (the line after `# raw body:`).
pub fn fixture(name: &str) -> String {
    let path = fixture_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    lines
        .find(|l| l.starts_with("# raw body:"))
        .expect("raw body marker");
    lines.next().expect("raw body line").to_owned()
}

/// Every fixture file name (without README).
pub fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixture_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".txt") && n != "README.txt")
        .collect();
    names.sort();
    names
}

fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Replaces the value of every `key=` pair (keeping the raw first five raw) or appends one.
pub fn with_param(body: &str, key: &str, value: &str) -> String {
    let raw_keys = ["hostname", "section", "tag_name", "key_name", "key_value"];
    let encoded = if raw_keys.contains(&key) {
        value.to_owned()
    } else {
        encode(value)
    };
    let prefix = format!("{key}=");
    let mut found = false;
    let parts: Vec<String> = body
        .split('&')
        .map(|part| {
            if part.starts_with(&prefix) {
                found = true;
                format!("{key}={encoded}")
            } else {
                part.to_owned()
            }
        })
        .collect();
    let mut out = parts.join("&");
    if !found {
        out.push('&');
        out.push_str(&format!("{key}={encoded}"));
    }
    out
}

/// Removes every `key=` pair.
pub fn without_param(body: &str, key: &str) -> String {
    let prefix = format!("{key}=");
    body.split('&')
        .filter(|p| !p.starts_with(&prefix))
        .collect::<Vec<_>>()
        .join("&")
}

fn ext(number: &str, name: &str, domain: &str, password: &str) -> Extension {
    Extension {
        display_name: DisplayName::parse(name).unwrap(),
        ..testkit::fixtures::extension(number, domain, password)
    }
}

fn e164(s: &str) -> E164 {
    E164::parse(s).unwrap()
}

pub fn trunk_settings(host: &str, cidrs: &[&str], register: bool) -> TrunkSettings {
    TrunkSettings {
        username: SipUser::parse("acct-1").unwrap(),
        auth_username: None,
        host: SipHost::parse(host).unwrap(),
        proxy: None,
        port: 5060,
        transport: Transport::Udp,
        register,
        realm: None,
        from_user: None,
        from_domain: None,
        caller_id_in_from: false,
        expire_seconds: 3600,
        allowed_cidrs: cidrs.iter().map(|c| Cidr::parse(c).unwrap()).collect(),
    }
}

pub fn limits() -> ProviderLimits {
    ProviderLimits {
        max_outbound_calls: 4,
        calls_per_second: 2,
    }
}

/// acme.test: 1001 Ann (DID caller ID, e-mail), 1002 Bob (forwards to 1001), 1003 Carol
/// (DND, forwards outside), 1004 Dan (hangs up); two DIDs; one registering trunk used both
/// ways; its own music.
pub fn acme_input() -> OrgInput {
    let domain = "acme.test";
    let mut ann = ext("1001", "Ann Example", domain, ACME_PASSWORD_1001);
    ann.voicemail_email = Some(Email::parse("ann@acme.test").unwrap());
    ann.outbound_caller_id = Some(e164("+15550100100"));
    let mut bob = ext("1002", "Bob", domain, "bobpw");
    bob.call_flow.no_answer = NoAnswer::ForwardExtension(ExtensionNumber::parse("1001").unwrap());
    let mut carol = ext("1003", "Carol", domain, "carolpw");
    carol.do_not_disturb = true;
    carol.call_flow.no_answer =
        NoAnswer::ForwardExternal(domain::ExternalNumber::parse("+4930123456").unwrap());
    let mut dan = ext("1004", "Dan", domain, "danpw");
    dan.call_flow.no_answer = NoAnswer::Hangup;
    OrgInput {
        slug: OrgSlug::parse("acme").unwrap(),
        domain: SipDomain::parse(domain).unwrap(),
        company: CompanyName::parse("Acme & Sons \"Best\" Inc.").unwrap(),
        status: OrgStatus::Active,
        limits: limits(),
        config: OrgConfig {
            extensions: vec![ann, bob, carol, dan],
            did_routes: vec![
                DidRoute {
                    did: e164("+15550100100"),
                    extension: Some(ExtensionNumber::parse("1001").unwrap()),
                },
                DidRoute {
                    did: e164("+15550100101"),
                    extension: None,
                },
            ],
            options: OrgOptions {
                moh_enabled: true,
                moh_file: Some(MohFileId::parse(&"a".repeat(64)).unwrap()),
                default_caller_id: Some(e164("+15550100101")),
                voicemail_attach_audio: true,
            },
        },
        dids: vec![e164("+15550100100"), e164("+15550100101")],
        trunks: vec![
            TrunkInput {
                role: TrunkRole::Inbound,
                config: TrunkConfig::Own(trunk_settings(
                    "sip.carrier.example",
                    &["203.0.113.0/24"],
                    true,
                )),
                password: Some(ACME_TRUNK_PASSWORD.into()),
            },
            TrunkInput {
                role: TrunkRole::Outbound,
                config: TrunkConfig::SameAsInbound,
                password: None,
            },
        ],
        moh_dir: Some("/var/lib/littlepbx/moh/acme".into()),
    }
}

/// globex.test: the same extension numbers with other passwords; separate inbound and
/// outbound trunks (the inbound one shares the carrier block 203.0.113.0/24 with acme); no
/// music file (default stream).
pub fn globex_input() -> OrgInput {
    let domain = "globex.test";
    let mut outbound = trunk_settings("out.carrier2.example", &["192.0.2.0/28"], false);
    outbound.proxy = Some(SipHost::parse("2001:db8::5").unwrap());
    outbound.caller_id_in_from = true;
    outbound.transport = Transport::Tcp;
    OrgInput {
        slug: OrgSlug::parse("globex").unwrap(),
        domain: SipDomain::parse(domain).unwrap(),
        company: CompanyName::parse("Globex").unwrap(),
        status: OrgStatus::Active,
        limits: limits(),
        config: OrgConfig {
            extensions: vec![
                ext("1001", "Gina", domain, "globexpw"),
                ext("1002", "Gus", domain, "globexpw2"),
            ],
            did_routes: vec![DidRoute {
                did: e164("+15550200100"),
                extension: Some(ExtensionNumber::parse("1001").unwrap()),
            }],
            options: OrgOptions {
                moh_enabled: true,
                moh_file: None,
                default_caller_id: Some(e164("+15550200100")),
                voicemail_attach_audio: false,
            },
        },
        dids: vec![e164("+15550200100")],
        trunks: vec![
            TrunkInput {
                role: TrunkRole::Inbound,
                config: TrunkConfig::Own(trunk_settings(
                    "sip.carrier.example",
                    &["203.0.113.0/24", "198.51.100.7"],
                    true,
                )),
                password: Some("globex-trunk".into()),
            },
            TrunkInput {
                role: TrunkRole::Outbound,
                config: TrunkConfig::Own(outbound),
                password: None,
            },
        ],
        moh_dir: None,
    }
}

/// initech.test: suspended, with an extension 1001, a DID and a trunk.
pub fn initech_input() -> OrgInput {
    let domain = "initech.test";
    let mut input = globex_input();
    input.slug = OrgSlug::parse("initech").unwrap();
    input.domain = SipDomain::parse(domain).unwrap();
    input.company = CompanyName::parse("Initech").unwrap();
    input.status = OrgStatus::Suspended;
    input.config.extensions = vec![ext("1001", "Peter", domain, "initechpw")];
    input.config.did_routes = vec![DidRoute {
        did: e164("+15550300100"),
        extension: Some(ExtensionNumber::parse("1001").unwrap()),
    }];
    input.config.options.default_caller_id = Some(e164("+15550300100"));
    input.dids = vec![e164("+15550300100")];
    input.trunks[0].config = TrunkConfig::Own(trunk_settings(
        "sip.initech-carrier.example",
        &["100.64.0.0/16"],
        true,
    ));
    input
}

pub fn lookup() -> MemoryLookup {
    MemoryLookup::new(vec![
        OrgView::new(acme_input()),
        OrgView::new(globex_input()),
        OrgView::new(initech_input()),
    ])
    .unwrap()
}

pub fn settings() -> Settings {
    Settings::default()
}

// ---------------------------------------------------------------------------------------
// A tiny XML tree
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// All descendants (and self) with this tag name, depth first.
    pub fn find_all<'a>(&'a self, name: &str) -> Vec<&'a Element> {
        let mut out = Vec::new();
        self.collect(name, &mut out);
        out
    }

    fn collect<'a>(&'a self, name: &str, out: &mut Vec<&'a Element>) {
        if self.name == name {
            out.push(self);
        }
        for c in &self.children {
            c.collect(name, out);
        }
    }

    /// `name=value` pairs of `<param>`/`<variable>` descendants.
    pub fn named(&self, tag: &str) -> Vec<(String, String)> {
        self.find_all(tag)
            .into_iter()
            .map(|e| {
                (
                    e.attr("name").unwrap_or("").to_owned(),
                    e.attr("value").unwrap_or("").to_owned(),
                )
            })
            .collect()
    }

    pub fn named_value(&self, tag: &str, name: &str) -> Option<String> {
        self.named(tag)
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// `application data` of every `<action>`, in order.
    pub fn actions(&self) -> Vec<String> {
        self.find_all("action")
            .into_iter()
            .map(|a| {
                format!(
                    "{} {}",
                    a.attr("application").unwrap_or(""),
                    a.attr("data").unwrap_or("")
                )
                .trim_end()
                .to_owned()
            })
            .collect()
    }
}

/// Parses a document with quick-xml, decoding entities; panics on malformed XML.
pub fn parse_tree(xml: &str) -> Element {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Element> = vec![Element {
        name: "#root".into(),
        attrs: vec![],
        children: vec![],
    }];
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|e| panic!("malformed XML: {e}\n{xml}"))
        {
            Event::Start(s) => stack.push(element(&s)),
            Event::Empty(s) => {
                let e = element(&s);
                stack.last_mut().unwrap().children.push(e);
            }
            Event::End(_) => {
                let done = stack.pop().unwrap();
                stack.last_mut().expect("balanced").children.push(done);
            }
            Event::Text(t) => assert!(
                t.iter().all(|b| b.is_ascii_whitespace()),
                "text node in {xml}"
            ),
            Event::Eof => break,
            other => panic!("unexpected {other:?} in {xml}"),
        }
    }
    assert_eq!(stack.len(), 1, "unbalanced document");
    let mut root = stack.pop().unwrap();
    assert_eq!(root.children.len(), 1, "one root element");
    root.children.remove(0)
}

fn element(s: &quick_xml::events::BytesStart<'_>) -> Element {
    let attrs = s
        .attributes()
        .map(|a| {
            let a = a.expect("attribute");
            let key = String::from_utf8(a.key.as_ref().to_vec()).unwrap();
            let value = a.unescape_value().expect("unescape").into_owned();
            (key, value)
        })
        .collect();
    Element {
        name: String::from_utf8(s.name().as_ref().to_vec()).unwrap(),
        attrs,
        children: vec![],
    }
}

/// The invariants every answer must satisfy, whatever went in: parses, a FreeSWITCH
/// document with one section, no preprocessor trigger on any line, no `$` written raw.
pub fn check_document(xml: &str) -> Element {
    assert!(
        xml.starts_with("<document type=\"freeswitch/xml\">"),
        "{xml}"
    );
    for line in xml.lines() {
        for bad in ["<?", "<include>", "</include>", "X-PRE-PROCESS"] {
            assert!(!line.contains(bad), "line contains {bad}: {line}");
        }
    }
    assert!(!xml.contains('$'), "raw $ in {xml}");
    assert!(xml.len() < 1024 * 1024);
    let doc = parse_tree(xml);
    assert_eq!(doc.name, "document");
    assert_eq!(doc.attr("type"), Some("freeswitch/xml"));
    assert_eq!(doc.children.len(), 1, "one section");
    assert_eq!(doc.children[0].name, "section");
    doc
}

/// Answers `body` from the standard lookup with the default settings and checks the document
/// invariants.
pub fn ask(body: &str) -> (freeswitch::Answer, Element) {
    ask_with(body, &lookup(), &freeswitch::AllowAll)
}

pub fn ask_with(
    body: &str,
    lookup: &impl freeswitch::Lookup,
    policy: &impl freeswitch::Policy,
) -> (freeswitch::Answer, Element) {
    let req = freeswitch::Request::parse(body.as_bytes()).expect("parse");
    let answer = freeswitch::answer(&req, lookup, &settings(), policy);
    let tree = check_document(&answer.xml);
    (answer, tree)
}

/// The ids of all `<user>` elements.
pub fn user_ids(tree: &Element) -> Vec<String> {
    tree.find_all("user")
        .iter()
        .filter_map(|u| u.attr("id").map(str::to_owned))
        .collect()
}

/// A dialplan request for `context` and `dest`, from a channel of `domain` authenticated as
/// `user` (both optional).
pub fn dialplan(context: &str, dest: &str, domain: Option<&str>, user: Option<&str>) -> String {
    let mut body = fixture("21_dialplan_call_1001_to_1002.txt");
    body = with_param(&body, "Hunt-Context", context);
    body = with_param(&body, "Hunt-Destination-Number", dest);
    body = match domain {
        Some(d) => with_param(&body, "variable_domain_name", d),
        None => without_param(&body, "variable_domain_name"),
    };
    match user {
        Some(u) => with_param(&body, "variable_user_name", u),
        None => without_param(&body, "variable_user_name"),
    }
}

/// A carrier call to `did` from `ip`, admitted by the ACL with `token` (if any) and/or
/// arriving through `gateway`.
pub fn carrier_call(did: &str, ip: &str, token: Option<&str>, gateway: Option<&str>) -> String {
    let mut body = dialplan(
        "public",
        did,
        Some("trunks.littlepbx.invalid"),
        Some("x.in.1"),
    );
    // A carrier's channel: on the carrier profile, with no digest user (the recorded call is a
    // phone's).
    body = with_param(&body, "variable_sofia_profile_name", "external");
    body = without_param(&body, "variable_user_name");
    body = without_param(&body, "variable_sip_auth_username");
    body = with_param(&body, "variable_sip_network_ip", ip);
    if let Some(t) = token {
        body = with_param(&body, "variable_acl_token", t);
        body = with_param(&body, "variable_sip_acl_authed_by", "lpbx_trunks");
    }
    if let Some(g) = gateway {
        body = with_param(&body, "variable_sip_gateway", g);
    }
    body
}
