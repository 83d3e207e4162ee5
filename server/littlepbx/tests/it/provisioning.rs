//! Provisioning over real HTTP: the documents phones fetch (parsed back field by field), HTTP
//! Digest and Basic with the extension's SIP credentials, org isolation, the lock-out, the
//! single-use QR links, the phonebooks and the help-page values.

use std::collections::{BTreeMap, BTreeSet};

use domain::*;
use quick_xml::events::Event;
use quick_xml::Reader;
use reqwest::Method;
use serde_json::{json, Value};
use testkit::db_test;

use crate::common::{fetch, logged_in, spawn_app, Fetched, OrgClient, TestApp};

const ADMIN_PASSWORD: &str = "correct horse battery";
const ANN_PASSWORD: &str = "ann-Secret-101";
const BOB_PASSWORD: &str = "bob-Secret-102";
const BETA_PASSWORD: &str = "beta-Secret-101";

struct Orgs {
    acme: store::OrgId,
    beta: store::OrgId,
}

/// acme: extensions 100 (reception), 101 "Ann, Sales", 102 "Bob (Support)" applied and 105
/// only in the draft; its name has a semicolon and a comma. beta: extension 101 "Beta Person"
/// with another password.
async fn setup(app: &TestApp) -> Orgs {
    let acme = create_org(app, "acme", "Acme; Sons, Ltd").await;
    add_extension(
        app,
        acme,
        "pbx.acme.localhost",
        "101",
        "Ann, Sales",
        ANN_PASSWORD,
    )
    .await;
    add_extension(
        app,
        acme,
        "pbx.acme.localhost",
        "102",
        "Bob (Support)",
        BOB_PASSWORD,
    )
    .await;
    engine::services::apply_now(&app.state, acme, "test", None)
        .await
        .unwrap();
    add_extension(
        app,
        acme,
        "pbx.acme.localhost",
        "105",
        "Draft Only",
        "draft-pw",
    )
    .await;

    let beta = create_org(app, "beta", "Beta Corp").await;
    add_extension(
        app,
        beta,
        "pbx.beta.localhost",
        "101",
        "Beta Person",
        BETA_PASSWORD,
    )
    .await;
    engine::services::apply_now(&app.state, beta, "test", None)
        .await
        .unwrap();
    Orgs { acme, beta }
}

async fn create_org(app: &TestApp, slug: &str, name: &str) -> store::OrgId {
    let created = engine::services::create_org(
        &app.state,
        OrgSlug::parse(slug).unwrap(),
        CompanyName::parse(name).unwrap(),
        SipDomain::parse(&format!("pbx.{slug}.localhost")).unwrap(),
        store::orgs::OrgLimits::default(),
    )
    .await
    .map_err(|e| e.to_string())
    .unwrap();
    let hash = engine::secrets::hash_password(ADMIN_PASSWORD).unwrap();
    app.state
        .store()
        .create_admin(
            created.org.id,
            &Email::parse(&format!("boss@{slug}.example")).unwrap(),
            store::admins::AdminCredential::PasswordHash(hash),
        )
        .await
        .unwrap();
    created.org.id
}

async fn add_extension(
    app: &TestApp,
    org: store::OrgId,
    domain: &str,
    number: &str,
    name: &str,
    password: &str,
) {
    let ext = Extension {
        display_name: DisplayName::parse(name).unwrap(),
        ..testkit::fixtures::extension(number, domain, password)
    };
    app.state.store().create_extension(org, &ext).await.unwrap();
}

/// The applied a1-hash of an extension, as stored.
async fn stored_a1(app: &TestApp, org: store::OrgId, number: &str) -> String {
    let snapshot = app.state.store().applied_snapshot(org).await.unwrap();
    snapshot
        .config
        .extensions
        .iter()
        .find(|e| e.number.as_str() == number)
        .map(|e| e.a1_hash.to_string())
        .expect("extension applied")
}

fn get(client: &OrgClient, path: &str) -> reqwest::RequestBuilder {
    client.http.get(format!("{}{path}", client.base))
}

async fn basic(client: &OrgClient, path: &str, user: &str, password: &str) -> Fetched {
    fetch(get(client, path).basic_auth(user, Some(password))).await
}

/// The `Digest` challenge of a 401, as (realm, nonce).
fn digest_challenge(response: &Fetched) -> (String, String) {
    let challenge = response
        .headers
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("Digest "))
        .unwrap_or_else(|| panic!("no Digest challenge: {:?}", response.headers))
        .to_owned();
    let field = |name: &str| {
        let start = challenge
            .find(&format!("{name}=\""))
            .unwrap_or_else(|| panic!("{name} in {challenge}"))
            + name.len()
            + 2;
        challenge[start..]
            .split('"')
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    assert!(challenge.contains("qop=\"auth\""), "{challenge}");
    (field("realm"), field("nonce"))
}

