//! SIP brute-force protection: failed `sip_auth` lookups are counted per source address, and a
//! source with too many failures is refused for a while (FreeSWITCH is answered the domain
//! without the user, so it rejects the attempt with 403 and does not fall back to static files).
//!
//! A success does not reset the count: an attacker behind the same NAT as a working phone must
//! not get unlimited attempts. Counts are kept per instance, in memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures within [`WINDOW`] that lock a source out.
pub const MAX_FAILURES: u32 = 10;
pub const WINDOW: Duration = Duration::from_secs(600);
pub const LOCKOUT: Duration = Duration::from_secs(900);
/// Most sources remembered at once; the oldest are forgotten first when full.
const MAX_SOURCES: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Source {
    failures: u32,
    window_start: Instant,
    blocked_until: Option<Instant>,
}

#[derive(Default)]
pub struct SipGuard {
    sources: Mutex<HashMap<String, Source>>,
}

impl SipGuard {
    /// Counts one failed authentication from `ip`; returns true when it is now locked out.
    pub fn record_failure(&self, ip: &str) -> bool {
        self.record_failure_at(ip, Instant::now())
    }

    fn record_failure_at(&self, ip: &str, now: Instant) -> bool {
        let Ok(mut sources) = self.sources.lock() else {
            return false;
        };
        if sources.len() >= MAX_SOURCES && !sources.contains_key(ip) {
            prune(&mut sources, now);
        }
        let source = sources.entry(ip.to_owned()).or_insert(Source {
            failures: 0,
            window_start: now,
            blocked_until: None,
        });
        if now.duration_since(source.window_start) > WINDOW {
            *source = Source {
                failures: 0,
                window_start: now,
                blocked_until: source.blocked_until,
            };
        }
        source.failures += 1;
        if source.failures >= MAX_FAILURES && source.blocked_until.is_none_or(|until| until <= now)
        {
            source.blocked_until = Some(now + LOCKOUT);
            tracing::warn!(
                source = ip,
                failures = source.failures,
                "SIP authentication failures: source locked out"
            );
            return true;
        }
        source.blocked_until.is_some_and(|until| until > now)
    }

    fn is_blocked_at(&self, ip: &str, now: Instant) -> bool {
        self.sources
            .lock()
            .ok()
            .and_then(|sources| sources.get(ip).and_then(|s| s.blocked_until))
            .is_some_and(|until| until > now)
    }
}

impl fsxml::Policy for SipGuard {
    fn blocked_source(&self, ip: &str) -> bool {
        self.is_blocked_at(ip, Instant::now())
    }
}

/// Forgets sources whose window and lockout are over; if still full, the oldest windows.
fn prune(sources: &mut HashMap<String, Source>, now: Instant) {
    sources.retain(|_, s| {
        now.duration_since(s.window_start) <= WINDOW || s.blocked_until.is_some_and(|u| u > now)
    });
    if sources.len() >= MAX_SOURCES {
        let mut starts: Vec<Instant> = sources.values().map(|s| s.window_start).collect();
        starts.sort();
        let cutoff = starts[starts.len() / 2];
        sources.retain(|_, s| s.window_start > cutoff);
    }
}

#[cfg(test)]
mod tests {
    use fsxml::Policy;

    use super::*;

    #[test]
    fn a_source_is_locked_out_after_too_many_failures_and_let_in_later() {
        let guard = SipGuard::default();
        let start = Instant::now();
        for i in 1..MAX_FAILURES {
            assert!(!guard.record_failure_at("192.0.2.7", start), "failure {i}");
        }
        assert!(guard.record_failure_at("192.0.2.7", start));
        assert!(guard.is_blocked_at("192.0.2.7", start + Duration::from_secs(60)));
        assert!(
            !guard.is_blocked_at("192.0.2.8", start),
            "other sources are not affected"
        );
        assert!(!guard.is_blocked_at("192.0.2.7", start + LOCKOUT + Duration::from_secs(1)));
        assert!(guard.blocked_source("192.0.2.7"), "through the policy, now");
    }

    #[test]
    fn failures_spread_over_time_do_not_lock_out() {
        let guard = SipGuard::default();
        let start = Instant::now();
        for i in 0..(MAX_FAILURES * 3) {
            let at = start + WINDOW / (MAX_FAILURES - 1) * i * 2;
            assert!(!guard.record_failure_at("192.0.2.9", at), "failure {i}");
        }
    }
}
