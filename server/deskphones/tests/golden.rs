//! Each model's files for a fixed device: compared byte for byte with
//! `tests/golden/` (run with `UPDATE_GOLDEN=1` to rewrite them), then read back with a
//! small parser per format and checked field by field.

use std::collections::BTreeMap;
use std::path::PathBuf;

use deskphones::{
    model, models, render, Account, DeviceConfig, FileKind, LdapPhonebook, Mac, ProvisioningServer,
    RenderError, Transport,
};
use quick_xml::events::Event;
use quick_xml::Reader;

const DISPLAY: &str = "Ann O'Neil & Co";
const SIP_PASSWORD: &str = "s3cr<e>t&\"'";
const PROV_PASSWORD: &str = "Pr0v&<x>9";
const BOOK_PASSWORD: &str = "b00k<&>'";
const URL: &str = "https://pbx.acme.example.com/provision/device/";

fn account() -> Account {
    Account {
        number: "201".into(),
        display_name: DISPLAY.into(),
        password: SIP_PASSWORD.into(),
        sip_domain: "pbx.acme.example.com".into(),
        proxy_host: "sip.example.com".into(),
        proxy_port: 5061,
        transport: Transport::Tls,
        expiry_secs: 300,
        voicemail_number: "*97".into(),
        label: "201 Ann".into(),
    }
}

fn phonebook() -> LdapPhonebook {
    LdapPhonebook {
        name: "Acme & Sons".into(),
        host: "ldap.example.com".into(),
        port: 389,
        base: "o=acme".into(),
        bind_dn: "cn=phonebook,o=acme".into(),
        password: BOOK_PASSWORD.into(),
        name_filter: "(&(cn=%*)(telephoneNumber=*))".into(),
        number_filter: "(telephoneNumber=%)".into(),
        name_attr: "cn".into(),
        number_attr: "telephoneNumber".into(),
        max_hits: 50,
    }
}

fn config(model_id: &str, with_account: bool) -> DeviceConfig {
    DeviceConfig {
        mac: Mac::parse("00:15:65:AA:BB:CC").unwrap(),
        model: model(model_id).unwrap(),
        provisioning: ProvisioningServer {
            url: URL.into(),
            username: "dev-001565aabbcc".into(),
            password: PROV_PASSWORD.into(),
        },
        account: with_account.then(account),
        phonebook: with_account.then(phonebook),
    }
}

/// The files of a model: (kind, golden file suffix).
fn files(model_id: &str) -> Vec<(FileKind, &'static str)> {
    match model_id {
        "yealink-t4x-t5x" | "yealink-w" => vec![(FileKind::YealinkMac, ".cfg")],
        "poly-vvx-edge-e" => vec![
            (FileKind::PolyMaster, ".master.cfg"),
            (FileKind::PolyPhone, ".cfg"),
        ],
        "grandstream-gxp-grp" => vec![(FileKind::GrandstreamXml, ".xml")],
        "snom-d" => vec![(FileKind::SnomXml, ".xml")],
        "fanvil" => vec![(FileKind::FanvilMac, ".cfg")],
        "cisco-mpp" => vec![(FileKind::CiscoMpp, ".xml")],
        other => panic!("no files listed for {other}"),
    }
}

fn body(kind: FileKind, config: &DeviceConfig) -> String {
    render(kind, config).unwrap().body
}

#[test]
fn golden_files() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut mismatched = Vec::new();
    for m in models() {
        for with_account in [true, false] {
            let config = config(m.id, with_account);
            for (kind, suffix) in files(m.id) {
                if kind == FileKind::PolyMaster && !with_account {
                    continue;
                }
                let name = if with_account {
                    format!("{}{suffix}", m.id)
                } else {
                    format!("{}-no-account{suffix}", m.id)
                };
                let got = body(kind, &config);
                let path = dir.join(&name);
                if update {
                    std::fs::write(&path, &got).unwrap();
                } else {
                    let want = std::fs::read_to_string(&path)
                        .unwrap_or_else(|e| panic!("{name}: {e} (UPDATE_GOLDEN=1 writes it)"));
                    if got != want {
                        mismatched.push(name);
                    }
                }
            }
        }
    }
    assert!(
        mismatched.is_empty(),
        "differ from tests/golden (UPDATE_GOLDEN=1 rewrites them): {mismatched:?}"
    );
}

