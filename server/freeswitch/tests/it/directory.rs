//! Directory answers: authentication checks across orgs, users, gateways, the carrier ACL.

use freeswitch::{AuthCheck, MemoryLookup, OrgView, Policy, Reason, NOT_FOUND};

use crate::common::*;

const REGISTER: &str = "10_directory_register_sip_auth.txt";
const WRONG: &str = "14_directory_register_wrong_password.txt";
const INVITE: &str = "20_directory_invite_sip_auth.txt";
const USER_CALL: &str = "22_directory_user_call_bridge_user_1002.txt";

fn refused(answer: &freeswitch::Answer, tree: &Element) {
    assert!(
        matches!(answer.reason, Reason::DomainWithoutUser(_)),
        "{:?}",
        answer.reason
    );
    assert!(
        user_ids(tree).is_empty(),
        "no user may be answered: {}",
        answer.xml
    );
    assert_eq!(tree.find_all("domain").len(), 1);
}

#[test]
fn digest_of_the_captured_requests_is_verified_against_the_a1_hash() {
    assert_eq!(ask(&fixture(REGISTER)).0.auth, AuthCheck::Verified);
    assert_eq!(ask(&fixture(INVITE)).0.auth, AuthCheck::Verified);
    let (wrong, tree) = ask(&fixture(WRONG));
    assert_eq!(wrong.auth, AuthCheck::WrongPassword);
    assert!(wrong.auth.is_failure());
    // FreeSWITCH does the real check, so the user is still answered.
    assert_eq!(user_ids(&tree), ["1001"]);
}

#[test]
fn register_filed_under_another_orgs_to_host_is_refused() {
    // Password of 1001@acme.test, registration filed under globex.test.
    let body = with_param(&fixture(REGISTER), "sip_to_host", "globex.test");
    let (answer, tree) = ask(&body);
    refused(&answer, &tree);
    assert_eq!(answer.auth, AuthCheck::Refused);
    assert_eq!(tree.find_all("domain")[0].attr("name"), Some("acme.test"));
}

#[test]
fn realm_of_another_org_with_own_to_host_is_refused() {
    let body = fixture(REGISTER).replace("acme.test", "globex.test");
    let body = with_param(&body, "sip_to_host", "acme.test");
    let (answer, tree) = ask(&body);
    refused(&answer, &tree);
    assert_eq!(answer.auth, AuthCheck::Refused);
}

#[test]
fn register_as_another_user_than_the_to_user_is_refused() {
    let (answer, tree) = ask(&with_param(&fixture(REGISTER), "sip_to_user", "1002"));
    refused(&answer, &tree);
}

#[test]
fn invite_must_match_from_user_and_host() {
    let (a, t) = ask(&with_param(
        &fixture(INVITE),
        "sip_from_host",
        "globex.test",
    ));
    refused(&a, &t);
    let (a, t) = ask(&with_param(&fixture(INVITE), "sip_from_user", "1002"));
    refused(&a, &t);
    // The To of an INVITE must be in the org's domain too: sofia looks up calls to pick up by
    // the To user and host (an INVITE with Call-Info whose To user equals its From user).
    let (a, t) = ask(&with_param(&fixture(INVITE), "sip_to_host", "globex.test"));
    refused(&a, &t);
    assert_eq!(
        a.reason,
        Reason::DomainWithoutUser("request addressed to another domain")
    );
    assert_eq!(a.auth, AuthCheck::Forbidden);
    assert!(!a.auth.is_failure(), "not a failed password");
    for method in ["MESSAGE", "REFER", "INFO"] {
        let body = with_param(&fixture(INVITE), "sip_auth_method", method);
        let (a, t) = ask(&with_param(&body, "sip_to_host", "globex.test"));
        refused(&a, &t);
    }
}

#[test]
fn subscriptions_watch_only_the_orgs_own_users() {
    let subscribe = with_param(&fixture(INVITE), "sip_auth_method", "SUBSCRIBE");
    let (a, t) = ask(&subscribe);
    assert_eq!(
        a.reason,
        Reason::User,
        "a colleague's presence in the same org"
    );
    assert_eq!(user_ids(&t), ["1001"]);
    // Busy/idle of another org's phone is not for this phone to watch, in any form: another
    // host, sofia's `sip+USER+HOST` user form (watched as USER@HOST), or anything that is not
    // an extension of the org.
    for (key, value) in [
        ("sip_to_host", "globex.test"),
        ("sip_to_user", "sip+1002+globex.test"),
        ("sip_to_user", "1002+globex.test"),
        ("sip_to_user", "park+1002"),
        ("sip_to_user", "9999"),
    ] {
        for method in ["SUBSCRIBE", "PUBLISH", "subscribe"] {
            let body = with_param(&subscribe, "sip_auth_method", method);
            let (a, t) = ask(&with_param(&body, key, value));
            refused(&a, &t);
            assert_eq!(a.auth, AuthCheck::Forbidden, "{method} {key}={value}");
        }
    }
}