fn digest_header(
    user: &str,
    realm: &str,
    password: &str,
    nonce: &str,
    method: &str,
    uri: &str,
) -> String {
    let a1 = A1Hash::compute(
        &ExtensionNumber::parse(user).unwrap(),
        &SipDomain::parse(realm).unwrap(),
        password,
    );
    let response = a1.digest_response(&DigestParams {
        method,
        uri,
        nonce,
        nc: "00000001",
        cnonce: "0a4f113b",
        qop: Some("auth"),
    });
    format!(
        "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", \
         response=\"{response}\", qop=auth, nc=00000001, cnonce=\"0a4f113b\", algorithm=MD5"
    )
}

/// A full Digest exchange: challenge, then the answer computed from `password`.
async fn digest(client: &OrgClient, path: &str, user: &str, password: &str) -> Fetched {
    let first = fetch(get(client, path)).await;
    assert_eq!(first.status, 401, "{}", first.body);
    let (realm, nonce) = digest_challenge(&first);
    let header = digest_header(user, &realm, password, &nonce, "GET", path);
    fetch(get(client, path).header("authorization", header)).await
}

/// The text inside the element just started, entities resolved.
fn text_of(reader: &mut Reader<&[u8]>, end: quick_xml::name::QName<'_>) -> String {
    let raw = reader.read_text(end).expect("element text");
    quick_xml::escape::unescape(&raw)
        .expect("valid entities")
        .into_owned()
}

