//! What the server logs about refusals: who and which DN, never a password.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use ldap3::{LdapConnAsync, Scope};

/// A log writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

// One thread: the server's tasks run where the subscriber is set.
#[tokio::test(flavor = "current_thread")]
async fn refusals_are_logged_with_the_peer_and_dn_but_no_password() {
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = start_default().await;
    let (conn, mut ldap) = LdapConnAsync::new(&server.url()).await.unwrap();
    ldap3::drive!(conn);

    let res = ldap
        .simple_bind("cn=phonebook,o=acme", "hunter2-wrong")
        .await
        .unwrap();
    assert_eq!(res.rc, 49);
    let res = ldap
        .simple_bind("cn=nobody,dc=example", "hunter3-unknown")
        .await
        .unwrap();
    assert_eq!(res.rc, 49);
    let res = ldap.simple_bind("", "").await.unwrap();
    assert_eq!(res.rc, 0);
    let r = ldap
        .search("o=acme", Scope::Subtree, "(cn=*)", vec!["cn"])
        .await
        .unwrap();
    assert_eq!(r.1.rc, 50);
    ldap.unbind().await.unwrap();
    server.stop().await.unwrap();

    let text = log.text();
    let lines: Vec<&str> = text.lines().collect();
    let wrong = lines
        .iter()
        .find(|l| l.contains("LDAP bind refused: wrong credentials"))
        .unwrap_or_else(|| panic!("no refusal logged: {text}"));
    assert!(wrong.contains("cn=phonebook,o=acme"), "{wrong}");
    assert!(wrong.contains("127.0.0.1:"), "{wrong}");
    assert!(wrong.contains(" INFO "), "{wrong}");
    let unknown = lines
        .iter()
        .find(|l| l.contains("LDAP bind refused: unknown DN"))
        .unwrap_or_else(|| panic!("no refusal logged: {text}"));
    assert!(unknown.contains("cn=nobody,dc=example"), "{unknown}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("LDAP search refused: not bound")),
        "{text}"
    );
    assert!(!text.contains("hunter"), "a password was logged: {text}");
}
