//! The org phone books the LDAP server answers with (`ldap_phonebook::Directory`): each org's
//! **applied** extensions from the XML cache, binds checked against the org's phone-book
//! password or an extension's own SIP credentials, failed binds counted per source address.
//!
//! Invariants:
//! - A bind grants one org, the one its DN names, and only when the password is right for that
//!   org; a suspended or unknown org grants nothing.
//! - Entries come from the same applied snapshot FreeSWITCH is served: a draft never shows.
//! - A source with [`MAX_FAILURES`] failed binds within [`WINDOW`] is refused for [`LOCKOUT`],
//!   even with the right password.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use domain::{constant_time_eq, ExtensionNumber};
use freeswitch::Lookup;
use ldap_phonebook::{BindDn, Entry};

use crate::desk_phones::phonebook_password;
use crate::lockout::{AfterLock, Failure, Lockout, Rules};
use crate::Engine;

/// Failed binds from one address within [`WINDOW`] that lock it.
pub const MAX_FAILURES: u32 = 20;
pub const WINDOW: Duration = Duration::from_secs(900);
pub const LOCKOUT: Duration = Duration::from_secs(900);
const MAX_KEYS: usize = 100_000;

/// The phone books of every org, as the LDAP server reads them.
pub struct Phonebooks {
    engine: Engine,
    failures: Mutex<Lockout<IpAddr>>,
}

impl Phonebooks {
    pub fn new(engine: Engine) -> Self {
        let rules = Rules {
            max_failures: |_| MAX_FAILURES,
            window: WINDOW,
            lock: LOCKOUT,
            capacity: MAX_KEYS,
            after_lock: AfterLock::StartOver,
        };
        Self {
            engine,
            failures: Mutex::new(Lockout::new(rules)),
        }
    }

    fn locked(&self, ip: IpAddr) -> bool {
        self.failures
            .lock()
            .map(|f| f.is_locked(&ip, Instant::now()))
            .unwrap_or(false)
    }

    fn record_failure(&self, ip: IpAddr) {
        if let Ok(mut failures) = self.failures.lock() {
            if let Failure::Locked { failures } = failures.fail(&ip, Instant::now()) {
                tracing::warn!(%ip, failures, "LDAP phone book: address locked out after failed binds");
            }
        }
    }

    /// True when `password` is right for the bind DN.
    async fn check(&self, dn: &BindDn, password: &str) -> bool {
        let org = match dn {
            BindDn::Phonebook { org } | BindDn::Extension { org, .. } => org,
        };
        let index = self.engine.xml_cache().current();
        let Some(view) = index.by_slug(org).filter(|v| v.is_active()) else {
            return false;
        };
        match dn {
            BindDn::Extension { number, .. } => {
                let Ok(parsed) = ExtensionNumber::parse(number) else {
                    return false;
                };
                view.extension(number)
                    .and_then(|e| e.a1_hash())
                    .is_some_and(|a1| a1.matches_password(&parsed, view.domain(), password))
            }
            BindDn::Phonebook { org } => match self.engine.store().org_by_slug(org).await {
                Ok(Some(found)) => {
                    let expected = phonebook_password(&self.engine, found.id);
                    constant_time_eq(expected.as_bytes(), password.as_bytes())
                }
                Ok(None) => false,
                Err(err) => {
                    tracing::warn!("LDAP phone book: reading the org: {err}");
                    false
                }
            },
        }
    }
}

impl ldap_phonebook::Directory for Phonebooks {
    async fn bind(&self, dn: &BindDn, password: &str, peer: SocketAddr) -> Option<String> {
        let ip = peer.ip();
        if self.locked(ip) {
            tracing::info!(%ip, "LDAP phone book: bind refused, the address is locked out");
            return None;
        }
        if password.is_empty() || !self.check(dn, password).await {
            self.record_failure(ip);
            return None;
        }
        match dn {
            BindDn::Phonebook { org } | BindDn::Extension { org, .. } => Some(org.clone()),
        }
    }

    fn entries(&self, org: &str) -> Option<Arc<Vec<Entry>>> {
        let index = self.engine.xml_cache().current();
        let view = index.by_slug(org).filter(|v| v.is_active())?;
        let mut entries: Vec<Entry> = view
            .extension_numbers()
            .filter_map(|number| view.extension(number))
            .map(|e| Entry {
                number: e.number().to_owned(),
                display_name: e.display_name().to_owned(),
            })
            .collect();
        entries.sort_by(|a, b| a.number.cmp(&b.number));
        Some(Arc::new(entries))
    }
}