#[test]
fn content_types() {
    let ct = |id: &str, kind| render(kind, &config(id, true)).unwrap().content_type;
    assert!(ct("yealink-t4x-t5x", FileKind::YealinkMac).starts_with("text/plain"));
    assert!(ct("fanvil", FileKind::FanvilMac).starts_with("text/plain"));
    for (id, kind) in [
        ("poly-vvx-edge-e", FileKind::PolyMaster),
        ("poly-vvx-edge-e", FileKind::PolyPhone),
        ("grandstream-gxp-grp", FileKind::GrandstreamXml),
        ("snom-d", FileKind::SnomXml),
        ("cisco-mpp", FileKind::CiscoMpp),
    ] {
        assert!(ct(id, kind).starts_with("application/xml"), "{id}");
    }
}

// ---------------------------------------------------------------- parsers

/// Yealink: the header, then `key = value` lines; `%NULL%` is the empty value.
fn parse_yealink(body: &str) -> BTreeMap<String, String> {
    let mut lines = body.lines();
    assert_eq!(lines.next(), Some("#!version:1.0.0.1"));
    let mut out = BTreeMap::new();
    for line in lines {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = line.split_once(" = ").unwrap_or_else(|| panic!("{line:?}"));
        let v = if v == "%NULL%" { "" } else { v };
        assert!(
            out.insert(k.to_string(), v.to_string()).is_none(),
            "twice: {k}"
        );
    }
    out
}

/// Fanvil: header, `<X CONFIG MODULE>` sections of `Key :value` lines, end marker.
/// Keys come back as `X/Key`.
fn parse_fanvil(body: &str) -> BTreeMap<String, String> {
    let mut lines = body.lines();
    assert_eq!(
        lines.next(),
        Some("<<VOIP CONFIG FILE>>Version:2.0000000000")
    );
    let mut module = String::new();
    let mut out = BTreeMap::new();
    let mut ended = false;
    for line in lines {
        assert!(!ended, "after the end: {line:?}");
        if line.is_empty() {
            continue;
        }
        if line == "<<END OF FILE>>" {
            ended = true;
            continue;
        }
        if let Some(name) = line
            .strip_prefix('<')
            .and_then(|l| l.strip_suffix(" CONFIG MODULE>"))
        {
            module = name.to_string();
            continue;
        }
        let (k, v) = line.split_once(':').unwrap_or_else(|| panic!("{line:?}"));
        let key = format!("{module}/{}", k.trim_end());
        assert!(
            out.insert(key.clone(), v.to_string()).is_none(),
            "twice: {key}"
        );
    }
    assert!(ended, "no <<END OF FILE>>");
    out
}

#[derive(Debug, Default)]
struct Node {
    path: String,
    attrs: BTreeMap<String, String>,
    text: String,
}

/// Every element: its path from the root, its attributes and its text, unescaped.
fn parse_xml(body: &str) -> Vec<Node> {
    let mut reader = Reader::from_str(body);
    let mut stack: Vec<String> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut nodes: Vec<Node> = Vec::new();
    loop {
        let event = reader.read_event().unwrap();
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                stack.push(name);
                let mut node = Node {
                    path: stack.join("/"),
                    ..Node::default()
                };
                for attr in e.attributes() {
                    let attr = attr.unwrap();
                    let key = String::from_utf8(attr.key.as_ref().to_vec()).unwrap();
                    let value = attr.unescape_value().unwrap().into_owned();
                    assert!(
                        node.attrs.insert(key.clone(), value).is_none(),
                        "twice: {key}"
                    );
                }
                nodes.push(node);
                if matches!(event, Event::Empty(_)) {
                    stack.pop();
                } else {
                    open.push(nodes.len() - 1);
                }
            }
            Event::End(_) => {
                stack.pop();
                open.pop();
            }
            Event::Text(t) => {
                let text = t.decode().unwrap();
                if let Some(&i) = open.last() {
                    nodes[i].text.push_str(&text);
                } else {
                    assert!(text.trim().is_empty(), "text outside the root: {text:?}");
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().unwrap();
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .unwrap_or_else(|| panic!("unknown entity {name}"))
                            .to_string()
                    }
                };
                let i = *open.last().expect("a reference outside any element");
                nodes[i].text.push_str(&resolved);
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(stack.is_empty());
    // Whitespace-only text is layout, not content.
    for n in &mut nodes {
        if n.text.trim().is_empty() {
            n.text.clear();
        }
    }
    nodes
}

/// The text of the one element at `path`.
fn text<'a>(nodes: &'a [Node], path: &str) -> &'a str {
    let found: Vec<_> = nodes.iter().filter(|n| n.path == path).collect();
    assert_eq!(found.len(), 1, "{path}: {} elements", found.len());
    &found[0].text
}

fn has(nodes: &[Node], path: &str) -> bool {
    nodes.iter().any(|n| n.path == path)
}

/// Every attribute of every element (Poly writes each setting once).
fn all_attrs(nodes: &[Node]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for n in nodes {
        for (k, v) in &n.attrs {
            assert!(out.insert(k.clone(), v.clone()).is_none(), "twice: {k}");
        }
    }
    out
}

