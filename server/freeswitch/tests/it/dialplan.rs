//! Dialplan answers: org contexts, inbound contexts, public, and every refusal.

use domain::{OrgConfig, OrgStatus};
use freeswitch::{MemoryLookup, OrgView, Reason, NOT_FOUND};

use crate::common::*;

fn refused_with(tree: &Element, cause: &str) {
    assert_eq!(tree.actions(), [format!("hangup {cause}")]);
}

fn context_name(tree: &Element) -> String {
    tree.find_all("context")[0].attr("name").unwrap().to_owned()
}

#[test]
fn org_context_rings_the_extension_of_its_own_domain() {
    let (a, t) = ask(&dialplan(
        "org_acme",
        "1001",
        Some("acme.test"),
        Some("1002"),
    ));
    assert_eq!(a.reason, Reason::Dialplan("extension"));
    assert_eq!(context_name(&t), "org_acme");
    let actions = t.actions();
    assert_eq!(actions[0], "unset execute_on_answer_lpbx_unrouted");
    assert_eq!(actions[1], "unset _sofia_replaces_");
    assert_eq!(actions[2], "export sip_copy_custom_headers=false");
    assert_eq!(actions[3], "export exclude_outgoing_extra_header=^sip_h_");
    assert_eq!(actions[4], "export deny_refer_requests=true");
    assert_eq!(actions[5], "export lpbx_org=acme");
    assert_eq!(actions[6], "limit hash lpbx_calls acme -1");
    assert!(actions.contains(&"bridge user/1001@acme.test".to_owned()));
    assert!(actions.contains(&"set call_timeout=20".to_owned()));
    assert_eq!(actions.last().unwrap(), "voicemail default acme.test 1001");
    let (_, t) = ask(&dialplan(
        "org_globex",
        "1001",
        Some("globex.test"),
        Some("1002"),
    ));
    assert!(t
        .actions()
        .contains(&"bridge user/1001@globex.test".to_owned()));
}

#[test]
fn org_context_refuses_channels_of_other_domains_or_none() {
    for domain in [
        Some("globex.test"),
        Some("ACME.TEST"),
        Some("trunks.littlepbx.invalid"),
        None,
    ] {
        let (a, t) = ask(&dialplan("org_acme", "1001", domain, Some("1001")));
        assert!(matches!(a.reason, Reason::DialplanRefused(_)), "{domain:?}");
        refused_with(&t, "CALL_REJECTED");
        assert_eq!(context_name(&t), "org_acme");
    }
}

#[test]
fn suspended_orgs_route_nothing() {
    let (a, t) = ask(&dialplan(
        "org_initech",
        "1001",
        Some("initech.test"),
        Some("1001"),
    ));
    assert_eq!(a.reason, Reason::DialplanRefused("org suspended"));
    refused_with(&t, "CALL_REJECTED");
    let (_, t) = ask(&carrier_call(
        "+15550300100",
        "100.64.1.1",
        Some("initech.in.1@trunks.littlepbx.invalid"),
        None,
    ));
    refused_with(&t, "CALL_REJECTED");
}

#[test]
fn contexts_that_are_not_ours_hang_up_instead_of_falling_back() {
    for context in [
        "default",
        "acme.test",
        "org_nobody",
        "org_nobody_inbound",
        "features",
        "org_acme_x",
    ] {
        let (a, t) = ask(&dialplan(context, "1001", Some("acme.test"), Some("1001")));
        assert_ne!(a.xml, NOT_FOUND);
        assert_eq!(context_name(&t), context);
        refused_with(&t, "CALL_REJECTED");
    }
    // A context name we cannot write is answered as `global`, which FreeSWITCH tries next.
    let (_, t) = ask(&dialplan("a b<c", "1001", Some("acme.test"), None));
    assert_eq!(context_name(&t), "global");
}

#[test]
fn routing_ignores_sip_hosts() {
    let base = dialplan("org_acme", "1002", Some("acme.test"), Some("1001"));
    let (expected, _) = ask(&base);
    let mut hostile = base.clone();
    for var in [
        "variable_sip_to_host",
        "variable_sip_from_host",
        "variable_sip_req_host",
        "variable_sip_req_uri",
    ] {
        hostile = with_param(&hostile, var, "globex.test");
    }
    assert_eq!(ask(&hostile).0.xml, expected.xml);
}

