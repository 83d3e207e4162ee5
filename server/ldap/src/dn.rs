//! The few DNs this server knows: bind DNs and search bases.
//!
//! Only simple DNs are understood: `attr=value` pairs separated by commas, spaces around `=`
//! and `,` tolerated, attribute names case-insensitive. A DN with escapes, quotes or
//! multi-valued RDNs names nothing here.

use crate::BindDn;

/// What a search base names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Base {
    /// `""`: the root DSE.
    Root,
    /// `o=<org>`.
    Org(String),
    /// `uid=<number>,o=<org>`.
    Person { org: String, number: String },
    /// Anything else.
    Other,
}

/// Parses `cn=phonebook,o=<org>` and `uid=<number>,o=<org>` (also `cn=<number>,o=<org>`).
///
/// Attribute names are case-insensitive and spaces around `=` and `,` are tolerated. `<org>` is
/// a slug, `[a-z0-9-]{1,63}` (compared case-insensitively, returned in lower case); `<number>`
/// is 1 to 20 digits. Anything else is `None`.
pub fn parse_bind_dn(dn: &str) -> Option<BindDn> {
    let rdns = rdns(dn)?;
    let [(first_attr, first_value), (o, org)] = rdns.as_slice() else {
        return None;
    };
    if o != "o" {
        return None;
    }
    let org = org_slug(org)?;
    match first_attr.as_str() {
        "cn" if first_value.eq_ignore_ascii_case("phonebook") => Some(BindDn::Phonebook { org }),
        "cn" | "uid" => Some(BindDn::Extension {
            org,
            number: number(first_value)?,
        }),
        _ => None,
    }
}

/// What the search base `dn` names.
pub(crate) fn parse_base(dn: &str) -> Base {
    if dn.trim().is_empty() {
        return Base::Root;
    }
    let Some(rdns) = rdns(dn) else {
        return Base::Other;
    };
    match rdns.as_slice() {
        [(o, org)] if o == "o" => org_slug(org).map_or(Base::Other, Base::Org),
        [(uid, num), (o, org)] if uid == "uid" && o == "o" => match (org_slug(org), number(num)) {
            (Some(org), Some(number)) => Base::Person { org, number },
            _ => Base::Other,
        },
        _ => Base::Other,
    }
}

/// The DN of the org's base.
pub(crate) fn org_dn(org: &str) -> String {
    format!("o={org}")
}

/// The DN of one person of the org.
pub(crate) fn person_dn(org: &str, number: &str) -> String {
    format!("uid={number},o={org}")
}

/// The RDNs of `dn` as (attribute name in lower case, value), or `None` when `dn` is not a
/// simple DN.
fn rdns(dn: &str) -> Option<Vec<(String, String)>> {
    if dn.contains(['\\', '"', '+', ';', '<', '>', '#', '\0']) {
        return None;
    }
    dn.split(',')
        .map(|rdn| {
            let (attr, value) = rdn.split_once('=')?;
            let (attr, value) = (attr.trim(), value.trim());
            let attr_ok = attr.starts_with(|c: char| c.is_ascii_alphabetic())
                && attr.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !attr_ok || value.is_empty() || value.contains('=') {
                return None;
            }
            Some((attr.to_ascii_lowercase(), value.to_owned()))
        })
        .collect()
}

/// An org slug, `[a-z0-9-]{1,63}`, in lower case.
fn org_slug(value: &str) -> Option<String> {
    let slug = value.to_ascii_lowercase();
    let ok = (1..=63).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    ok.then_some(slug)
}

/// An extension number: 1 to 20 ASCII digits.
fn number(value: &str) -> Option<String> {
    let ok = (1..=20).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phonebook(org: &str) -> Option<BindDn> {
        Some(BindDn::Phonebook { org: org.into() })
    }

    fn extension(org: &str, number: &str) -> Option<BindDn> {
        Some(BindDn::Extension {
            org: org.into(),
            number: number.into(),
        })
    }

    #[test]
    fn phonebook_bind_dns() {
        assert_eq!(parse_bind_dn("cn=phonebook,o=acme"), phonebook("acme"));
        assert_eq!(parse_bind_dn("CN=PhoneBook,O=acme"), phonebook("acme"));
        assert_eq!(
            parse_bind_dn(" cn = phonebook , o = acme "),
            phonebook("acme")
        );
        assert_eq!(parse_bind_dn("cn=phonebook,o=Acme-2"), phonebook("acme-2"));
    }

    #[test]
    fn extension_bind_dns() {
        assert_eq!(parse_bind_dn("uid=101,o=acme"), extension("acme", "101"));
        assert_eq!(parse_bind_dn("UID=101, o=acme"), extension("acme", "101"));
        assert_eq!(parse_bind_dn("cn=101,o=acme"), extension("acme", "101"));
        assert_eq!(
            parse_bind_dn("Cn = 4711 ,O= globex"),
            extension("globex", "4711")
        );
    }

    #[test]
    fn other_dns_are_refused() {
        for bad in [
            "",
            "o=acme",
            "cn=phonebook",
            "cn=phonebook,o=acme,dc=example",
            "cn=phonebook,dc=acme",
            "cn=admin,o=acme",
            "uid=10a,o=acme",
            "uid=,o=acme",
            "uid=101,o=",
            "uid=101,o=ac_me",
            "uid=101,o=acme.corp",
            "uid=101+cn=x,o=acme",
            "uid=10\\31,o=acme",
            "uid=\"101\",o=acme",
            "sn=101,o=acme",
            "uid=101;o=acme",
            "uid=101,o=a=b",
            "=101,o=acme",
            "uid=123456789012345678901,o=acme",
        ] {
            assert_eq!(parse_bind_dn(bad), None, "{bad:?} accepted");
        }
        let long = format!("cn=phonebook,o={}", "a".repeat(64));
        assert_eq!(parse_bind_dn(&long), None);
        let longest = format!("cn=phonebook,o={}", "a".repeat(63));
        assert!(parse_bind_dn(&longest).is_some());
    }

    #[test]
    fn search_bases() {
        assert_eq!(parse_base(""), Base::Root);
        assert_eq!(parse_base("o=acme"), Base::Org("acme".into()));
        assert_eq!(parse_base(" O = ACME "), Base::Org("acme".into()));
        assert_eq!(
            parse_base("uid=101,o=acme"),
            Base::Person {
                org: "acme".into(),
                number: "101".into()
            }
        );
        for other in [
            "cn=101,o=acme",
            "dc=example,dc=com",
            "o=acme,dc=example",
            "cn=phonebook,o=acme",
            "o=ac me",
            "garbage",
        ] {
            assert_eq!(parse_base(other), Base::Other, "{other:?}");
        }
    }

    #[test]
    fn dns_written_back() {
        assert_eq!(org_dn("acme"), "o=acme");
        assert_eq!(person_dn("acme", "101"), "uid=101,o=acme");
        let dn = BindDn::Extension {
            org: "acme".into(),
            number: "101".into(),
        };
        assert_eq!(dn.to_string(), "uid=101,o=acme");
        assert_eq!(parse_bind_dn(&dn.to_string()), Some(dn));
        assert_eq!(
            BindDn::Phonebook { org: "acme".into() }.to_string(),
            "cn=phonebook,o=acme"
        );
    }
}
