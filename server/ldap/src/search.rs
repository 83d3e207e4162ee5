//! A search of one bound org's phone book, without the socket.

use ldap3_proto::proto::{LdapFilter, LdapResultCode, LdapSearchResultEntry, LdapSearchScope};

use crate::dn::{parse_base, Base};
use crate::filter::matches;
use crate::record::{organization, person, root_dse, Record};
use crate::select::Selection;
use crate::Entry;

/// What a search asks, from the request.
#[derive(Debug, Clone)]
pub(crate) struct Query<'a> {
    pub base: &'a str,
    pub scope: LdapSearchScope,
    pub filter: &'a LdapFilter,
    pub attrs: &'a [String],
    pub types_only: bool,
    /// The client's size limit; 0 (or less) for none.
    pub size_limit: i32,
}

/// What a search answers: the entries, then the result code.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Outcome {
    pub entries: Vec<LdapSearchResultEntry>,
    pub code: LdapResultCode,
}

impl Outcome {
    fn no_such_object() -> Outcome {
        Outcome {
            entries: Vec::new(),
            code: LdapResultCode::NoSuchObject,
        }
    }
}

/// The entries that a search's base and scope name, before the filter.
enum Scope<'a> {
    One(Record),
    People(&'a [Entry]),
    Nothing,
}

/// The entry `dn` names in the phone book of `org`, if any; for compare.
pub(crate) fn lookup(org: &str, book: Option<&[Entry]>, dn: &str) -> Option<Record> {
    match resolve(org, book, dn, LdapSearchScope::Base)? {
        Scope::One(record) => Some(record),
        Scope::People(_) | Scope::Nothing => None,
    }
}

/// What `base` with `scope` names for a connection bound to `org`; `None` when the base is not
/// one of the org's (`noSuchObject`, whether or not it is another org's).
fn resolve<'a>(
    org: &str,
    book: Option<&'a [Entry]>,
    base: &str,
    scope: LdapSearchScope,
) -> Option<Scope<'a>> {
    let book = book?;
    let one_level = matches!(scope, LdapSearchScope::OneLevel | LdapSearchScope::Children);
    match parse_base(base) {
        Base::Root if scope == LdapSearchScope::Base => Some(Scope::One(root_dse(org))),
        Base::Org(o) if o == org => Some(match scope {
            LdapSearchScope::Base => Scope::One(organization(org)),
            _ => Scope::People(book),
        }),
        Base::Person { org: o, number } if o == org => {
            let entry = book.iter().find(|e| e.number == number)?;
            Some(if one_level {
                Scope::Nothing
            } else {
                Scope::One(person(org, entry))
            })
        }
        _ => None,
    }
}