fn get<'a>(map: &'a BTreeMap<String, String>, key: &str) -> &'a str {
    map.get(key)
        .unwrap_or_else(|| panic!("missing {key}"))
        .as_str()
}

// ---------------------------------------------------------------- read back

fn check_yealink(c: &DeviceConfig, with_ldap: bool) {
    let f = parse_yealink(&body(FileKind::YealinkMac, c));
    let g = |k| get(&f, k);
    match &c.account {
        Some(a) => {
            assert_eq!(g("account.1.enable"), "1");
            assert_eq!(g("account.1.label"), a.label);
            assert_eq!(g("account.1.display_name"), a.display_name);
            assert_eq!(g("account.1.auth_name"), a.number);
            assert_eq!(g("account.1.user_name"), a.number);
            assert_eq!(g("account.1.password"), a.password);
            assert_eq!(g("account.1.sip_server.1.address"), a.sip_domain);
            assert_eq!(g("account.1.sip_server.1.port"), "5061");
            assert_eq!(g("account.1.sip_server.1.transport_type"), "2");
            assert_eq!(g("account.1.sip_server.1.expires"), "300");
            assert_eq!(g("account.1.outbound_proxy_enable"), "1");
            assert_eq!(g("account.1.outbound_proxy.1.address"), a.proxy_host);
            assert_eq!(g("account.1.outbound_proxy.1.port"), "5061");
            assert_eq!(g("voice_mail.number.1"), "*97");
        }
        None => {
            assert_eq!(g("account.1.enable"), "0");
            for k in [
                "account.1.label",
                "account.1.display_name",
                "account.1.auth_name",
                "account.1.user_name",
                "account.1.password",
                "account.1.sip_server.1.address",
                "account.1.outbound_proxy.1.address",
                "voice_mail.number.1",
            ] {
                assert_eq!(g(k), "", "{k}");
            }
            assert_eq!(g("account.1.outbound_proxy_enable"), "0");
        }
    }
    assert_eq!(g("static.auto_provision.server.url"), URL);
    assert_eq!(
        g("static.auto_provision.server.username"),
        "dev-001565aabbcc"
    );
    assert_eq!(g("static.auto_provision.server.password"), PROV_PASSWORD);
    // It asks again every hour: a moved or removed phone learns it at that check.
    assert_eq!(g("static.auto_provision.repeat.enable"), "1");
    assert_eq!(g("static.auto_provision.repeat.minutes"), "60");
    match (&c.phonebook, with_ldap) {
        (Some(b), true) => {
            assert_eq!(g("ldap.enable"), "1");
            assert_eq!(g("ldap.host"), b.host);
            assert_eq!(g("ldap.port"), "389");
            assert_eq!(g("ldap.base"), b.base);
            assert_eq!(g("ldap.user"), b.bind_dn);
            assert_eq!(g("ldap.password"), b.password);
            assert_eq!(g("ldap.name_filter"), b.name_filter);
            assert_eq!(g("ldap.number_filter"), b.number_filter);
            assert_eq!(g("ldap.display_name"), "%cn");
            assert_eq!(g("ldap.name_attr"), "cn");
            assert_eq!(g("ldap.numb_attr"), "telephoneNumber");
            assert_eq!(g("ldap.version"), "3");
            assert_eq!(g("ldap.max_hits"), "50");
            assert_eq!(g("ldap.call_in_lookup"), "1");
        }
        (None, true) => assert_eq!(g("ldap.enable"), "0"),
        (_, false) => assert!(f.keys().all(|k| !k.starts_with("ldap.")), "{f:?}"),
    }
}

#[test]
fn yealink_t4x_reads_back() {
    check_yealink(&config("yealink-t4x-t5x", true), true);
    check_yealink(&config("yealink-t4x-t5x", false), true);
}

#[test]
fn yealink_w_reads_back() {
    check_yealink(&config("yealink-w", true), false);
    check_yealink(&config("yealink-w", false), false);
}

