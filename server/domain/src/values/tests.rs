//! Tests of the value types: what each accepts and refuses, and the a1-hash and digest response.

use super::*;

#[test]
fn extension_numbers() {
    assert!(ExtensionNumber::parse("101").is_ok());
    assert_eq!(ExtensionNumber::parse(" 42 ").unwrap().as_str(), "42");
    for bad in ["1", "123456", "0101", "1a1", "*97", "", "10 1", "١٠١"] {
        assert!(ExtensionNumber::parse(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn e164_numbers() {
    assert_eq!(
        E164::parse("+1 (555) 010-0100").unwrap().as_str(),
        "+15550100100"
    );
    assert_eq!(E164::parse("+15550100100").unwrap().digits(), "15550100100");
    for bad in [
        "15550100100",
        "+0123456789",
        "+12",
        "+1555010010012345",
        "+1555a",
        "+",
    ] {
        assert!(E164::parse(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn external_numbers() {
    for good in ["911", "+4930123456", "030 123456"] {
        assert!(ExternalNumber::parse(good).is_ok(), "{good:?} refused");
    }
    for bad in [
        "12",
        "${sofia_contact(*)}",
        "1234567890123456",
        "+",
        "12;34",
    ] {
        assert!(ExternalNumber::parse(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn sip_domains() {
    assert_eq!(
        SipDomain::parse("PBX.Acme.localhost").unwrap().as_str(),
        "pbx.acme.localhost"
    );
    for bad in [
        "acme", "-a.b", "a..b", "a_b.c", "10.0.0.1", "a.b/c", "a.b${x}", "",
    ] {
        assert!(SipDomain::parse(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn slugs() {
    assert!(OrgSlug::parse("acme").is_ok());
    assert!(OrgSlug::parse("acme-2").is_ok());
    for bad in [
        "a",
        "2acme",
        "acme-",
        "ac--me",
        "Acme",
        "admin",
        "acme.corp",
        "a_b",
    ] {
        assert!(OrgSlug::parse(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn emails() {
    assert_eq!(
        Email::parse("Ann@Example.COM").unwrap().as_str(),
        "ann@example.com"
    );
    assert!(Email::parse("admin@localhost").is_ok());
    for bad in [
        "ann",
        "ann@",
        "@x.com",
        "a b@x.com",
        "a\"b@x.com",
        "ann@x",
        "a<b>@x.com",
    ] {
        assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn display_names() {
    assert!(DisplayName::parse("José Müller (Sales)").is_ok());
    for bad in [
        "",
        "a\u{7}b",
        "${x}",
        "<b>",
        "a\"b",
        "x".repeat(41).as_str(),
        "back\\slash",
    ] {
        assert!(DisplayName::parse(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn a1_hash_matches_freeswitch_definition() {
    let user = ExtensionNumber::parse("1001").unwrap();
    let domain = SipDomain::parse("acme.test").unwrap();
    let a1 = A1Hash::compute(&user, &domain, "secret");
    assert_eq!(a1.as_str(), md5_hex("1001:acme.test:secret"));
    assert!(a1.matches_password(&user, &domain, "secret"));
    assert!(!a1.matches_password(&user, &domain, "Secret"));
}

#[test]
fn digest_response_follows_rfc_2617() {
    // RFC 2617 section 3.5 example, with the a1 of "Mufasa:testrealm@host.com:Circle Of Life".
    let a1 = A1Hash(md5_hex("Mufasa:testrealm@host.com:Circle Of Life"));
    let params = DigestParams {
        method: "GET",
        uri: "/dir/index.html",
        nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        nc: "00000001",
        cnonce: "0a4f113b",
        qop: Some("auth"),
    };
    assert_eq!(
        a1.digest_response(&params),
        "6629fae49393a05397450978507c4ef1"
    );
    assert!(a1.verifies_digest(&params, "6629FAE49393A05397450978507C4EF1"));
    assert!(!a1.verifies_digest(&params, "6629fae49393a05397450978507c4ef2"));
}

#[test]
fn company_names() {
    assert!(CompanyName::parse("Acme & Sons, Inc.").is_ok());
    for bad in ["", "a\nb", "${x}", "<script>", &"x".repeat(101)] {
        assert!(CompanyName::parse(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn ring_seconds_bounds() {
    assert!(RingSeconds::parse(4).is_err());
    assert!(RingSeconds::parse(121).is_err());
    assert_eq!(RingSeconds::parse(20).unwrap().get(), 20);
}
