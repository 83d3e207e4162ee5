//! The `dialplan` section. Routes on `Hunt-Context` only: never on `sip_from_host`,
//! `sip_to_host` or `sip_req_host`, which the caller writes.
//!
//! Each answer holds the hunted context with one extension: the decision is made here, from
//! the applied view, for the number being hunted. Every value in `data` is either a constant or
//! a whitelisted domain value (extension numbers, E.164 numbers, slugs, SIP domains), and the
//! only `${...}` we write is none at all: the caller's own extension is taken from the
//! authenticated `user_name` at request time and hard-coded, like every domain.
//!
//! A context we cannot serve is still answered, with a hang-up: FreeSWITCH must never fall back
//! to static dialplan files (a dialplan answer without the hunted context falls to `global`).

use std::net::IpAddr;

use crate::answer::{Answer, Reason};
use crate::lookup::Lookup;
use crate::names::{self, ContextKind};
use crate::request::Request;
use crate::settings::{is_token, Settings};
use crate::view::{ExtensionRef, NoAnswerRef, OrgView};
use crate::xml::{Doc, Unwritable};

/// Cause for calls refused on security grounds (foreign org, suspended, unknown trunk).
const REJECTED: &str = "CALL_REJECTED";
/// Cause for numbers that lead nowhere.
const UNALLOCATED: &str = "UNALLOCATED_NUMBER";
/// Cause for PSTN calls the org may not make (no caller ID, no allowance).
const BARRED: &str = "OUTGOING_CALL_BARRED";
/// Cause when the org has no outbound trunk.
const NO_ROUTE: &str = "NO_ROUTE_DESTINATION";

/// One dialplan application and its argument.
struct Act {
    app: &'static str,
    data: String,
}

fn act(app: &'static str, data: impl Into<String>) -> Act {
    Act {
        app,
        data: data.into(),
    }
}

/// What to answer: the actions and a short reason.
struct Plan {
    actions: Vec<Act>,
    reason: Reason,
}

impl Plan {
    fn refuse(cause: &'static str, why: &'static str) -> Self {
        Self {
            actions: vec![act("hangup", cause)],
            reason: Reason::DialplanRefused(why),
        }
    }
    fn route(actions: Vec<Act>, how: &'static str) -> Self {
        Self {
            actions,
            reason: Reason::Dialplan(how),
        }
    }
}

pub(crate) fn answer(req: &Request<'_>, lookup: &impl Lookup, settings: &Settings) -> Answer {
    let context = req.hunt_context().unwrap_or("");
    let (plan, org) = plan(req, context, lookup, settings);
    let answer = render(context, &plan).unwrap_or_else(|u| {
        let refused = render("global", &Plan::refuse(REJECTED, "unwritable value"));
        let xml = refused.map_or_else(|_| crate::xml::NOT_FOUND.to_owned(), |a| a.xml);
        Answer::new(xml, Reason::Unwritable(u))
    });
    match org {
        Some(slug) => answer.for_org(slug),
        None => answer,
    }
}

fn plan<'l>(
    req: &Request<'_>,
    context: &str,
    lookup: &'l impl Lookup,
    settings: &Settings,
) -> (Plan, Option<&'l str>) {
    if req.is_ambiguous().is_some() {
        return (Plan::refuse(REJECTED, "a parameter occurs twice"), None);
    }
    if context == settings.public_context {
        return public(req, lookup, settings);
    }
    let Some((slug, kind)) = names::parse_context(context) else {
        return (Plan::refuse(REJECTED, "context not ours"), None);
    };
    let Some(org) = lookup.by_slug(slug) else {
        return (Plan::refuse(REJECTED, "unknown org"), None);
    };
    let plan = match guard(req, org) {
        Err(why) => Plan::refuse(REJECTED, why),
        Ok(()) => match kind {
            ContextKind::Org => org_context(req, org, settings),
            ContextKind::Inbound => inbound_context(req, org, settings),
        },
    };
    (plan, Some(org.slug().as_str()))
}

