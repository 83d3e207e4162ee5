//! Chatplan (SIP MESSAGE) and configuration (local_stream.conf) answers.

use freeswitch::{MemoryLookup, OrgView, Reason, NOT_FOUND};

use crate::common::*;
use crate::golden::chat_body;

fn delivered(tree: &Element) -> bool {
    let actions = tree.actions();
    assert_eq!(
        actions[0], "set final_delivery=true",
        "always, or the core delivers anyway"
    );
    actions == ["set final_delivery=true", "send sip"]
}

#[test]
fn messages_are_delivered_inside_one_org_only() {
    let (a, t) = ask(&chat_body(("1001", "acme.test"), ("1002", "acme.test")));
    assert_eq!(a.reason, Reason::Chatplan);
    assert!(delivered(&t));
    let (_, t) = ask(&chat_body(("1001", "globex.test"), ("1002", "globex.test")));
    assert!(delivered(&t));
    for (from, to) in [
        (("1001", "acme.test"), ("1002", "globex.test")),
        (("1001", "globex.test"), ("1002", "acme.test")),
        (("1001", "acme.test"), ("1009", "acme.test")),
        (("1009", "acme.test"), ("1002", "acme.test")),
        (("1001", "nobody.test"), ("1002", "acme.test")),
        (("1001", "initech.test"), ("1001", "initech.test")),
    ] {
        let (a, t) = ask(&chat_body(from, to));
        assert!(
            matches!(a.reason, Reason::ChatplanRefused(_)),
            "{from:?} -> {to:?}"
        );
        assert!(!delivered(&t));
    }
}

#[test]
fn a_proto_prefix_in_the_to_user_cannot_redirect_a_message() {
    // Sofia turns To user `sip+1002+globex.test` into to=1002@globex.test.
    let body = chat_body(("1001", "acme.test"), ("1002", "acme.test"));
    let body = with_param(
        &with_param(&body, "to", "1002@globex.test"),
        "to_user",
        "sip+1002+globex.test",
    );
    let (a, t) = ask(&body);
    assert!(matches!(a.reason, Reason::ChatplanRefused(_)));
    assert!(!delivered(&t));
    let body = with_param(
        &chat_body(("1001", "acme.test"), ("1002", "acme.test")),
        "to",
        "1002@globex.test",
    );
    assert!(!delivered(&ask(&body).1));
}

#[test]
fn the_answer_uses_the_requested_context_or_global() {
    let body = chat_body(("1001", "acme.test"), ("1002", "acme.test"));
    let name = |b: &str| {
        ask(b).1.find_all("context")[0]
            .attr("name")
            .unwrap()
            .to_owned()
    };
    assert_eq!(name(&body), "public");
    assert_eq!(name(&with_param(&body, "context", "de fault")), "global");
    assert_eq!(name(&without_param(&body, "context")), "default");
}

#[test]
fn only_local_stream_conf_is_served() {
    for name in [
        "sofia.conf",
        "cdr_csv.conf",
        "acl.conf",
        "xml_curl.conf",
        "local_stream.conf.bak",
    ] {
        let body = with_param(&fixture("01_config_cdr_csv_startup.txt"), "key_value", name);
        assert_eq!(ask(&body).0.xml, NOT_FOUND, "{name}");
    }
}

#[test]
fn local_stream_lists_the_default_and_each_org_with_music() {
    let body = with_param(
        &fixture("01_config_cdr_csv_startup.txt"),
        "key_value",
        "local_stream.conf",
    );
    let (a, t) = ask(&body);
    assert_eq!(
        a.reason,
        Reason::LocalStream {
            streams: 4,
            omitted_orgs: 0
        }
    );
    let dirs: Vec<(String, String)> = t
        .find_all("directory")
        .iter()
        .map(|d| {
            (
                d.attr("name").unwrap().to_owned(),
                d.attr("path").unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        dirs,
        [
            (
                "default/8000".to_owned(),
                "/usr/share/freeswitch/sounds/music/8000".to_owned()
            ),
            (
                "default/16000".to_owned(),
                "/usr/share/freeswitch/sounds/music/16000".to_owned()
            ),
            (
                "acme_moh/8000".to_owned(),
                "/var/lib/littlepbx/moh/acme/8000".to_owned()
            ),
            (
                "acme_moh/16000".to_owned(),
                "/var/lib/littlepbx/moh/acme/16000".to_owned()
            ),
        ]
    );
    // Music off, or an unsafe path: no stream, and the org's hold music is silence/default.
    let mut off = acme_input();
    off.config.options.moh_enabled = false;
    let mut bad_path = globex_input();
    bad_path.moh_dir = Some("/music/../../etc".into());
    let views = vec![OrgView::new(off), OrgView::new(bad_path)];
    assert_eq!(views[1].problems().len(), 1);
    let lookup = MemoryLookup::new(views).unwrap();
    let (a, _) = ask_with(&body, &lookup, &freeswitch::AllowAll);
    assert_eq!(
        a.reason,
        Reason::LocalStream {
            streams: 2,
            omitted_orgs: 0
        }
    );
    let (_, t) = ask_with(
        &fixture("22_directory_user_call_bridge_user_1002.txt"),
        &lookup,
        &freeswitch::AllowAll,
    );
    assert_eq!(
        t.named_value("variable", "hold_music").as_deref(),
        Some("silence_stream://-1")
    );
}

/// sofia's nightmare transfer (every REFER with Replaces) asks `channels` for what to call.
/// Without what the server reads over the event socket (the generic entry point has none),
/// whatever the request says, the answer is a dial string that fails.
#[test]
fn channels_lookups_without_channel_facts_get_a_failing_dial_string() {
    let nightmare = "hostname=fs&section=channels&tag_name=&key_name=&key_value=&purpose=nightmare_xfer&profile=internal&refer-to-user=%2B88212345&refer-to-host=127.0.0.1&refer-to-params=&refer-to-headers=Replaces%3Dnosuchcall&replaces-call-id=nosuchcall&refer-from-channel-id=a&refer-for-channel-id=b";
    let other = "hostname=fs&section=channels&tag_name=&key_name=&key_value=";
    let hostile = "hostname=fs&section=channels&tag_name=&key_name=&key_value=&purpose=nightmare_xfer&refer-to-user=%22%2F%3E%3Cparam+name%3D%22sip-url%22+value%3D%22x&refer-to-host=pbx.acme.localhost";
    for (body, why) in [
        (nightmare, "the transferring channel is gone"),
        (hostile, "the transferring channel is gone"),
        (other, "unknown channels lookup"),
    ] {
        let (a, t) = ask(body);
        assert_eq!(a.reason, Reason::TransferRefused(why), "{body}");
        assert!(a.reason.is_refusal());
        let section = &t.find_all("section")[0];
        assert_eq!(section.attr("name"), Some("channels"));
        let all_params = section.find_all("params");
        assert_eq!(all_params.len(), 1);
        let params = all_params[0];
        let named: Vec<(String, String)> = params
            .find_all("param")
            .iter()
            .map(|p| {
                (
                    p.attr("name").unwrap().to_owned(),
                    p.attr("value").unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            named,
            [
                ("dial-prefix".to_owned(), String::new()),
                (
                    "absolute-dial-string".to_owned(),
                    "error/CALL_REJECTED".to_owned()
                )
            ]
        );
    }
}
