//! Event-socket commands after an Apply, a trunk change, a suspension, a deletion.

use domain::trunk::{Cidr, TrunkConfig};
use domain::{diff, A1Hash, ExtensionNumber, MohFileId, OrgStatus, SipDomain};
use freeswitch::sync::{self, ApplyFacts, Command};
use freeswitch::OrgView;

use crate::common::*;

fn apply(
    previous: &domain::OrgConfig,
    next: &domain::OrgConfig,
    input: &freeswitch::OrgInput,
) -> Vec<String> {
    let changes = diff(next, previous);
    let facts = ApplyFacts {
        slug: &input.slug,
        domain: &input.domain,
        changes: &changes,
        previous,
        next,
    };
    sync::to_strings(&sync::apply_commands(&facts, &settings()))
}

#[test]
fn apply_flushes_changed_and_removed_users_and_drops_removed_registrations() {
    let input = acme_input();
    let previous = input.config.clone();
    let mut next = previous.clone();
    next.extensions[0].do_not_disturb = true; // 1001 modified
    next.extensions.retain(|e| e.number.as_str() != "1004"); // removed
    let mut added = next.extensions[1].clone();
    added.number = ExtensionNumber::parse("1005").unwrap();
    next.extensions.push(added);
    assert_eq!(
        apply(&previous, &next, &input),
        [
            "xml_flush_cache id 1001 acme.test",
            "xml_flush_cache id 1004 acme.test",
            "sofia profile internal flush_inbound_reg 1004@acme.test",
        ]
    );
}

#[test]
fn a_new_password_drops_registrations() {
    let input = acme_input();
    let previous = input.config.clone();
    let mut next = previous.clone();
    let number = next.extensions[1].number.clone();
    next.extensions[1].a1_hash =
        A1Hash::compute(&number, &SipDomain::parse("acme.test").unwrap(), "new");
    assert_eq!(
        apply(&previous, &next, &input),
        [
            "xml_flush_cache id 1002 acme.test",
            "sofia profile internal flush_inbound_reg 1002@acme.test"
        ]
    );
}

#[test]
fn music_changes_start_reload_or_stop_both_rates() {
    let input = acme_input();
    let with_music = input.config.clone();
    let mut without = with_music.clone();
    without.options.moh_file = None;
    let mut other_file = with_music.clone();
    other_file.options.moh_file = Some(MohFileId::parse(&"b".repeat(64)).unwrap());
    let streams = |cmds: Vec<String>| {
        cmds.into_iter()
            .filter(|c| c.starts_with("local_stream"))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        streams(apply(&without, &with_music, &input)),
        [
            "local_stream start acme_moh/8000",
            "local_stream start acme_moh/16000"
        ]
    );
    assert_eq!(
        streams(apply(&with_music, &other_file, &input)),
        [
            "local_stream reload acme_moh/8000",
            "local_stream reload acme_moh/16000"
        ]
    );
    assert_eq!(
        streams(apply(&with_music, &without, &input)),
        [
            "local_stream stop acme_moh/8000",
            "local_stream stop acme_moh/16000"
        ]
    );
    // Option changes feed every user's variables (caller ID, hold music): all are flushed.
    let flushed = apply(&with_music, &without, &input)
        .into_iter()
        .filter(|c| c.starts_with("xml_flush_cache"))
        .count();
    assert_eq!(flushed, 4);
}

#[test]
fn did_route_changes_need_no_command() {
    let input = acme_input();
    let previous = input.config.clone();
    let mut next = previous.clone();
    next.did_routes[1].extension = Some(ExtensionNumber::parse("1002").unwrap());
    assert!(apply(&previous, &next, &input).is_empty());
}

#[test]
fn commands_for_one_org_never_name_another() {
    // acme and globex share extension numbers 1001 and 1002.
    let acme = acme_input();
    let globex = globex_input();
    let previous = acme.config.clone();
    let mut next = previous.clone();
    next.extensions.clear();
    next.options.moh_enabled = false;
    let mut all = apply(&previous, &next, &acme);
    let mut trunks = acme.trunks.clone();
    if let TrunkConfig::Own(s) = &mut trunks[0].config {
        s.allowed_cidrs
            .push(Cidr::parse("198.51.100.0/24").unwrap());
    }
    all.extend(sync::to_strings(&sync::trunk_commands(
        &acme.slug,
        &acme.trunks,
        &trunks,
        &settings(),
    )));
    let view = OrgView::new(acme.clone());
    all.extend(sync::to_strings(&sync::removal_commands(
        &view,
        &settings(),
    )));
    let mut suspended = acme.clone();
    suspended.status = OrgStatus::Suspended;
    all.extend(sync::to_strings(&sync::status_commands(
        &OrgView::new(suspended),
        OrgStatus::Active,
        &settings(),
    )));
    assert!(!all.is_empty());
    for command in &all {
        assert!(
            !command.contains(globex.domain.as_str()) && !command.contains("globex"),
            "{command}"
        );
        let names_acme =
            command.contains("acme") || command == "reloadacl" || command.ends_with("rescan");
        assert!(names_acme, "{command}");
    }
}

