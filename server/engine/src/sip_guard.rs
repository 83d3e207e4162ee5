//! SIP brute-force protection that hurts the attacker, not the office.
//!
//! Failed `sip_auth` lookups (a wrong digest, an unknown user, a realm that is not the org's)
//! are counted per source address **and user**: [`MAX_USER_FAILURES`] within [`WINDOW`] lock
//! that user out at that address for [`LOCKOUT`] (FreeSWITCH is answered the domain without the
//! user, so it answers 403 and does not fall back to static files). Guessing is bounded per
//! user, and an attacker who spoofs an office's address over UDP (FreeSWITCH's nonces are not
//! bound to the address) locks out at most the users it names there, not every phone.
//!
//! A source that fails for many users ([`MAX_SOURCE_FAILURES`]) is locked out whole, unless a
//! phone authenticated correctly from it within the window: an address with working phones is
//! an office, and its other phones keep working. Each lock-out is one log line naming the
//! source, the user and what to look at. Counts are kept per instance, in memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::lockout::{AfterLock, Failure, Lockout, Rules};

/// Failures of one user from one source within [`WINDOW`] that lock that user out there.
pub const MAX_USER_FAILURES: u32 = 5;
/// Failures from one source (any users) within [`WINDOW`] that lock the whole source out, when
/// no phone authenticated from it in the window.
pub const MAX_SOURCE_FAILURES: u32 = 20;
pub const WINDOW: Duration = Duration::from_secs(600);
pub const LOCKOUT: Duration = Duration::from_secs(900);
/// Most counters remembered at once, per kind; when one kind is full, expired counters are
/// forgotten, and if it is still full all failure counters are.
const MAX_ENTRIES: usize = 100_000;

/// The rules of both lock-outs: only the number of failures differs.
fn rules<K>(max_failures: fn(&K) -> u32) -> Rules<K> {
    Rules {
        max_failures,
        window: WINDOW,
        lock: LOCKOUT,
        capacity: MAX_ENTRIES,
        after_lock: AfterLock::KeepCounting,
    }
}

struct Counters {
    /// Per `(source, user)`.
    users: Lockout<(String, String)>,
    /// Per source, all users.
    sources: Lockout<String>,
    /// The last correct authentication per source.
    successes: HashMap<String, Instant>,
}

impl Default for Counters {
    fn default() -> Self {
        Self {
            users: Lockout::new(rules(|_| MAX_USER_FAILURES)),
            sources: Lockout::new(rules(|_| MAX_SOURCE_FAILURES)),
            successes: HashMap::new(),
        }
    }
}

impl Counters {
    /// A phone authenticated correctly from `ip` within the window.
    fn is_office(&self, ip: &str, now: Instant) -> bool {
        self.successes
            .get(ip)
            .is_some_and(|at| now.duration_since(*at) <= WINDOW)
    }
}

#[derive(Default)]
pub struct SipGuard {
    counters: Mutex<Counters>,
}

impl SipGuard {
    /// Counts one failed authentication of `user` from `ip`.
    pub fn record_failure(&self, ip: &str, user: &str) {
        self.record_failure_at(ip, user, Instant::now());
    }

    /// Notes a correct authentication from `ip`: the source is an office, not only an attacker.
    pub fn record_success(&self, ip: &str) {
        self.record_success_at(ip, Instant::now());
    }

    fn record_success_at(&self, ip: &str, now: Instant) {
        if let Ok(mut counters) = self.counters.lock() {
            prune_if_full(&mut counters, now);
            counters.successes.insert(ip.to_owned(), now);
        }
    }

    fn record_failure_at(&self, ip: &str, user: &str, now: Instant) {
        let Ok(mut counters) = self.counters.lock() else {
            return;
        };
        prune_if_full(&mut counters, now);
        let pair = (ip.to_owned(), user.to_owned());
        if let Failure::Locked { failures } = counters.users.fail(&pair, now) {
            tracing::warn!(
                source = ip,
                user,
                failures,
                minutes = LOCKOUT.as_secs() / 60,
                "SIP authentication failures: this user is locked out at this address (other \
                 users there are not; if the phone is genuine, check its password)"
            );
        }
        let source = ip.to_owned();
        if counters.is_office(ip, now) {
            counters.sources.track(&source, now);
        } else if let Failure::Locked { failures } = counters.sources.fail(&source, now) {
            tracing::warn!(
                source = ip,
                failures,
                minutes = LOCKOUT.as_secs() / 60,
                "SIP authentication failures for many users and no working phone: address locked out"
            );
        }
    }

