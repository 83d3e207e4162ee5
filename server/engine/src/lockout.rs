//! A failure-window lock-out, the mechanism behind `crate::sip_guard` and
//! `crate::provisioning::guard`.
//!
//! Failures are counted per key in a window that starts with the key's first failure; a key
//! whose count reaches its maximum within the window is locked for a fixed time. A failure after
//! the window has passed starts a new window. The number of keys remembered is bounded: when
//! full, keys whose window has passed and that are not locked are forgotten first, and a
//! failure of a new key that still finds no room is not counted. The type is not synchronised:
//! each guard keeps it behind its own lock, next to what else it needs to know.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// How a [`Lockout`] counts and locks.
pub struct Rules<K> {
    /// Failures of a key within [`Rules::window`] that lock it.
    pub max_failures: fn(&K) -> u32,
    /// How long failures add up, from a key's first failure.
    pub window: Duration,
    /// How long a key stays locked.
    pub lock: Duration,
    /// Most keys remembered at once.
    pub capacity: usize,
    /// What a lock does to the count.
    pub after_lock: AfterLock,
}

impl<K> Clone for Rules<K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K> Copy for Rules<K> {}

/// What happens to a key's count when the key is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterLock {
    /// The count goes on in its window: when the lock ends inside the window, the next failure
    /// locks again.
    KeepCounting,
    /// The count and its window start over when the lock starts.
    StartOver,
}

/// What one failure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Counted; the key is not locked by it.
    Counted,
    /// Counted, and it locked the key: `failures` within the window.
    Locked { failures: u32 },
    /// Not counted: a new key and no room for it.
    NoRoom,
}

#[derive(Debug, Clone, Copy)]
struct Count {
    failures: u32,
    window_start: Instant,
    locked_until: Option<Instant>,
}

impl Count {
    fn new(now: Instant) -> Self {
        Self {
            failures: 0,
            window_start: now,
            locked_until: None,
        }
    }

    fn is_locked(&self, now: Instant) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }

    /// Neither in its window nor locked: forgetting it changes nothing.
    fn is_stale(&self, now: Instant, window: Duration) -> bool {
        now.duration_since(self.window_start) > window && !self.is_locked(now)
    }

    fn fail<K>(&mut self, now: Instant, max: u32, rules: &Rules<K>) -> Failure {
        if now.duration_since(self.window_start) > rules.window {
            self.failures = 0;
            self.window_start = now;
        }
        self.failures += 1;
        if self.failures < max || self.is_locked(now) {
            return Failure::Counted;
        }
        let failures = self.failures;
        self.locked_until = Some(now + rules.lock);
        if rules.after_lock == AfterLock::StartOver {
            self.failures = 0;
            self.window_start = now;
        }
        Failure::Locked { failures }
    }
}

/// Failure counts per key `K`, each locking its key once it reaches its maximum.
pub struct Lockout<K> {
    rules: Rules<K>,
    counts: HashMap<K, Count>,
}

impl<K: Hash + Eq + Clone> Lockout<K> {
    pub fn new(rules: Rules<K>) -> Self {
        Self {
            rules,
            counts: HashMap::new(),
        }
    }

    /// Counts one failure of `key` at `now`.
    pub fn fail(&mut self, key: &K, now: Instant) -> Failure {
        let rules = self.rules;
        match self.count_mut(key, now) {
            Some(count) => count.fail(now, (rules.max_failures)(key), &rules),
            None => Failure::NoRoom,
        }
    }

    /// Remembers `key` without a failure when it is not remembered yet: its window starts now.
    pub fn track(&mut self, key: &K, now: Instant) {
        self.count_mut(key, now);
    }

    /// How long `key` stays locked, if it is locked at `now`.
    pub fn wait(&self, key: &K, now: Instant) -> Option<Duration> {
        let until = self.counts.get(key)?.locked_until?;
        (until > now).then(|| until - now)
    }