#[test]
fn trunk_changes_restart_only_the_changed_gateway() {
    let acme = acme_input();
    let s = settings();
    let same = sync::trunk_commands(&acme.slug, &acme.trunks, &acme.trunks, &s);
    assert!(same.is_empty());
    let mut new_password = acme.trunks.clone();
    new_password[0].password = Some("other".into());
    assert_eq!(
        sync::to_strings(&sync::trunk_commands(
            &acme.slug,
            &acme.trunks,
            &new_password,
            &s
        )),
        [
            "sofia profile external killgw acme.in",
            "sofia profile external rescan"
        ]
    );
    let globex = globex_input();
    let mut only_inbound = globex.trunks.clone();
    only_inbound.truncate(1);
    assert_eq!(
        sync::to_strings(&sync::trunk_commands(
            &globex.slug,
            &globex.trunks,
            &only_inbound,
            &s
        )),
        [
            "sofia profile external killgw globex.out",
            "sofia profile external rescan",
            "reloadacl"
        ]
    );
    assert_eq!(
        sync::to_strings(&sync::trunk_commands(
            &globex.slug,
            &only_inbound,
            &globex.trunks,
            &s
        )),
        ["sofia profile external rescan", "reloadacl"],
        "a new gateway is started by the rescan alone"
    );
}

#[test]
fn suspension_tears_down_and_reactivation_restores() {
    let mut input = acme_input();
    input.status = OrgStatus::Suspended;
    let down = sync::to_strings(&sync::status_commands(
        &OrgView::new(input.clone()),
        OrgStatus::Active,
        &settings(),
    ));
    assert_eq!(down[0], "sofia profile external killgw acme.in");
    assert!(down.contains(&"sofia profile internal flush_inbound_reg 1001@acme.test".to_owned()));
    assert!(down.contains(&"local_stream stop acme_moh/16000".to_owned()));
    assert!(down.contains(&"reloadacl".to_owned()));
    input.status = OrgStatus::Active;
    let up = sync::to_strings(&sync::status_commands(
        &OrgView::new(input.clone()),
        OrgStatus::Suspended,
        &settings(),
    ));
    assert_eq!(
        up,
        [
            "sofia profile external rescan",
            "reloadacl",
            "local_stream start acme_moh/8000",
            "local_stream start acme_moh/16000"
        ]
    );
    assert!(sync::status_commands(&OrgView::new(input), OrgStatus::Active, &settings()).is_empty());
}

#[test]
fn no_command_restarts_or_stops_a_profile_and_flushes_name_all_three_arguments() {
    let acme = acme_input();
    let view = OrgView::new(acme.clone());
    let mut commands: Vec<Command> = sync::removal_commands(&view, &settings());
    commands.extend(sync::trunk_commands(
        &acme.slug,
        &acme.trunks,
        &[],
        &settings(),
    ));
    for c in sync::to_strings(&commands) {
        let words: Vec<&str> = c.split_whitespace().collect();
        if words.first() == Some(&"sofia") {
            assert!(!["restart", "stop", "shutdown"].contains(&words[3]), "{c}");
        }
        if words.first() == Some(&"xml_flush_cache") {
            assert_eq!(
                words.len(),
                4,
                "with fewer arguments FreeSWITCH flushes everything: {c}"
            );
        }
    }
}

#[test]
fn check_sync_names_one_user_of_one_domain_and_no_call_id() {
    let event = sync::check_sync(
        &ExtensionNumber::parse("101").unwrap(),
        &SipDomain::parse("pbx.acme.example.com").unwrap(),
        &settings(),
    );
    assert_eq!(event.name, "NOTIFY");
    let header = |name: &str| {
        event
            .headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("user"), Some("101"));
    assert_eq!(header("host"), Some("pbx.acme.example.com"));
    assert_eq!(header("event-string"), Some("check-sync"));
    assert_eq!(header("profile"), Some("internal"));
    // With a call-id (or a contact/to URI) mod_sofia would pick the registrations otherwise.
    for other in ["call-id", "uuid", "contact-uri", "to-uri", "from-uri"] {
        assert_eq!(header(other), None, "{other}");
    }
}
