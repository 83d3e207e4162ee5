//! Golden files: every captured FreeSWITCH request (and variants of it for a second org that
//! has the same extension numbers, a suspended org, and the org contexts) is answered and
//! compared with the checked-in XML under `tests/golden/`. `UPDATE_GOLDEN=1 cargo test -p
//! freeswitch --test it golden` rewrites them; review the diff before committing.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::common::*;
use freeswitch::{answer, AllowAll, Request};

struct Case {
    name: String,
    body: String,
}

fn case(name: &str, body: String) -> Case {
    Case {
        name: name.to_owned(),
        body,
    }
}

fn stem(fixture: &str) -> &str {
    fixture.trim_end_matches(".txt")
}

/// Every fixture as captured, plus variants.
fn cases() -> Vec<Case> {
    let mut cases: Vec<Case> = fixture_names()
        .iter()
        .map(|f| case(&format!("{}__as_captured", stem(f)), fixture(f)))
        .collect();
    for f in [
        "10_directory_register_sip_auth.txt",
        "11_directory_voicemail_message_count_after_register.txt",
        "12_directory_user_exists.txt",
        "13_directory_user_data.txt",
        "20_directory_invite_sip_auth.txt",
        "22_directory_user_call_bridge_user_1002.txt",
    ] {
        cases.push(case(
            &format!("{}__globex", stem(f)),
            fixture(f).replace("acme.test", "globex.test"),
        ));
        cases.push(case(
            &format!("{}__suspended_initech", stem(f)),
            fixture(f).replace("acme.test", "initech.test"),
        ));
    }
    cases.extend(config_cases());
    cases.extend(directory_cases());
    cases.extend(dialplan_cases());
    cases.extend(chatplan_cases());
    cases
}

fn config_cases() -> Vec<Case> {
    let body = with_param(
        &fixture("01_config_cdr_csv_startup.txt"),
        "key_value",
        "local_stream.conf",
    );
    vec![case("01_config__local_stream", body)]
}

fn directory_cases() -> Vec<Case> {
    let gw = fixture("04_directory_gateways_profile_launch.txt");
    let one_domain = with_param(
        &with_param(&with_param(&gw, "tag_name", "domain"), "key_name", "name"),
        "key_value",
        "globex.test",
    );
    let acl =
        fixture("05_directory_network_list.txt").replace("127.0.0.1", "trunks.littlepbx.invalid");
    let exists =
        fixture("12_directory_user_exists.txt").replace("acme.test", "trunks.littlepbx.invalid");
    let trunk_user = with_param(&exists, "user", "acme.in.1");
    let trunk_auth = with_param(
        &fixture("10_directory_register_sip_auth.txt")
            .replace("acme.test", "trunks.littlepbx.invalid"),
        "user",
        "acme.in.1",
    );
    let domain_only = without_param(
        &without_param(&fixture("12_directory_user_exists.txt"), "key"),
        "user",
    );
    vec![
        case("04_directory_gateways__one_domain_globex", one_domain),
        case("05_directory_network_list__carrier_acl", acl),
        case("12_directory_user_exists__trunk_pseudo_user", trunk_user),
        case("10_directory_register_sip_auth__trunk_domain", trunk_auth),
        case("12_directory_user_exists__domain_only", domain_only),
    ]
}

