//! What one Apply of one org did, as the rest of the system needs to know it.

use crate::config::OrgConfig;
use crate::diff::Change;
use crate::values::{OrgSlug, SipDomain};

/// The facts of one Apply of one org: who it concerns and what changed between the previous
/// and the next applied configuration.
///
/// The store produces them inside the Apply transaction and `freeswitch::sync` derives the
/// FreeSWITCH commands from them, so both sides share this one type and the names are typed
/// (already parsed) by the time anyone reads them.
#[derive(Debug, Clone, Copy)]
pub struct ApplyFacts<'a> {
    pub slug: &'a OrgSlug,
    pub domain: &'a SipDomain,
    /// `diff(next, previous)`.
    pub changes: &'a [Change],
    /// The applied configuration before the Apply.
    pub previous: &'a OrgConfig,
    /// The applied configuration after the Apply (the draft it published).
    pub next: &'a OrgConfig,
}
