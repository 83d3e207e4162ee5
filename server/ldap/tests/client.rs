//! The server as the `ldap3` client sees it.

mod common;

use std::collections::HashSet;

use common::*;
use ldap3::exop::{WhoAmI, WhoAmIResp};
use ldap3::{Ldap, LdapConnAsync, Mod, Scope, SearchEntry, SearchOptions};
use ldap_phonebook::Limits;

async fn connect(server: &Server) -> Ldap {
    let (conn, ldap) = LdapConnAsync::new(&server.url()).await.unwrap();
    ldap3::drive!(conn);
    ldap
}

async fn bound(server: &Server, dn: &str, password: &str) -> Ldap {
    let mut ldap = connect(server).await;
    let res = ldap.simple_bind(dn, password).await.unwrap();
    assert_eq!(res.rc, 0, "bind {dn}: {res:?}");
    ldap
}

async fn acme(server: &Server) -> Ldap {
    bound(server, "cn=phonebook,o=acme", ACME_BOOK_PASSWORD).await
}

/// A search's result code and entries.
async fn search(
    ldap: &mut Ldap,
    base: &str,
    scope: Scope,
    filter: &str,
    attrs: &[&str],
) -> (u32, Vec<SearchEntry>) {
    let ldap3::SearchResult(entries, res) = ldap.search(base, scope, filter, attrs).await.unwrap();
    (
        res.rc,
        entries.into_iter().map(SearchEntry::construct).collect(),
    )
}

fn dns(entries: &[SearchEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.dn.as_str()).collect()
}

