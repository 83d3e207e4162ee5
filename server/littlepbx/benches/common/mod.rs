//! What the benchmarks share: the seeded orgs and the FreeSWITCH requests about them.

#![allow(dead_code)]

use std::path::Path;
use std::time::Instant;

use domain::*;
use sea_orm::{ConnectionTrait, Statement};

pub const FS_PASSWORD: &str = "bench-fs-password";

pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../freeswitch/tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .skip_while(|l| *l != "# raw body:")
        .nth(1)
        .expect("raw body")
        .to_owned()
}

pub fn slug(i: usize) -> String {
    format!("org{i}")
}

pub fn domain_of(i: usize) -> String {
    format!("pbx.org{i}.bench")
}

/// Orgs through the store (each with its default configuration), then extensions 1000.. in
/// both layers with bulk statements, and one DID per org.
pub async fn seed(url: &str, orgs: usize, extensions: usize) {
    let store = store::Store::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    let started = Instant::now();
    let mut ids = Vec::with_capacity(orgs);
    for i in 0..orgs {
        let domain = SipDomain::parse(&domain_of(i)).unwrap();
        let reception = testkit::fixtures::reception_secrets(&domain, "secret");
        let new = store::orgs::NewOrg {
            slug: OrgSlug::parse(&slug(i)).unwrap(),
            name: CompanyName::parse(&format!("Org {i}")).unwrap(),
            sip_domain: domain,
            limits: store::orgs::OrgLimits {
                max_extensions: 10_000,
                ..Default::default()
            },
        };
        ids.push(store.create_org(&new, reception).await.unwrap().id);
    }
    let db = store.connection();
    let mut rows = Vec::new();
    for (i, org) in ids.iter().enumerate() {
        let domain = SipDomain::parse(&domain_of(i)).unwrap();
        for n in 0..extensions {
            let number = ExtensionNumber::parse(&(1000 + n).to_string()).unwrap();
            let a1 = A1Hash::compute(&number, &domain, "secret");
            for layer in ["draft", "applied"] {
                rows.push(format!(
                    "({}, '{layer}', '{number}', 'Person {n}', '{a1}', 1, '1234', NULL, 20, 'voicemail', NULL, 0, NULL, 1)",
                    org.0
                ));
            }
        }
        if rows.len() >= 4000 || i + 1 == ids.len() {
            let sql = format!(
                "INSERT INTO extensions (org_id, layer, number, display_name, a1_hash, voicemail_enabled, voicemail_pin, \
                 voicemail_email, ring_seconds, no_answer_action, no_answer_target, do_not_disturb, outbound_caller_id, revision) VALUES {}",
                rows.join(",")
            );
            db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap();
            rows.clear();
        }
    }
    for (i, org) in ids.iter().enumerate() {
        store
            .add_did(*org, &E164::parse(&format!("+1555{:07}", i)).unwrap())
            .await
            .unwrap();
    }
    eprintln!(
        "seeded {orgs} orgs x {extensions} extensions in {:.1?}",
        started.elapsed()
    );
}

/// A REGISTER sip_auth request of `ext` in org `i`: the capture, re-addressed, with the digest
/// response the phone would send for password "secret" (so the server counts a success, not a
/// guess, and never locks the benchmark's source out).
pub fn sip_auth_body(template: &str, i: usize, ext: usize) -> String {
    let body = template
        .replace("=1001&", &format!("={}&", 1000 + ext))
        .replace("acme.test", &domain_of(i));
    let param = |name: &str| -> String {
        let start = body
            .find(&format!("&{name}="))
            .map(|p| p + name.len() + 2)
            .unwrap_or(0);
        let value = &body[start..];
        let raw = &value[..value.find('&').unwrap_or(value.len())];
        raw.replace("%3A", ":").replace("%40", "@")
    };
    let number = ExtensionNumber::parse(&(1000 + ext).to_string()).unwrap();
    let a1 = A1Hash::compute(&number, &SipDomain::parse(&domain_of(i)).unwrap(), "secret");
    let (uri, nonce, nc, cnonce) = (
        param("sip_auth_uri"),
        param("sip_auth_nonce"),
        param("sip_auth_nc"),
        param("sip_auth_cnonce"),
    );
    let response = a1.digest_response(&DigestParams {
        method: "REGISTER",
        uri: &uri,
        nonce: &nonce,
        nc: &nc,
        cnonce: &cnonce,
        qop: Some("auth"),
    });
    let old = param("sip_auth_response");
    body.replace(
        &format!("sip_auth_response={old}"),
        &format!("sip_auth_response={response}"),
    )
}
