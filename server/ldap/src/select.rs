//! The attributes a search asks for.

use ldap3_proto::proto::{LdapPartialAttribute, LdapSearchResultEntry};

use crate::record::Record;

/// Which attributes of each entry a search returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Selection {
    /// An empty list or `*`.
    All,
    /// Only these (lower case); empty for `1.1` or for names none of which exist.
    Only(Vec<String>),
}

impl Selection {
    /// The selection a search's attribute list asks for: an empty list or one containing `*`
    /// means all; `1.1` alone means none; `+` (operational attributes) adds nothing, since
    /// these entries have none.
    pub fn parse(attrs: &[String]) -> Selection {
        if attrs.is_empty() || attrs.iter().any(|a| a.trim() == "*") {
            return Selection::All;
        }
        Selection::Only(
            attrs
                .iter()
                .map(|a| a.trim().to_ascii_lowercase())
                .filter(|a| a != "1.1" && a != "+")
                .collect(),
        )
    }

    fn wants(&self, name: &str) -> bool {
        match self {
            Selection::All => true,
            Selection::Only(names) => names.iter().any(|n| n.eq_ignore_ascii_case(name)),
        }
    }

    /// The search result entry of `record` with the selected attributes, their values left out
    /// when `types_only`.
    pub fn apply(&self, record: &Record, types_only: bool) -> LdapSearchResultEntry {
        LdapSearchResultEntry {
            dn: record.dn.clone(),
            attributes: record
                .attrs
                .iter()
                .filter(|a| self.wants(a.name))
                .map(|a| LdapPartialAttribute {
                    atype: a.name.to_owned(),
                    vals: if types_only {
                        Vec::new()
                    } else {
                        a.values.iter().map(|v| v.as_bytes().to_vec()).collect()
                    },
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::person;
    use crate::Entry;

    fn ann() -> Record {
        person(
            "acme",
            &Entry {
                number: "101".into(),
                display_name: "Ann Smith".into(),
            },
        )
    }

    fn select(attrs: &[&str], types_only: bool) -> LdapSearchResultEntry {
        let attrs: Vec<String> = attrs.iter().map(|a| (*a).to_owned()).collect();
        Selection::parse(&attrs).apply(&ann(), types_only)
    }

    fn names(e: &LdapSearchResultEntry) -> Vec<&str> {
        e.attributes.iter().map(|a| a.atype.as_str()).collect()
    }

    const ALL: [&str; 7] = [
        "objectClass",
        "uid",
        "cn",
        "displayName",
        "sn",
        "givenName",
        "telephoneNumber",
    ];

    #[test]
    fn empty_list_or_star_is_all() {
        assert_eq!(names(&select(&[], false)), ALL);
        assert_eq!(names(&select(&["*"], false)), ALL);
        assert_eq!(names(&select(&["cn", "*"], false)), ALL);
        assert_eq!(select(&[], false).dn, "uid=101,o=acme");
    }

    #[test]
    fn a_list_is_only_those_case_insensitively() {
        let e = select(&["CN", "telephonenumber", "mobile"], false);
        assert_eq!(names(&e), ["cn", "telephoneNumber"]);
        assert_eq!(e.attributes[0].vals, [b"Ann Smith".to_vec()]);
        assert_eq!(e.attributes[1].vals, [b"101".to_vec()]);
    }

    #[test]
    fn one_one_is_none() {
        assert!(select(&["1.1"], false).attributes.is_empty());
        assert!(select(&["+"], false).attributes.is_empty());
        assert_eq!(names(&select(&["1.1", "sn"], false)), ["sn"]);
    }

    #[test]
    fn types_only_has_no_values() {
        let e = select(&["cn", "sn"], true);
        assert_eq!(names(&e), ["cn", "sn"]);
        assert!(e.attributes.iter().all(|a| a.vals.is_empty()));
        let e = select(&["cn"], false);
        assert!(!e.attributes[0].vals.is_empty());
    }
}
