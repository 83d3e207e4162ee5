//! Search filters evaluated over one entry.
//!
//! Two-valued: an assertion on an attribute the entry lacks is false. Values compare
//! case-insensitively with runs of spaces as one space; `telephoneNumber` and `uid` compare
//! ignoring spaces and dashes (the telephoneNumberMatch rule). Approximate match is equality.
//! Ordering (`>=`, `<=`) compares digit strings as numbers and other values as text.

use std::cmp::Ordering;

use ldap3_proto::proto::{LdapFilter, LdapSubstringFilter};

use crate::record::Record;

/// Whether `record` matches `filter`.
pub(crate) fn matches(filter: &LdapFilter, record: &Record) -> bool {
    match filter {
        LdapFilter::And(all) => all.iter().all(|f| matches(f, record)),
        LdapFilter::Or(any) => any.iter().any(|f| matches(f, record)),
        LdapFilter::Not(f) => !matches(f, record),
        LdapFilter::Present(attr) => record.get(attr).is_some(),
        LdapFilter::Equality(attr, value) | LdapFilter::Approx(attr, value) => {
            any_value(record, attr, |kind, v| {
                normalize(kind, v) == normalize(kind, value)
            })
        }
        LdapFilter::Substring(attr, sub) => {
            any_value(record, attr, |kind, v| substring(kind, v, sub))
        }
        LdapFilter::GreaterOrEqual(attr, value) => any_value(record, attr, |kind, v| {
            order(kind, v, value) != Ordering::Less
        }),
        LdapFilter::LessOrEqual(attr, value) => any_value(record, attr, |kind, v| {
            order(kind, v, value) != Ordering::Greater
        }),
        LdapFilter::Extensible(_) => false,
    }
}

/// How an attribute's values compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Case-insensitive text, runs of spaces as one.
    Text,
    /// A number: spaces and dashes ignored.
    Phone,
}

fn kind(attr: &str) -> Kind {
    if attr.eq_ignore_ascii_case("telephoneNumber") || attr.eq_ignore_ascii_case("uid") {
        Kind::Phone
    } else {
        Kind::Text
    }
}

/// Whether any value of the record's attribute `attr` satisfies `test`.
fn any_value(record: &Record, attr: &str, test: impl Fn(Kind, &str) -> bool) -> bool {
    let kind = kind(attr);
    record
        .get(attr)
        .is_some_and(|a| a.values.iter().any(|v| test(kind, v)))
}

fn normalize(kind: Kind, value: &str) -> String {
    match kind {
        Kind::Text => value
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase(),
        Kind::Phone => phone(value),
    }
}

fn phone(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_lowercase()
}

/// A piece of a substring assertion: lower case, runs of spaces as one (not trimmed: a space
/// at a piece's edge is part of what is asked for).
fn piece(kind: Kind, value: &str) -> String {
    match kind {
        Kind::Text => {
            let mut out = String::with_capacity(value.len());
            let mut space = false;
            for c in value.chars() {
                if c.is_whitespace() {
                    if !space {
                        out.push(' ');
                    }
                    space = true;
                } else {
                    out.extend(c.to_lowercase());
                    space = false;
                }
            }
            out
        }
        Kind::Phone => phone(value),
    }
}

