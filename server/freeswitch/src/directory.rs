//! The `directory` section: users, gateways and the carrier ACL.
//!
//! No `<user>` we write carries a `cacheable` attribute. FreeSWITCH's user cache is keyed by
//! key + user + domain only (not by action, IP or any request field) and is shared by
//! `sip_auth` and `user_call`: a cached entry would be served to the next lookup of the same
//! user and domain **without asking us**, so the cross-org checks below (realm against To/From
//! host, username against To/From user, blocked sources) would be skipped. Every lookup must
//! reach us; answering from memory is cheap.

use domain::{A1Hash, DigestParams, Extension};

use crate::answer::{Answer, AuthCheck, Policy, Reason};
use crate::lookup::Lookup;
use crate::names;
use crate::request::{Action, Purpose, Request, SipAuth};
use crate::settings::Settings;
use crate::view::{ExtensionRef, Gateway, OrgView};
use crate::xml::{Doc, Unwritable};

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

// ---------------------------------------------------------------------------------------
// Gateways (purpose=gateways)
// ---------------------------------------------------------------------------------------

/// Gateways go only to the external profile, only for active orgs, inside
/// `domain/groups/group/users/user/gateways` where sofia's `parse_domain_tag` reads them. Any
/// other profile gets a directory without gateways, so the internal profile can never
/// register to or route through a carrier.
fn gateways(req: &Request<'_>, lookup: &impl Lookup, settings: &Settings) -> Answer {
    let external =
        req.profile() == Some(settings.external_profile.as_str()) && req.is_ambiguous().is_none();
    let key = req.key_value();
    if key.is_empty() || req.tag_name().is_empty() {
        return all_gateways(lookup, settings, external);
    }
    let Some(org) = lookup.by_domain(key) else {
        return Answer::not_found("unknown domain");
    };
    let mut doc = Doc::new("directory");
    let mut count = 0;
    let written = if external && org.is_active() {
        count = org.gateways().count();
        write_org_gateways(&mut doc, org, settings)
    } else {
        doc.empty("domain", &[("name", org.domain().as_str())])
    };
    finish(
        doc,
        written,
        Reason::Gateways {
            gateways: count,
            omitted_orgs: 0,
        },
        org.domain().as_str(),
    )
    .for_org(org.slug().as_str())
}

fn all_gateways(lookup: &impl Lookup, settings: &Settings, external: bool) -> Answer {
    let mut doc = Doc::new("directory");
    let (mut count, mut omitted) = (0, 0);
    if external {
        let budget = settings.max_answer_bytes.saturating_sub(CLOSING_RESERVE);
        for org in lookup
            .orgs()
            .filter(|o| o.is_active() && o.gateways().next().is_some())
        {
            let cp = doc.checkpoint();
            let fits = write_org_gateways(&mut doc, org, settings).is_ok() && doc.len() <= budget;
            if fits {
                count += org.gateways().count();
            } else {
                doc.rollback(cp);
                omitted += 1;
            }
        }
    }
    Answer::new(
        doc.finish(),
        Reason::Gateways {
            gateways: count,
            omitted_orgs: omitted,
        },
    )
}

fn write_org_gateways(doc: &mut Doc, org: &OrgView, settings: &Settings) -> Result<(), Unwritable> {
    doc.open("domain", &[("name", org.domain().as_str())])?;
    doc.open("groups", &[])?;
    doc.open("group", &[("name", "trunks")])?;
    doc.open("users", &[])?;
    doc.open("user", &[("id", "trunks")])?;
    doc.open("gateways", &[])?;
    for gw in org.gateways() {
        write_gateway(doc, org, gw, settings)?;
    }
    for _ in 0..6 {
        doc.close()?;
    }
    Ok(())
}