    fn is_blocked_at(&self, ip: &str, user: &str, now: Instant) -> bool {
        let Ok(counters) = self.counters.lock() else {
            return false;
        };
        let pair = counters
            .users
            .is_locked(&(ip.to_owned(), user.to_owned()), now);
        let source = !counters.is_office(ip, now) && counters.sources.is_locked(ip, now);
        pair || source
    }
}

impl freeswitch::Policy for SipGuard {
    fn blocked(&self, ip: &str, user: &str) -> bool {
        self.is_blocked_at(ip, user, Instant::now())
    }
}

/// Forgets what no longer matters when a map is full; if still full, every failure counter.
fn prune_if_full(counters: &mut Counters, now: Instant) {
    let full = counters.users.is_full()
        || counters.sources.is_full()
        || counters.successes.len() >= MAX_ENTRIES;
    if !full {
        return;
    }
    counters.users.forget_stale(now);
    counters.sources.forget_stale(now);
    counters
        .successes
        .retain(|_, at| now.duration_since(*at) <= WINDOW);
    if counters.users.is_full() || counters.sources.is_full() {
        counters.users.clear();
        counters.sources.clear();
        tracing::warn!("SIP authentication failure counters were full and have been reset");
    }
    if counters.successes.len() >= MAX_ENTRIES {
        counters.successes.clear();
    }
}

#[cfg(test)]
mod tests {
    use freeswitch::Policy;

    use super::*;

    const OFFICE: &str = "192.0.2.7";

    #[test]
    fn a_user_is_locked_out_at_one_address_only() {
        let guard = SipGuard::default();
        let start = Instant::now();
        for _ in 0..MAX_USER_FAILURES {
            assert!(!guard.is_blocked_at(OFFICE, "101@acme", start));
            guard.record_failure_at(OFFICE, "101@acme", start);
        }
        assert!(guard.is_blocked_at(OFFICE, "101@acme", start + Duration::from_secs(60)));
        assert!(
            !guard.is_blocked_at(OFFICE, "102@acme", start),
            "other users at the same address are not"
        );
        assert!(
            !guard.is_blocked_at("192.0.2.8", "101@acme", start),
            "the same user elsewhere is not"
        );
        assert!(!guard.is_blocked_at(OFFICE, "101@acme", start + LOCKOUT + Duration::from_secs(1)));
        assert!(guard.blocked(OFFICE, "101@acme"), "through the policy, now");
    }

    #[test]
    fn spoofed_failures_for_many_users_spare_an_office_with_working_phones() {
        let guard = SipGuard::default();
        let start = Instant::now();
        guard.record_success_at(OFFICE, start);
        for i in 0..MAX_SOURCE_FAILURES * 2 {
            guard.record_failure_at(OFFICE, &format!("{}@acme", 200 + i), start);
        }
        assert!(
            !guard.is_blocked_at(OFFICE, "101@acme", start),
            "the office's working phone keeps working"
        );
        for _ in 0..MAX_USER_FAILURES {
            guard.record_failure_at(OFFICE, "200@acme", start);
        }
        assert!(
            guard.is_blocked_at(OFFICE, "200@acme", start),
            "a guessed user is"
        );
    }

    #[test]
    fn an_address_failing_for_many_users_without_any_success_is_locked_out_whole() {
        let guard = SipGuard::default();
        let start = Instant::now();
        for i in 0..MAX_SOURCE_FAILURES {
            assert!(!guard.is_blocked_at(OFFICE, "101@acme", start), "{i}");
            guard.record_failure_at(OFFICE, &format!("{}@acme", 200 + i), start);
        }
        assert!(guard.is_blocked_at(OFFICE, "101@acme", start));
        assert!(!guard.is_blocked_at("192.0.2.8", "101@acme", start));
    }

    #[test]
    fn failures_spread_over_time_do_not_lock_out() {
        let guard = SipGuard::default();
        let start = Instant::now();
        for i in 0..(MAX_USER_FAILURES * 3) {
            let at = start + WINDOW / (MAX_USER_FAILURES - 1) * i * 2;
            guard.record_failure_at(OFFICE, "101@acme", at);
            assert!(!guard.is_blocked_at(OFFICE, "101@acme", at), "failure {i}");
        }
    }
}
