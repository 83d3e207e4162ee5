//! The `directory` section: users, gateways and the carrier ACL.
//!
//! No `<user>` we write carries a `cacheable` attribute. FreeSWITCH's user cache is keyed by
//! key + user + domain only (not by action, IP or any request field) and is shared by
//! `sip_auth` and `user_call`: a cached entry would be served to the next lookup of the same
//! user and domain **without asking us**, so the cross-org checks below (realm against To/From
//! host, username against To/From user, blocked sources) would be skipped. Every lookup must
//! reach us; answering from memory is cheap.
//!
//! This file answers users and domains; `trunks` answers gateways and the carrier ACL.

mod trunks;

use domain::{A1Hash, DigestParams, Extension};

use crate::answer::{Answer, AuthCheck, Policy, Reason};
use crate::lookup::Lookup;
use crate::names;
use crate::request::{Action, Purpose, Request, SipAuth};
use crate::settings::Settings;
use crate::view::{ExtensionRef, OrgView};
use crate::xml::{Doc, Unwritable};
use trunks::{gateways, network_list, trunk_domain};

pub(crate) use trunks::gateway_params;

/// The dial-string every org domain publishes, written with our own `${...}` (the writer turns
/// `$` into `&#36;`). The domain in it comes from `user/N@D` strings we hard-code.
pub const DIAL_STRING: &str = "{^^:sip_invite_domain=${dialed_domain}:presence_id=${dialed_user}@${dialed_domain}}${sofia_contact(*/${dialed_user}@${dialed_domain})}";

/// Bytes kept free at the end of list answers for the closing tags.
const CLOSING_RESERVE: usize = 256;

pub(crate) fn answer(
    req: &Request<'_>,
    lookup: &impl Lookup,
    settings: &Settings,
    policy: &impl Policy,
) -> Answer {
    let answer = route(req, lookup, settings, policy);
    // Any lookup that claims to be an authentication and was not verified counts as a failed
    // attempt, however it was refused (unknown domain, smuggled parameters...).
    let auth_attempt = req.param_all("action").any(|a| a == "sip_auth");
    if auth_attempt && answer.auth == AuthCheck::NotApplicable {
        return answer.with_auth(AuthCheck::Refused);
    }
    answer
}

fn route(
    req: &Request<'_>,
    lookup: &impl Lookup,
    settings: &Settings,
    policy: &impl Policy,
) -> Answer {
    if let Some(purpose) = req.purpose() {
        return match purpose {
            Purpose::Gateways => gateways(req, lookup, settings),
            Purpose::NetworkList => network_list(req, lookup, settings),
            Purpose::Other(_) => Answer::not_found("unknown purpose"),
        };
    }
    if req.tag_name() != "domain" || req.key_name() != "name" || req.key_value().is_empty() {
        return Answer::not_found("whole-directory lookups are not served");
    }
    let domain = req.key_value();
    if domain == settings.trunk_acl_domain {
        return trunk_domain(req, lookup, settings);
    }
    let Some(org) = lookup.by_domain(domain) else {
        return Answer::not_found("unknown domain");
    };
    let answer = if req.key().is_none() && req.user().is_none() {
        domain_only(org, settings)
    } else {
        user_lookup(req, org, settings, policy)
    };
    answer.for_org(org.slug().as_str())
}

/// `<domain name=D/>` and nothing else: FreeSWITCH finds the domain but not the user, so it
/// refuses (403 for authentication) without falling back to its static files.
fn without_user(domain: &str, why: &'static str) -> Answer {
    let mut doc = Doc::new("directory");
    match doc.empty("domain", &[("name", domain)]) {
        Ok(()) => Answer::new(doc.finish(), Reason::DomainWithoutUser(why)),
        Err(u) => Answer::not_found("unwritable domain").with_reason(Reason::Unwritable(u)),
    }
}

fn domain_only(org: &OrgView, settings: &Settings) -> Answer {
    if !org.is_active() {
        return without_user(org.domain().as_str(), "org suspended");
    }
    let mut doc = Doc::new("directory");
    let written = write_domain_head(&mut doc, org, settings).and_then(|()| doc.close());
    finish(doc, written, Reason::Domain, org.domain().as_str())
}

/// The finished document, or the domain without users when a value could not be written.
fn finish(doc: Doc, written: Result<(), Unwritable>, reason: Reason, domain: &str) -> Answer {
    match written {
        Ok(()) => Answer::new(doc.finish(), reason),
        Err(u) => without_user(domain, "unwritable value").with_reason(Reason::Unwritable(u)),
    }
}

fn user_lookup(
    req: &Request<'_>,
    org: &OrgView,
    settings: &Settings,
    policy: &impl Policy,
) -> Answer {
    let domain = org.domain().as_str();
    if req.action() == Action::SipAuth {
        return sip_auth(req, org, settings, policy);
    }
    let allowed = matches!(
        req.action(),
        Action::UserCall | Action::MessageCount | Action::VoicemailLookup | Action::Absent
    );
    if !allowed {
        return without_user(domain, "action not served");
    }
    match plain_user(req, org) {
        Ok(ext) => render_user(org, ext, settings, UserFor::Lookup),
        Err(why) => without_user(domain, why),
    }
}