fn check_poly(c: &DeviceConfig) {
    let master = parse_xml(&body(FileKind::PolyMaster, c));
    assert_eq!(master.len(), 1);
    assert_eq!(master[0].path, "APPLICATION");
    assert_eq!(
        get(&master[0].attrs, "CONFIG_FILES"),
        "001565aabbcc-littlepbx.cfg"
    );
    assert_eq!(get(&master[0].attrs, "APP_FILE_PATH"), "");

    let nodes = parse_xml(&body(FileKind::PolyPhone, c));
    assert!(nodes.iter().all(|n| n.path.starts_with("polycomConfig")));
    let f = all_attrs(&nodes);
    let g = |k| get(&f, k);
    match &c.account {
        Some(a) => {
            assert_eq!(g("reg.1.address"), a.number);
            assert_eq!(g("reg.1.auth.userId"), a.number);
            assert_eq!(g("reg.1.auth.password"), a.password);
            assert_eq!(g("reg.1.displayName"), a.display_name);
            assert_eq!(g("reg.1.label"), a.label);
            assert_eq!(g("reg.1.server.1.address"), a.sip_domain);
            assert_eq!(g("reg.1.server.1.port"), "5061");
            assert_eq!(g("reg.1.server.1.transport"), "TLS");
            assert_eq!(g("reg.1.server.1.expires"), "300");
            assert_eq!(g("reg.1.outboundProxy.address"), a.proxy_host);
            assert_eq!(g("reg.1.outboundProxy.port"), "5061");
            assert_eq!(g("reg.1.outboundProxy.transport"), "TLS");
            assert_eq!(g("msg.mwi.1.callBackMode"), "contact");
            assert_eq!(g("msg.mwi.1.callBack"), "*97");
        }
        None => {
            for k in [
                "reg.1.address",
                "reg.1.auth.userId",
                "reg.1.auth.password",
                "reg.1.displayName",
                "reg.1.label",
                "reg.1.server.1.address",
                "reg.1.outboundProxy.address",
                "msg.mwi.1.callBack",
            ] {
                assert_eq!(g(k), "", "{k}");
            }
            assert_eq!(g("msg.mwi.1.callBackMode"), "disabled");
        }
    }
    assert_eq!(g("device.set"), "1");
    for k in ["serverType", "serverName", "user", "password"] {
        assert_eq!(get(&f, &format!("device.prov.{k}.set")), "1", "{k}");
    }
    assert_eq!(g("device.prov.serverType"), "HTTPS");
    assert_eq!(g("device.prov.serverName"), URL);
    assert_eq!(g("device.prov.user"), "dev-001565aabbcc");
    assert_eq!(g("device.prov.password"), PROV_PASSWORD);
    assert_eq!(g("prov.polling.enabled"), "1");
    assert_eq!(g("prov.polling.mode"), "rel");
    assert_eq!(g("prov.polling.period"), "3600");
    match &c.phonebook {
        Some(b) => {
            assert_eq!(g("feature.corporateDirectory.enabled"), "1");
            assert_eq!(g("dir.corp.address"), "ldap://ldap.example.com");
            assert_eq!(g("dir.corp.port"), "389");
            assert_eq!(g("dir.corp.baseDN"), b.base);
            assert_eq!(g("dir.corp.user"), b.bind_dn);
            assert_eq!(g("dir.corp.password"), b.password);
            assert_eq!(g("dir.corp.attribute.1.name"), "cn");
            assert_eq!(g("dir.corp.attribute.2.name"), "telephoneNumber");
            assert_eq!(g("dir.corp.attribute.2.type"), "phone_number");
        }
        None => {
            assert_eq!(g("feature.corporateDirectory.enabled"), "0");
            assert!(!f.contains_key("dir.corp.address"));
        }
    }
}

#[test]
fn poly_reads_back() {
    check_poly(&config("poly-vvx-edge-e", true));
    check_poly(&config("poly-vvx-edge-e", false));
}

fn check_grandstream(c: &DeviceConfig) {
    let nodes = parse_xml(&body(FileKind::GrandstreamXml, c));
    assert_eq!(get(&nodes[0].attrs, "version"), "1");
    assert_eq!(text(&nodes, "gs_provision/mac"), "001565aabbcc");
    let p = |n: &str| text(&nodes, &format!("gs_provision/config/{n}")).to_string();
    match &c.account {
        Some(a) => {
            assert_eq!(p("P271"), "1");
            assert_eq!(p("P270"), a.label);
            assert_eq!(p("P47"), a.sip_domain);
            assert_eq!(p("P48"), "sip.example.com:5061");
            assert_eq!(p("P35"), a.number);
            assert_eq!(p("P36"), a.number);
            assert_eq!(p("P34"), a.password);
            assert_eq!(p("P3"), a.display_name);
            assert_eq!(p("P130"), "2");
            assert_eq!(p("P32"), "5");
            assert_eq!(p("P33"), "*97");
        }
        None => {
            assert_eq!(p("P271"), "0");
            for n in ["P270", "P47", "P48", "P35", "P36", "P34", "P3", "P33"] {
                assert_eq!(p(n), "", "{n}");
            }
        }
    }
    assert_eq!(p("P212"), "2");
    assert_eq!(p("P237"), "pbx.acme.example.com/provision/device/");
    assert_eq!(p("P1360"), "dev-001565aabbcc");
    assert_eq!(p("P1361"), PROV_PASSWORD);
    assert_eq!(p("P194"), "1");
    assert_eq!(p("P193"), "60");
    match &c.phonebook {
        Some(b) => {
            assert_eq!(p("P8020"), b.host);
            assert_eq!(p("P8021"), "389");
            assert_eq!(p("P8022"), b.base);
            assert_eq!(p("P8023"), b.bind_dn);
            assert_eq!(p("P8024"), b.password);
            assert_eq!(p("P8025"), b.number_filter);
            assert_eq!(p("P8026"), b.name_filter);
            assert_eq!(p("P8027"), "3");
            assert_eq!(p("P8028"), "cn");
            assert_eq!(p("P8029"), "telephoneNumber");
            assert_eq!(p("P8030"), "%cn");
            assert_eq!(p("P8031"), "50");
        }
        None => {
            assert_eq!(p("P8020"), "");
            assert!(!has(&nodes, "gs_provision/config/P8023"));
        }
    }
}