fn substring(kind: Kind, value: &str, sub: &LdapSubstringFilter) -> bool {
    let value = normalize(kind, value);
    let mut rest = value.as_str();
    if let Some(initial) = &sub.initial {
        let initial = piece(kind, initial);
        match rest.strip_prefix(initial.as_str()) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    for any in &sub.any {
        let any = piece(kind, any);
        match rest.find(any.as_str()) {
            Some(at) => rest = &rest[at + any.len()..],
            None => return false,
        }
    }
    match &sub.final_ {
        Some(last) => rest.ends_with(piece(kind, last).as_str()),
        None => true,
    }
}

fn order(kind: Kind, value: &str, assertion: &str) -> Ordering {
    let (a, b) = (normalize(kind, value), normalize(kind, assertion));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if digits(&a) && digits(&b) {
        let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    } else {
        a.cmp(&b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{organization, person};
    use crate::Entry;
    use ldap3_proto::parse_ldap_filter_str;

    fn rec(number: &str, name: &str) -> Record {
        person(
            "acme",
            &Entry {
                number: number.into(),
                display_name: name.into(),
            },
        )
    }

    fn book() -> Vec<Record> {
        vec![
            rec("101", "Ann Smith"),
            rec("102", "Bob Annan"),
            rec("103", "Zoë O'Brien"),
            rec("110", "Reception"),
            rec("201", "Mary Ann Jones"),
        ]
    }

    /// The numbers of the book's entries matching `filter` (in the LDAP string form).
    fn numbers(filter: &str) -> Vec<String> {
        let f = parse_ldap_filter_str(filter).unwrap();
        numbers_of(&f)
    }

    fn numbers_of(f: &LdapFilter) -> Vec<String> {
        book()
            .iter()
            .filter(|r| matches(f, r))
            .map(|r| r.get("uid").unwrap().values[0].clone())
            .collect()
    }

    #[test]
    fn equality_is_case_insensitive_on_names() {
        assert_eq!(numbers("(cn=reception)"), ["110"]);
        assert_eq!(numbers("(CN=RECEPTION)"), ["110"]);
        assert_eq!(numbers("(sn=smith)"), ["101"]);
        assert_eq!(numbers("(givenName=ann)"), ["101"]);
        assert_eq!(numbers("(sn=o'brien)"), ["103"]);
        assert_eq!(numbers("(sn=ZOË)"), Vec::<String>::new());
        assert_eq!(numbers("(givenName=ZOË)"), ["103"]);
        let spaced = LdapFilter::Equality("displayName".into(), "mary  ann   JONES".into());
        assert_eq!(numbers_of(&spaced), ["201"]);
        assert_eq!(numbers("(cn=Ann)"), Vec::<String>::new());
    }

    #[test]
    fn telephone_numbers_ignore_spaces_and_dashes() {
        let f = LdapFilter::Equality("telephoneNumber".into(), "1-0 1".into());
        assert_eq!(numbers_of(&f), ["101"]);
        assert_eq!(numbers("(telephonenumber=101)"), ["101"]);
        assert_eq!(numbers("(uid=110)"), ["110"]);
        let sub = LdapFilter::Substring(
            "telephoneNumber".into(),
            LdapSubstringFilter {
                initial: Some("1-".into()),
                any: vec![],
                final_: None,
            },
        );
        assert_eq!(numbers_of(&sub), ["101", "102", "103", "110"]);
    }

    #[test]
    fn substrings() {
        assert_eq!(numbers("(cn=Ann*)"), ["101"]);
        assert_eq!(numbers("(cn=*ann*)"), ["101", "102", "201"]);
        assert_eq!(numbers("(cn=*nes)"), ["201"]);
        assert_eq!(numbers("(cn=M*Ann*es)"), ["201"]);
        assert_eq!(numbers("(cn=*o'b*)"), ["103"]);
        // The pieces do not overlap: "Ann Smith" does not match Ann*nn*.
        assert_eq!(numbers("(cn=Ann*nn*)"), Vec::<String>::new());
        assert_eq!(numbers("(cn=Bob*an*an)"), ["102"]);
        assert_eq!(numbers("(cn=Bo*ob)"), Vec::<String>::new());
        assert_eq!(
            numbers("(telephoneNumber=*10*)"),
            ["101", "102", "103", "110"]
        );
        assert_eq!(numbers("(telephoneNumber=*01)"), ["101", "201"]);
        assert_eq!(numbers("(telephoneNumber=2*)"), ["201"]);
        let spaced = LdapFilter::Substring(
            "cn".into(),
            LdapSubstringFilter {
                initial: Some("mary ann ".into()),
                any: vec![],
                final_: None,
            },
        );
        assert_eq!(numbers_of(&spaced), ["201"]);
    }

    #[test]
    fn presence() {
        assert_eq!(numbers("(objectClass=*)").len(), 5);
        assert_eq!(numbers("(givenName=*)"), ["101", "102", "103", "201"]);
        assert_eq!(numbers("(mobile=*)"), Vec::<String>::new());
        assert!(matches(
            &parse_ldap_filter_str("(objectClass=*)").unwrap(),
            &organization("acme")
        ));
        assert!(!matches(
            &parse_ldap_filter_str("(objectClass=person)").unwrap(),
            &organization("acme")
        ));
    }

    #[test]
    fn ordering() {
        assert_eq!(numbers("(telephoneNumber>=110)"), ["110", "201"]);
        assert_eq!(numbers("(telephoneNumber<=102)"), ["101", "102"]);
        assert_eq!(numbers("(uid>=99)").len(), 5);
        assert_eq!(numbers("(sn>=R)"), ["101", "110"]);
        assert_eq!(numbers("(sn<=a)"), Vec::<String>::new());
        assert_eq!(numbers("(sn<=b)"), ["102"]);
    }

    #[test]
    fn approx_is_equality() {
        let f = LdapFilter::Approx("cn".into(), "ann  SMITH".into());
        assert_eq!(numbers_of(&f), ["101"]);
        assert_eq!(numbers("(sn~=SMITH)"), ["101"]);
    }

    #[test]
    fn boolean_operators() {
        assert_eq!(numbers("(&(cn=*ann*)(telephoneNumber=1*))"), ["101", "102"]);
        assert_eq!(numbers("(|(sn=Smith)(uid=110))"), ["101", "110"]);
        assert_eq!(numbers("(!(cn=*ann*))"), ["103", "110"]);
        assert_eq!(numbers("(&(!(uid=101))(cn=Ann*))"), Vec::<String>::new());
    }

    #[test]
    fn unknown_attributes_never_match() {
        assert_eq!(numbers("(mobile=101)"), Vec::<String>::new());
        assert_eq!(numbers("(mobile=1*)"), Vec::<String>::new());
        assert_eq!(numbers("(mobile>=1)"), Vec::<String>::new());
        // Two-valued: the negation of an absent attribute's assertion is true.
        assert_eq!(numbers("(!(mobile=101))").len(), 5);
    }

    #[test]
    fn extensible_match_never_matches() {
        assert_eq!(
            numbers("(cn:caseExactMatch:=Reception)"),
            Vec::<String>::new()
        );
        assert_eq!(numbers("(cn:=Reception)"), Vec::<String>::new());
    }

    #[test]
    fn phone_filters() {
        // Yealink: a name prefix.
        assert_eq!(numbers("(|(cn=Ann*)(sn=Ann*))"), ["101", "102"]);
        // Number lookup of an incoming call.
        assert_eq!(numbers("(|(telephoneNumber=101)(mobile=101))"), ["101"]);
        assert_eq!(
            numbers("(|(telephoneNumber=999)(mobile=999))"),
            Vec::<String>::new()
        );
        // Poly.
        assert_eq!(
            numbers("(&(objectClass=person)(|(cn=*ann*)(telephoneNumber=*10*)))"),
            ["101", "102", "103", "110", "201"]
        );
        assert_eq!(
            numbers("(&(objectClass=person)(|(cn=*ann*)(telephoneNumber=*01*)))"),
            ["101", "102", "201"]
        );
        assert_eq!(
            numbers("(&(objectClass=person)(|(cn=*rec*)(telephoneNumber=*03*)))"),
            ["103", "110"]
        );
        assert_eq!(
            numbers("(&(objectClass=organization)(|(cn=*ann*)(telephoneNumber=*10*)))"),
            Vec::<String>::new()
        );
        // Grandstream, `%` replaced by what was typed.
        assert_eq!(numbers("(|(cn=Re*)(telephoneNumber=Re*))"), ["110"]);
        assert_eq!(numbers("(|(cn=20*)(telephoneNumber=20*))"), ["201"]);
        // Everyone.
        assert_eq!(numbers("(|(cn=*)(telephoneNumber=*))").len(), 5);
    }
}