/// A leg sofia blind-transfers carries the REFER's Refer-To: its user is hunted in the leg's
/// own org context like a dialled number, and any host but the org's domain is refused.
#[test]
fn a_blind_transfer_routes_like_a_dialled_number_and_only_to_the_orgs_domain() {
    let dialled = dialplan("org_acme", "1002", Some("acme.test"), Some("1001"));
    let (expected, _) = ask(&dialled);
    for refer_to in [
        "<sip:1002@acme.test>",
        "\"Bob\" <sip:1002@ACME.test;transport=udp>",
        "sip:1002@acme.test:5060",
    ] {
        let transferred = with_param(&dialled, "variable_sip_refer_to", refer_to);
        let (a, _) = ask(&transferred);
        assert_eq!(a.xml, expected.xml, "{refer_to}");
    }
    let outside = dialplan("org_acme", "+4930123456", Some("acme.test"), Some("1001"));
    let (expected, t) = ask(&outside);
    assert!(
        t.actions().iter().any(|a| a.starts_with("bridge ")),
        "{:?}",
        t.actions()
    );
    let transferred = with_param(
        &outside,
        "variable_sip_refer_to",
        "<sip:+4930123456@acme.test>",
    );
    assert_eq!(ask(&transferred).0.xml, expected.xml);
    for refer_to in [
        "<sip:1002@globex.test>",
        "<sip:1002@127.0.0.1:5099>",
        "<sip:+88212345@evil.example?Replaces=x>",
        "<sip:acme.test>",
        "<tel:+4930123456>",
    ] {
        let transferred = with_param(&dialled, "variable_sip_refer_to", refer_to);
        let (a, t) = ask(&transferred);
        assert_eq!(
            a.reason,
            Reason::DialplanRefused("transfer to an address outside the org"),
            "{refer_to}"
        );
        refused_with(&t, "CALL_REJECTED");
    }
}

#[test]
fn do_not_disturb_skips_ringing_and_forward_external_uses_owned_caller_id() {
    let (_, t) = ask(&dialplan(
        "org_acme",
        "1003",
        Some("acme.test"),
        Some("1001"),
    ));
    let actions = t.actions();
    assert!(!actions.iter().any(|a| a.starts_with("bridge user/")));
    assert!(actions.contains(
        &"bridge {limit_ignore_transfer=true,execute_on_originate='limit hash lpbx_out acme 4 !CALL_REJECTED'}sofia/gateway/acme.in/+4930123456"
            .to_owned()
    ));
    assert!(actions.contains(&"set effective_caller_id_number=+15550100101".to_owned()));
    assert!(!actions.iter().any(|a| a.starts_with("limit hash lpbx_out")));
    assert!(actions.contains(&"limit hash lpbx_cps acme 2/1 !CALL_REJECTED".to_owned()));
}

#[test]
fn forward_to_extension_stays_in_the_same_context() {
    let (_, t) = ask(&dialplan(
        "org_acme",
        "1002",
        Some("acme.test"),
        Some("1001"),
    ));
    assert_eq!(t.actions().last().unwrap(), "transfer 1001 XML org_acme");
    let (_, t) = ask(&dialplan(
        "org_acme_inbound",
        "1002",
        Some("acme.test"),
        None,
    ));
    assert_eq!(
        t.actions().last().unwrap(),
        "transfer 1001 XML org_acme_inbound"
    );
    let (_, t) = ask(&dialplan("org_acme", "1004", Some("acme.test"), None));
    assert_eq!(t.actions().last().unwrap(), "hangup NO_ANSWER");
}

#[test]
fn feature_codes() {
    let dp = |dest: &str, user: Option<&str>| {
        ask(&dialplan("org_acme", dest, Some("acme.test"), user))
            .1
            .actions()
    };
    assert!(dp("*97", Some("1002")).contains(&"voicemail check default acme.test 1002".to_owned()));
    // Without an authenticated extension of this org, *97 asks for the box like *98.
    assert!(dp("*97", None).contains(&"voicemail check default acme.test".to_owned()));
    assert!(dp("*97", Some("acme.in.1")).contains(&"voicemail check default acme.test".to_owned()));
    assert!(dp("*98", Some("1001")).contains(&"voicemail check default acme.test".to_owned()));
    assert!(dp("*801002", Some("1001"))
        .contains(&"bridge {sip_auto_answer=true}user/1002@acme.test".to_owned()));
    assert_eq!(
        dp("*801003", Some("1001")),
        ["hangup USER_BUSY"],
        "intercom respects do-not-disturb"
    );
    assert_eq!(dp("*809999", Some("1001")), ["hangup UNALLOCATED_NUMBER"]);
    assert!(dp("*30", Some("1001")).contains(&"conference acme_room@default".to_owned()));
    assert!(dp("*43", Some("1001")).contains(&"echo".to_owned()));
    let globex_room = ask(&dialplan(
        "org_globex",
        "*30",
        Some("globex.test"),
        Some("1001"),
    ))
    .1
    .actions();
    assert!(globex_room.contains(&"conference globex_room@default".to_owned()));
}

