//! The LDAP entries the server returns: a person, an org, the root DSE.

use crate::dn::{org_dn, person_dn};
use crate::Entry;

/// One LDAP entry: its DN and its attributes in the order they are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub dn: String,
    pub attrs: Vec<Attr>,
}

/// One attribute: its name as sent and its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attr {
    pub name: &'static str,
    pub values: Vec<String>,
}

impl Record {
    /// The attribute named `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&Attr> {
        self.attrs
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

fn attr(name: &'static str, values: &[&str]) -> Attr {
    Attr {
        name,
        values: values.iter().map(|v| (*v).to_owned()).collect(),
    }
}

/// The entry of one person of `org`.
pub(crate) fn person(org: &str, entry: &Entry) -> Record {
    let name = entry.display_name.trim();
    let name = if name.is_empty() {
        entry.number.as_str()
    } else {
        name
    };
    let words: Vec<&str> = name.split_whitespace().collect();
    let (given, last) = match words.split_last() {
        Some((last, given)) => (given.join(" "), *last),
        None => (String::new(), name),
    };
    let mut attrs = vec![
        attr(
            "objectClass",
            &["top", "person", "organizationalPerson", "inetOrgPerson"],
        ),
        attr("uid", &[&entry.number]),
        attr("cn", &[name]),
        attr("displayName", &[name]),
        attr("sn", &[last]),
    ];
    if !given.is_empty() {
        attrs.push(attr("givenName", &[&given]));
    }
    attrs.push(attr("telephoneNumber", &[&entry.number]));
    Record {
        dn: person_dn(org, &entry.number),
        attrs,
    }
}

/// The org's own entry, `o=<org>`.
pub(crate) fn organization(org: &str) -> Record {
    Record {
        dn: org_dn(org),
        attrs: vec![
            attr("objectClass", &["top", "organization"]),
            attr("o", &[org]),
        ],
    }
}

/// The root DSE as a connection bound to `org` sees it.
pub(crate) fn root_dse(org: &str) -> Record {
    Record {
        dn: String::new(),
        attrs: vec![
            attr("objectClass", &["top"]),
            attr("namingContexts", &[&org_dn(org)]),
            attr("supportedLDAPVersion", &["3"]),
            attr("supportedExtension", &[ldap3_proto::proto::OID_WHOAMI]),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(number: &str, name: &str) -> Entry {
        Entry {
            number: number.into(),
            display_name: name.into(),
        }
    }

    fn values<'a>(record: &'a Record, name: &str) -> Option<Vec<&'a str>> {
        record
            .get(name)
            .map(|a| a.values.iter().map(String::as_str).collect())
    }

    #[test]
    fn a_person_has_the_inet_org_person_attributes() {
        let r = person("acme", &entry("101", "Mary Ann  O'Brien"));
        assert_eq!(r.dn, "uid=101,o=acme");
        assert_eq!(
            values(&r, "objectclass").unwrap(),
            ["top", "person", "organizationalPerson", "inetOrgPerson"]
        );
        assert_eq!(values(&r, "uid").unwrap(), ["101"]);
        assert_eq!(values(&r, "telephoneNumber").unwrap(), ["101"]);
        assert_eq!(values(&r, "cn").unwrap(), ["Mary Ann  O'Brien"]);
        assert_eq!(values(&r, "displayName").unwrap(), ["Mary Ann  O'Brien"]);
        assert_eq!(values(&r, "sn").unwrap(), ["O'Brien"]);
        assert_eq!(values(&r, "givenName").unwrap(), ["Mary Ann"]);
        assert_eq!(values(&r, "mobile"), None);
    }

    #[test]
    fn a_one_word_name_has_no_given_name() {
        let r = person("acme", &entry("102", "Reception"));
        assert_eq!(values(&r, "sn").unwrap(), ["Reception"]);
        assert_eq!(values(&r, "givenName"), None);
    }

    #[test]
    fn a_blank_name_is_the_number() {
        let r = person("acme", &entry("103", "  "));
        assert_eq!(values(&r, "cn").unwrap(), ["103"]);
        assert_eq!(values(&r, "sn").unwrap(), ["103"]);
        assert_eq!(values(&r, "givenName"), None);
    }

    #[test]
    fn org_and_root_entries() {
        let o = organization("acme");
        assert_eq!(o.dn, "o=acme");
        assert_eq!(values(&o, "o").unwrap(), ["acme"]);
        let root = root_dse("acme");
        assert_eq!(root.dn, "");
        assert_eq!(values(&root, "namingContexts").unwrap(), ["o=acme"]);
    }
}