#[test]
fn domain_and_user_parameters_must_agree_with_the_digest() {
    let (a, t) = ask(&with_param(&fixture(REGISTER), "domain", "globex.test"));
    refused(&a, &t);
    let (a, t) = ask(&with_param(&fixture(REGISTER), "user", "1002"));
    refused(&a, &t);
    let (a, t) = ask(&with_param(&fixture(REGISTER), "key", "number-alias"));
    refused(&a, &t);
}

#[test]
fn smuggled_parameters_in_the_raw_key_value_are_refused() {
    let body = with_param(
        &fixture(REGISTER),
        "key_value",
        "acme.test&action=user_call",
    );
    let (a, t) = ask(&body);
    refused(&a, &t);
    assert_eq!(a.auth, AuthCheck::Refused);
    let body = with_param(
        &fixture(REGISTER),
        "key_value",
        "acme.test&sip_to_host=acme.test",
    );
    let (a, t) = ask(&body);
    refused(&a, &t);
}

/// Locks out one user at one address.
struct Block(&'static str, &'static str);

impl Policy for Block {
    fn blocked(&self, ip: &str, user: &str) -> bool {
        ip == self.0 && user == self.1
    }
}

#[test]
fn locked_out_users_get_the_domain_without_the_user() {
    let locked = Block("127.0.0.1", "1001@acme.test");
    let (a, t) = ask_with(&fixture(REGISTER), &lookup(), &locked);
    refused(&a, &t);
    assert_eq!(
        a.reason,
        Reason::DomainWithoutUser("locked out after failed attempts")
    );
    assert_eq!(a.auth, AuthCheck::Refused);
    assert_eq!(
        (a.source.as_deref(), a.user.as_deref()),
        (Some("127.0.0.1"), Some("1001@acme.test")),
        "the server counts per source and user"
    );
    // Only authentication is locked: the bridge lookup still works.
    let (a, _) = ask_with(&fixture(USER_CALL), &lookup(), &locked);
    assert_eq!(a.reason, Reason::User);
    // Another address, or another user at the same address, is not affected.
    let (a, _) = ask_with(
        &fixture(REGISTER),
        &lookup(),
        &Block("10.0.0.1", "1001@acme.test"),
    );
    assert_eq!(a.auth, AuthCheck::Verified);
    let (a, _) = ask_with(
        &fixture(REGISTER),
        &lookup(),
        &Block("127.0.0.1", "1002@acme.test"),
    );
    assert_eq!(a.auth, AuthCheck::Verified);
}

#[test]
fn bodies_that_are_not_requests_get_not_found() {
    let settings = settings();
    for body in [
        &b""[..],
        b"hostname=vm",
        b"section=directory&section=dialplan",
    ] {
        let a = freeswitch::answer_body(body, &lookup(), &settings, &freeswitch::AllowAll);
        assert_eq!(a.xml, NOT_FOUND);
    }
}

#[test]
fn unknown_domains_and_users() {
    let (a, _) = ask(&fixture(REGISTER).replace("acme.test", "nobody.test"));
    assert_eq!(a.xml, NOT_FOUND);
    assert_eq!(a.auth, AuthCheck::Refused, "counted as a failed attempt");
    let body = fixture(REGISTER).replace("=1001&", "=1009&");
    let (a, t) = ask(&body);
    refused(&a, &t);
    assert_eq!(a.reason, Reason::DomainWithoutUser("unknown user"));
}

#[test]
fn same_extension_number_in_two_orgs_is_told_apart_by_domain() {
    let (_, acme) = ask(&fixture(USER_CALL));
    let (_, globex) = ask(&fixture(USER_CALL).replace("acme.test", "globex.test"));
    assert_eq!(user_ids(&acme), ["1002"]);
    assert_eq!(user_ids(&globex), ["1002"]);
    assert_ne!(
        acme.named_value("param", "a1-hash"),
        globex.named_value("param", "a1-hash")
    );
    assert_eq!(
        globex.named_value("variable", "user_context").as_deref(),
        Some("org_globex")
    );
    assert_eq!(
        globex.named_value("variable", "lpbx_org").as_deref(),
        Some("globex")
    );
    // globex has no music of its own: the default plays, never acme's.
    assert_eq!(
        globex.named_value("variable", "hold_music").as_deref(),
        Some("local_stream://default")
    );
    assert_eq!(
        acme.named_value("variable", "hold_music").as_deref(),
        Some("local_stream://acme_moh")
    );
}