#[test]
fn outbound_uses_the_callers_did_or_the_org_default() {
    let dp = |user: Option<&str>| {
        ask(&dialplan(
            "org_acme",
            "+4930123456",
            Some("acme.test"),
            user,
        ))
        .1
        .actions()
    };
    assert!(dp(Some("1001")).contains(&"set effective_caller_id_number=+15550100100".to_owned()));
    assert!(dp(Some("1002")).contains(&"set effective_caller_id_number=+15550100101".to_owned()));
    assert!(dp(None).contains(&"set effective_caller_id_number=+15550100101".to_owned()));
    let globex = ask(&dialplan(
        "org_globex",
        "0301234567",
        Some("globex.test"),
        Some("1001"),
    ))
    .1
    .actions();
    assert!(
        globex
            .iter()
            .any(|a| a.starts_with("bridge {")
                && a.ends_with("}sofia/gateway/globex.out/0301234567")),
        "own outbound gateway"
    );
    let (_, t) = ask(&dialplan(
        "org_acme",
        "12345",
        Some("acme.test"),
        Some("1001"),
    ));
    refused_with(&t, "UNALLOCATED_NUMBER");
    let (_, t) = ask(&dialplan(
        "org_acme",
        "+49301234567890123",
        Some("acme.test"),
        Some("1001"),
    ));
    refused_with(&t, "UNALLOCATED_NUMBER");
}

/// acme with no DIDs (so no caller ID) and no PSTN allowance.
fn poor_acme(with_trunk: bool) -> MemoryLookup {
    let mut input = acme_input();
    input.dids.clear();
    input.limits.max_outbound_calls = 0;
    if !with_trunk {
        input.trunks.clear();
    }
    MemoryLookup::new(vec![OrgView::new(input)]).unwrap()
}

#[test]
fn without_owned_caller_id_or_allowance_only_emergency_numbers_route() {
    let lookup = poor_acme(true);
    let dp = |dest: &str| {
        ask_with(
            &dialplan("org_acme", dest, Some("acme.test"), Some("1001")),
            &lookup,
            &freeswitch::AllowAll,
        )
        .1
        .actions()
    };
    assert_eq!(dp("+4930123456"), ["hangup OUTGOING_CALL_BARRED"]);
    let emergency = dp("112");
    assert!(emergency.contains(&"bridge sofia/gateway/acme.in/112".to_owned()));
    assert!(!emergency
        .iter()
        .any(|a| a.contains("lpbx_out") || a.contains("effective_caller_id_number")));
    let no_trunk = poor_acme(false);
    let (_, t) = ask_with(
        &dialplan("org_acme", "112", Some("acme.test"), Some("1001")),
        &no_trunk,
        &freeswitch::AllowAll,
    );
    refused_with(&t, "NO_ROUTE_DESTINATION");
}

#[test]
fn inbound_context_reaches_extensions_only() {
    let (a, t) = ask(&dialplan(
        "org_acme_inbound",
        "1001",
        Some("acme.test"),
        Some("acme.in.1"),
    ));
    assert_eq!(a.reason, Reason::Dialplan("inbound to extension"));
    let actions = t.actions();
    assert!(actions.contains(&"set force_transfer_context=org_acme".to_owned()));
    assert!(
        !actions
            .iter()
            .any(|a| a.starts_with("export force_transfer_context")),
        "not exported to our extension's leg"
    );
    for dest in ["*98", "*97", "+4930123456", "112", "*30", "0015550100100"] {
        let (_, t) = ask(&dialplan(
            "org_acme_inbound",
            dest,
            Some("acme.test"),
            Some("acme.in.1"),
        ));
        refused_with(&t, "UNALLOCATED_NUMBER");
    }
}

#[test]
fn public_routes_dids_in_three_forms_into_the_orgs_inbound_context() {
    for did in ["+15550100100", "15550100100", "0015550100100"] {
        let (a, t) = ask(&carrier_call(
            did,
            "203.0.113.9",
            Some("acme.in.1@trunks.littlepbx.invalid"),
            None,
        ));
        assert_eq!(a.reason, Reason::Dialplan("DID to org"), "{did}");
        assert_eq!(
            t.actions(),
            [
                "export domain_name=acme.test",
                "export lpbx_org=acme",
                "export lpbx_did=+15550100100",
                "transfer 1001 XML org_acme_inbound"
            ]
        );
    }
    let (_, t) = ask(&carrier_call(
        "+15559999999",
        "203.0.113.9",
        Some("acme.in.1@x"),
        None,
    ));
    refused_with(&t, "UNALLOCATED_NUMBER");
    let (_, t) = ask(&carrier_call(
        "+15550100101",
        "203.0.113.9",
        Some("acme.in.1@x"),
        None,
    ));
    refused_with(&t, "CALL_REJECTED");
}