#[test]
fn grandstream_reads_back() {
    check_grandstream(&config("grandstream-gxp-grp", true));
    check_grandstream(&config("grandstream-gxp-grp", false));
}

#[test]
fn grandstream_expiry_is_in_whole_minutes() {
    let mut c = config("grandstream-gxp-grp", true);
    for (secs, minutes) in [(0, "1"), (30, "1"), (60, "1"), (61, "2"), (3600, "60")] {
        c.account.as_mut().unwrap().expiry_secs = secs;
        let nodes = parse_xml(&body(FileKind::GrandstreamXml, &c));
        assert_eq!(text(&nodes, "gs_provision/config/P32"), minutes, "{secs}");
    }
}

fn check_snom(c: &DeviceConfig) {
    let nodes = parse_xml(&body(FileKind::SnomXml, c));
    assert_eq!(nodes[0].path, "settings");
    let s = |n: &str| text(&nodes, &format!("settings/phone-settings/{n}")).to_string();
    for n in nodes.iter().filter(|n| n.path.contains("/user_")) {
        assert_eq!(get(&n.attrs, "idx"), "1", "{}", n.path);
        assert_eq!(get(&n.attrs, "perm"), "R", "{}", n.path);
    }
    match &c.account {
        Some(a) => {
            assert_eq!(s("user_active"), "on");
            assert_eq!(s("user_realname"), a.display_name);
            assert_eq!(s("user_name"), a.number);
            assert_eq!(s("user_pname"), a.number);
            assert_eq!(s("user_pass"), a.password);
            assert_eq!(s("user_host"), a.sip_domain);
            assert_eq!(s("user_outbound"), "sip.example.com:5061;transport=tls");
            assert_eq!(s("user_expiry"), "300");
            assert_eq!(s("user_mailbox"), "*97");
        }
        None => {
            assert_eq!(s("user_active"), "off");
            for n in [
                "user_realname",
                "user_name",
                "user_pname",
                "user_pass",
                "user_host",
                "user_outbound",
                "user_mailbox",
            ] {
                assert_eq!(s(n), "", "{n}");
            }
        }
    }
    assert_eq!(s("setting_server"), format!("{URL}001565AABBCC.xml"));
    assert_eq!(s("http_client_user"), "dev-001565aabbcc");
    assert_eq!(s("http_client_pass"), PROV_PASSWORD);
    assert_eq!(s("settings_refresh_timer"), "3600");
    match &c.phonebook {
        Some(b) => {
            assert_eq!(s("ldap_server"), b.host);
            assert_eq!(s("ldap_port"), "389");
            assert_eq!(s("ldap_base"), b.base);
            assert_eq!(s("ldap_username"), b.bind_dn);
            assert_eq!(s("ldap_password"), b.password);
            assert_eq!(s("ldap_search_filter"), b.name_filter);
            assert_eq!(s("ldap_number_filter"), b.number_filter);
            assert_eq!(s("ldap_name_attributes"), "cn");
            assert_eq!(s("ldap_number_attributes"), "telephoneNumber");
            assert_eq!(s("ldap_display_name"), "%cn");
            assert_eq!(s("ldap_max_hits"), "50");
        }
        None => assert_eq!(s("ldap_server"), ""),
    }
}

#[test]
fn snom_reads_back() {
    check_snom(&config("snom-d", true));
    check_snom(&config("snom-d", false));
}