#[test]
fn users_carry_a1_hash_pin_and_no_password_or_cache_attribute() {
    let (_, tree) = ask(&fixture(REGISTER));
    let params = tree.named("param");
    let names: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"a1-hash") && names.contains(&"vm-password"));
    assert!(!names.contains(&"password"), "never a plain password");
    assert_eq!(
        tree.named_value("param", "allow-empty-password").as_deref(),
        Some("false")
    );
    assert!(tree
        .find_all("user")
        .iter()
        .all(|u| u.attr("cacheable").is_none()));
    // Only DIDs the org owns become caller IDs.
    assert_eq!(
        tree.named_value("variable", "outbound_caller_id_number")
            .as_deref(),
        Some("+15550100100")
    );
}

#[test]
fn actions_we_do_not_serve_get_no_user() {
    let body = with_param(&fixture(USER_CALL), "action", "reverse-auth-lookup");
    let (a, t) = ask(&body);
    refused(&a, &t);
    let body = with_param(&fixture(USER_CALL), "action", "something-new");
    let (a, t) = ask(&body);
    refused(&a, &t);
}

#[test]
fn gateways_go_only_to_the_external_profile_and_only_for_active_orgs() {
    let (a, t) = ask(&fixture("04_directory_gateways_profile_launch.txt"));
    let names: Vec<&str> = t
        .find_all("gateway")
        .iter()
        .filter_map(|g| g.attr("name"))
        .collect();
    assert_eq!(
        names,
        ["acme.in", "globex.in", "globex.out"],
        "same-as-inbound adds no .out; suspended initech has none"
    );
    assert_eq!(
        a.reason,
        Reason::Gateways {
            gateways: 3,
            omitted_orgs: 0
        }
    );
    for gw in t.find_all("gateway") {
        let context = gw.named_value("param", "context");
        assert_eq!(context.as_deref(), Some("public"));
    }
    let (a, t) = ask(&fixture("31_directory_gateways_on_internal_rescan.txt"));
    assert!(
        t.find_all("gateway").is_empty(),
        "internal never gets gateways"
    );
    assert_eq!(
        a.reason,
        Reason::Gateways {
            gateways: 0,
            omitted_orgs: 0
        }
    );
    let (_, t) = ask(&without_param(
        &fixture("04_directory_gateways_profile_launch.txt"),
        "profile",
    ));
    assert!(t.find_all("gateway").is_empty());
}

#[test]
fn gateways_of_one_domain() {
    let body = fixture("04_directory_gateways_profile_launch.txt");
    let one = |profile: &str, domain: &str| {
        let b = with_param(
            &with_param(&with_param(&body, "tag_name", "domain"), "key_name", "name"),
            "key_value",
            domain,
        );
        ask(&with_param(&b, "profile", profile))
    };
    let (_, t) = one("external", "acme.test");
    assert_eq!(t.find_all("gateway").len(), 1);
    let (_, t) = one("internal", "acme.test");
    assert!(t.find_all("gateway").is_empty());
    let (_, t) = one("external", "initech.test");
    assert!(t.find_all("gateway").is_empty());
    let (a, _) = one("external", "nobody.test");
    assert_eq!(a.xml, NOT_FOUND);
}

#[test]
fn many_orgs_are_cut_at_the_size_limit_by_whole_orgs() {
    let mut views = Vec::new();
    for i in 0..200 {
        let mut input = globex_input();
        input.slug = domain::OrgSlug::parse(&format!("org{i}")).unwrap();
        input.domain = domain::SipDomain::parse(&format!("org{i}.test")).unwrap();
        input.dids = vec![];
        views.push(OrgView::new(input));
    }
    let lookup = MemoryLookup::new(views).unwrap();
    let mut settings = settings();
    settings.max_answer_bytes = 64 * 1024;
    let req_body = fixture("04_directory_gateways_profile_launch.txt");
    let req = freeswitch::Request::parse(req_body.as_bytes()).unwrap();
    let a = freeswitch::answer(&req, &lookup, &settings, &freeswitch::AllowAll);
    let tree = check_document(&a.xml);
    assert!(a.xml.len() <= settings.max_answer_bytes);
    let Reason::Gateways {
        gateways,
        omitted_orgs,
    } = a.reason
    else {
        panic!("{:?}", a.reason)
    };
    assert!(omitted_orgs > 0 && gateways > 0);
    assert_eq!(tree.find_all("gateway").len(), gateways);
    assert_eq!(gateways, 2 * (200 - omitted_orgs), "whole orgs only");
}