#[test]
fn public_refuses_calls_through_another_orgs_trunk() {
    // globex's outbound carrier block sends acme's DID.
    let (a, t) = ask(&carrier_call(
        "+15550100100",
        "192.0.2.3",
        Some("globex.out.1@trunks.littlepbx.invalid"),
        None,
    ));
    assert_eq!(
        a.reason,
        Reason::DialplanRefused("source is not a trunk of the DID's org")
    );
    refused_with(&t, "CALL_REJECTED");
    // Through globex's gateway, even from a shared carrier address.
    let (a, _) = ask(&carrier_call(
        "+15550100100",
        "203.0.113.9",
        Some("globex.in.1@x"),
        Some("globex.in"),
    ));
    assert_eq!(
        a.reason,
        Reason::DialplanRefused("call came through another org's gateway")
    );
}

#[test]
fn public_admits_a_carrier_shared_by_two_orgs() {
    // The ACL token names globex (longest-prefix tie), but the address is acme's carrier too.
    let (a, _) = ask(&carrier_call(
        "+15550100100",
        "203.0.113.200",
        Some("globex.in.1@trunks.littlepbx.invalid"),
        None,
    ));
    assert_eq!(a.reason, Reason::Dialplan("DID to org"));
    let (a, _) = ask(&carrier_call(
        "+15550200100",
        "203.0.113.200",
        Some("acme.in.1@trunks.littlepbx.invalid"),
        None,
    ));
    assert_eq!(a.reason, Reason::Dialplan("DID to org"));
}

#[test]
fn naming_the_orgs_gateway_admits_nothing_by_itself() {
    // Anyone can write `gw+acme.in`: a source outside acme's blocks is refused, with or
    // without an ACL token.
    for token in [None, Some("acme.in.1@x")] {
        let (a, _) = ask(&carrier_call(
            "+15550100100",
            "198.18.0.1",
            token,
            Some("acme.in"),
        ));
        assert_eq!(
            a.reason,
            Reason::DialplanRefused("source is not a trunk of the DID's org"),
            "{token:?}"
        );
    }
    let (a, _) = ask(&carrier_call("+15550100100", "198.18.0.1", None, None));
    assert!(matches!(a.reason, Reason::DialplanRefused(_)));
}

#[test]
fn public_takes_carrier_calls_only() {
    let admitted = carrier_call(
        "+15550100100",
        "203.0.113.9",
        Some("acme.in.1@trunks.littlepbx.invalid"),
        None,
    );
    assert_eq!(ask(&admitted).0.reason, Reason::Dialplan("DID to org"));
    // A phone's call that sofia put into `public` because its Request-URI named a gateway
    // (`gw+NAME`), on the phones' profile or authenticated on the carrier profile.
    for (key, value, why) in [
        (
            "variable_sofia_profile_name",
            "internal",
            "not a call from the carrier profile",
        ),
        (
            "variable_sip_auth_username",
            "101",
            "an authenticated user is not a carrier",
        ),
    ] {
        let (a, t) = ask(&with_param(&admitted, key, value));
        assert_eq!(a.reason, Reason::DialplanRefused(why), "{key}={value}");
        refused_with(&t, "CALL_REJECTED");
    }
    // sofia names the carrier's ACL pseudo-user in `user_name`: still a carrier.
    let (a, _) = ask(&with_param(&admitted, "variable_user_name", "acme.in.1"));
    assert_eq!(a.reason, Reason::Dialplan("DID to org"));
    let (a, _) = ask(&without_param(&admitted, "variable_sofia_profile_name"));
    assert_eq!(
        a.reason,
        Reason::DialplanRefused("not a call from the carrier profile")
    );
}

#[test]
fn empty_org_answers_well_formed() {
    let mut input = acme_input();
    input.config = OrgConfig::default();
    input.status = OrgStatus::Active;
    let lookup = MemoryLookup::new(vec![OrgView::new(input)]).unwrap();
    let (_, t) = ask_with(
        &dialplan("org_acme", "1001", Some("acme.test"), Some("1001")),
        &lookup,
        &freeswitch::AllowAll,
    );
    refused_with(&t, "UNALLOCATED_NUMBER");
}
