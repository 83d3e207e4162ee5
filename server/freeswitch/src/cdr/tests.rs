//! Tests of the `mod_json_cdr` record parser: the body encodings, URL-encoded values, the order
//! of the callflow profiles and the org a record is attributed to.

use super::*;

#[test]
fn bodies_in_the_three_encodings() {
    let json = br#"{"variables":{"uuid":"a+b"}}"#;
    assert_eq!(json_of_body(json).unwrap(), json.to_vec());
    assert_eq!(
        json_of_body(b"  \n{\"x\":1}").unwrap(),
        b"{\"x\":1}".to_vec()
    );
    let form = b"cdr=%7B%22variables%22%3A%7B%22uuid%22%3A%22a%2Bb%22%7D%7D";
    assert_eq!(json_of_body(form).unwrap(), json.to_vec());
    let b64 = format!("cdr={}", STANDARD.encode(json));
    assert!(b64.contains('+') || b64.contains('/') || b64.ends_with('='));
    assert_eq!(json_of_body(b64.as_bytes()).unwrap(), json.to_vec());
    assert!(
        json_of_body(b"cdr=bm90IGpzb24=").is_err(),
        "base64 of 'not json'"
    );
    assert!(json_of_body(b"").is_err());
}

#[test]
fn url_encoded_values_are_detected() {
    let raw = [
        "2026-11-28 09:15:02",
        "sofia/internal/101@pbx.acme.localhost",
        "101",
    ];
    assert!(!values_are_url_encoded(raw.iter().copied()));
    let encoded = [
        "2026-11-28%2009%3A15%3A02",
        "sofia/internal/101%40pbx.acme.localhost",
        "101",
    ];
    assert!(values_are_url_encoded(encoded.iter().copied()));
    // Nothing to decode either way.
    assert!(!values_are_url_encoded(["101", "acme"].iter().copied()));
    // A raw value with a lone percent sign is raw.
    assert!(!values_are_url_encoded(["100%", "x%41"].iter().copied()));
    assert_eq!(url_decode("a%20b%2Bc%40d%C3%BC%"), "a b+c@d\u{fc}%");
    assert_eq!(url_decode("100%zz"), "100%zz");
}

#[test]
fn profiles_are_ordered_oldest_first() {
    let flow: Vec<Value> = serde_json::from_str(
        r#"[{"profile_index":"2","caller_profile":{"context":"org_acme_inbound","destination_number":"101"}},
                {"profile_index":"1","caller_profile":{"context":"public","destination_number":"15550100100"}}]"#,
    )
    .unwrap();
    let p = ordered_profiles(&flow);
    assert_eq!(p[0].context, "public");
    assert_eq!(p[1].destination, "101");
    // Without indexes: FreeSWITCH's document order, newest first.
    let flow: Vec<Value> = serde_json::from_str(
        r#"[{"caller_profile":{"context":"b"}}, {"caller_profile":{"context":"a"}}]"#,
    )
    .unwrap();
    assert_eq!(ordered_profiles(&flow)[0].context, "a");
}

#[test]
fn attribution_needs_an_existing_looking_marker_and_matching_contexts() {
    let json = |marker: &str, context: &str| {
        format!(
            r#"{{"variables":{{"uuid":"u1","lpbx_org":"{marker}","start_uepoch":"1790000000000000"}},
                    "callflow":[{{"profile_index":"1","caller_profile":{{"context":"{context}","destination_number":"102"}},
                    "times":{{"created_time":"1790000000000000","answered_time":"0","bridged_time":"0","hangup_time":"1790000005000000"}}}}]}}"#
        )
    };
    let record = parse(json("acme", "org_acme").as_bytes(), None, "public").unwrap();
    assert_eq!(
        record.attribution(),
        Attribution::Org(OrgSlug::parse("acme").unwrap())
    );
    assert_eq!(record.cdr.direction, CdrDirection::Internal);
    assert_eq!(
        (record.cdr.start_ms, record.cdr.end_ms),
        (1_790_000_000_000, 1_790_000_005_000)
    );
    assert!(!record.cdr.answered);
    let foreign = parse(json("acme", "org_globex").as_bytes(), None, "public").unwrap();
    assert!(matches!(foreign.attribution(), Attribution::Orphan(_)));
    let blank = parse(json(" ", "org_acme").as_bytes(), None, "public").unwrap();
    assert!(matches!(blank.attribution(), Attribution::Orphan(r) if r.contains("no org marker")));
}