/// A channel may only run an org's context if it belongs to that org: its `domain_name` (set
/// from the auth realm, or by `public` for carrier calls) must be the org's domain.
fn guard(req: &Request<'_>, org: &OrgView) -> Result<(), &'static str> {
    if !org.is_active() {
        return Err("org suspended");
    }
    match req.variable("domain_name") {
        Some(d) if d == org.domain().as_str() => Ok(()),
        Some(_) => Err("channel belongs to another domain"),
        None => Err("channel has no domain"),
    }
}

/// First actions of every call in an org context: let it be answered (the guard its
/// authentication set), drop a `Replaces` an earlier REFER left for the next leg, keep the
/// phone's own SIP headers (`X-`, `P-`...) away from every other leg and the carrier (not copied
/// to new legs, and no `sip_h_` variable sent by any leg), mark it and count it.
fn prelude(org: &OrgView, settings: &Settings) -> Vec<Act> {
    let slug = org.slug().as_str();
    vec![
        act("unset", names::UNROUTED_GUARD),
        act("unset", names::REPLACES_VARIABLE),
        act("export", "sip_copy_custom_headers=false"),
        act("export", names::NO_EXTRA_HEADERS),
        act("export", names::DENY_ATTENDED_TRANSFER),
        act("export", format!("{}={slug}", names::ORG_MARKER)),
        act("limit", format!("hash {} {slug} -1", names::CALLS_REALM)),
        act(
            "export",
            format!(
                "hold_music={}",
                org.hold_music(&settings.default_hold_music)
            ),
        ),
    ]
}

/// The extension the call comes from, if it is one of this org's: the authenticated user, or,
/// for a call to a phone that the phone's partner blind-transferred (no `user_name` there), the
/// extension LittlePBX's directory marked the phone's leg with.
fn calling_extension<'v>(req: &Request<'_>, org: &'v OrgView) -> Option<ExtensionRef<'v>> {
    req.variable("user_name")
        .or_else(|| req.variable(names::EXTENSION_MARKER))
        .and_then(|u| org.extension(u))
}

fn org_context(req: &Request<'_>, org: &OrgView, settings: &Settings) -> Plan {
    let Some(dest) = req.hunt_destination_number() else {
        return Plan::refuse(UNALLOCATED, "no destination");
    };
    if let Some(refer_to) = req.variable(names::REFER_TO_VARIABLE) {
        if refer_to_host(refer_to).as_deref() != Some(org.domain().as_str()) {
            return Plan::refuse(REJECTED, "transfer to an address outside the org");
        }
    }
    let mut actions = prelude(org, settings);
    let caller = calling_extension(req, org);
    if let Some(ext) = org.extension(dest) {
        ring(&mut actions, org, ext, &org.context, settings);
        return Plan::route(actions, "extension");
    }
    if dest.starts_with('*') {
        return match feature(&mut actions, dest, org, caller, settings) {
            Ok(how) => Plan::route(actions, how),
            Err(refusal) => refusal,
        };
    }
    if settings.is_emergency(dest) {
        return outbound(actions, org, dest, caller, true);
    }
    if is_external(dest) {
        return outbound(actions, org, dest, caller, false);
    }
    Plan::refuse(UNALLOCATED, "unknown number")
}

/// The host of a Refer-To (`"Name" <sip:103@pbx.acme.example;transport=udp>` or a bare URI),
/// lower-cased; `None` when it is not a SIP URI with a user and a host. A phone blind-transfers
/// to its own org's domain (the domain it registers to); sofia transfers the user part only, so
/// any other host (another org's domain, an address) would be silently taken for this org's.
fn refer_to_host(refer_to: &str) -> Option<String> {
    let uri = match refer_to.find('<') {
        Some(open) => &refer_to[open + 1..refer_to[open..].find('>')? + open],
        None => refer_to.trim(),
    };
    let lower = uri.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("sip:")
        .or_else(|| lower.strip_prefix("sips:"))?;
    let (user, after) = rest.split_once('@')?;
    let host = after.split([':', ';', '?', '>']).next()?;
    (!user.is_empty() && !host.is_empty()).then(|| host.to_owned())
}

/// The feature codes, all inside the org: the domain and the caller's box are hard-coded.
fn feature(
    actions: &mut Vec<Act>,
    dest: &str,
    org: &OrgView,
    caller: Option<ExtensionRef<'_>>,
    settings: &Settings,
) -> Result<&'static str, Plan> {
    let domain = org.domain().as_str();
    let profile = &settings.voicemail_profile;
    if let Some(target) = dest.strip_prefix(names::FEATURE_INTERCOM_PREFIX) {
        return intercom(actions, org, target);
    }
    let how = match dest {
        names::FEATURE_OWN_VOICEMAIL => {
            let check = match caller {
                Some(me) => format!("check {profile} {domain} {}", me.number()),
                None => format!("check {profile} {domain}"),
            };
            actions.extend([act("answer", ""), act("voicemail", check)]);
            "own voicemail"
        }
        names::FEATURE_ANY_VOICEMAIL => {
            let check = format!("check {profile} {domain}");
            actions.extend([act("answer", ""), act("voicemail", check)]);
            "any voicemail"
        }
        names::FEATURE_CONFERENCE => {
            let room = names::conference_room(org.slug());
            let data = format!("{room}@{}", settings.conference_profile);
            actions.extend([act("answer", ""), act("conference", data)]);
            "conference"
        }
        names::FEATURE_ECHO => {
            actions.extend([act("answer", ""), act("echo", "")]);
            "echo"
        }
        _ => return Err(Plan::refuse(UNALLOCATED, "unknown feature code")),
    };
    Ok(how)
}