/// Runs `query` for a connection bound to `org` whose phone book is `book` (`None` when the org
/// has gone), returning at most `max_results` entries.
pub(crate) fn search(
    org: &str,
    book: Option<&[Entry]>,
    query: &Query<'_>,
    max_results: usize,
) -> Outcome {
    let Some(scope) = resolve(org, book, query.base, query.scope.clone()) else {
        return Outcome::no_such_object();
    };
    let limit = match usize::try_from(query.size_limit) {
        Ok(n) if n > 0 => n.min(max_results),
        _ => max_results,
    };
    let selection = Selection::parse(query.attrs);
    let candidates: Box<dyn Iterator<Item = Record> + '_> = match scope {
        Scope::One(record) => Box::new(std::iter::once(record)),
        Scope::People(book) => Box::new(book.iter().map(|e| person(org, e))),
        Scope::Nothing => Box::new(std::iter::empty()),
    };
    let mut entries = Vec::new();
    for record in candidates.filter(|r| matches(query.filter, r)) {
        if entries.len() == limit {
            return Outcome {
                entries,
                code: LdapResultCode::SizeLimitExceeded,
            };
        }
        entries.push(selection.apply(&record, query.types_only));
    }
    Outcome {
        entries,
        code: LdapResultCode::Success,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ldap3_proto::parse_ldap_filter_str;

    fn book() -> Vec<Entry> {
        [
            ("101", "Ann Smith"),
            ("102", "Bob Annan"),
            ("103", "Zoë O'Brien"),
            ("110", "Reception"),
        ]
        .iter()
        .map(|(n, d)| Entry {
            number: (*n).into(),
            display_name: (*d).into(),
        })
        .collect()
    }

    fn run(
        base: &str,
        scope: LdapSearchScope,
        filter: &str,
        size_limit: i32,
        max: usize,
    ) -> Outcome {
        let book = book();
        let filter = parse_ldap_filter_str(filter).unwrap();
        let attrs = vec!["cn".to_owned()];
        let query = Query {
            base,
            scope,
            filter: &filter,
            attrs: &attrs,
            types_only: false,
            size_limit,
        };
        search("acme", Some(&book), &query, max)
    }

    fn dns(outcome: &Outcome) -> Vec<&str> {
        outcome.entries.iter().map(|e| e.dn.as_str()).collect()
    }

    use LdapSearchScope::{Base as B, Children, OneLevel, Subtree};

    #[test]
    fn the_org_base_with_one_or_sub_scope_lists_people() {
        for scope in [OneLevel, Subtree, Children] {
            let out = run("o=acme", scope, "(cn=*ann*)", 0, 500);
            assert_eq!(out.code, LdapResultCode::Success);
            assert_eq!(dns(&out), ["uid=101,o=acme", "uid=102,o=acme"]);
        }
        let out = run("O=ACME", Subtree, "(objectClass=*)", 0, 500);
        assert_eq!(out.entries.len(), 4, "the org entry itself is not listed");
    }

    #[test]
    fn the_org_base_with_base_scope_is_the_org() {
        let out = run("o=acme", B, "(objectClass=*)", 0, 500);
        assert_eq!(dns(&out), ["o=acme"]);
        assert!(out.entries[0].attributes.is_empty(), "an org has no cn");
        let out = run("o=acme", B, "(objectClass=person)", 0, 500);
        assert_eq!(out.code, LdapResultCode::Success);
        assert!(out.entries.is_empty());
    }

    #[test]
    fn an_entry_as_base() {
        let out = run("uid=103,o=acme", B, "(objectClass=*)", 0, 500);
        assert_eq!(dns(&out), ["uid=103,o=acme"]);
        assert_eq!(
            out.entries[0].attributes[0].vals,
            [("Zoë O'Brien".as_bytes().to_vec())]
        );
        assert_eq!(
            dns(&run("uid=103,o=acme", Subtree, "(cn=*)", 0, 500)),
            ["uid=103,o=acme"]
        );
        let out = run("uid=103,o=acme", OneLevel, "(cn=*)", 0, 500);
        assert_eq!((out.code, out.entries.len()), (LdapResultCode::Success, 0));
        assert!(run("uid=103,o=acme", B, "(cn=Ann*)", 0, 500)
            .entries
            .is_empty());
    }

    #[test]
    fn other_bases_are_no_such_object() {
        for base in [
            "o=globex",
            "o=nonexistent",
            "uid=101,o=globex",
            "uid=999,o=acme",
            "dc=example,dc=com",
            "cn=phonebook,o=acme",
        ] {
            for scope in [B, OneLevel, Subtree] {
                let out = run(base, scope.clone(), "(objectClass=*)", 0, 500);
                assert_eq!(out, Outcome::no_such_object(), "{base} {scope:?}");
            }
        }
        let out = run("", Subtree, "(objectClass=*)", 0, 500);
        assert_eq!(out, Outcome::no_such_object());
    }

    #[test]
    fn a_gone_org_is_no_such_object() {
        let filter = parse_ldap_filter_str("(objectClass=*)").unwrap();
        let query = Query {
            base: "o=acme",
            scope: Subtree,
            filter: &filter,
            attrs: &[],
            types_only: false,
            size_limit: 0,
        };
        assert_eq!(search("acme", None, &query, 500), Outcome::no_such_object());
    }

    #[test]
    fn the_root_dse() {
        let out = run("", B, "(objectClass=*)", 0, 500);
        assert_eq!(dns(&out), [""]);
    }

    #[test]
    fn size_limits() {
        let out = run("o=acme", Subtree, "(cn=*)", 2, 500);
        assert_eq!(out.code, LdapResultCode::SizeLimitExceeded);
        assert_eq!(dns(&out), ["uid=101,o=acme", "uid=102,o=acme"]);
        // The server's cap wins over a larger request, and over none.
        let out = run("o=acme", Subtree, "(cn=*)", 10, 3);
        assert_eq!(
            (out.code, out.entries.len()),
            (LdapResultCode::SizeLimitExceeded, 3)
        );
        let out = run("o=acme", Subtree, "(cn=*)", 0, 3);
        assert_eq!(
            (out.code, out.entries.len()),
            (LdapResultCode::SizeLimitExceeded, 3)
        );
        let out = run("o=acme", Subtree, "(cn=*)", -1, 3);
        assert_eq!(
            (out.code, out.entries.len()),
            (LdapResultCode::SizeLimitExceeded, 3)
        );
        // Exactly as many as the limit is not exceeding it.
        let out = run("o=acme", Subtree, "(cn=*)", 4, 500);
        assert_eq!((out.code, out.entries.len()), (LdapResultCode::Success, 4));
        let out = run("o=acme", Subtree, "(cn=*ann*)", 2, 500);
        assert_eq!((out.code, out.entries.len()), (LdapResultCode::Success, 2));
    }

    #[test]
    fn lookup_for_compare() {
        let book = book();
        assert_eq!(
            lookup("acme", Some(&book), "uid=110,o=acme").map(|r| r.dn),
            Some("uid=110,o=acme".into())
        );
        assert!(lookup("acme", Some(&book), "uid=110,o=globex").is_none());
        assert!(lookup("acme", Some(&book), "uid=111,o=acme").is_none());
    }
}
