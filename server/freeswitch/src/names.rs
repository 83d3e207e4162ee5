//! The names of FreeSWITCH objects that LittlePBX creates: the single source of truth.
//!
//! Many of these names are **global** inside FreeSWITCH (gateways, local streams, conference
//! rooms, `limit` realms), so every one of them carries the org's slug. Slugs are `[a-z0-9-]`
//! and never contain `_` or `.`, which keeps the names of two orgs from colliding and lets
//! [`parse_context`] and [`parse_trunk_user`] split a name back into its parts unambiguously.

use domain::trunk::TrunkRole;
use domain::OrgSlug;

/// The channel variable that marks a call (and its exported legs) with the org it belongs to.
/// CDRs are attributed only by it.
pub const ORG_MARKER: &str = "lpbx_org";
/// The variable our ACL pseudo-users and trunk gateways set on calls from a carrier: which org's
/// trunk let the source in. Informational (logs, CDRs); admission decisions use the source
/// address, see `crate::dialplan`.
pub const TRUNK_ORG_MARKER: &str = "lpbx_trunk_org";
/// The variable carrying the DID a call from a carrier came in on.
pub const DID_MARKER: &str = "lpbx_did";
/// The variable carrying the extension number of a directory user.
pub const EXTENSION_MARKER: &str = "lpbx_ext";
/// Set on a phone's call by its authentication (`execute_on_answer*` runs when the call is
/// answered) and removed by the first actions of every org context. Sofia answers an INVITE
/// carrying `Replaces` with an inline `answer,intercept:<uuid>` (or `sofia_sla`, or whatever
/// the replaced channel ran) without asking the dialplan, and FreeSWITCH 1.10 has no setting
/// to refuse it; so the guard is still there and hangs the call up before it reaches anything.
pub const UNROUTED_GUARD: &str = "execute_on_answer_lpbx_unrouted";
pub const UNROUTED_GUARD_ACTION: &str = "hangup CALL_REJECTED";
/// sofia's own veto of attended transfers (REFER with a `Replaces` it finds), set on every leg
/// of an org's call. With `make-every-transfer-a-nightmare` sofia never reads it (attended
/// transfers are decided by `crate::channels`); it stays so that a FreeSWITCH installed without
/// that flag refuses every attended transfer rather than letting a REFER take over any call.
pub const DENY_ATTENDED_TRANSFER: &str = "deny_refer_requests=true";
/// sofia sends every `sip_h_<name>` channel variable as a header `<name>` in the leg's INVITEs
/// and re-INVITEs, unless the name matches `exclude_outgoing_extra_header`. A REFER sets such
/// variables on the transferred party's leg from its Refer-To URI headers and Referred-By
/// (sofia.c, 1.10.12), which may be a carrier leg; LittlePBX's answers set none. Exported on
/// every leg of an org's call.
pub const NO_EXTRA_HEADERS: &str = "exclude_outgoing_extra_header=^sip_h_";
/// The `Replaces` header sofia puts into the INVITE of any new leg the channel calls (the
/// variable is copied to the new leg). A REFER with Replaces sets it on the transferred party's
/// leg from the Refer-To, whatever LittlePBX answers (sofia.c, 1.10.12), and that leg may later
/// be transferred to the carrier; every org context removes it first.
pub const REPLACES_VARIABLE: &str = "_sofia_replaces_";
/// The channel variable sofia sets on a leg it blind-transfers: the REFER's whole Refer-To.
pub const REFER_TO_VARIABLE: &str = "sip_refer_to";
/// `limit hash <CALLS_REALM> <slug> -1` counts every call of an org.
pub const CALLS_REALM: &str = "lpbx_calls";
/// `limit hash <OUTBOUND_REALM> <slug> <max>` caps concurrent calls to the PSTN; run by each
/// carrier leg when it is originated, so that it counts as long as that leg lives.
pub const OUTBOUND_REALM: &str = "lpbx_out";
/// `limit hash <CPS_REALM> <slug> <n>/1` caps new PSTN calls per second.
pub const CPS_REALM: &str = "lpbx_cps";
/// The sample rates music on hold is converted to; each is its own local stream.
pub const MOH_RATES: [u32; 2] = [8000, 16000];

/// Feature code: the caller's own voicemail box.
pub const FEATURE_OWN_VOICEMAIL: &str = "*97";
/// Feature code: any voicemail box of the org (asks for the box number).
pub const FEATURE_ANY_VOICEMAIL: &str = "*98";
/// Feature code prefix: `*80<ext>` calls an extension that answers at once (intercom).
pub const FEATURE_INTERCOM_PREFIX: &str = "*80";
/// Feature code: the org's conference room.
pub const FEATURE_CONFERENCE: &str = "*30";
/// Feature code: echo test.
pub const FEATURE_ECHO: &str = "*43";

const CONTEXT_PREFIX: &str = "org_";
const INBOUND_SUFFIX: &str = "_inbound";

/// The context of the org's phones: `org_<slug>`.
pub fn context(slug: &OrgSlug) -> String {
    format!("{CONTEXT_PREFIX}{slug}")
}

/// The context that calls to the org's DIDs are transferred into: `org_<slug>_inbound`.
/// It routes to extensions only.
pub fn inbound_context(slug: &OrgSlug) -> String {
    format!("{CONTEXT_PREFIX}{slug}{INBOUND_SUFFIX}")
}