/// `*80<ext>`: the callee's phone answers at once (sofia adds `Call-Info: answer-after=0`).
fn intercom(actions: &mut Vec<Act>, org: &OrgView, target: &str) -> Result<&'static str, Plan> {
    let Some(ext) = org.extension(target) else {
        return Err(Plan::refuse(UNALLOCATED, "intercom to unknown extension"));
    };
    if ext.do_not_disturb() {
        return Err(Plan::refuse(
            "USER_BUSY",
            "intercom to extension on do-not-disturb",
        ));
    }
    let dial = format!(
        "{{sip_auto_answer=true}}user/{}@{}",
        ext.number(),
        org.domain()
    );
    actions.extend([act("set", "hangup_after_bridge=true"), act("bridge", dial)]);
    Ok("intercom")
}

/// `^\+?[0-9]{6,15}$`: numbers that go to the PSTN.
fn is_external(number: &str) -> bool {
    let digits = number.strip_prefix('+').unwrap_or(number);
    (6..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Calls from a DID: only the org's extensions, with their call flow (which may forward to the
/// outside number the admin configured, but nothing the caller dials).
fn inbound_context(req: &Request<'_>, org: &OrgView, settings: &Settings) -> Plan {
    let Some(ext) = req.hunt_destination_number().and_then(|d| org.extension(d)) else {
        return Plan::refuse(
            UNALLOCATED,
            "inbound call to a number that is not an extension",
        );
    };
    let mut actions = prelude(org, settings);
    // A phone that blind-transfers this carrier call sends it to its own org's context; the
    // variable is read from the transferred channel only and not exported, so the carrier
    // cannot transfer our extension's leg out of this context.
    actions.push(act(
        "set",
        format!("force_transfer_context={}", org.context),
    ));
    ring(&mut actions, org, ext, &org.inbound_context, settings);
    Plan::route(actions, "inbound to extension")
}

/// Rings an extension for its ring time, then runs its no-answer action. Busy, unregistered,
/// unanswered and do-not-disturb all lead to the no-answer action.
fn ring(
    actions: &mut Vec<Act>,
    org: &OrgView,
    ext: ExtensionRef<'_>,
    context: &str,
    settings: &Settings,
) {
    let domain = org.domain().as_str();
    if !ext.do_not_disturb() {
        actions.push(act("set", format!("call_timeout={}", ext.ring_seconds())));
        actions.push(act("set", "continue_on_fail=true"));
        actions.push(act("set", "hangup_after_bridge=true"));
        actions.push(act("bridge", format!("user/{}@{domain}", ext.number())));
    }
    match ext.no_answer() {
        NoAnswerRef::Voicemail if ext.voicemail_enabled() => {
            actions.push(act("answer", ""));
            let data = format!("{} {domain} {}", settings.voicemail_profile, ext.number());
            actions.push(act("voicemail", data));
        }
        NoAnswerRef::ForwardExtension(target) if org.extension(target).is_some() => {
            actions.push(act("transfer", format!("{target} XML {context}")));
        }
        NoAnswerRef::ForwardExternal(number) if !settings.is_emergency(number) => {
            let forwarded = outbound(Vec::new(), org, number, Some(ext), false);
            actions.extend(forwarded.actions);
        }
        _ => {
            let cause = if ext.do_not_disturb() {
                "USER_BUSY"
            } else {
                "NO_ANSWER"
            };
            actions.push(act("hangup", cause));
        }
    }
}

/// A PSTN call through the org's own outbound gateway, with a caller ID the org owns and the
/// provider's limits. Emergency numbers skip limits and do not need a caller ID.
fn outbound(
    mut actions: Vec<Act>,
    org: &OrgView,
    number: &str,
    caller: Option<ExtensionRef<'_>>,
    emergency: bool,
) -> Plan {
    let Some(gateway) = &org.outbound_route else {
        return Plan::refuse(NO_ROUTE, "org has no outbound trunk");
    };
    let caller_id = org.caller_id(caller);
    let slug = org.slug().as_str();
    let mut dial = format!("sofia/gateway/{gateway}/{number}");
    if !emergency {
        let limits = org.limits;
        if caller_id.is_none() {
            return Plan::refuse(BARRED, "no caller ID the org owns");
        }
        if limits.max_outbound_calls == 0 || limits.calls_per_second == 0 {
            return Plan::refuse(BARRED, "outbound calls not allowed");
        }
        let out = format!(
            "hash {} {slug} {} !{REJECTED}",
            names::OUTBOUND_REALM,
            limits.max_outbound_calls
        );
        let cps = format!(
            "hash {} {slug} {}/1 !{REJECTED}",
            names::CPS_REALM,
            limits.calls_per_second
        );
        // The concurrent-call count is taken by the carrier leg itself, before its INVITE is
        // sent (`execute_on_originate` runs before the leg starts), and kept until it hangs up
        // (`limit_ignore_transfer`: FreeSWITCH would drop it when the new leg starts routing, or
        // when a transfer re-routes it): it lasts as long as the outside call, also after a
        // transfer has hung up the leg that dialled it.
        dial = format!("{{limit_ignore_transfer=true,execute_on_originate='limit {out}'}}{dial}");
        actions.push(act("limit", cps));
    }
    if let Some(did) = caller_id {
        push_caller_id(&mut actions, org, did);
    }
    actions.push(act("set", "hangup_after_bridge=true"));
    actions.push(act("bridge", dial));
    Plan::route(actions, if emergency { "emergency" } else { "outbound" })
}

fn push_caller_id(actions: &mut Vec<Act>, org: &OrgView, did: &str) {
    actions.push(act("set", format!("effective_caller_id_number={did}")));
    if !org.caller_name.is_empty() {
        actions.push(act(
            "set",
            format!("effective_caller_id_name={}", org.caller_name),
        ));
    }
}

// ---------------------------------------------------------------------------------------
// public: calls from carriers
// ---------------------------------------------------------------------------------------

/// The three forms a carrier may send a DID in: `+E164`, E.164 digits, `00` + digits.
fn normalize_did(dest: &str) -> Option<String> {
    let digits = dest
        .strip_prefix('+')
        .or_else(|| dest.strip_prefix("00"))
        .unwrap_or(dest);
    let ok = (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    ok.then(|| format!("+{digits}"))
}

fn public<'l>(
    req: &Request<'_>,
    lookup: &'l impl Lookup,
    settings: &Settings,
) -> (Plan, Option<&'l str>) {
    if let Err(why) = from_a_carrier(req, settings) {
        // Named in the log by the org whose number was tried, when it is one.
        let org = req
            .hunt_destination_number()
            .and_then(normalize_did)
            .and_then(|did| lookup.by_did(&did))
            .map(|org| org.slug().as_str());
        return (Plan::refuse(REJECTED, why), org);
    }
    let Some(did) = req.hunt_destination_number().and_then(normalize_did) else {
        return (Plan::refuse(UNALLOCATED, "not a DID"), None);
    };
    let Some(org) = lookup.by_did(&did) else {
        return (Plan::refuse(UNALLOCATED, "unknown DID"), None);
    };
    let slug = Some(org.slug().as_str());
    if !org.is_active() {
        return (Plan::refuse(REJECTED, "org suspended"), slug);
    }
    if let Err(why) = admission(req, org) {
        return (Plan::refuse(REJECTED, why), slug);
    }
    let ext = match org.route(&did) {
        Some(Some(ext)) if org.extension(ext).is_some() => ext,
        Some(_) => return (Plan::refuse(REJECTED, "DID routes nowhere"), slug),
        None => return (Plan::refuse(UNALLOCATED, "DID has no route"), slug),
    };
    let actions = vec![
        act("export", format!("domain_name={}", org.domain())),
        act("export", format!("{}={}", names::ORG_MARKER, org.slug())),
        act("export", format!("{}={did}", names::DID_MARKER)),
        act("transfer", format!("{ext} XML {}", org.inbound_context)),
    ];
    (Plan::route(actions, "DID to org"), slug)
}

/// Whether the call is a carrier's at all. `public` is the context of the carrier profile, but
/// sofia also lands a call in it from any profile when its Request-URI names a gateway
/// (`gw+NAME`, `;gw=NAME`: the gateway's context): a phone that is authenticated on the phones'
/// profile could reach any org's numbers that way. `sofia_profile_name` is set by sofia, and
/// a digest user (`sip_auth_username`) is never a carrier.
fn from_a_carrier(req: &Request<'_>, settings: &Settings) -> Result<(), &'static str> {
    if req.variable("sofia_profile_name") != Some(settings.external_profile.as_str()) {
        return Err("not a call from the carrier profile");
    }
    // (`user_name` is no sign: sofia sets it from the ACL pseudo-user of a carrier address.)
    if req.variable("sip_auth_username").is_some() {
        return Err("an authenticated user is not a carrier");
    }
    Ok(())
}

/// Whether a carrier call may reach this org's DID.
///
/// - A call that came in through a gateway (`sip_gateway`, set by sofia for `gw+NAME` and
///   `;gw=NAME`) of **another** org is refused.
/// - Otherwise it is admitted only when its source address (`sip_network_ip`, taken by sofia
///   from the packet) lies in one of this org's trunk address blocks. This is deliberately not
///   a comparison with the ACL marker (`lpbx_trunk_org`): carriers serve many orgs from the same
///   addresses, and the ACL token names only one of them. Naming the org's own gateway admits
///   nothing by itself: anyone can write `gw+NAME`.
fn admission(req: &Request<'_>, org: &OrgView) -> Result<(), &'static str> {
    let gateway = req.variable("sip_gateway");
    if gateway.is_some_and(|g| !org.owns_gateway(g)) {
        return Err("call came through another org's gateway");
    }
    let source: Option<IpAddr> = req
        .variable("sip_network_ip")
        .and_then(|ip| ip.parse().ok());
    if source.is_some_and(|ip| org.trunk_source(ip)) {
        return Ok(());
    }
    Err("source is not a trunk of the DID's org")
}

// ---------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------

/// `<section name="dialplan"><context name=HUNTED><extension><condition>` + actions. A
/// context name we cannot write (or an empty one) becomes `global`, which FreeSWITCH tries
/// when the hunted context is missing.
fn render(context: &str, plan: &Plan) -> Result<Answer, Unwritable> {
    let name = if is_token(context) { context } else { "global" };
    let mut doc = Doc::new("dialplan");
    doc.open("context", &[("name", name)])?;
    doc.open("extension", &[("name", "lpbx")])?;
    doc.open("condition", &[])?;
    for a in &plan.actions {
        if a.data.is_empty() {
            doc.empty("action", &[("application", a.app)])?;
        } else {
            doc.empty("action", &[("application", a.app), ("data", &a.data)])?;
        }
    }
    Ok(Answer::new(doc.finish(), plan.reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dids_in_three_forms() {
        assert_eq!(
            normalize_did("+15550100100").as_deref(),
            Some("+15550100100")
        );
        assert_eq!(
            normalize_did("15550100100").as_deref(),
            Some("+15550100100")
        );
        assert_eq!(
            normalize_did("0015550100100").as_deref(),
            Some("+15550100100")
        );
        for bad in ["1001", "+0155501", "gw+acme.in", "+1555${x}", ""] {
            assert_eq!(normalize_did(bad), None, "{bad}");
        }
    }

    #[test]
    fn refer_to_hosts() {
        let host = |r: &str| refer_to_host(r);
        for (refer_to, expected) in [
            ("<sip:103@pbx.acme.localhost>", "pbx.acme.localhost"),
            (
                "\"Reception\" <sip:103@PBX.Acme.localhost:5060;transport=udp>",
                "pbx.acme.localhost",
            ),
            (
                "sips:+4930123@pbx.acme.localhost;user=phone",
                "pbx.acme.localhost",
            ),
            ("<sip:103@pbx.acme.localhost?Foo=bar>", "pbx.acme.localhost"),
            ("<sip:101@pbx.globex.localhost>", "pbx.globex.localhost"),
            ("<sip:+88212345@127.0.0.1:5099>", "127.0.0.1"),
        ] {
            assert_eq!(host(refer_to).as_deref(), Some(expected), "{refer_to}");
        }
        for bad in [
            "<sip:pbx.acme.localhost>",
            "<tel:+4930123>",
            "<sip:@pbx.acme.localhost>",
            "",
            "<sip:103@>",
            "<sip:103@pbx.acme.localhost",
        ] {
            assert_eq!(host(bad), None, "{bad}");
        }
    }

    #[test]
    fn external_numbers() {
        assert!(is_external("+4930123456"));
        assert!(is_external("0301234567"));
        assert!(!is_external("12345"));
        assert!(!is_external("+1234567890123456"));
        assert!(!is_external("*97"));
    }
}
