//! Tests of the phone help pages: every data file parses and names only known placeholders, and
//! filling a page.

use std::collections::BTreeSet;

use super::*;

fn common() -> Common {
    toml::from_str(COMMON_FILE).unwrap()
}

#[test]
fn every_built_in_page_parses() {
    let parsed = parse_all(COMMON_FILE, GUIDE_FILES).unwrap();
    assert_eq!(parsed.len(), GUIDE_FILES.len());
    assert_eq!(all(), parsed.as_slice());
}

#[test]
fn a_bad_page_is_refused_with_its_file_named() {
    let wrong_id = parse_all(COMMON_FILE, &[("a", GUIDE_FILES[0].1)]).unwrap_err();
    assert!(wrong_id.starts_with("a.toml: the id is"), "{wrong_id}");
    let text = GUIDE_FILES[0].1.replace("\"check_echo\"", "\"nothing\"");
    let missing = parse_all(COMMON_FILE, &[(GUIDE_FILES[0].0, &text)]).unwrap_err();
    assert!(missing.contains("no common entry \"nothing\""), "{missing}");
    let text = GUIDE_FILES[0].1.replace("menu =", "menus =");
    assert!(parse_all(COMMON_FILE, &[(GUIDE_FILES[0].0, &text)]).is_err());
}

#[test]
fn every_device_of_the_issue_has_a_page() {
    let names: Vec<&str> = all().iter().map(|g| g.name.as_str()).collect();
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
        assert!(all().iter().any(|g| g.kind == kind), "{kind:?}");
    }
}

#[test]
fn ids_are_unique_and_url_safe() {
    let ids: BTreeSet<&str> = all().iter().map(|g| g.id.as_str()).collect();
    assert_eq!(ids.len(), all().len());
    for id in ids {
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{id}"
        );
        assert_eq!(guide(id).map(|g| g.id.as_str()), Some(id));
    }
}

#[test]
fn every_page_has_steps_a_check_and_problems() {
    let common = common();
    let step = |name: &str| common.steps[name].clone();
    let trouble = |name: &str| common.problems[name].clone();
    for g in all() {
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
        let fields: Vec<&Field> = g.steps.iter().flat_map(|s| &s.fields).collect();
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
        assert!(
            g.check.contains(&step("check_echo")),
            "{}: no echo test",
            g.id
        );
        assert!(
            g.check.contains(&step("check_voicemail")),
            "{}: no voicemail",
            g.id
        );
        assert!(g.check.contains(&step("check_call")), "{}: no call", g.id);
        assert!(g.check.len() >= 4, "{}: no device status check", g.id);
        assert!(g.problems.contains(&trouble("domain_vs_proxy")), "{}", g.id);
        assert!(g.problems.contains(&trouble("wrong_realm")), "{}", g.id);
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
    for g in all() {
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
    let g = guide("linphone-mobile").unwrap_or(&all()[0]);
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
    assert_eq!(count, all().len());
}

#[test]
fn guides_serialize_for_the_app() {
    let json = serde_json::to_value(all()).unwrap_or_default();
    assert_eq!(json.as_array().map(Vec::len), Some(all().len()));
    assert_eq!(json[0]["kind"], "desk_phone");
    let steps = json[0]["steps"].as_array().cloned().unwrap_or_default();
    assert!(steps
        .iter()
        .any(|step| step["fields"][0]["label"].is_string()));
}
