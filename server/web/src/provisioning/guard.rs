//! Guessing protection for provisioning: failed authentications are counted per source
//! address and per extension (of one org), and either is refused for [`LOCKOUT`] once it has
//! too many failures within [`WINDOW`]. While refused, even the right password is answered 429,
//! so guessing cannot go on behind the lock.
//!
//! A success forgets the extension's failures (the owner proved the password) but not the
//! source's: an attacker behind the same NAT as a working phone gets no fresh attempts. Counts
//! live in memory, per instance, like `engine::sip_guard`; several instances multiply the
//! allowance, which stays far too small for guessing a 16-character password.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use store::OrgId;

use engine::lockout::{AfterLock, Failure, Lockout, Rules};

/// Failures of one extension within [`WINDOW`] that lock it.
pub const MAX_FAILURES_PER_EXTENSION: u32 = 5;
/// Failures from one address within [`WINDOW`] that lock it (an office shares one address).
pub const MAX_FAILURES_PER_SOURCE: u32 = 20;
pub const WINDOW: Duration = Duration::from_secs(900);
pub const LOCKOUT: Duration = Duration::from_secs(900);
/// Most keys remembered at once; expired ones are dropped first when full.
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Source(IpAddr),
    /// The number as the client sent it (also numbers that do not exist: those are guessed too).
    Extension(OrgId, String),
}

impl Key {
    fn max_failures(&self) -> u32 {
        match self {
            Key::Source(_) => MAX_FAILURES_PER_SOURCE,
            Key::Extension(..) => MAX_FAILURES_PER_EXTENSION,
        }
    }
}

pub struct ProvisionGuard {
    lockout: Mutex<Lockout<Key>>,
}

impl Default for ProvisionGuard {
    fn default() -> Self {
        let rules = Rules {
            max_failures: Key::max_failures,
            window: WINDOW,
            lock: LOCKOUT,
            capacity: MAX_KEYS,
            after_lock: AfterLock::StartOver,
        };
        Self {
            lockout: Mutex::new(Lockout::new(rules)),
        }
    }
}

/// The key of a user name: its first 16 characters, so that absurd names cannot fill memory
/// with distinct keys. Checking, counting and forgiving all use it (a longer name is the same
/// key in each).
fn user_key(org: OrgId, user: &str) -> Key {
    Key::Extension(org, user.chars().take(16).collect())
}

impl ProvisionGuard {
    /// `Err(wait)` when the source or the extension is locked out.
    pub fn check(&self, ip: Option<IpAddr>, org: OrgId, user: &str) -> Result<(), Duration> {
        self.check_at(ip, org, user, Instant::now())
    }

    pub fn record_failure(&self, ip: Option<IpAddr>, org: OrgId, user: &str) {
        self.record_failure_at(ip, org, user, Instant::now());
    }

    /// Failures not tied to an extension (an unknown provisioning link).
    pub fn record_source_failure(&self, ip: Option<IpAddr>) {
        if let Some(ip) = ip {
            self.bump(&Key::Source(ip), Instant::now());
        }
    }

    pub fn check_source(&self, ip: Option<IpAddr>) -> Result<(), Duration> {
        self.longest_wait(ip.map(Key::Source), Instant::now())
    }

    pub fn record_success(&self, org: OrgId, user: &str) {
        if let Ok(mut lockout) = self.lockout.lock() {
            lockout.forgive(&user_key(org, user));
        }
    }

    fn check_at(
        &self,
        ip: Option<IpAddr>,
        org: OrgId,
        user: &str,
        now: Instant,
    ) -> Result<(), Duration> {
        let keys = ip.map(Key::Source).into_iter().chain([user_key(org, user)]);
        self.longest_wait(keys, now)
    }