/// The parameters of one gateway, in the order they are written. Shared with `crate::sync`,
/// which compares them to decide whether a gateway must be restarted.
pub(crate) fn gateway_params(gw: &Gateway, settings: &Settings) -> Vec<(&'static str, String)> {
    let s = &gw.settings;
    let host_port = |host: &str| {
        if host.contains(':') {
            format!("[{host}]:{}", s.port)
        } else {
            format!("{host}:{}", s.port)
        }
    };
    let mut p: Vec<(&'static str, String)> = Vec::with_capacity(18);
    p.push(("username", s.username.as_str().to_owned()));
    if let Some(auth) = &s.auth_username {
        p.push(("auth-username", auth.as_str().to_owned()));
    }
    if let Some(password) = &gw.password {
        p.push(("password", password.clone()));
    }
    let realm = s.realm.as_ref().unwrap_or(&s.host);
    p.push(("realm", realm.as_str().to_owned()));
    p.push(("proxy", host_port(s.host.as_str())));
    if let Some(proxy) = &s.proxy {
        p.push(("outbound-proxy", host_port(proxy.as_str())));
        p.push(("register-proxy", host_port(proxy.as_str())));
    }
    p.push(("register", bool_text(s.register).to_owned()));
    p.push(("register-transport", s.transport.as_str().to_owned()));
    if let Some(from_user) = &s.from_user {
        p.push(("from-user", from_user.as_str().to_owned()));
    }
    if let Some(from_domain) = &s.from_domain {
        p.push(("from-domain", from_domain.as_str().to_owned()));
    }
    p.push((
        "caller-id-in-from",
        bool_text(s.caller_id_in_from).to_owned(),
    ));
    p.push(("expire-seconds", s.expire_seconds.to_string()));
    p.push(("retry-seconds", settings.gateway_retry_seconds.to_string()));
    if let Some(ping) = settings.gateway_ping_seconds {
        p.push(("ping", ping.to_string()));
    }
    p.push(("context", settings.public_context.clone()));
    // Calls a carrier sends to the registered contact (`gw+NAME`) would otherwise get the
    // trunk username as destination; the To user carries the DID.
    p.push(("extension", "auto_to_user".to_owned()));
    p
}

fn write_gateway(
    doc: &mut Doc,
    org: &OrgView,
    gw: &Gateway,
    settings: &Settings,
) -> Result<(), Unwritable> {
    doc.open("gateway", &[("name", gw.name.as_str())])?;
    for (name, value) in gateway_params(gw, settings) {
        param(doc, name, &value)?;
    }
    doc.empty(
        "variable",
        &[
            ("name", names::TRUNK_ORG_MARKER),
            ("value", org.slug().as_str()),
            ("direction", "inbound"),
        ],
    )?;
    doc.close()
}

// ---------------------------------------------------------------------------------------
// Carrier ACL (purpose=network-list) and its pseudo-users
// ---------------------------------------------------------------------------------------

/// acl.conf `<node type="allow" domain="<trunk_acl_domain>"/>` asks for this domain; every
/// user with a `cidr` attribute becomes a node whose token is `<id>@<domain>`. Only active
/// orgs' trunks are listed (a suspended org's carrier is refused at the SIP level unless
/// another org shares its addresses).
fn network_list(req: &Request<'_>, lookup: &impl Lookup, settings: &Settings) -> Answer {
    let domain = req.domain().unwrap_or(req.key_value());
    if domain != settings.trunk_acl_domain || req.is_ambiguous().is_some() {
        return Answer::not_found("not the carrier ACL domain");
    }
    let mut doc = Doc::new("directory");
    let budget = settings.max_answer_bytes.saturating_sub(CLOSING_RESERVE);
    let (mut blocks, mut omitted) = (0, 0);
    let written = (|| -> Result<(), Unwritable> {
        open_trunk_users(&mut doc, settings)?;
        for org in lookup.orgs().filter(|o| o.is_active()) {
            for block in &org.blocks {
                if doc.len() > budget {
                    omitted += 1;
                    continue;
                }
                doc.empty(
                    "user",
                    &[("id", &block.user_id), ("cidr", block.cidr.as_str())],
                )?;
                blocks += 1;
            }
        }
        Ok(())
    })();
    match written {
        Ok(()) => Answer::new(doc.finish(), Reason::NetworkList { blocks, omitted }),
        Err(u) => Answer::not_found("unwritable").with_reason(Reason::Unwritable(u)),
    }
}

fn open_trunk_users(doc: &mut Doc, settings: &Settings) -> Result<(), Unwritable> {
    doc.open("domain", &[("name", settings.trunk_acl_domain.as_str())])?;
    doc.open("groups", &[])?;
    doc.open("group", &[("name", "trunks")])?;
    doc.open("users", &[])
}

/// Lookups in the carrier ACL domain. When a carrier address matches, sofia looks the token up
/// with `sofia_locate_user` (no `action`) and copies the user's variables onto the call, so the
/// pseudo-user marks the call with the org whose trunk let it in and keeps it in `public`. It
/// has no credentials and is never answered for `sip_auth` or any other action, so it can never
/// be used to authenticate; its params refuse registration and empty passwords in any case.
fn trunk_domain(req: &Request<'_>, lookup: &impl Lookup, settings: &Settings) -> Answer {
    let domain = settings.trunk_acl_domain.as_str();
    let refuse = |why| without_user(domain, why);
    if req.action() != Action::Absent || req.is_ambiguous().is_some() || req.key() != Some("id") {
        return refuse("trunk users only answer sofia's ACL-token lookup");
    }
    let Some(id) = req.user() else {
        return refuse("no user");
    };
    let Some((slug, _, _)) = names::parse_trunk_user(id) else {
        return refuse("not a trunk user");
    };
    let org = lookup.by_slug(slug).filter(|o| o.is_active());
    let Some(org) = org.filter(|o| o.blocks.iter().any(|b| b.user_id == id)) else {
        return refuse("unknown trunk user");
    };
    let mut doc = Doc::new("directory");
    let written = (|| -> Result<(), Unwritable> {
        open_trunk_users(&mut doc, settings)?;
        doc.open("user", &[("id", id)])?;
        doc.open("params", &[])?;
        param(&mut doc, "sip-forbid-register", "true")?;
        param(&mut doc, "allow-empty-password", "false")?;
        doc.close()?;
        doc.open("variables", &[])?;
        variable(&mut doc, "user_context", &settings.public_context)?;
        variable(&mut doc, names::TRUNK_ORG_MARKER, org.slug().as_str())?;
        doc.close()
    })();
    finish(doc, written, Reason::TrunkUser, domain).for_org(org.slug().as_str())
}