/// Which of an org's two contexts a name denotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextKind {
    /// `org_<slug>`: the org's phones.
    Org,
    /// `org_<slug>_inbound`: calls from the PSTN, after the `public` context.
    Inbound,
}

/// Splits `org_<slug>` / `org_<slug>_inbound` into the slug and the kind. The slug is not
/// checked here; look it up.
pub fn parse_context(name: &str) -> Option<(&str, ContextKind)> {
    let rest = name.strip_prefix(CONTEXT_PREFIX)?;
    let (slug, kind) = match rest.strip_suffix(INBOUND_SUFFIX) {
        Some(slug) => (slug, ContextKind::Inbound),
        None => (rest, ContextKind::Org),
    };
    if slug.is_empty() || slug.contains('_') {
        return None;
    }
    Some((slug, kind))
}

fn role_tag(role: TrunkRole) -> &'static str {
    match role {
        TrunkRole::Inbound => "in",
        TrunkRole::Outbound => "out",
    }
}

/// The gateway of an org's trunk: `<slug>.in` or `<slug>.out`. Gateway names are global in
/// FreeSWITCH and must match `^[\w.-]+$`, which slugs guarantee.
pub fn gateway(slug: &OrgSlug, role: TrunkRole) -> String {
    format!("{slug}.{}", role_tag(role))
}

/// The id of the directory pseudo-user that carries one allowed address block of a trunk in the
/// carrier ACL: `<slug>.in.<n>` / `<slug>.out.<n>`, `n` counting from 1. Sofia turns a matching
/// node into the token `<id>@<acl domain>`.
pub fn trunk_user(slug: &OrgSlug, role: TrunkRole, n: usize) -> String {
    format!("{slug}.{}.{n}", role_tag(role))
}

/// Splits a trunk pseudo-user id back into slug, role and 1-based index.
pub fn parse_trunk_user(id: &str) -> Option<(&str, TrunkRole, usize)> {
    let mut parts = id.splitn(3, '.');
    let slug = parts.next()?;
    let role = match parts.next()? {
        "in" => TrunkRole::Inbound,
        "out" => TrunkRole::Outbound,
        _ => return None,
    };
    let n_text = parts.next()?;
    if n_text.is_empty() || !n_text.bytes().all(|b| b.is_ascii_digit()) || n_text.starts_with('0') {
        return None;
    }
    let n = n_text.parse().ok()?;
    Some((slug, role, n))
}

/// The org's music-on-hold stream as channels name it: `<slug>_moh`.
pub fn moh_stream(slug: &OrgSlug) -> String {
    format!("{slug}_moh")
}

/// One rate of the org's music: `<slug>_moh/8000`. mod_local_stream looks up
/// `<name>/<rate>` first, so the rate is part of the stream's name, not of its path.
pub fn moh_stream_at(slug: &OrgSlug, rate: u32) -> String {
    format!("{slug}_moh/{rate}")
}

/// The value of `hold_music` for the org's own stream.
pub fn moh_url(slug: &OrgSlug) -> String {
    format!("local_stream://{slug}_moh")
}

/// The org's conference room. Room names are global in mod_conference (the profile after `@`
/// only configures a new room), so the slug is part of the name.
pub fn conference_room(slug: &OrgSlug) -> String {
    format!("{slug}_room")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slug(s: &str) -> OrgSlug {
        OrgSlug::parse(s).unwrap()
    }

    #[test]
    fn contexts_round_trip() {
        let s = slug("acme-2");
        assert_eq!(context(&s), "org_acme-2");
        assert_eq!(inbound_context(&s), "org_acme-2_inbound");
        assert_eq!(
            parse_context("org_acme-2"),
            Some(("acme-2", ContextKind::Org))
        );
        assert_eq!(
            parse_context("org_acme-2_inbound"),
            Some(("acme-2", ContextKind::Inbound))
        );
        for bad in [
            "org_",
            "acme",
            "public",
            "org__inbound",
            "org_a_b",
            "default",
        ] {
            assert_eq!(parse_context(bad), None, "{bad}");
        }
    }

    #[test]
    fn gateway_and_trunk_user_names() {
        let s = slug("globex");
        assert_eq!(gateway(&s, TrunkRole::Inbound), "globex.in");
        assert_eq!(gateway(&s, TrunkRole::Outbound), "globex.out");
        assert_eq!(trunk_user(&s, TrunkRole::Outbound, 2), "globex.out.2");
        assert_eq!(
            parse_trunk_user("globex.out.2"),
            Some(("globex", TrunkRole::Outbound, 2))
        );
        for bad in [
            "globex.in",
            "globex.in.0",
            "globex.x.1",
            "globex.in.01",
            "globex.in.1a",
        ] {
            assert_eq!(parse_trunk_user(bad), None, "{bad}");
        }
    }

    #[test]
    fn stream_and_room_names() {
        let s = slug("acme");
        assert_eq!(moh_stream(&s), "acme_moh");
        assert_eq!(moh_stream_at(&s, 16000), "acme_moh/16000");
        assert_eq!(moh_url(&s), "local_stream://acme_moh");
        assert_eq!(conference_room(&s), "acme_room");
    }
}