fn dialplan_cases() -> Vec<Case> {
    let base = fixture("21_dialplan_call_1001_to_1002.txt");
    let acme = with_param(&base, "Hunt-Context", "org_acme");
    let globex = with_param(
        &base.replace("acme.test", "globex.test"),
        "Hunt-Context",
        "org_globex",
    );
    let dest = |body: &str, n: &str| with_param(body, "Hunt-Destination-Number", n);
    let inbound = with_param(
        &with_param(&base, "Hunt-Context", "org_acme_inbound"),
        "variable_user_name",
        "acme.in.1",
    );
    let public = {
        let b = with_param(&base, "Hunt-Context", "public");
        let b = with_param(&b, "variable_domain_name", "trunks.littlepbx.invalid");
        let b = with_param(&b, "variable_sip_network_ip", "203.0.113.9");
        // A carrier's channel: the carrier profile, no digest user.
        let b = with_param(&b, "variable_sofia_profile_name", "external");
        let b = without_param(&b, "variable_user_name");
        let b = without_param(&b, "variable_sip_auth_username");
        let b = with_param(
            &b,
            "variable_acl_token",
            "acme.in.1@trunks.littlepbx.invalid",
        );
        dest(&b, "15550100100")
    };
    vec![
        case("21_dialplan__org_acme_to_1002", dest(&acme, "1002")),
        case("21_dialplan__org_acme_to_1003_dnd", dest(&acme, "1003")),
        case("21_dialplan__org_acme_to_1004", dest(&acme, "1004")),
        case("21_dialplan__org_acme_own_voicemail", dest(&acme, "*97")),
        case("21_dialplan__org_acme_any_voicemail", dest(&acme, "*98")),
        case(
            "21_dialplan__org_acme_intercom_1002",
            dest(&acme, "*801002"),
        ),
        case("21_dialplan__org_acme_conference", dest(&acme, "*30")),
        case("21_dialplan__org_acme_echo", dest(&acme, "*43")),
        case("21_dialplan__org_acme_outbound", dest(&acme, "+4930123456")),
        case("21_dialplan__org_acme_emergency", dest(&acme, "112")),
        case("21_dialplan__org_acme_unknown", dest(&acme, "555")),
        case("21_dialplan__org_globex_to_1002", dest(&globex, "1002")),
        case(
            "21_dialplan__org_globex_outbound",
            dest(&globex, "0301234567"),
        ),
        case(
            "21_dialplan__org_acme_from_globex_refused",
            dest(
                &with_param(&acme, "variable_domain_name", "globex.test"),
                "1002",
            ),
        ),
        case("21_dialplan__org_acme_inbound_1003", dest(&inbound, "1003")),
        case("21_dialplan__public_did", public),
    ]
}

pub fn chat_body(from: (&str, &str), to: (&str, &str)) -> String {
    let mut body = String::from("hostname=vm&section=chatplan&tag_name=&key_name=&key_value=&Event-Name=MESSAGE&login=sip%3Amod_sofia%40127.0.0.1%3A5060&proto=sip&to_proto=sip");
    for (k, v) in [
        ("from", format!("{}@{}", from.0, from.1)),
        ("from_user", from.0.into()),
        ("from_host", from.1.into()),
        ("to_user", to.0.into()),
        ("to_host", to.1.into()),
        ("to", format!("{}@{}", to.0, to.1)),
        ("context", "public".into()),
        ("sip_profile", "internal".into()),
        ("dest_proto", "sip".into()),
    ] {
        body = with_param(&body, k, &v);
    }
    body
}

fn chatplan_cases() -> Vec<Case> {
    vec![
        case(
            "chatplan__acme_1001_to_1002",
            chat_body(("1001", "acme.test"), ("1002", "acme.test")),
        ),
        case(
            "chatplan__acme_1001_to_globex_1002",
            chat_body(("1001", "acme.test"), ("1002", "globex.test")),
        ),
    ]
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// A readable line diff (longest common subsequence; the files are small).
fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            let _ = writeln!(out, "+ {:4} {}", j + 1, b[j]);
            j += 1;
        } else {
            let _ = writeln!(out, "- {:4} {}", i + 1, a[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn every_fixture_and_variant_matches_its_golden_file() {
    let lookup = lookup();
    let settings = settings();
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    let mut reasons = String::new();
    for c in cases() {
        let req = Request::parse(c.body.as_bytes()).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        let ans = answer(&req, &lookup, &settings, &AllowAll);
        check_document(&ans.xml);
        let _ = writeln!(
            reasons,
            "{}: {} | auth {:?} | org {:?}",
            c.name, ans.reason, ans.auth, ans.org
        );
        let path = golden_dir().join(format!("{}.xml", c.name));
        let actual = format!("{}\n", ans.xml);
        if update {
            std::fs::write(&path, &actual).unwrap();
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => failures.push(format!("{}:\n{}", c.name, diff(&expected, &actual))),
            Err(_) => failures.push(format!("{}: no golden file {}", c.name, path.display())),
        }
    }
    let reasons_path = golden_dir().join("REASONS.txt");
    if update {
        std::fs::write(&reasons_path, &reasons).unwrap();
    } else {
        let expected = std::fs::read_to_string(&reasons_path).unwrap_or_default();
        if expected != reasons {
            failures.push(format!("REASONS.txt:\n{}", diff(&expected, &reasons)));
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatches (UPDATE_GOLDEN=1 to accept):\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_fixture_is_covered() {
    let names: Vec<String> = cases().into_iter().map(|c| c.name).collect();
    for f in fixture_names() {
        assert!(
            names.iter().any(|n| n.starts_with(stem(&f))),
            "{f} has no golden case"
        );
    }
    assert_eq!(
        fixture_names().len(),
        16,
        "the 16 captured requests are all copied"
    );
}
