//! The server as OpenLDAP's `ldapsearch` (Debian's ldap-utils) sees it, its LDIF output parsed.
//!
//! Without `ldapsearch` each test prints one line and passes, unless `CI` is set: then it fails.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use common::*;
use ldap_phonebook::Limits;
use tokio::process::Command;

/// `ldapsearch`'s path, or `None` after saying why the test is skipped.
fn ldapsearch() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("ldapsearch"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "ldapsearch not installed (apt-get install ldap-utils), and CI is set"
        );
        println!("skipped: ldapsearch not installed (apt-get install ldap-utils)");
    }
    found
}

/// One entry of LDIF output: its DN and its attributes in order.
#[derive(Debug)]
struct Ldif {
    dn: String,
    attrs: Vec<(String, String)>,
}

impl Ldif {
    fn get(&self, name: &str) -> Vec<&str> {
        self.attrs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.attrs.iter().map(|(n, _)| n.as_str()).collect();
        names.dedup();
        names
    }
}

/// Parses `-LLL` output: entries separated by blank lines, folded lines (a leading space goes
/// on the previous line), `name: value` and `name:: base64`.
fn parse_ldif(out: &str) -> Vec<Ldif> {
    let mut lines: Vec<String> = Vec::new();
    for line in out.lines() {
        match (line.strip_prefix(' '), lines.last_mut()) {
            (Some(more), Some(last)) if !last.is_empty() => last.push_str(more),
            _ => lines.push(line.to_owned()),
        }
    }
    let mut entries = Vec::new();
    for block in lines.split(|l| l.is_empty()) {
        let mut pairs = block.iter().filter(|l| !l.starts_with('#')).map(|line| {
            let (name, value) = line.split_once(':').expect("an LDIF line");
            let value = match value.strip_prefix(':') {
                Some(encoded) => String::from_utf8(
                    base64::engine::general_purpose::STANDARD
                        .decode(encoded.trim())
                        .unwrap(),
                )
                .unwrap(),
                None => value.strip_prefix(' ').unwrap_or(value).to_owned(),
            };
            (name.to_owned(), value)
        });
        let Some((first, dn)) = pairs.next() else {
            continue;
        };
        assert_eq!(first, "dn");
        entries.push(Ldif {
            dn,
            attrs: pairs.collect(),
        });
    }
    entries
}

/// What `ldapsearch` did: its exit code (the LDAP result code) and the entries it printed.
struct Run {
    code: i32,
    entries: Vec<Ldif>,
    stderr: String,
}

impl Run {
    fn dns(&self) -> Vec<&str> {
        self.entries.iter().map(|e| e.dn.as_str()).collect()
    }
}

/// Runs `ldapsearch -x -LLL -H <server> <args>`; `bind` is the DN and password, if any.
async fn run(tool: &Path, server: &Server, bind: Option<(&str, &str)>, args: &[&str]) -> Run {
    let mut cmd = Command::new(tool);
    cmd.env("LDAPNOINIT", "1")
        .args(["-x", "-LLL", "-o", "nettimeout=10", "-o", "ldif-wrap=no"])
        .args(["-H", &server.url()]);
    if let Some((dn, password)) = bind {
        cmd.args(["-D", dn, "-w", password]);
    }
    cmd.args(args).kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(30), cmd.output())
        .await
        .expect("ldapsearch finished")
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    Run {
        code: out.status.code().expect("an exit code"),
        entries: parse_ldif(&stdout),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const ACME_BOOK: Option<(&str, &str)> = Some(("cn=phonebook,o=acme", ACME_BOOK_PASSWORD));

#[test]
fn the_ldif_parser_unfolds_and_decodes() {
    let out = "dn: uid=1,o=a\ncn: A\n  B\nsn:: Wm/DqyBPJ0JyaWVu\n\n# done\n";
    let entries = parse_ldif(out);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].dn, "uid=1,o=a");
    assert_eq!(entries[0].get("cn"), ["A B"]);
    assert_eq!(entries[0].get("sn"), ["Zoë O'Brien"]);
}

#[tokio::test]
async fn the_phonebook_dn_finds_names_by_prefix() {
    let Some(tool) = ldapsearch() else { return };
    let server = start_default().await;
    let args = [
        "-b",
        "o=acme",
        "(|(cn=Ann*)(sn=Ann*))",
        "cn",
        "telephoneNumber",
    ];
    let r = run(&tool, &server, ACME_BOOK, &args).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.dns(), ["uid=101,o=acme", "uid=102,o=acme"]);
    assert_eq!(r.entries[0].names(), ["cn", "telephoneNumber"]);
    assert_eq!(r.entries[0].get("cn"), ["Ann Smith"]);
    assert_eq!(r.entries[1].get("telephoneNumber"), ["102"]);
}