fn attr<'a>(entry: &'a SearchEntry, name: &str) -> Vec<&'a str> {
    entry
        .attrs
        .get(name)
        .map(|v| v.iter().map(String::as_str).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_phonebook_dn_binds_and_finds_names_by_prefix() {
    let server = start_default().await;
    let mut ldap = acme(&server).await;
    let (rc, entries) = search(
        &mut ldap,
        "o=acme",
        Scope::Subtree,
        "(|(cn=Ann*)(sn=Ann*))",
        &["cn", "telephoneNumber"],
    )
    .await;
    assert_eq!(rc, 0);
    assert_eq!(dns(&entries), ["uid=101,o=acme", "uid=102,o=acme"]);
    assert_eq!(attr(&entries[0], "cn"), ["Ann Smith"]);
    assert_eq!(attr(&entries[0], "telephoneNumber"), ["101"]);
    assert_eq!(attr(&entries[1], "cn"), ["Bob Annan"]);
    let names: HashSet<&str> = entries[1].attrs.keys().map(String::as_str).collect();
    assert_eq!(names, HashSet::from(["cn", "telephoneNumber"]));
    let peer = server.directory.binds.lock().unwrap()[0].1;
    assert_eq!(peer.ip().to_string(), "127.0.0.1");
}

#[tokio::test]
async fn an_extension_dn_binds_and_looks_up_a_number() {
    let server = start_default().await;
    let mut ldap = bound(&server, "uid=101,o=acme", ACME_101_PASSWORD).await;
    let (rc, entries) = search(
        &mut ldap,
        "o=acme",
        Scope::Subtree,
        "(|(telephoneNumber=102)(mobile=102))",
        &[],
    )
    .await;
    assert_eq!(rc, 0);
    assert_eq!(dns(&entries), ["uid=102,o=acme"]);
    let bob = &entries[0];
    assert_eq!(attr(bob, "displayName"), ["Bob Annan"]);
    assert_eq!(attr(bob, "givenName"), ["Bob"]);
    assert_eq!(attr(bob, "sn"), ["Annan"]);
    assert_eq!(attr(bob, "uid"), ["102"]);
    assert_eq!(
        attr(bob, "objectClass"),
        ["top", "person", "organizationalPerson", "inetOrgPerson"]
    );
    let (exop, _) = ldap.extended(WhoAmI).await.unwrap().success().unwrap();
    let who: WhoAmIResp = exop.parse();
    assert_eq!(who.authzid, "dn:uid=101,o=acme");
    // `cn=<number>` names the same extension.
    let res = ldap
        .simple_bind("CN=101, O=acme", ACME_101_PASSWORD)
        .await
        .unwrap();
    assert_eq!(res.rc, 0);
    assert_eq!(
        server.directory.bind_dns(),
        ["uid=101,o=acme", "uid=101,o=acme"]
    );
}

#[tokio::test]
async fn a_wrong_password_is_invalid_credentials_and_reads_nothing() {
    let server = start_default().await;
    let mut ldap = connect(&server).await;
    let res = ldap
        .simple_bind("cn=phonebook,o=acme", "wrong")
        .await
        .unwrap();
    assert_eq!(res.rc, 49);
    let (rc, entries) = search(&mut ldap, "o=acme", Scope::Subtree, "(cn=*)", &[]).await;
    assert_eq!((rc, entries.len()), (50, 0));
    // Another org's password does not open this org.
    let res = ldap
        .simple_bind("cn=phonebook,o=acme", GLOBEX_BOOK_PASSWORD)
        .await
        .unwrap();
    assert_eq!(res.rc, 49);
}

#[tokio::test]
async fn an_unknown_dn_is_invalid_credentials_without_asking_the_directory() {
    let server = start_default().await;
    let mut ldap = connect(&server).await;
    for dn in [
        "cn=admin,dc=example,dc=com",
        "cn=phonebook,o=Acme Corp",
        "uid=101",
    ] {
        let res = ldap.simple_bind(dn, ACME_BOOK_PASSWORD).await.unwrap();
        assert_eq!(res.rc, 49, "{dn}");
    }
    // A well-formed DN of an org that does not exist: the directory refuses it.
    let res = ldap
        .simple_bind("cn=phonebook,o=initech", "x")
        .await
        .unwrap();
    assert_eq!(res.rc, 49);
    assert_eq!(server.directory.bind_dns(), ["cn=phonebook,o=initech"]);
}

#[tokio::test]
async fn unauthenticated_binds_are_refused() {
    let server = start_default().await;
    let mut ldap = connect(&server).await;
    let res = ldap.simple_bind("cn=phonebook,o=acme", "").await.unwrap();
    assert_eq!(res.rc, 53);
    let res = ldap.simple_bind("", ACME_BOOK_PASSWORD).await.unwrap();
    assert_eq!(res.rc, 49);
    assert!(server.directory.bind_dns().is_empty());
}

#[tokio::test]
async fn anonymous_bind_succeeds_but_every_search_is_refused() {
    let server = start_default().await;
    let mut ldap = connect(&server).await;
    let res = ldap.simple_bind("", "").await.unwrap();
    assert_eq!(res.rc, 0);
    for (base, scope) in [
        ("o=acme", Scope::Subtree),
        ("o=globex", Scope::OneLevel),
        ("uid=101,o=acme", Scope::Base),
        ("", Scope::Base),
    ] {
        let (rc, entries) = search(&mut ldap, base, scope, "(objectClass=*)", &[]).await;
        assert_eq!((rc, entries.len()), (50, 0), "{base}");
    }
    // Searching without any bind is the same.
    let mut fresh = connect(&server).await;
    let (rc, entries) = search(&mut fresh, "o=acme", Scope::Subtree, "(cn=*)", &[]).await;
    assert_eq!((rc, entries.len()), (50, 0));
    let (exop, _) = ldap.extended(WhoAmI).await.unwrap().success().unwrap();
    assert_eq!(exop.parse::<WhoAmIResp>().authzid, "");
}

#[tokio::test]
async fn scopes() {
    let server = start_default().await;
    let mut ldap = acme(&server).await;
    for scope in [Scope::OneLevel, Scope::Subtree] {
        let (rc, entries) = search(&mut ldap, "o=acme", scope, "(objectClass=*)", &["1.1"]).await;
        assert_eq!(rc, 0);
        assert_eq!(
            dns(&entries),
            [
                "uid=101,o=acme",
                "uid=102,o=acme",
                "uid=103,o=acme",
                "uid=110,o=acme",
                "uid=201,o=acme"
            ]
        );
        assert!(
            entries.iter().all(|e| e.attrs.is_empty()),
            "1.1 is no attributes"
        );
    }
    let (rc, entries) = search(
        &mut ldap,
        "uid=103,o=acme",
        Scope::Base,
        "(objectClass=*)",
        &[],
    )
    .await;
    assert_eq!(rc, 0);
    assert_eq!(dns(&entries), ["uid=103,o=acme"]);
    assert_eq!(attr(&entries[0], "cn"), ["Zoë O'Brien"]);
    assert_eq!(attr(&entries[0], "sn"), ["O'Brien"]);
    let (rc, entries) = search(
        &mut ldap,
        "uid=103,o=acme",
        Scope::OneLevel,
        "(objectClass=*)",
        &[],
    )
    .await;
    assert_eq!((rc, entries.len()), (0, 0));
    let (rc, entries) = search(&mut ldap, "o=acme", Scope::Base, "(objectClass=*)", &[]).await;
    assert_eq!(rc, 0);
    assert_eq!(dns(&entries), ["o=acme"]);
    let (rc, entries) = search(
        &mut ldap,
        "uid=999,o=acme",
        Scope::Base,
        "(objectClass=*)",
        &[],
    )
    .await;
    assert_eq!((rc, entries.len()), (32, 0));
    // The root DSE names the bound org only.
    let (rc, entries) = search(&mut ldap, "", Scope::Base, "(objectClass=*)", &[]).await;
    assert_eq!(rc, 0);
    assert_eq!(attr(&entries[0], "namingContexts"), ["o=acme"]);
}

#[tokio::test]
async fn another_orgs_base_is_no_such_object_whether_or_not_it_exists() {
    let server = start_default().await;
    let mut ldap = acme(&server).await;
    for base in [
        "o=globex",
        "o=initech",
        "uid=101,o=globex",
        "uid=101,o=initech",
        "dc=example,dc=com",
    ] {
        for scope in [Scope::Base, Scope::OneLevel, Scope::Subtree] {
            let ldap3::SearchResult(entries, res) = ldap
                .search(base, scope, "(objectClass=*)", vec!["*"])
                .await
                .unwrap();
            assert_eq!((res.rc, entries.len()), (32, 0), "{base} {scope:?}");
            assert_eq!(res.matched, "", "{base}");
        }
    }
    // Globex's own phone book password reads globex, and not acme.
    let mut globex = bound(&server, "cn=phonebook,o=globex", GLOBEX_BOOK_PASSWORD).await;
    let (rc, entries) = search(&mut globex, "o=globex", Scope::Subtree, "(cn=*)", &["cn"]).await;
    assert_eq!(rc, 0);
    assert_eq!(attr(&entries[0], "cn"), ["Hank Scorpio"]);
    let (rc, entries) = search(&mut globex, "o=acme", Scope::Subtree, "(cn=*)", &["cn"]).await;
    assert_eq!((rc, entries.len()), (32, 0));
}

#[tokio::test]
async fn a_rebind_replaces_the_grant() {
    let server = start_default().await;
    let mut ldap = acme(&server).await;
    let res = ldap
        .simple_bind("cn=phonebook,o=globex", GLOBEX_BOOK_PASSWORD)
        .await
        .unwrap();
    assert_eq!(res.rc, 0);
    let (rc, _) = search(&mut ldap, "o=acme", Scope::Subtree, "(cn=*)", &[]).await;
    assert_eq!(rc, 32);
    let (rc, entries) = search(&mut ldap, "o=globex", Scope::Subtree, "(cn=*)", &[]).await;
    assert_eq!((rc, entries.len()), (0, 2));
    // A failed rebind drops it.
    let res = ldap
        .simple_bind("cn=phonebook,o=globex", "wrong")
        .await
        .unwrap();
    assert_eq!(res.rc, 49);
    let (rc, entries) = search(&mut ldap, "o=globex", Scope::Subtree, "(cn=*)", &[]).await;
    assert_eq!((rc, entries.len()), (50, 0));
}

#[tokio::test]
async fn the_request_size_limit() {
    let server = start_default().await;
    let mut ldap = acme(&server).await;
    let ldap3::SearchResult(entries, res) = ldap
        .with_search_options(SearchOptions::new().sizelimit(2))
        .search("o=acme", Scope::Subtree, "(objectClass=person)", vec!["cn"])
        .await
        .unwrap();
    assert_eq!((res.rc, entries.len()), (4, 2));
    let first = SearchEntry::construct(entries[0].clone());
    assert_eq!(first.dn, "uid=101,o=acme");
}

#[tokio::test]
async fn the_server_size_cap() {
    let server = start(Limits {
        max_results: 3,
        ..Limits::default()
    })
    .await;
    let mut ldap = acme(&server).await;
    let (rc, entries) = search(&mut ldap, "o=acme", Scope::Subtree, "(cn=*)", &["cn"]).await;
    assert_eq!((rc, entries.len()), (4, 3));
    let ldap3::SearchResult(entries, res) = ldap
        .with_search_options(SearchOptions::new().sizelimit(100))
        .search("o=acme", Scope::Subtree, "(cn=*)", vec!["cn"])
        .await
        .unwrap();
    assert_eq!((res.rc, entries.len()), (4, 3));
    // Fewer matches than the cap are all returned.
    let (rc, entries) = search(&mut ldap, "o=acme", Scope::Subtree, "(cn=*ann*)", &["cn"]).await;
    assert_eq!((rc, entries.len()), (0, 3));
}

#[tokio::test]
async fn types_only() {
    let server = start_default().await;
    let mut ldap = acme(&server).await;
    let ldap3::SearchResult(entries, res) = ldap
        .with_search_options(SearchOptions::new().typesonly(true))
        .search(
            "uid=101,o=acme",
            Scope::Base,
            "(objectClass=*)",
            vec!["CN", "SN"],
        )
        .await
        .unwrap();
    assert_eq!((res.rc, entries.len()), (0, 1));
    let entry = SearchEntry::construct(entries[0].clone());
    let mut names: Vec<&str> = entry.attrs.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(names, ["cn", "sn"]);
    assert!(entry.attrs.values().all(|v| v.is_empty()));
}

#[tokio::test]
async fn writes_are_unwilling_to_perform() {
    let server = start_default().await;
    let mut ldap = acme(&server).await;
    let res = ldap
        .add("uid=300,o=acme", vec![("cn", HashSet::from(["Eve"]))])
        .await
        .unwrap();
    assert_eq!(res.rc, 53);
    let res = ldap
        .modify(
            "uid=101,o=acme",
            vec![Mod::Replace("cn", HashSet::from(["Eve"]))],
        )
        .await
        .unwrap();
    assert_eq!(res.rc, 53);
    let res = ldap.delete("uid=101,o=acme").await.unwrap();
    assert_eq!(res.rc, 53);
    let res = ldap
        .modifydn("uid=101,o=acme", "uid=301", true, None)
        .await
        .unwrap();
    assert_eq!(res.rc, 53);
    // Nothing changed.
    let (_, entries) = search(
        &mut ldap,
        "uid=101,o=acme",
        Scope::Base,
        "(objectClass=*)",
        &["cn"],
    )
    .await;
    assert_eq!(attr(&entries[0], "cn"), ["Ann Smith"]);
}

#[tokio::test]
async fn compare() {
    let server = start_default().await;
    let mut ldap = acme(&server).await;
    let rc = |r: ldap3::result::CompareResult| r.0.rc;
    assert_eq!(
        rc(ldap.compare("uid=101,o=acme", "sn", "SMITH").await.unwrap()),
        6
    );
    assert_eq!(
        rc(ldap.compare("uid=101,o=acme", "sn", "Jones").await.unwrap()),
        5
    );
    assert_eq!(
        rc(ldap.compare("uid=101,o=acme", "mobile", "1").await.unwrap()),
        16
    );
    assert_eq!(
        rc(ldap
            .compare("uid=101,o=globex", "sn", "Scorpio")
            .await
            .unwrap()),
        32
    );
}