fn check_fanvil(c: &DeviceConfig) {
    let f = parse_fanvil(&body(FileKind::FanvilMac, c));
    let g = |k: &str| get(&f, &format!("SIP/{k}")).to_string();
    match &c.account {
        Some(a) => {
            assert_eq!(g("SIP1 Phone Number"), a.number);
            assert_eq!(g("SIP1 Display Name"), a.display_name);
            assert_eq!(g("SIP1 Register Addr"), a.sip_domain);
            assert_eq!(g("SIP1 Register Port"), "5061");
            assert_eq!(g("SIP1 Register User"), a.number);
            assert_eq!(g("SIP1 Register Pswd"), a.password);
            assert_eq!(g("SIP1 Register TTL"), "300");
            assert_eq!(g("SIP1 Enable Reg"), "1");
            assert_eq!(g("SIP1 Proxy Addr"), a.proxy_host);
            assert_eq!(g("SIP1 Proxy Port"), "5061");
            assert_eq!(g("SIP1 Transport"), "2");
            assert_eq!(g("SIP1 MWI Num"), "*97");
        }
        None => {
            for k in [
                "SIP1 Phone Number",
                "SIP1 Display Name",
                "SIP1 Register Addr",
                "SIP1 Register User",
                "SIP1 Register Pswd",
                "SIP1 Proxy Addr",
                "SIP1 MWI Num",
            ] {
                assert_eq!(g(k), "", "{k}");
            }
            assert_eq!(g("SIP1 Enable Reg"), "0");
        }
    }
    assert_eq!(get(&f, "AUTOUPDATE/Default Username"), "dev-001565aabbcc");
    assert_eq!(get(&f, "AUTOUPDATE/Default Password"), PROV_PASSWORD);
    assert_eq!(get(&f, "AUTOUPDATE/Flash Server IP"), URL);
    assert_eq!(get(&f, "AUTOUPDATE/Flash Protocol"), "5");
    assert!(f.keys().all(|k| !k.to_ascii_lowercase().contains("ldap")));
}

#[test]
fn fanvil_reads_back() {
    check_fanvil(&config("fanvil", true));
    check_fanvil(&config("fanvil", false));
}

fn check_cisco(c: &DeviceConfig) {
    let nodes = parse_xml(&body(FileKind::CiscoMpp, c));
    for n in &nodes[1..] {
        assert_eq!(get(&n.attrs, "ua"), "na", "{}", n.path);
    }
    let p = |n: &str| text(&nodes, &format!("flat-profile/{n}")).to_string();
    match &c.account {
        Some(a) => {
            assert_eq!(p("Station_Name"), a.label);
            assert_eq!(p("Line_Enable_1_"), "Yes");
            assert_eq!(p("Proxy_1_"), a.sip_domain);
            assert_eq!(p("Outbound_Proxy_1_"), "sip.example.com:5061");
            assert_eq!(p("Use_Outbound_Proxy_1_"), "Yes");
            assert_eq!(p("SIP_Transport_1_"), "TLS");
            assert_eq!(p("Register_1_"), "Yes");
            assert_eq!(p("Register_Expires_1_"), "300");
            assert_eq!(p("Display_Name_1_"), a.display_name);
            assert_eq!(p("User_ID_1_"), a.number);
            assert_eq!(p("Password_1_"), a.password);
            assert_eq!(p("Use_Auth_ID_1_"), "Yes");
            assert_eq!(p("Auth_ID_1_"), a.number);
            assert_eq!(p("Voice_Mail_Number"), "*97");
        }
        None => {
            assert_eq!(p("Line_Enable_1_"), "No");
            assert_eq!(p("Use_Outbound_Proxy_1_"), "No");
            for n in [
                "Station_Name",
                "Proxy_1_",
                "Outbound_Proxy_1_",
                "Display_Name_1_",
                "User_ID_1_",
                "Password_1_",
                "Auth_ID_1_",
                "Voice_Mail_Number",
            ] {
                assert_eq!(p(n), "", "{n}");
            }
        }
    }
    assert_eq!(
        p("Profile_Rule"),
        format!("[--uid dev-001565aabbcc --pwd {PROV_PASSWORD}]{URL}$MA.xml")
    );
    assert_eq!(p("Resync_On_Reset"), "Yes");
    assert_eq!(p("Resync_Periodic"), "3600");
    match &c.phonebook {
        Some(b) => {
            assert_eq!(p("LDAP_Dir_Enable"), "Yes");
            assert_eq!(p("LDAP_Corp_Dir_Name"), b.name);
            assert_eq!(p("LDAP_Server"), "ldap.example.com:389");
            assert_eq!(p("LDAP_Auth_Method"), "Simple");
            assert_eq!(p("LDAP_Client_DN"), b.bind_dn);
            assert_eq!(p("LDAP_Password"), b.password);
            assert_eq!(p("LDAP_Search_Base"), b.base);
            assert_eq!(
                p("LDAP_Display_Attrs"),
                "a=cn,n=Name;a=telephoneNumber,n=Phone,t=p"
            );
        }
        None => {
            assert_eq!(p("LDAP_Dir_Enable"), "No");
            assert!(!has(&nodes, "flat-profile/LDAP_Password"));
        }
    }
}