#[tokio::test]
async fn an_extension_dn_looks_up_a_number_and_names_with_an_apostrophe() {
    let Some(tool) = ldapsearch() else { return };
    let server = start_default().await;
    let bind = Some(("uid=101,o=acme", ACME_101_PASSWORD));
    let r = run(
        &tool,
        &server,
        bind,
        &["-b", "o=acme", "(|(telephoneNumber=103)(mobile=103))"],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.dns(), ["uid=103,o=acme"]);
    let zoe = &r.entries[0];
    assert_eq!(zoe.get("cn"), ["Zoë O'Brien"]);
    assert_eq!(zoe.get("displayName"), ["Zoë O'Brien"]);
    assert_eq!(zoe.get("givenName"), ["Zoë"]);
    assert_eq!(zoe.get("sn"), ["O'Brien"]);
    assert_eq!(
        zoe.get("objectClass"),
        ["top", "person", "organizationalPerson", "inetOrgPerson"]
    );
    let r = run(
        &tool,
        &server,
        bind,
        &["-b", "o=acme", "(sn=o'brien)", "uid"],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.entries[0].get("uid"), ["103"]);
    // Poly's filter.
    let poly = "(&(objectClass=person)(|(cn=*ann*)(telephoneNumber=*01*)))";
    let r = run(&tool, &server, bind, &["-b", "o=acme", poly, "1.1"]).await;
    assert_eq!(
        r.dns(),
        ["uid=101,o=acme", "uid=102,o=acme", "uid=201,o=acme"]
    );
}

#[tokio::test]
async fn a_wrong_password_or_an_unknown_dn_is_invalid_credentials() {
    let Some(tool) = ldapsearch() else { return };
    let server = start_default().await;
    for bind in [
        ("cn=phonebook,o=acme", "wrong"),
        ("cn=phonebook,o=acme", GLOBEX_BOOK_PASSWORD),
        ("cn=admin,dc=example,dc=com", ACME_BOOK_PASSWORD),
    ] {
        let r = run(&tool, &server, Some(bind), &["-b", "o=acme", "(cn=*)"]).await;
        assert_eq!(r.code, 49, "{bind:?}: {}", r.stderr);
        assert!(r.entries.is_empty());
    }
}

#[tokio::test]
async fn scopes() {
    let Some(tool) = ldapsearch() else { return };
    let server = start_default().await;
    for scope in ["one", "sub"] {
        let r = run(
            &tool,
            &server,
            ACME_BOOK,
            &["-b", "o=acme", "-s", scope, "(objectClass=*)", "cn"],
        )
        .await;
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(r.entries.len(), 5, "{scope}");
    }
    let r = run(
        &tool,
        &server,
        ACME_BOOK,
        &["-b", "uid=110,o=acme", "-s", "base", "(objectClass=*)"],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.dns(), ["uid=110,o=acme"]);
    assert_eq!(r.entries[0].get("cn"), ["Reception"]);
    assert!(r.entries[0].get("givenName").is_empty());
    let r = run(
        &tool,
        &server,
        ACME_BOOK,
        &["-b", "uid=110,o=acme", "-s", "one", "(objectClass=*)"],
    )
    .await;
    assert_eq!((r.code, r.entries.len()), (0, 0));
}

#[tokio::test]
async fn another_orgs_base_is_no_such_object() {
    let Some(tool) = ldapsearch() else { return };
    let server = start_default().await;
    // The same answer for globex, which exists, and initech, which does not.
    for base in ["o=globex", "o=initech", "uid=101,o=globex"] {
        let r = run(&tool, &server, ACME_BOOK, &["-b", base, "(objectClass=*)"]).await;
        assert_eq!(r.code, 32, "{base}: {}", r.stderr);
        assert!(r.entries.is_empty());
    }
}

#[tokio::test]
async fn anonymous_reads_nothing() {
    let Some(tool) = ldapsearch() else { return };
    let server = start_default().await;
    let r = run(&tool, &server, None, &["-b", "o=acme", "(objectClass=*)"]).await;
    assert_eq!(r.code, 50, "{}", r.stderr);
    assert!(r.entries.is_empty());
}

#[tokio::test]
async fn size_limits() {
    let Some(tool) = ldapsearch() else { return };
    let server = start_default().await;
    let r = run(
        &tool,
        &server,
        ACME_BOOK,
        &["-b", "o=acme", "-z", "2", "(cn=*)", "cn"],
    )
    .await;
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert_eq!(r.dns(), ["uid=101,o=acme", "uid=102,o=acme"]);
    let capped = start(Limits {
        max_results: 4,
        ..Limits::default()
    })
    .await;
    let r = run(&tool, &capped, ACME_BOOK, &["-b", "o=acme", "(cn=*)", "cn"]).await;
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert_eq!(r.entries.len(), 4);
}
