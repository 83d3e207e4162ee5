//! A read-only LDAP server that serves each org's phone book to desk phones (the LDAP phone
//! book of Yealink, Poly and Grandstream phones).
//!
//! The crate speaks the protocol only: the caller hands [`serve`] a [`Directory`] that checks
//! binds and returns an org's entries. It knows nothing of databases or HTTP. Messages are
//! decoded and encoded by `ldap3_proto`'s `LdapCodec`.
//!
//! # The tree
//!
//! - An org's base DN is `o=<org>`; each [`Entry`] is `uid=<number>,o=<org>` with the
//!   attributes `objectClass` (`top`, `person`, `organizationalPerson`, `inetOrgPerson`),
//!   `uid` and `telephoneNumber` (the number), `cn` and `displayName` (the display name, or the
//!   number when the name is blank), `sn` (the last word of the name) and `givenName` (the
//!   words before the last; absent for a one-word name).
//! - A connection reads only the org its bind named: `cn=phonebook,o=<org>` with the org's
//!   phone book password, or `uid=<number>,o=<org>` (also `cn=<number>,o=<org>`) with that
//!   extension's credentials, whatever [`Directory::bind`] accepts.
//!
//! # Decisions
//!
//! - Anonymous bind succeeds (phones do it before anything else) but reads nothing: every
//!   search on a connection without a grant answers `insufficientAccessRights` (50).
//! - A bind naming a DN with an empty password (RFC 4513's unauthenticated bind) answers
//!   `unwillingToPerform` (53); an empty DN with a password, an unparsable DN or a refused
//!   password answer `invalidCredentials` (49); SASL answers `authMethodNotSupported` (7).
//!   Any failed bind drops the connection's grant.
//! - A search base other than the bound org's base or one of its entries answers `noSuchObject`
//!   (32) with no entries, the same for another org that exists and one that does not.
//! - A one-level or subtree search of `o=<org>` returns the people only, never the org entry
//!   itself, so a phone asking for `(objectClass=*)` shows no nameless row; a base search of
//!   `o=<org>` returns the org entry (`objectClass: organization`, `o`).
//! - The root DSE (`""`, scope base) answers, to a bound connection, a minimal entry:
//!   `supportedLDAPVersion: 3`, `namingContexts: o=<bound org>` and the Who am I? extension.
//!   Any other search of `""` answers `noSuchObject`.
//! - Filters use two-valued logic: an attribute an entry lacks (e.g. `mobile`) makes its
//!   assertion false, so `(!(mobile=1))` matches every entry. All values compare
//!   case-insensitively; `telephoneNumber` (and `uid`) ignore spaces and dashes.
//!   Extensible-match filters never match.
//! - DN attribute names and org slugs compare case-insensitively (`O=Acme` is `o=acme`).
//! - Controls are ignored (no paged results: a phone gets at most
//!   [`Limits::max_results`] entries and `sizeLimitExceeded`).
//! - StartTLS answers `unavailable` (52): plain LDAP is served, TLS is a terminator's job.
//!   Other unknown extended operations answer `protocolError` (2).
//! - Compare is answered (`compareTrue`/`compareFalse`) under the same rules as a base search.
//! - Writes (add, modify, delete, modify DN) answer `unwillingToPerform` (53).
//! - A malformed message, or a message a client never sends (a response), gets a notice of
//!   disconnection (`protocolError`) and the connection is closed.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]
#![warn(missing_docs)]

mod dn;
mod filter;
mod record;
mod search;
mod select;
mod server;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use dn::parse_bind_dn;
pub use server::serve;

/// One person in an org's phone book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The extension number, e.g. `"101"`.
    pub number: String,
    /// The name shown on the phone, e.g. `"Ann Smith"`.
    pub display_name: String,
}

/// Who a bind names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BindDn {
    /// `cn=phonebook,o=<org>`: the org's shared phone book account.
    Phonebook {
        /// The org's slug.
        org: String,
    },
    /// `uid=<number>,o=<org>` (or `cn=<number>,o=<org>`): one extension.
    Extension {
        /// The org's slug.
        org: String,
        /// The extension number.
        number: String,
    },
}

impl BindDn {
    /// The org the DN names.
    pub fn org(&self) -> &str {
        match self {
            BindDn::Phonebook { org } | BindDn::Extension { org, .. } => org,
        }
    }
}

impl std::fmt::Display for BindDn {
    /// The DN in its normal form: `cn=phonebook,o=acme` or `uid=101,o=acme`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BindDn::Phonebook { org } => write!(f, "cn=phonebook,o={org}"),
            BindDn::Extension { org, number } => write!(f, "uid={number},o={org}"),
        }
    }
}

/// What the server asks of the application: bind checks and the phone books.
pub trait Directory: Send + Sync + 'static {
    /// Checks a simple bind; `Some(org slug)` the connection may read from now on.
    /// `peer`: the client's address (for lock-out).
    fn bind(
        &self,
        dn: &BindDn,
        password: &str,
        peer: SocketAddr,
    ) -> impl Future<Output = Option<String>> + Send;

    /// The org's applied phone book (already sorted by number), `None` for an unknown org.
    fn entries(&self, org: &str) -> Option<Arc<Vec<Entry>>>;
}

/// The server's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// The most entries one search returns, whatever the client asks (default 500).
    pub max_results: usize,
    /// A connection with no request for this long is closed (default 120 s).
    pub idle_timeout: Duration,
    /// Connections beyond this many at once are closed as soon as they are accepted
    /// (default 1000).
    pub max_connections: usize,
    /// The largest request message accepted; a larger one closes the connection
    /// (default 64 KiB).
    pub max_message_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_results: 500,
            idle_timeout: Duration::from_secs(120),
            max_connections: 1000,
            max_message_bytes: 64 * 1024,
        }
    }
}