/// linphonerc sections of a Linphone provisioning document: section -> entry -> value.
fn linphone_sections(xml: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut reader = Reader::from_str(xml);
    let mut sections: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut section = String::new();
    let mut root = None;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                let attr = |name: &[u8]| {
                    e.attributes()
                        .filter_map(Result::ok)
                        .find(|a| a.key.as_ref() == name)
                        .map(|a| a.unescape_value().unwrap().into_owned())
                };
                match e.name().as_ref() {
                    b"config" => root = attr(b"xmlns"),
                    b"section" => section = attr(b"name").expect("section name"),
                    b"entry" => {
                        assert_eq!(attr(b"overwrite").as_deref(), Some("true"));
                        let name = attr(b"name").expect("entry name");
                        let text = text_of(&mut reader, e.name());
                        sections
                            .entry(section.clone())
                            .or_default()
                            .insert(name, text);
                    }
                    other => panic!("unexpected element {:?}", String::from_utf8_lossy(other)),
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(
        root.as_deref(),
        Some("http://www.linphone.org/xsds/lpconfig.xsd")
    );
    sections
}

/// Child element name -> text of a flat XML document (`<account>`), plus the root's name.
fn flat_xml(xml: &str) -> (String, BTreeMap<String, String>) {
    let mut reader = Reader::from_str(xml);
    let mut root = String::new();
    let mut fields = BTreeMap::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if root.is_empty() {
                    root = name;
                } else {
                    let text = text_of(&mut reader, e.name());
                    fields.insert(name, text);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    (root, fields)
}

/// (name, telephone) of every entry of a Yealink directory.
fn yealink_entries(xml: &str) -> Vec<(String, String)> {
    let mut reader = Reader::from_str(xml);
    let mut entries = Vec::new();
    let (mut name, mut tel) = (String::new(), String::new());
    let mut root = None;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                let tag = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                root.get_or_insert(tag.clone());
                match tag.as_str() {
                    "Name" => name = text_of(&mut reader, e.name()),
                    "Telephone" => tel = text_of(&mut reader, e.name()),
                    _ => {}
                }
            }
            Event::End(e) if e.name().as_ref() == b"DirectoryEntry" => {
                entries.push((std::mem::take(&mut name), std::mem::take(&mut tel)));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(root.as_deref(), Some("YealinkIPPhoneDirectory"));
    entries
}

fn assert_no_store(fetched: &Fetched) {
    assert_eq!(
        fetched
            .headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store"),
        "{:?}",
        fetched.headers
    );
}

fn friends(sections: &BTreeMap<String, BTreeMap<String, String>>) -> BTreeSet<String> {
    sections
        .iter()
        .filter(|(name, _)| name.starts_with("friend_"))
        .map(|(_, entries)| entries["url"].clone())
        .collect()
}

db_test!(linphone_document_field_by_field, |url: String| async move {
    let app = spawn_app(&url).await;
    let orgs = setup(&app).await;
    let acme = app.org_client("acme");

    let fetched = basic(&acme, "/provision/linphone.xml", "101", ANN_PASSWORD).await;
    assert_eq!(fetched.status, 200, "{}", fetched.body);
    assert_no_store(&fetched);
    assert!(fetched.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/xml"));
    assert!(!fetched.body.contains(ANN_PASSWORD), "no password in it");
    let sections = linphone_sections(&fetched.body);

    let proxy = &sections["proxy_0"];
    assert_eq!(
        proxy["reg_identity"],
        "\"Ann, Sales\" <sip:101@pbx.acme.localhost>"
    );
    assert_eq!(proxy["reg_proxy"], "<sip:localhost:5060;transport=tcp>");
    assert_eq!(proxy["reg_route"], proxy["reg_proxy"]);
    assert_eq!(proxy["reg_expires"], "600");
    assert_eq!(proxy["reg_sendregister"], "1");
    assert_eq!(proxy["realm"], "pbx.acme.localhost");
    assert_eq!(proxy["voicemail_uri"], "sip:*97@pbx.acme.localhost");

    let auth = &sections["auth_info_0"];
    assert_eq!(auth["username"], "101");
    assert_eq!(auth["userid"], "101");
    assert_eq!(auth["realm"], "pbx.acme.localhost");
    assert_eq!(auth["domain"], "pbx.acme.localhost");
    assert_eq!(auth["algorithm"], "MD5");
    assert_eq!(auth["ha1"], stored_a1(&app, orgs.acme, "101").await);
    assert!(!auth.contains_key("passwd"));
    assert_eq!(sections["sip"]["default_proxy"], "0");

    // Contacts: exactly acme's applied extensions (not the draft-only 105, nothing of beta).
    let reception = app
        .state
        .store()
        .applied_snapshot(orgs.acme)
        .await
        .unwrap()
        .config
        .extensions
        .iter()
        .find(|e| e.number.as_str() == "100")
        .map(|e| e.display_name.to_string())
        .unwrap();
    let expected: BTreeSet<String> = [
        format!("\"{reception}\" <sip:100@pbx.acme.localhost>"),
        "\"Ann, Sales\" <sip:101@pbx.acme.localhost>".to_owned(),
        "\"Bob (Support)\" <sip:102@pbx.acme.localhost>".to_owned(),
    ]
    .into();
    assert_eq!(friends(&sections), expected);
    assert!(!fetched.body.contains("Beta"));
    assert!(!fetched.body.contains("Draft Only"));
    let _ = orgs.beta;
});

db_test!(
    digest_and_basic_with_the_sip_credentials,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let orgs = setup(&app).await;
        let acme = app.org_client("acme");
        let path = "/provision/v1/config.json";

        // No credentials: Digest (preferred) and Basic challenges in the org's realm.
        let first = fetch(get(&acme, path)).await;
        assert_eq!(first.status, 401);
        assert_no_store(&first);
        let schemes: Vec<String> = first
            .headers
            .get_all("www-authenticate")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        assert_eq!(schemes.len(), 2, "{schemes:?}");
        assert!(schemes[0].starts_with("Digest realm=\"pbx.acme.localhost\""));
        assert!(schemes[1].starts_with("Basic realm=\"pbx.acme.localhost\""));

        // Digest with the right password.
        let ok = digest(&acme, path, "102", BOB_PASSWORD).await;
        assert_eq!(ok.status, 200, "{}", ok.body);
        assert_no_store(&ok);
        let config: Value = serde_json::from_str(&ok.body).unwrap();
        assert_eq!(config["version"], 1);
        assert_eq!(config["organization"]["slug"], "acme");
        assert_eq!(config["account"]["username"], "102");
        assert_eq!(config["account"]["auth_username"], "102");
        assert_eq!(config["account"]["display_name"], "Bob (Support)");
        assert_eq!(config["account"]["domain"], "pbx.acme.localhost");
        assert_eq!(config["account"]["realm"], "pbx.acme.localhost");
        assert_eq!(config["account"]["proxy"], "localhost");
        assert_eq!(
            config["account"]["transports"],
            json!([
                {"transport": "tcp", "port": 5060},
                {"transport": "udp", "port": 5060},
                {"transport": "tls", "port": 5061}
            ])
        );
        assert_eq!(config["account"]["registration_expiry_seconds"], 600);
        assert_eq!(config["account"]["voicemail_number"], "*97");
        let codes: Vec<&str> = config["feature_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["*97", "*98", "*80N", "*30", "*43"]);
        let numbers: Vec<&str> = config["extensions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["number"].as_str().unwrap())
            .collect();
        assert_eq!(numbers, ["100", "101", "102"]);
        assert!(
            !ok.body.contains(&stored_a1(&app, orgs.acme, "102").await),
            "no hash in JSON"
        );

        // Digest with a wrong password, a forged nonce, another URI, another realm.
        let wrong = digest(&acme, path, "102", "not-the-password").await;
        assert_eq!(wrong.status, 401);
        let (realm, nonce) = digest_challenge(&wrong);
        let forged = digest_header(
            "102",
            &realm,
            BOB_PASSWORD,
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "GET",
            path,
        );
        assert_eq!(
            fetch(get(&acme, path).header("authorization", forged))
                .await
                .status,
            401
        );
        let other_uri = digest_header(
            "102",
            &realm,
            BOB_PASSWORD,
            &nonce,
            "GET",
            "/provision/linphone.xml",
        );
        assert_eq!(
            fetch(get(&acme, path).header("authorization", other_uri))
                .await
                .status,
            401
        );
        let beta_realm = digest_header(
            "102",
            "pbx.beta.localhost",
            BOB_PASSWORD,
            &nonce,
            "GET",
            path,
        );
        assert_eq!(
            fetch(get(&acme, path).header("authorization", beta_realm))
                .await
                .status,
            401
        );

        // Basic: right and wrong.
        assert_eq!(basic(&acme, path, "101", ANN_PASSWORD).await.status, 200);
        let wrong = basic(&acme, path, "101", "ann-secret-101").await;
        assert_eq!(wrong.status, 401, "passwords are case-sensitive");
        assert_no_store(&wrong);
        // Credentials in the query string are not credentials.
        let in_url = fetch(get(
            &acme,
            &format!("{path}?username=101&password={ANN_PASSWORD}"),
        ))
        .await;
        assert_eq!(in_url.status, 401);
    }
);

db_test!(
    another_orgs_extension_does_not_exist_here,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let orgs = setup(&app).await;
        let acme = app.org_client("acme");
        let beta = app.org_client("beta");
        let path = "/provision/linphone.xml";

        // beta's 101 with beta's password, on acme's host: a wrong password for acme's 101.
        let refused = basic(&acme, path, "101", BETA_PASSWORD).await;
        assert_eq!(refused.status, 401);
        let refused_digest = digest(&acme, path, "101", BETA_PASSWORD).await;
        assert_eq!(refused_digest.status, 401);
        // On its own host it works, and is beta's.
        let ok = basic(&beta, path, "101", BETA_PASSWORD).await;
        assert_eq!(ok.status, 200, "{}", ok.body);
        let sections = linphone_sections(&ok.body);
        assert_eq!(
            sections["auth_info_0"]["ha1"],
            stored_a1(&app, orgs.beta, "101").await
        );
        assert_eq!(
            sections["proxy_0"]["reg_identity"],
            "\"Beta Person\" <sip:101@pbx.beta.localhost>"
        );
        assert!(!ok.body.contains("Ann"));
        // And acme's 101 is acme's on acme's host only.
        assert_eq!(basic(&beta, path, "101", ANN_PASSWORD).await.status, 401);
        assert_eq!(basic(&acme, path, "101", ANN_PASSWORD).await.status, 200);
        // Unknown numbers and draft-only extensions answer exactly like a wrong password.
        let unknown = basic(&acme, path, "999", "whatever").await;
        let draft = basic(&acme, path, "105", "draft-pw").await;
        for fetched in [&unknown, &draft, &refused] {
            assert_eq!(fetched.status, 401);
            let body: Value = serde_json::from_str(&fetched.body).unwrap();
            assert_eq!(
                body["detail"],
                "Sign in with your extension number and its SIP password."
            );
        }
        // A host that names no org.
        assert_eq!(
            basic(&app.org_client("nosuch"), path, "101", ANN_PASSWORD)
                .await
                .status,
            404
        );
    }
);

db_test!(
    failures_lock_out_the_extension_then_the_source,
    |url: String| async move {
        use web::provisioning::guard::{MAX_FAILURES_PER_EXTENSION, MAX_FAILURES_PER_SOURCE};
        let app = spawn_app(&url).await;
        setup(&app).await;
        let acme = app.org_client("acme");
        let path = "/provision/v1/phonebook.json";

        for i in 0..MAX_FAILURES_PER_EXTENSION {
            assert_eq!(
                basic(&acme, path, "102", "guess").await.status,
                401,
                "attempt {i}"
            );
        }
        let locked = basic(&acme, path, "102", BOB_PASSWORD).await;
        assert_eq!(
            locked.status, 429,
            "even the right password waits: {}",
            locked.body
        );
        let retry: u64 = locked.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry > 60, "{retry}");
        assert_no_store(&locked);
        // Digest is refused too while locked.
        let first = fetch(get(&acme, path)).await;
        let (realm, nonce) = digest_challenge(&first);
        let header = digest_header("102", &realm, BOB_PASSWORD, &nonce, "GET", path);
        assert_eq!(
            fetch(get(&acme, path).header("authorization", header))
                .await
                .status,
            429
        );
        // Another extension from the same address still works.
        assert_eq!(basic(&acme, path, "101", ANN_PASSWORD).await.status, 200);
        // beta's 102 is another extension: acme's lock does not reach it (it does not exist
        // there either, so it is a plain 401).
        assert_eq!(
            basic(&app.org_client("beta"), path, "102", "x")
                .await
                .status,
            401
        );

        // Failures over many numbers lock the source address itself. beta's failure above counted.
        let so_far = MAX_FAILURES_PER_EXTENSION + 1;
        for i in so_far..MAX_FAILURES_PER_SOURCE {
            let user = format!("{}", 300 + i);
            assert_eq!(
                basic(&acme, path, &user, "guess").await.status,
                401,
                "attempt {i}"
            );
        }
        let source_locked = basic(&acme, path, "101", ANN_PASSWORD).await;
        assert_eq!(source_locked.status, 429, "{}", source_locked.body);
        assert_eq!(fetch(get(&acme, "/provision/t/whatever")).await.status, 429);
    }
);

db_test!(acrobits_account_document, |url: String| async move {
    let app = spawn_app(&url).await;
    setup(&app).await;
    let acme = app.org_client("acme");
    let path = "/provision/acrobits.xml";

    let check = |xml: &str| {
        let (root, fields) = flat_xml(xml);
        assert_eq!(root, "account");
        assert_eq!(fields["username"], "101");
        assert_eq!(fields["authUsername"], "101");
        assert_eq!(fields["userDisplayName"], "Ann, Sales");
        assert_eq!(fields["host"], "pbx.acme.localhost");
        assert_eq!(fields["proxy"], "localhost:5060");
        assert_eq!(fields["transport"], "tcp");
        assert_eq!(fields["expires"], "600");
        assert_eq!(fields["voiceMailNumber"], "*97");
        assert_eq!(fields["title"], "Acme; Sons, Ltd 101");
        fields
    };
    // Basic: the app sent the password, so it gets it back (Acrobits has no HA1 form).
    let fetched = basic(&acme, path, "101", ANN_PASSWORD).await;
    assert_eq!(fetched.status, 200, "{}", fetched.body);
    assert_no_store(&fetched);
    assert_eq!(check(&fetched.body)["password"], ANN_PASSWORD);
    // Digest: no password to give; the app keeps the one it has.
    let fetched = digest(&acme, path, "101", ANN_PASSWORD).await;
    assert_eq!(fetched.status, 200, "{}", fetched.body);
    assert!(!check(&fetched.body).contains_key("password"));
    // Acrobits' web-service form: credentials in the POST body, never in the URL.
    let form = fetch(
        acme.http
            .post(format!("{}{path}", acme.base))
            .form(&[("username", "101"), ("password", ANN_PASSWORD)]),
    )
    .await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert_eq!(check(&form.body)["password"], ANN_PASSWORD);
    let wrong = fetch(
        acme.http
            .post(format!("{}{path}", acme.base))
            .form(&[("username", "101"), ("password", "nope")]),
    )
    .await;
    assert_eq!(wrong.status, 401);
});

db_test!(
    phonebooks_hold_only_the_orgs_extensions,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let orgs = setup(&app).await;
        let acme = app.org_client("acme");
        let beta = app.org_client("beta");
        let reception = app
            .state
            .store()
            .applied_snapshot(orgs.acme)
            .await
            .unwrap()
            .config
            .extensions
            .iter()
            .find(|e| e.number.as_str() == "100")
            .map(|e| e.display_name.to_string())
            .unwrap();

        let yealink = basic(
            &acme,
            "/provision/phonebook/yealink.xml",
            "102",
            BOB_PASSWORD,
        )
        .await;
        assert_eq!(yealink.status, 200, "{}", yealink.body);
        assert_no_store(&yealink);
        assert_eq!(
            yealink_entries(&yealink.body),
            vec![
                (reception.clone(), "100".to_owned()),
                ("Ann, Sales".to_owned(), "101".to_owned()),
                ("Bob (Support)".to_owned(), "102".to_owned()),
            ]
        );
        assert!(!yealink.body.contains("Beta Person"));

        let json = basic(&acme, "/provision/v1/phonebook.json", "102", BOB_PASSWORD).await;
        let json: Value = serde_json::from_str(&json.body).unwrap();
        assert_eq!(json["organization"]["name"], "Acme; Sons, Ltd");
        assert_eq!(json["entries"].as_array().unwrap().len(), 3);
        assert!(!json.to_string().contains("Beta"));

        let vcf = basic(&acme, "/provision/phonebook.vcf", "101", ANN_PASSWORD).await;
        assert_eq!(vcf.status, 200);
        assert_no_store(&vcf);
        assert!(vcf.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/vcard"));
        assert_eq!(
            vcf.headers["content-disposition"],
            "attachment; filename=\"acme-phonebook.vcf\""
        );
        assert_eq!(vcf.body.matches("BEGIN:VCARD\r\n").count(), 3);
        assert_eq!(vcf.body.matches("END:VCARD\r\n").count(), 3);
        assert!(
            !vcf.body.replace("\r\n", "").contains('\n'),
            "CRLF lines only"
        );
        // Commas and semicolons in text values are escaped.
        assert!(vcf.body.contains("\r\nFN:Ann\\, Sales\r\n"), "{}", vcf.body);
        assert!(
            vcf.body.contains("\r\nORG:Acme\\; Sons\\, Ltd\r\n"),
            "{}",
            vcf.body
        );
        assert!(vcf
            .body
            .contains("\r\nTEL;VALUE=text;TYPE=work,voice:101\r\n"));
        assert!(vcf
            .body
            .contains("\r\nIMPP;PREF=1:sip:101@pbx.acme.localhost\r\n"));
        assert!(vcf.body.contains("VERSION:4.0"));
        assert!(!vcf.body.contains("Beta Person") && !vcf.body.contains("Draft Only"));

        // beta's host answers beta's directory, to beta's extension only.
        let theirs = basic(
            &beta,
            "/provision/phonebook/yealink.xml",
            "101",
            BETA_PASSWORD,
        )
        .await;
        assert_eq!(theirs.status, 200);
        let names: Vec<String> = yealink_entries(&theirs.body)
            .into_iter()
            .map(|e| e.0)
            .collect();
        assert!(names.contains(&"Beta Person".to_owned()));
        assert!(!theirs.body.contains("Ann, Sales") && !theirs.body.contains("Bob"));
        assert_eq!(
            basic(&beta, "/provision/phonebook.vcf", "102", BOB_PASSWORD)
                .await
                .status,
            401
        );
    }
);

async fn new_link(client: &OrgClient, extension: &str) -> (u16, Value) {
    client
        .send_json(
            Method::POST,
            "/api/org/provisioning-links",
            json!({ "extension": extension }),
        )
        .await
}

db_test!(
    qr_links_work_once_for_their_org_only,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let orgs = setup(&app).await;
        let admin = logged_in(&app, "acme", ADMIN_PASSWORD).await;

        // CSRF header and session are required.
        let no_csrf = admin
            .http
            .post(format!("{}/api/org/provisioning-links", admin.base))
            .header("cookie", admin.cookie.clone().unwrap())
            .json(&json!({"extension": "101"}))
            .send()
            .await
            .unwrap();
        assert_eq!(no_csrf.status(), 403);
        let (status, _) = new_link(&app.org_client("acme"), "101").await;
        assert_eq!(status, 401);
        // Only applied extensions of the org.
        for bad in ["105", "999", "x"] {
            let (status, body) = new_link(&admin, bad).await;
            assert_eq!(status, 422, "{bad}: {body}");
            assert_eq!(body["errors"][0]["field"], "extension");
        }

        let (status, link) = new_link(&admin, "101").await;
        assert_eq!(status, 201, "{link}");
        let url = link["url"].as_str().unwrap().to_owned();
        let prefix = format!("http://pbx.acme.localhost:{}/provision/t/", app.port);
        assert!(url.starts_with(&prefix), "{url}");
        let token = url[prefix.len()..].to_owned();
        assert!(token.len() >= 43, "{token}");
        assert_eq!(link["extension"], "101");
        assert_eq!(link["expires_in_seconds"], 600);
        let expires_at = link["expires_at"].as_i64().unwrap();
        let now = store::now_ms();
        assert!(
            (now + 590_000..=now + 600_000).contains(&expires_at),
            "{expires_at}"
        );
        let svg = link["qr_svg"].as_str().unwrap();
        assert!(svg.starts_with("<?xml") && svg.contains("<svg") && svg.ends_with("</svg>"));
        assert!(!link.to_string().contains(ANN_PASSWORD));

        // Another org's host does not know the token (and does not spend it).
        let beta = app.org_client("beta");
        let foreign = fetch(get(&beta, &format!("/provision/t/{token}"))).await;
        assert_eq!(foreign.status, 404, "{}", foreign.body);

        // First use: the Linphone document of 101, by the token alone.
        let acme = app.org_client("acme");
        let first = fetch(get(&acme, &format!("/provision/t/{token}"))).await;
        assert_eq!(first.status, 200, "{}", first.body);
        assert_no_store(&first);
        let sections = linphone_sections(&first.body);
        assert_eq!(sections["auth_info_0"]["username"], "101");
        assert_eq!(
            sections["auth_info_0"]["ha1"],
            stored_a1(&app, orgs.acme, "101").await
        );
        assert_eq!(friends(&sections).len(), 3);
        // Second use: gone.
        let second = fetch(get(&acme, &format!("/provision/t/{token}"))).await;
        assert_eq!(second.status, 410, "{}", second.body);
        assert_no_store(&second);
        assert!(second.body.contains("used already"), "{}", second.body);

        // An expired link (stored with a past expiry) is gone too.
        let expired = "expired-token-for-the-test";
        app.state
            .store()
            .create_provisioning_link(
                orgs.acme,
                &ExtensionNumber::parse("102").unwrap(),
                &engine::secrets::sha256_hex(expired),
                store::now_ms() - 1,
            )
            .await
            .unwrap();
        let gone = fetch(get(&acme, &format!("/provision/t/{expired}"))).await;
        assert_eq!(gone.status, 410, "{}", gone.body);
        assert!(gone.body.contains("expired"));
        // A token nobody made.
        assert_eq!(
            fetch(get(&acme, "/provision/t/nosuchtoken")).await.status,
            404
        );
    }
);

db_test!(
    help_page_values_for_the_org_admin,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let orgs = setup(&app).await;
        assert_eq!(
            app.org_client("acme").get_json("/api/org/phones").await.0,
            401
        );
        let admin = logged_in(&app, "acme", ADMIN_PASSWORD).await;
        let (status, view) = admin.get_json("/api/org/phones").await;
        assert_eq!(status, 200, "{view}");
        assert_eq!(view["sip_domain"], "pbx.acme.localhost");
        assert_eq!(view["server"], "localhost");
        assert_eq!(view["org_name"], "Acme; Sons, Ltd");
        assert_eq!(view["values"]["sip_domain"], "pbx.acme.localhost");
        assert_eq!(view["values"]["transport"], "TCP");
        assert_eq!(view["values"]["voicemail"], "*97");
        assert_eq!(view["values"]["echo_test"], "*43");
        assert_eq!(
            view["values"]["linphone_url"],
            format!(
                "http://pbx.acme.localhost:{}/provision/linphone.xml",
                app.port
            )
        );
        for name in web::provisioning::guides::ORG_PLACEHOLDERS {
            assert!(view["values"][*name].is_string(), "{name}");
        }
        let numbers: Vec<&str> = view["extensions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["number"].as_str().unwrap())
            .collect();
        assert_eq!(numbers, ["100", "101", "102"], "applied extensions only");
        // The one password shown is the org's read-only phone-book password (LDAP).
        let phonebook = engine::desk_phones::phonebook_password(&app.state, orgs.acme);
        assert_eq!(view["values"]["ldap_password"], phonebook.as_str());
        let mut view = view;
        view["values"]
            .as_object_mut()
            .unwrap()
            .remove("ldap_password");
        let text = view.to_string();
        assert!(!text.contains(&stored_a1(&app, orgs.acme, "101").await));
        assert!(!text.contains("password"));
        assert!(!text.contains(&phonebook));
        assert!(!text.contains("Beta"));

        // The JSON provisioning endpoint is in the OpenAPI document, with its security schemes.
        let (status, doc) = crate::common::status_and_json(
            app.http
                .get(format!("{}/api/v1/openapi.json", app.base))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        let op = &doc["paths"]["/provision/v1/config.json"]["get"];
        assert!(op.is_object(), "{}", doc["paths"]);
        assert_eq!(
            op["security"],
            json!([{"sip_digest": []}, {"sip_basic": []}])
        );
        assert!(doc["components"]["schemas"]["ProvisioningConfig"].is_object());
        assert_eq!(
            doc["components"]["securitySchemes"]["sip_digest"]["scheme"],
            "digest"
        );
    }
);

/// Every text of a filled guide, for checks over the whole page.
fn guide_texts(guide: &Value) -> Vec<String> {
    let mut texts = Vec::new();
    let mut walk = vec![guide.clone()];
    while let Some(value) = walk.pop() {
        match value {
            Value::String(s) => texts.push(s),
            Value::Array(items) => walk.extend(items),
            Value::Object(map) => walk.extend(map.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
    texts
}

fn guide_fields(guide: &Value) -> Vec<(String, String, bool)> {
    guide["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["fields"].as_array().unwrap().clone())
        .map(|f| {
            (
                f["label"].as_str().unwrap().to_owned(),
                f["value"].as_str().unwrap().to_owned(),
                f["password"].as_bool().unwrap(),
            )
        })
        .collect()
}

db_test!(
    help_pages_are_filled_for_the_org_and_extension,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let orgs = setup(&app).await;
        let anonymous = app.org_client("acme");
        assert_eq!(anonymous.get_json("/api/org/phones/guides").await.0, 401);
        assert_eq!(
            anonymous
                .get_json("/api/org/phones/guides/yealink-t4x-t5x?extension=101")
                .await
                .0,
            401
        );
        let admin = logged_in(&app, "acme", ADMIN_PASSWORD).await;

        // The list: every guide once, grouped by kind of device, Linphone with a QR link.
        let (status, list) = admin.get_json("/api/org/phones/guides").await;
        assert_eq!(status, 200, "{list}");
        let groups = list["groups"].as_array().unwrap();
        let kinds: Vec<&str> = groups.iter().map(|g| g["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["desk_phone", "dect", "mobile_app", "desktop_app"]);
        assert_eq!(groups[1]["label"], "Cordless (DECT) phones");
        let ids: Vec<&str> = groups
            .iter()
            .flat_map(|g| g["guides"].as_array().unwrap())
            .map(|g| g["id"].as_str().unwrap())
            .collect();
        let wanted: Vec<&str> = web::provisioning::guides::all()
            .iter()
            .map(|g| g.id.as_str())
            .collect();
        assert_eq!(ids, wanted);
        let with_link: Vec<&str> = groups
            .iter()
            .flat_map(|g| g["guides"].as_array().unwrap())
            .filter(|g| g["provisioning_link"] == true)
            .map(|g| g["id"].as_str().unwrap())
            .collect();
        assert_eq!(with_link, ["linphone-mobile", "linphone-desktop"]);
        // Only names: the steps are fetched per guide.
        assert!(!list.to_string().contains("Register Name"));

        // One guide, filled for extension 101 of acme.
        let (status, guide) = admin
            .get_json("/api/org/phones/guides/yealink-t4x-t5x?extension=101")
            .await;
        assert_eq!(status, 200, "{guide}");
        assert_eq!(guide["id"], "yealink-t4x-t5x");
        assert_eq!(guide["kind"], "desk_phone");
        assert_eq!(guide["extension"], "101");
        assert_eq!(guide["provisioning_link"], false);
        let fields = guide_fields(&guide);
        let field = |label: &str| {
            fields
                .iter()
                .find(|f| f.0 == label)
                .unwrap_or_else(|| panic!("no field {label}: {fields:?}"))
                .clone()
        };
        assert_eq!(field("Register Name").1, "101");
        assert_eq!(field("Display Name").1, "Ann, Sales");
        assert_eq!(field("Server Host").1, "pbx.acme.localhost");
        assert_eq!(field("Outbound Proxy Server (Enabled)").1, "localhost");
        assert_eq!(field("Port").1, "5060");
        assert_eq!(field("Transport").1, "TCP");
        assert_eq!(field("Voice Mail").1, "*97");
        assert_eq!(
            field("Remote URL").1,
            format!(
                "http://pbx.acme.localhost:{}/provision/phonebook/yealink.xml",
                app.port
            )
        );
        // The password field says which password goes there; it holds none.
        let password = fields
            .iter()
            .find(|f| f.0 == "Password" && f.2)
            .cloned()
            .expect("the SIP password field");
        assert_eq!(
            password,
            (
                "Password".to_owned(),
                "the SIP password of extension 101".to_owned(),
                true
            )
        );
        assert_eq!(fields.iter().filter(|f| f.2).count(), 1, "{fields:?}");
        let check = guide["check"].to_string();
        assert!(check.contains("*43") && check.contains("*97"), "{check}");
        assert!(
            check.contains("for example 100"),
            "another applied extension: {check}"
        );
        let problems = guide["problems"].to_string();
        assert!(problems.contains("pbx.acme.localhost") && problems.contains("NAT"));
        assert!(
            problems.contains("Both kinds of transfer work") && problems.contains("Attended:"),
            "{problems}"
        );
        let text = guide.to_string();
        assert!(!text.contains(ANN_PASSWORD));
        assert!(!text.contains(&stored_a1(&app, orgs.acme, "101").await));
        assert!(!text.contains("Beta"));

        // Every guide, for another extension: nothing left unfilled.
        for id in &wanted {
            let (status, guide) = admin
                .get_json(&format!("/api/org/phones/guides/{id}?extension=102"))
                .await;
            assert_eq!(status, 200, "{id}: {guide}");
            for text in guide_texts(&guide) {
                assert!(
                    web::provisioning::guides::placeholders_in(&text).is_empty(),
                    "{id}: {text}"
                );
            }
            let fields = guide_fields(&guide);
            assert!(fields.iter().any(|f| f.1 == "102"), "{id}");
            assert!(
                fields.iter().any(|f| f.1.contains("pbx.acme.localhost")),
                "{id}"
            );
            assert!(
                fields
                    .iter()
                    .filter(|f| f.2)
                    .all(|f| f.1.contains("the SIP password of extension 102")),
                "{id}: {fields:?}"
            );
            assert!(fields.iter().any(|f| f.2), "{id}: where the password goes");
            assert!(!guide.to_string().contains(BOB_PASSWORD));
        }
        // Linphone: the menu paths are filled too.
        let (_, linphone) = admin
            .get_json("/api/org/phones/guides/linphone-mobile?extension=101")
            .await;
        assert_eq!(linphone["provisioning_link"], true);
        assert!(linphone["steps"]
            .to_string()
            .contains("\"101@pbx.acme.localhost\""));

        // Only applied extensions of the org; unknown guides are not found.
        for query in ["?extension=105", "?extension=999", "?extension=x", ""] {
            let (status, body) = admin
                .get_json(&format!("/api/org/phones/guides/snom-d{query}"))
                .await;
            assert_eq!(status, 422, "{query}: {body}");
            assert_eq!(body["errors"][0]["field"], "extension");
        }
        let (status, _) = admin
            .get_json("/api/org/phones/guides/no-such-phone?extension=101")
            .await;
        assert_eq!(status, 404);

        // Another org's admin gets their own org's values, for their own extensions.
        let beta = logged_in(&app, "beta", ADMIN_PASSWORD).await;
        let (status, guide) = beta
            .get_json("/api/org/phones/guides/microsip?extension=101")
            .await;
        assert_eq!(status, 200, "{guide}");
        let text = guide.to_string();
        assert!(text.contains("pbx.beta.localhost") && text.contains("Beta Person"));
        assert!(!text.contains("pbx.acme.localhost") && !text.contains("Ann, Sales"));
        let (status, _) = beta
            .get_json("/api/org/phones/guides/microsip?extension=102")
            .await;
        assert_eq!(status, 422, "acme's 102 is not beta's");
        let _ = orgs.beta;
    }
);