/// Checks shared by every user lookup other than `sip_auth`.
fn plain_user<'v>(req: &Request<'_>, org: &'v OrgView) -> Result<ExtensionRef<'v>, &'static str> {
    if req.is_ambiguous().is_some() {
        return Err(AMBIGUOUS);
    }
    if !org.is_active() {
        return Err("org suspended");
    }
    if req.key() != Some("id") {
        return Err("only key=id is served");
    }
    if req.domain().is_some_and(|d| d != org.domain().as_str()) {
        return Err("domain parameter differs from the domain looked up");
    }
    let user = req.user().ok_or("no user")?;
    org.extension(user).ok_or("unknown user")
}

const AMBIGUOUS: &str = "a parameter occurs twice";

/// `action=sip_auth`: the realm the phone chose must be the org's domain, and the user and host
/// it authenticates as must be the ones the request is filed under (To for REGISTER, From for
/// INVITE, MESSAGE, SUBSCRIBE...). Otherwise a phone could register or call as
/// `1001@other-org` with the password of `1001@its-own-org`.
fn sip_auth(req: &Request<'_>, org: &OrgView, settings: &Settings, policy: &impl Policy) -> Answer {
    let domain = org.domain().as_str();
    let checked = check_sip_auth(req, org, policy);
    let (ext, auth) = match checked {
        Ok(ok) => ok,
        Err(why) => return without_user(domain, why).with_auth(AuthCheck::Refused),
    };
    if let Err(why) = check_target(&auth, org) {
        return without_user(domain, why).with_auth(AuthCheck::Forbidden);
    }
    let check = if ext
        .a1_hash()
        .is_some_and(|a1| digest_matches_a1(&auth, &a1))
    {
        AuthCheck::Verified
    } else {
        AuthCheck::WrongPassword
    };
    render_user(org, ext, settings, UserFor::Authentication).with_auth(check)
}

fn check_sip_auth<'v, 'r>(
    req: &'r Request<'_>,
    org: &'v OrgView,
    policy: &impl Policy,
) -> Result<(ExtensionRef<'v>, SipAuth<'r>), &'static str> {
    if req.is_ambiguous().is_some() {
        return Err(AMBIGUOUS);
    }
    if !org.is_active() {
        return Err("org suspended");
    }
    let auth = req.sip_auth().ok_or("incomplete digest fields")?;
    let domain = org.domain().as_str();
    if auth.realm != domain || req.key_value() != domain || req.domain() != Some(domain) {
        return Err("realm mismatch");
    }
    let user = format!("{}@{domain}", auth.username);
    if req.ip().is_some_and(|ip| policy.blocked(ip, &user)) {
        return Err("locked out after failed attempts");
    }
    if req.key() != Some("id") || req.user() != Some(auth.username) {
        return Err("user parameter differs from the digest username");
    }
    let (user, host) = if auth.method.eq_ignore_ascii_case("REGISTER") {
        (auth.to_user, auth.to_host)
    } else {
        (auth.from_user, auth.from_host)
    };
    if host != domain {
        return Err("realm differs from the request host");
    }
    if user != auth.username {
        return Err("username differs from the request user");
    }
    let ext = org.extension(auth.username).ok_or("unknown user")?;
    Ok((ext, auth))
}

