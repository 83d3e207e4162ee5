//! The entry point: one request in, one answer out, with a short reason for the log.

use std::fmt;

use crate::lookup::Lookup;
use crate::request::{Request, Section};
use crate::settings::Settings;
use crate::xml::{Unwritable, NOT_FOUND};
use crate::{channels, chatplan, config, dialplan, directory};

/// Decisions the server makes outside this crate.
pub trait Policy {
    /// True while authentications of `user` (`number@domain`) from `ip` are locked out after
    /// too many failures. Such `sip_auth` lookups are answered with the domain but without the
    /// user, which FreeSWITCH turns into a 403 without consulting its static files.
    fn blocked(&self, ip: &str, user: &str) -> bool;
}

/// A policy that blocks nobody.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

impl Policy for AllowAll {
    fn blocked(&self, _ip: &str, _user: &str) -> bool {
        false
    }
}

/// The outcome of a `sip_auth` lookup, so the server can count failures per source address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthCheck {
    /// Not a `sip_auth` lookup.
    NotApplicable,
    /// We answered the user and the digest the phone sent matches its a1-hash.
    Verified,
    /// We answered the user but the digest does not match: FreeSWITCH will refuse (403).
    WrongPassword,
    /// We refused before looking at the digest (unknown user, realm or host mismatch, suspended
    /// org, blocked source...): FreeSWITCH will refuse (403).
    Refused,
    /// The user is the org's, but the request addresses something outside the org (another
    /// domain, a subscription to a non-extension): FreeSWITCH will refuse (403). Not counted
    /// as a failed password.
    Forbidden,
}

impl AuthCheck {
    /// Whether this lookup is a failed authentication attempt to count.
    pub fn is_failure(self) -> bool {
        matches!(self, AuthCheck::WrongPassword | AuthCheck::Refused)
    }
}

