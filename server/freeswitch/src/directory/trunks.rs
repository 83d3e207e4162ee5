//! The trunk part of the `directory` section: the gateways published to the external profile
//! (`purpose=gateways`), the carrier ACL's address blocks (`purpose=network-list`) and the
//! pseudo-users sofia looks up when a carrier address matches one of them.

use super::{bool_text, finish, param, variable, without_user, CLOSING_RESERVE};
use crate::answer::{Answer, Reason};
use crate::lookup::Lookup;
use crate::names;
use crate::request::{Action, Request};
use crate::settings::Settings;
use crate::view::{Gateway, OrgView};
use crate::xml::{Doc, Unwritable};

// ---------------------------------------------------------------------------------------
// Gateways (purpose=gateways)
// ---------------------------------------------------------------------------------------

/// Gateways go only to the external profile, only for active orgs, inside
/// `domain/groups/group/users/user/gateways` where sofia's `parse_domain_tag` reads them. Any
/// other profile gets a directory without gateways, so the internal profile can never
/// register to or route through a carrier.
pub(super) fn gateways(req: &Request<'_>, lookup: &impl Lookup, settings: &Settings) -> Answer {
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
pub(super) fn network_list(req: &Request<'_>, lookup: &impl Lookup, settings: &Settings) -> Answer {
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
pub(super) fn trunk_domain(req: &Request<'_>, lookup: &impl Lookup, settings: &Settings) -> Answer {
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