/// What an authenticated request may address: only its own org. Sofia acts on the To of a
/// request after authentication without asking us again, so the To is checked here:
/// - a subscription (presence, dialog, message-summary, any `Event`) or PUBLISH watches its To,
///   and sofia turns a To user `sip+102+other-domain` into a subscription to `102@other-domain`:
///   the To must be an extension of the org, in the org's domain;
/// - any other request (INVITE, MESSAGE, REFER...) must be addressed to the org's domain: sofia
///   looks up calls to pick up by the To user and host (an INVITE with `Call-Info` whose To user
///   equals its From user), so a foreign To host would reach another org's calls.
///
/// A refusal here is not a failed password (the phone may be misconfigured, e.g. a BLF key
/// for a number that is not an extension), so it does not count towards the lock-out.
fn check_target(auth: &SipAuth<'_>, org: &OrgView) -> Result<(), &'static str> {
    let domain = org.domain().as_str();
    if auth.method.eq_ignore_ascii_case("REGISTER") {
        return Ok(());
    }
    if auth.to_host != domain {
        return Err("request addressed to another domain");
    }
    let watches = ["SUBSCRIBE", "PUBLISH"]
        .iter()
        .any(|m| auth.method.eq_ignore_ascii_case(m));
    if watches && org.extension(auth.to_user).is_none() {
        return Err("subscription to something that is not an extension of the org");
    }
    Ok(())
}

/// Recomputes the digest response of a `sip_auth` lookup from the user's a1-hash, so failed
/// attempts can be counted per source (FreeSWITCH does the real check).
pub fn digest_matches(auth: &SipAuth<'_>, ext: &Extension) -> bool {
    digest_matches_a1(auth, &ext.a1_hash)
}

fn digest_matches_a1(auth: &SipAuth<'_>, a1_hash: &A1Hash) -> bool {
    let params = DigestParams {
        method: auth.method,
        uri: auth.uri,
        nonce: auth.nonce,
        nc: auth.nc,
        cnonce: auth.cnonce,
        qop: auth.qop,
    };
    a1_hash.verifies_digest(&params, auth.response)
}

/// What a user answer is for: its variables land on different channels.
#[derive(Clone, Copy, PartialEq, Eq)]
enum UserFor {
    /// `sip_auth`: the variables go onto the channel of the request the phone sent.
    Authentication,
    /// Any other lookup (`user_call`: the variables go onto the leg that rings the phone).
    Lookup,
}

fn render_user(
    org: &OrgView,
    ext: ExtensionRef<'_>,
    settings: &Settings,
    purpose: UserFor,
) -> Answer {
    let mut doc = Doc::new("directory");
    let written = write_user_doc(&mut doc, org, ext, settings, purpose);
    finish(doc, written, Reason::User, org.domain().as_str())
}

/// Opens `<domain>` with its params and variables (left open).
fn write_domain_head(doc: &mut Doc, org: &OrgView, settings: &Settings) -> Result<(), Unwritable> {
    doc.open("domain", &[("name", org.domain().as_str())])?;
    doc.open("params", &[])?;
    param(doc, "dial-string", DIAL_STRING)?;
    doc.close()?;
    doc.open("variables", &[])?;
    variable(doc, "user_context", &org.context)?;
    variable(doc, names::ORG_MARKER, org.slug().as_str())?;
    variable(
        doc,
        "hold_music",
        &org.hold_music(&settings.default_hold_music),
    )?;
    doc.close()
}

fn write_user_doc(
    doc: &mut Doc,
    org: &OrgView,
    ext: ExtensionRef<'_>,
    settings: &Settings,
    purpose: UserFor,
) -> Result<(), Unwritable> {
    write_domain_head(doc, org, settings)?;
    doc.open("groups", &[])?;
    doc.open("group", &[("name", "default")])?;
    doc.open("users", &[])?;
    doc.open("user", &[("id", ext.number())])?;
    write_user_params(doc, org, ext)?;
    write_user_variables(doc, org, ext, purpose)?;
    Ok(())
}

fn write_user_params(
    doc: &mut Doc,
    org: &OrgView,
    ext: ExtensionRef<'_>,
) -> Result<(), Unwritable> {
    doc.open("params", &[])?;
    param(doc, "a1-hash", ext.a1_hex().as_str())?;
    param(doc, "allow-empty-password", "false")?;
    param(doc, "vm-password", ext.voicemail_pin())?;
    param(doc, "vm-enabled", bool_text(ext.voicemail_enabled()))?;
    if let Some(email) = ext.voicemail_email() {
        param(doc, "vm-mailto", email)?;
        param(doc, "vm-email-all-messages", "true")?;
        param(
            doc,
            "vm-attach-file",
            bool_text(org.options.voicemail_attach_audio),
        )?;
        param(doc, "vm-keep-local-after-email", "true")?;
    }
    doc.close()
}

fn write_user_variables(
    doc: &mut Doc,
    org: &OrgView,
    ext: ExtensionRef<'_>,
    purpose: UserFor,
) -> Result<(), Unwritable> {
    doc.open("variables", &[])?;
    if purpose == UserFor::Authentication {
        // A call the phone makes is answered by FreeSWITCH only after LittlePBX's dialplan
        // removed this (see `names::UNROUTED_GUARD`); a call sofia runs without asking the
        // dialplan (an INVITE with `Replaces`, which intercepts or barges into the call it
        // names) is hung up the moment it is answered.
        variable(doc, names::UNROUTED_GUARD, names::UNROUTED_GUARD_ACTION)?;
    } else {
        // sofia sets it from the realm on a phone's own calls; a `user/` leg that rings the
        // phone gets it here, so that the dialplan's guard admits that leg into its org context
        // when the phone's partner blind-transfers it (REFER).
        variable(doc, "domain_name", org.domain().as_str())?;
    }
    variable(doc, "effective_caller_id_name", ext.display_name())?;
    variable(doc, "effective_caller_id_number", ext.number())?;
    if !org.caller_name.is_empty() {
        variable(doc, "outbound_caller_id_name", &org.caller_name)?;
    }
    if let Some(did) = org.caller_id(Some(ext)) {
        variable(doc, "outbound_caller_id_number", did)?;
    }
    variable(doc, names::EXTENSION_MARKER, ext.number())?;
    doc.close()
}

fn param(doc: &mut Doc, name: &str, value: &str) -> Result<(), Unwritable> {
    doc.empty("param", &[("name", name), ("value", value)])
}

fn variable(doc: &mut Doc, name: &str, value: &str) -> Result<(), Unwritable> {
    doc.empty("variable", &[("name", name), ("value", value)])
}

fn bool_text(value: bool) -> &'static str {
    if value {
        "true"
    } else {
        "false"
    }
}