#[test]
fn cisco_reads_back() {
    check_cisco(&config("cisco-mpp", true));
    check_cisco(&config("cisco-mpp", false));
}

// ---------------------------------------------------------------- injection

const XML_TRICKS: &[&str] = &[
    "</x><y>",
    "\"/><reg reg.2.address=\"evil",
    "a]]>b<!--c-->&amp;&#10;",
    "<?xml version=\"1.0\"?>",
    "' \" < > &",
];

fn xml_kinds() -> Vec<(&'static str, FileKind)> {
    vec![
        ("poly-vvx-edge-e", FileKind::PolyPhone),
        ("grandstream-gxp-grp", FileKind::GrandstreamXml),
        ("snom-d", FileKind::SnomXml),
        ("cisco-mpp", FileKind::CiscoMpp),
    ]
}

/// The display name and SIP password as the phone would read them back.
fn read_back(id: &str, kind: FileKind, b: &str) -> (String, String) {
    let nodes = parse_xml(b);
    match id {
        "poly-vvx-edge-e" => {
            let f = all_attrs(&nodes);
            (
                get(&f, "reg.1.displayName").into(),
                get(&f, "reg.1.auth.password").into(),
            )
        }
        "grandstream-gxp-grp" => (
            text(&nodes, "gs_provision/config/P3").into(),
            text(&nodes, "gs_provision/config/P34").into(),
        ),
        "snom-d" => (
            text(&nodes, "settings/phone-settings/user_realname").into(),
            text(&nodes, "settings/phone-settings/user_pass").into(),
        ),
        "cisco-mpp" => (
            text(&nodes, "flat-profile/Display_Name_1_").into(),
            text(&nodes, "flat-profile/Password_1_").into(),
        ),
        _ => panic!("{id} {kind:?}"),
    }
}

#[test]
fn xml_formats_escape_markup_so_it_reads_back_unchanged() {
    for (id, kind) in xml_kinds() {
        for trick in XML_TRICKS {
            let mut c = config(id, true);
            let a = c.account.as_mut().unwrap();
            a.display_name = format!("Ann {trick}");
            a.password = trick.to_string();
            let b = body(kind, &c);
            assert!(!b.contains("<y>") && !b.contains("</x>"), "{id}: {b}");
            assert_eq!(
                read_back(id, kind, &b),
                (format!("Ann {trick}"), trick.to_string()),
                "{id} {trick:?}"
            );
            // The same elements and attributes as for a plain name, nothing more.
            let shape = |b: &str| -> Vec<(String, Vec<String>)> {
                parse_xml(b)
                    .into_iter()
                    .map(|n| (n.path, n.attrs.into_keys().collect()))
                    .collect()
            };
            assert_eq!(shape(&b), shape(&body(kind, &config(id, true))), "{id}");
        }
    }
}

fn line_breaks() -> Vec<String> {
    ["\n", "\r", "\r\n", "\u{85}", "\u{2028}", "\0", "\t"]
        .iter()
        .map(|b| format!("Ann{b}account.1.password = owned"))
        .collect()
}

#[test]
fn every_format_refuses_line_breaks_and_control_characters() {
    let kinds = [
        ("yealink-t4x-t5x", FileKind::YealinkMac),
        ("yealink-w", FileKind::YealinkMac),
        ("fanvil", FileKind::FanvilMac),
        ("poly-vvx-edge-e", FileKind::PolyPhone),
        ("grandstream-gxp-grp", FileKind::GrandstreamXml),
        ("snom-d", FileKind::SnomXml),
        ("cisco-mpp", FileKind::CiscoMpp),
    ];
    for (id, kind) in kinds {
        for bad in line_breaks() {
            let setters: [fn(&mut DeviceConfig, String); 5] = [
                |c, v| c.account.as_mut().unwrap().display_name = v,
                |c, v| c.account.as_mut().unwrap().password = v,
                |c, v| c.account.as_mut().unwrap().label = v,
                |c, v| c.provisioning.password = v,
                |c, v| c.account.as_mut().unwrap().sip_domain = v,
            ];
            // Fanvil and Snom write no line label.
            let label_written = !matches!(id, "fanvil" | "snom-d");
            for (i, set) in setters.into_iter().enumerate() {
                if i == 2 && !label_written {
                    continue;
                }
                let mut c = config(id, true);
                set(&mut c, bad.clone());
                let err = render(kind, &c);
                assert!(
                    matches!(err, Err(RenderError::ControlCharacter { .. })),
                    "{id} {bad:?}: {err:?}"
                );
            }
        }
    }
}