    /// `Err(wait)` with the longest wait of `keys` that are locked.
    fn longest_wait(
        &self,
        keys: impl IntoIterator<Item = Key>,
        now: Instant,
    ) -> Result<(), Duration> {
        let Ok(lockout) = self.lockout.lock() else {
            return Ok(());
        };
        let longest = keys
            .into_iter()
            .filter_map(|key| lockout.wait(&key, now))
            .max();
        longest.map_or(Ok(()), Err)
    }

    fn record_failure_at(&self, ip: Option<IpAddr>, org: OrgId, user: &str, now: Instant) {
        if let Some(ip) = ip {
            self.bump(&Key::Source(ip), now);
        }
        self.bump(&user_key(org, user), now);
    }

    fn bump(&self, key: &Key, now: Instant) {
        let Ok(mut lockout) = self.lockout.lock() else {
            return;
        };
        if let Failure::Locked { .. } = lockout.fail(key, now) {
            tracing::warn!(
                ?key,
                "provisioning authentication failures: locked out for a while"
            );
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const ORG: OrgId = OrgId(1);

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([192, 0, 2, last]))
    }

    #[test]
    fn an_extension_is_locked_after_a_few_failures_from_anywhere() {
        let guard = ProvisionGuard::default();
        let start = Instant::now();
        for i in 0..MAX_FAILURES_PER_EXTENSION {
            assert!(
                guard.check_at(ip(i as u8), ORG, "101", start).is_ok(),
                "{i}"
            );
            guard.record_failure_at(ip(i as u8), ORG, "101", start);
        }
        let wait = guard.check_at(ip(99), ORG, "101", start).unwrap_err();
        assert_eq!(wait, LOCKOUT, "from a fresh address too");
        assert!(guard.check_at(ip(99), ORG, "102", start).is_ok());
        assert!(
            guard.check_at(ip(99), OrgId(2), "101", start).is_ok(),
            "the same number in another org is another extension"
        );
        assert!(guard
            .check_at(ip(1), ORG, "101", start + LOCKOUT + Duration::from_secs(1))
            .is_ok());
    }

    #[test]
    fn a_long_user_name_is_locked_like_a_short_one() {
        let guard = ProvisionGuard::default();
        let start = Instant::now();
        let long = "a-user-name-longer-than-sixteen-characters";
        for i in 0..MAX_FAILURES_PER_EXTENSION {
            guard.record_failure_at(ip(i as u8), ORG, long, start);
        }
        assert!(guard.check_at(ip(99), ORG, long, start).is_err());
    }

    #[test]
    fn a_source_is_locked_after_failures_on_many_extensions() {
        let guard = ProvisionGuard::default();
        let start = Instant::now();
        for i in 0..MAX_FAILURES_PER_SOURCE {
            assert!(guard
                .check_at(ip(7), ORG, &format!("{}", 200 + i), start)
                .is_ok());
            guard.record_failure_at(ip(7), ORG, &format!("{}", 200 + i), start);
        }
        assert!(guard.check_at(ip(7), ORG, "555", start).is_err());
        assert!(guard.check_at(ip(8), ORG, "555", start).is_ok());
    }

    #[test]
    fn success_forgets_the_extension_not_the_source_and_old_failures_expire() {
        let guard = ProvisionGuard::default();
        let start = Instant::now();
        for _ in 0..MAX_FAILURES_PER_EXTENSION - 1 {
            guard.record_failure_at(ip(1), ORG, "101", start);
        }
        guard.record_success(ORG, "101");
        guard.record_failure_at(ip(1), ORG, "101", start);
        assert!(guard.check_at(ip(2), ORG, "101", start).is_ok());
        let later = start + WINDOW + Duration::from_secs(1);
        for _ in 0..MAX_FAILURES_PER_EXTENSION - 1 {
            guard.record_failure_at(ip(3), ORG, "102", start);
        }
        guard.record_failure_at(ip(3), ORG, "102", later);
        assert!(
            guard.check_at(ip(4), ORG, "102", later).is_ok(),
            "failures spread past the window do not add up"
        );
    }
}