#[test]
fn carrier_acl_lists_active_blocks_with_pseudo_user_ids() {
    let body =
        fixture("05_directory_network_list.txt").replace("127.0.0.1", "trunks.littlepbx.invalid");
    let (a, t) = ask(&body);
    assert_eq!(
        a.reason,
        Reason::NetworkList {
            blocks: 4,
            omitted: 0
        }
    );
    let users: Vec<(String, String)> = t
        .find_all("user")
        .iter()
        .map(|u| {
            (
                u.attr("id").unwrap().to_owned(),
                u.attr("cidr").unwrap().to_owned(),
            )
        })
        .collect();
    assert!(users.contains(&("acme.in.1".into(), "203.0.113.0/24".into())));
    assert!(
        !users.iter().any(|(id, _)| id.starts_with("initech")),
        "suspended orgs are not listed"
    );
    // Any other domain in acl.conf is not ours.
    let (a, _) = ask(&fixture("05_directory_network_list.txt"));
    assert_eq!(a.xml, NOT_FOUND);
}

#[test]
fn trunk_pseudo_users_never_authenticate() {
    let register = with_param(
        &fixture(REGISTER).replace("acme.test", "trunks.littlepbx.invalid"),
        "user",
        "acme.in.1",
    );
    let register = with_param(&register, "sip_auth_username", "acme.in.1");
    let (a, t) = ask(&register);
    refused(&a, &t);
    assert_eq!(a.auth, AuthCheck::Refused);
    for action in ["user_call", "voicemail-lookup", "message-count"] {
        let body = with_param(
            &fixture(USER_CALL).replace("acme.test", "trunks.littlepbx.invalid"),
            "user",
            "acme.in.1",
        );
        let (a, t) = ask(&with_param(&body, "action", action));
        refused(&a, &t);
    }
}

#[test]
fn trunk_pseudo_user_marks_the_call_and_keeps_it_in_public() {
    let exists =
        fixture("12_directory_user_exists.txt").replace("acme.test", "trunks.littlepbx.invalid");
    let (a, t) = ask(&with_param(&exists, "user", "globex.out.1"));
    assert_eq!(a.reason, Reason::TrunkUser);
    assert_eq!(
        t.named_value("variable", "user_context").as_deref(),
        Some("public")
    );
    assert_eq!(
        t.named_value("variable", "lpbx_trunk_org").as_deref(),
        Some("globex")
    );
    assert!(
        t.named_value("param", "a1-hash").is_none() && t.named_value("param", "password").is_none()
    );
    for unknown in ["globex.out.2", "initech.in.1", "nobody.in.1", "1001"] {
        let (a, t) = ask(&with_param(&exists, "user", unknown));
        refused(&a, &t);
    }
}

#[test]
fn domain_only_lookup_has_no_users_and_suspended_gets_bare_domain() {
    let body = without_param(
        &without_param(&fixture("12_directory_user_exists.txt"), "key"),
        "user",
    );
    let (a, t) = ask(&body);
    assert_eq!(a.reason, Reason::Domain);
    assert!(user_ids(&t).is_empty());
    assert_eq!(
        t.named_value("param", "dial-string").as_deref(),
        Some(freeswitch::DIAL_STRING)
    );
    let (a, t) = ask(&body.replace("acme.test", "initech.test"));
    refused(&a, &t);
}

#[test]
fn only_authentication_answers_carry_the_unrouted_call_guard() {
    let guard = |tree: &Element| {
        tree.find_all("variable")
            .iter()
            .filter(|v| v.attr("name") == Some("execute_on_answer_lpbx_unrouted"))
            .map(|v| v.attr("value").unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    };
    // The phone's own call: hung up when answered unless the org dialplan removed the guard.
    let (_, t) = ask(&fixture(INVITE));
    assert_eq!(guard(&t), ["hangup CALL_REJECTED"]);
    // The leg that rings a phone (user_call) must not carry it: it is answered by the phone.
    let (a, t) = ask(&fixture(USER_CALL));
    assert_eq!(a.reason, Reason::User);
    assert!(guard(&t).is_empty(), "{}", a.xml);
}

/// The leg that rings a phone (`user_call`) carries the org's domain as `domain_name`, so that a
/// blind transfer of that leg passes the dialplan's guard; an authentication answer does not
/// (sofia sets it from the realm), so every REGISTER's answer stays as it was.
#[test]
fn only_the_leg_that_rings_a_phone_gets_its_domain_name() {
    let (_, t) = ask(&fixture(USER_CALL));
    assert_eq!(
        t.named_value("variable", "domain_name").as_deref(),
        Some("acme.test")
    );
    for auth in [INVITE, REGISTER] {
        let (a, t) = ask(&fixture(auth));
        assert_eq!(a.reason, Reason::User);
        assert_eq!(t.named_value("variable", "domain_name"), None, "{auth}");
    }
}