#[test]
fn phone_book_values_are_checked_too() {
    for (id, kind) in [
        ("yealink-t4x-t5x", FileKind::YealinkMac),
        ("poly-vvx-edge-e", FileKind::PolyPhone),
        ("grandstream-gxp-grp", FileKind::GrandstreamXml),
        ("snom-d", FileKind::SnomXml),
        ("cisco-mpp", FileKind::CiscoMpp),
    ] {
        let mut c = config(id, true);
        c.phonebook.as_mut().unwrap().password = "x\ny".into();
        assert!(
            matches!(render(kind, &c), Err(RenderError::ControlCharacter { .. })),
            "{id}"
        );
        let mut c = config(id, true);
        c.phonebook.as_mut().unwrap().name_attr = "cn)(x".into();
        assert!(
            matches!(render(kind, &c), Err(RenderError::Unsupported { .. })),
            "{id}"
        );
    }
}

#[test]
fn text_formats_refuse_spaces_at_the_ends_and_yealinks_null_word() {
    for (id, kind) in [
        ("yealink-t4x-t5x", FileKind::YealinkMac),
        ("fanvil", FileKind::FanvilMac),
    ] {
        for v in [" Ann", "Ann "] {
            let mut c = config(id, true);
            c.account.as_mut().unwrap().display_name = v.into();
            assert!(
                matches!(render(kind, &c), Err(RenderError::EdgeSpace { .. })),
                "{id} {v:?}"
            );
        }
    }
    let mut c = config("yealink-t4x-t5x", true);
    c.account.as_mut().unwrap().password = "%NULL%".into();
    assert!(matches!(
        render(FileKind::YealinkMac, &c),
        Err(RenderError::Unsupported { .. })
    ));
    // The XML formats keep such spaces.
    let mut c = config("snom-d", true);
    c.account.as_mut().unwrap().display_name = " Ann ".into();
    let nodes = parse_xml(&body(FileKind::SnomXml, &c));
    assert_eq!(
        text(&nodes, "settings/phone-settings/user_realname"),
        " Ann "
    );
}

#[test]
fn text_formats_keep_other_characters_verbatim() {
    let tricky = "Ann = O'Neil : \"&\" <x> # ; [1] é 电话";
    let mut c = config("yealink-t4x-t5x", true);
    c.account.as_mut().unwrap().display_name = tricky.into();
    let f = parse_yealink(&body(FileKind::YealinkMac, &c));
    assert_eq!(get(&f, "account.1.display_name"), tricky);
    let mut c = config("fanvil", true);
    c.account.as_mut().unwrap().display_name = tricky.into();
    let f = parse_fanvil(&body(FileKind::FanvilMac, &c));
    assert_eq!(get(&f, "SIP/SIP1 Display Name"), tricky);
}

#[test]
fn cisco_profile_rule_refuses_what_it_cannot_carry() {
    for bad in ["pa ss", "pa$s", "pa]ss", "pa[ss", "pa\"ss", "pa'ss", ""] {
        let mut c = config("cisco-mpp", true);
        c.provisioning.password = bad.into();
        assert!(
            matches!(
                render(FileKind::CiscoMpp, &c),
                Err(RenderError::Unsupported { .. })
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn refuses_another_vendors_file_and_bad_urls() {
    let c = config("yealink-t4x-t5x", true);
    for kind in [
        FileKind::PolyMaster,
        FileKind::PolyPhone,
        FileKind::GrandstreamXml,
        FileKind::SnomXml,
        FileKind::FanvilMac,
        FileKind::CiscoMpp,
    ] {
        assert!(matches!(
            render(kind, &c),
            Err(RenderError::WrongFile { .. })
        ));
    }
    let mut c = config("snom-d", true);
    c.provisioning.url = "https://pbx.acme.example.com/provision".into();
    assert_eq!(
        render(FileKind::SnomXml, &c),
        Err(RenderError::ProvisioningUrl)
    );
}

#[test]
fn plain_http_provisioning() {
    let mut c = config("grandstream-gxp-grp", true);
    c.provisioning.url = "http://10.0.0.5/provision/device/".into();
    let nodes = parse_xml(&body(FileKind::GrandstreamXml, &c));
    assert_eq!(text(&nodes, "gs_provision/config/P212"), "1");
    assert_eq!(
        text(&nodes, "gs_provision/config/P237"),
        "10.0.0.5/provision/device/"
    );
    c.model = model("poly-vvx-edge-e").unwrap();
    let f = all_attrs(&parse_xml(&body(FileKind::PolyPhone, &c)));
    assert_eq!(get(&f, "device.prov.serverType"), "HTTP");
}