/// Why an answer is what it is. `Display` gives a short, stable text for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The exact "not found" document: FreeSWITCH tries its next binding / static files.
    NotFound(&'static str),
    /// A directory user.
    User,
    /// The domain without the requested user: FreeSWITCH refuses (403 for authentication).
    DomainWithoutUser(&'static str),
    /// A domain without users (domain-only lookups).
    Domain,
    /// Gateways for a sofia profile. `omitted_orgs` > 0 means whole orgs were left out to stay
    /// under the size limit (or, never expected, because a value could not be written): log it
    /// as an error, those orgs' carriers are not reachable.
    Gateways {
        gateways: usize,
        omitted_orgs: usize,
    },
    /// The carrier ACL users; `omitted` > 0 means the size limit cut the list (log as error).
    NetworkList { blocks: usize, omitted: usize },
    /// The ACL pseudo-user sofia loads when a carrier address matched.
    TrunkUser,
    /// A dialplan that routes the call; the text says how.
    Dialplan(&'static str),
    /// A dialplan that hangs the call up; the text says why.
    DialplanRefused(&'static str),
    /// A chatplan that delivers a message inside an org.
    Chatplan,
    /// A chatplan that drops a message; the text says why.
    ChatplanRefused(&'static str),
    /// `local_stream.conf`; `omitted_orgs` > 0 means orgs were left out to stay under the size
    /// limit (they play silence or the default; log as error).
    LocalStream { streams: usize, omitted_orgs: usize },
    /// A `channels` answer that makes sofia's transfer fail; the text says what it was.
    TransferRefused(&'static str),
    /// A `channels` answer that joins a phone's own two calls (attended transfer).
    AttendedTransfer,
    /// A value could not be written safely; the answer fell back to a refusal.
    Unwritable(Unwritable),
}

impl Reason {
    /// Whether FreeSWITCH is told to refuse something (authentication, a call, a message):
    /// worth a log line the provider sees.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Reason::DomainWithoutUser(_)
                | Reason::DialplanRefused(_)
                | Reason::ChatplanRefused(_)
                | Reason::TransferRefused(_)
        )
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NotFound(why) => write!(f, "not found: {why}"),
            Reason::User => f.write_str("user"),
            Reason::DomainWithoutUser(why) => write!(f, "domain without user: {why}"),
            Reason::Domain => f.write_str("domain"),
            Reason::TransferRefused(why) => write!(f, "transfer refused: {why}"),
            Reason::AttendedTransfer => {
                f.write_str("attended transfer: the phone's own calls joined")
            }
            Reason::Gateways {
                gateways,
                omitted_orgs,
            } => {
                write!(
                    f,
                    "gateways: {gateways} (orgs omitted for size: {omitted_orgs})"
                )
            }
            Reason::NetworkList { blocks, omitted } => {
                write!(
                    f,
                    "network list: {blocks} blocks (omitted for size: {omitted})"
                )
            }
            Reason::TrunkUser => f.write_str("trunk ACL user"),
            Reason::Dialplan(how) => write!(f, "dialplan: {how}"),
            Reason::DialplanRefused(why) => write!(f, "dialplan refused: {why}"),
            Reason::Chatplan => f.write_str("chatplan: deliver"),
            Reason::ChatplanRefused(why) => write!(f, "chatplan refused: {why}"),
            Reason::LocalStream {
                streams,
                omitted_orgs,
            } => {
                write!(
                    f,
                    "local_stream.conf: {streams} streams (orgs omitted for size: {omitted_orgs})"
                )
            }
            Reason::Unwritable(u) => write!(f, "unwritable: {u}"),
        }
    }
}

/// What to send back to FreeSWITCH (always HTTP 200 with `xml` as the body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub xml: String,
    pub reason: Reason,
    pub auth: AuthCheck,
    /// The org the answer was about, when one was identified (for the log).
    pub org: Option<String>,
    /// For `sip_auth` lookups: the address the phone authenticated from (`ip=`), to count
    /// failures per source.
    pub source: Option<String>,
    /// For `sip_auth` lookups: who authenticated (`number@realm` as the phone sent it), to
    /// count failures per source and user.
    pub user: Option<String>,
}

impl Answer {
    pub(crate) fn not_found(why: &'static str) -> Self {
        Self {
            xml: NOT_FOUND.to_owned(),
            reason: Reason::NotFound(why),
            auth: AuthCheck::NotApplicable,
            org: None,
            source: None,
            user: None,
        }
    }

    pub(crate) fn new(xml: String, reason: Reason) -> Self {
        Self {
            xml,
            reason,
            auth: AuthCheck::NotApplicable,
            org: None,
            source: None,
            user: None,
        }
    }

    pub(crate) fn with_auth(mut self, auth: AuthCheck) -> Self {
        self.auth = auth;
        self
    }

    pub(crate) fn with_reason(mut self, reason: Reason) -> Self {
        self.reason = reason;
        self
    }

    pub(crate) fn for_org(mut self, slug: &str) -> Self {
        self.org = Some(slug.to_owned());
        self
    }
}

/// Answers one mod_xml_curl request from the applied views. Never panics; every path ends in
/// a well-formed document under `settings.max_answer_bytes`.
pub fn answer(
    req: &Request<'_>,
    lookup: &impl Lookup,
    settings: &Settings,
    policy: &impl Policy,
) -> Answer {
    let answer = match req.section() {
        Section::Directory => directory::answer(req, lookup, settings, policy),
        Section::Dialplan => dialplan::answer(req, lookup, settings),
        Section::Chatplan => chatplan::answer(req, lookup),
        // Without the event socket's facts every transfer is refused; the server answers
        // `channels` with [`channels::answer`] after reading them.
        Section::Channels => channels::answer(req, &channels::TransferFacts::default()),
        Section::Configuration => config::answer(req, lookup, settings),
        Section::Other => Answer::not_found("section not served"),
    };
    let mut answer = if answer.xml.len() > settings.max_answer_bytes {
        let mut too_big = Answer::not_found("answer over the size limit");
        too_big.auth = answer.auth;
        too_big.org = answer.org;
        too_big
    } else {
        answer
    };
    if answer.auth != AuthCheck::NotApplicable {
        answer.source = req.ip().map(str::to_owned);
        answer.user = req
            .sip_auth()
            .map(|auth| format!("{}@{}", auth.username, auth.realm));
    }
    answer
}

/// Parses `body` and answers it; a body that is not a mod_xml_curl request gets "not found".
pub fn answer_body(
    body: &[u8],
    lookup: &impl Lookup,
    settings: &Settings,
    policy: &impl Policy,
) -> Answer {
    match Request::parse(body) {
        Ok(req) => answer(&req, lookup, settings, policy),
        Err(_) => Answer::not_found("not a mod_xml_curl request"),
    }
}