    /// Whether `key` is locked at `now`; takes a borrowed key (`&str` for `String`), so the
    /// check on every `sip_auth` allocates nothing for it.
    pub fn is_locked<Q>(&self, key: &Q, now: Instant) -> bool
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.counts.get(key).is_some_and(|c| c.is_locked(now))
    }

    /// Forgets the failures of `key` unless it has ever been locked.
    pub fn forgive(&mut self, key: &K) {
        if self
            .counts
            .get(key)
            .is_some_and(|c| c.locked_until.is_none())
        {
            self.counts.remove(key);
        }
    }

    /// As many keys as [`Rules::capacity`].
    pub fn is_full(&self) -> bool {
        self.counts.len() >= self.rules.capacity
    }

    /// Forgets keys whose window has passed and that are not locked.
    pub fn forget_stale(&mut self, now: Instant) {
        let window = self.rules.window;
        self.counts.retain(|_, c| !c.is_stale(now, window));
    }

    /// Forgets every key, locked ones too.
    pub fn clear(&mut self) {
        self.counts.clear();
    }

    /// The count of `key`, a new one if there is room for it.
    fn count_mut(&mut self, key: &K, now: Instant) -> Option<&mut Count> {
        if self.is_full() && !self.counts.contains_key(key) {
            self.forget_stale(now);
            if self.is_full() {
                return None;
            }
        }
        if !self.counts.contains_key(key) {
            self.counts.insert(key.clone(), Count::new(now));
        }
        self.counts.get_mut(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_secs(600);
    const LOCK: Duration = Duration::from_secs(900);
    const SECOND: Duration = Duration::from_secs(1);

    /// Keys from 100 up are allowed 3 failures, smaller ones 2.
    fn max_failures(key: &u32) -> u32 {
        if *key >= 100 {
            3
        } else {
            2
        }
    }

    fn lockout(window: Duration, capacity: usize, after_lock: AfterLock) -> Lockout<u32> {
        Lockout::new(Rules {
            max_failures,
            window,
            lock: LOCK,
            capacity,
            after_lock,
        })
    }

    /// Fails `key` `times` times at `at`; what the last one did.
    fn fail_times(lockout: &mut Lockout<u32>, key: u32, times: u32, at: Instant) -> Failure {
        (0..times)
            .map(|_| lockout.fail(&key, at))
            .last()
            .unwrap_or(Failure::Counted)
    }

    #[test]
    fn the_failure_that_reaches_the_maximum_locks_for_the_lock_time() {
        let mut guard = lockout(WINDOW, 10, AfterLock::KeepCounting);
        let start = Instant::now();
        assert_eq!(fail_times(&mut guard, 100, 2, start), Failure::Counted);
        assert!(!guard.is_locked(&100, start));
        assert_eq!(guard.fail(&100, start), Failure::Locked { failures: 3 });
        assert_eq!(guard.wait(&100, start), Some(LOCK));
        assert_eq!(guard.wait(&100, start + LOCK - SECOND), Some(SECOND));
        assert!(guard.is_locked(&100, start + LOCK - SECOND));
        assert!(
            !guard.is_locked(&100, start + LOCK),
            "unlocked when the lock time is up"
        );
        assert_eq!(guard.wait(&100, start + LOCK), None);
        assert!(!guard.is_locked(&101, start), "other keys are not locked");
        assert_eq!(
            fail_times(&mut guard, 1, 2, start),
            Failure::Locked { failures: 2 }
        );
    }

    #[test]
    fn failures_add_up_to_the_end_of_the_window_and_not_past_it() {
        let mut guard = lockout(WINDOW, 10, AfterLock::KeepCounting);
        let start = Instant::now();
        guard.fail(&1, start);
        assert!(matches!(
            guard.fail(&1, start + WINDOW),
            Failure::Locked { .. }
        ));
        guard.fail(&2, start);
        assert_eq!(guard.fail(&2, start + WINDOW + SECOND), Failure::Counted);
        assert!(
            !guard.is_locked(&2, start + WINDOW + SECOND),
            "a new window"
        );
    }

    #[test]
    fn a_lock_keeps_or_restarts_the_count_as_its_rules_say() {
        let start = Instant::now();
        let unlocked = start + LOCK;
        let mut keep = lockout(LOCK * 2, 10, AfterLock::KeepCounting);
        fail_times(&mut keep, 1, 2, start);
        assert!(matches!(keep.fail(&1, unlocked), Failure::Locked { .. }));
        let mut over = lockout(LOCK * 2, 10, AfterLock::StartOver);
        fail_times(&mut over, 1, 2, start);
        assert_eq!(over.fail(&1, unlocked), Failure::Counted);
    }

    #[test]
    fn failures_while_locked_do_not_extend_the_lock() {
        let mut guard = lockout(WINDOW, 10, AfterLock::KeepCounting);
        let start = Instant::now();
        fail_times(&mut guard, 1, 2, start);
        assert_eq!(guard.fail(&1, start + SECOND), Failure::Counted);
        assert_eq!(guard.wait(&1, start + SECOND), Some(LOCK - SECOND));
    }

    #[test]
    fn forgiving_forgets_a_key_never_locked() {
        let mut guard = lockout(WINDOW, 10, AfterLock::StartOver);
        let start = Instant::now();
        guard.fail(&1, start);
        guard.forgive(&1);
        assert_eq!(guard.fail(&1, start), Failure::Counted);
        fail_times(&mut guard, 2, 2, start);
        guard.forgive(&2);
        assert!(guard.is_locked(&2, start), "a lock is not forgiven");
    }

    #[test]
    fn when_full_stale_keys_make_room_and_live_ones_do_not() {
        let mut guard = lockout(WINDOW, 2, AfterLock::KeepCounting);
        let start = Instant::now();
        guard.fail(&1, start);
        fail_times(&mut guard, 2, 2, start);
        assert!(guard.is_full());
        assert_eq!(guard.fail(&3, start), Failure::NoRoom);
        assert_eq!(guard.fail(&1, start), Failure::Locked { failures: 2 });
        let later = start + WINDOW + SECOND;
        assert_eq!(guard.fail(&3, later), Failure::NoRoom, "both still locked");
        let unlocked = start + LOCK;
        assert_eq!(guard.fail(&3, unlocked), Failure::Counted);
        assert!(!guard.is_full(), "both stale keys were forgotten");
        guard.clear();
        assert!(!guard.is_locked(&3, unlocked));
    }

    #[test]
    fn tracking_starts_a_window_without_a_failure() {
        let mut guard = lockout(WINDOW, 10, AfterLock::KeepCounting);
        let start = Instant::now();
        guard.track(&1, start);
        guard.fail(&1, start + WINDOW);
        assert_eq!(guard.fail(&1, start + WINDOW + SECOND), Failure::Counted);
        guard.track(&1, start + WINDOW + SECOND);
        assert!(matches!(
            guard.fail(&1, start + WINDOW + SECOND),
            Failure::Locked { .. }
        ));
    }
}
