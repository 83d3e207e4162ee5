//! The per-org view every answer is rendered from, built once per applied version.
//!
//! Building it does all the work that does not depend on a request: indexes (extension by
//! number, DID routes, trunk address blocks), FreeSWITCH names, the gateways to publish. Answers
//! then only look things up, so a REGISTER or a call costs the same whatever the org's size.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use domain::trunk::{Cidr, TrunkConfig, TrunkRole, TrunkSettings};
use domain::{
    CompanyName, Extension, ExtensionNumber, OrgConfig, OrgOptions, OrgSlug, OrgStatus, SipDomain,
    E164,
};

use crate::names;
use crate::settings::is_safe_path;

/// Limits the provider sets for the org.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderLimits {
    /// Concurrent calls to the PSTN (`limit hash lpbx_out`); 0 bars outbound calls except
    /// emergency numbers.
    pub max_outbound_calls: u32,
    /// New PSTN calls per second (`limit hash lpbx_cps N/1`); 0 bars them like above.
    pub calls_per_second: u32,
}

/// One trunk as the store keeps it, with the password already decrypted by the caller.
#[derive(Clone, PartialEq, Eq)]
pub struct TrunkInput {
    pub role: TrunkRole,
    pub config: TrunkConfig,
    /// The carrier password in clear (printable ASCII), if one is set.
    pub password: Option<String>,
}

impl std::fmt::Debug for TrunkInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrunkInput")
            .field("role", &self.role)
            .field("config", &self.config)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

/// Everything an org's view is built from.
#[derive(Debug, Clone)]
pub struct OrgInput {
    pub slug: OrgSlug,
    pub domain: SipDomain,
    pub company: CompanyName,
    pub status: OrgStatus,
    pub limits: ProviderLimits,
    /// The **applied** configuration (never the draft).
    pub config: OrgConfig,
    /// The DIDs the provider assigned to the org.
    pub dids: Vec<E164>,
    pub trunks: Vec<TrunkInput>,
    /// The org's converted music as FreeSWITCH sees it (holding `8000/` and `16000/`); set only
    /// when the org has music (see [`org_has_music`]).
    pub moh_dir: Option<String>,
}

/// Whether the org plays its own music: music on and a file uploaded. The server should set
/// [`OrgInput::moh_dir`] exactly when this holds; `crate::sync` uses it to start and stop
/// streams.
pub fn org_has_music(options: &OrgOptions) -> bool {
    options.moh_enabled && options.moh_file.is_some()
}

/// A gateway to publish for the external profile.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Gateway {
    pub name: String,
    pub settings: TrunkSettings,
    pub password: Option<String>,
}

/// One allowed address block of one trunk, with its ACL pseudo-user id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TrunkBlock {
    pub user_id: String,
    pub cidr: Cidr,
    net: IpAddr,
    prefix: u8,
}

impl TrunkBlock {
    fn new(user_id: String, cidr: &Cidr) -> Option<Self> {
        let (addr, prefix) = cidr.as_str().split_once('/')?;
        Some(Self {
            user_id,
            cidr: cidr.clone(),
            net: addr.parse().ok()?,
            prefix: prefix.parse().ok()?,
        })
    }

    /// Whether `ip` lies inside this block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_match(&net.octets(), &ip.octets(), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_match(&net.octets(), &ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

fn prefix_match(net: &[u8], ip: &[u8], prefix: u8) -> bool {
    let mut bits = usize::from(prefix);
    for (n, i) in net.iter().zip(ip) {
        if bits == 0 {
            return true;
        }
        let take = bits.min(8);
        let mask: u8 = if take == 8 { 0xff } else { !(0xffu8 >> take) };
        if n & mask != i & mask {
            return false;
        }
        bits -= take;
    }
    true
}

/// The applied state of one org, indexed for answering.
#[derive(Debug, Clone)]
pub struct OrgView {
    pub(crate) slug: OrgSlug,
    pub(crate) domain: SipDomain,
    pub(crate) status: OrgStatus,
    pub(crate) limits: ProviderLimits,
    pub(crate) config: OrgConfig,
    /// Company name reduced to display-name characters, for the caller name on PSTN calls.
    pub(crate) caller_name: String,
    extension_index: HashMap<String, usize>,
    dids: HashSet<String>,
    routes: HashMap<String, Option<ExtensionNumber>>,
    pub(crate) inbound_gateway: Option<Gateway>,
    pub(crate) outbound_gateway: Option<Gateway>,
    /// Name of the gateway outbound calls use (`.out`, or `.in` when same as inbound).
    pub(crate) outbound_route: Option<String>,
    pub(crate) blocks: Vec<TrunkBlock>,
    pub(crate) moh_dir: Option<String>,
    pub(crate) context: String,
    pub(crate) inbound_context: String,
    problems: Vec<String>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl OrgView {
    /// Builds the view. Never fails: parts that cannot be published (a trunk without the
    /// password its registration needs, a password with control characters, an unsafe music
    /// path) are left out and described in [`OrgView::problems`] for the log, so one bad trunk
    /// does not take the org's phones down.
    pub fn new(input: OrgInput) -> Self {
        let mut problems = Vec::new();
        let config = input.config.normalized();
        let extension_index = config
            .extensions
            .iter()
            .enumerate()
            .map(|(i, e)| (e.number.as_str().to_owned(), i))
            .collect();
        let dids: HashSet<String> = input.dids.iter().map(|d| d.as_str().to_owned()).collect();
        let routes = config
            .did_routes
            .iter()
            .filter(|r| dids.contains(r.did.as_str()))
            .map(|r| (r.did.as_str().to_owned(), r.extension.clone()))
            .collect();
        let trunks = Trunks::collect(&input.slug, &input.trunks, &mut problems);
        let moh_dir = input.moh_dir.filter(|dir| {
            let ok = is_safe_path(dir);
            if !ok {
                problems
                    .push("music directory path has unsafe characters; default music plays".into());
            }
            ok
        });
        Self {
            context: names::context(&input.slug),
            inbound_context: names::inbound_context(&input.slug),
            caller_name: display_caller_name(&input.company),
            slug: input.slug,
            domain: input.domain,
            status: input.status,
            limits: input.limits,
            config,
            extension_index,
            dids,
            routes,
            inbound_gateway: trunks.inbound,
            outbound_gateway: trunks.outbound,
            outbound_route: trunks.outbound_route,
            blocks: trunks.blocks,
            moh_dir,
            problems,
        }
    }

    pub fn slug(&self) -> &OrgSlug {
        &self.slug
    }
    pub fn domain(&self) -> &SipDomain {
        &self.domain
    }
    pub fn status(&self) -> OrgStatus {
        self.status
    }
    pub fn is_active(&self) -> bool {
        self.status == OrgStatus::Active
    }
    /// What could not be published, for the log.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }
    /// The org's DIDs in E.164 form (`+15550100100`), for building a DID index.
    pub fn dids(&self) -> impl Iterator<Item = &str> {
        self.dids.iter().map(String::as_str)
    }

    /// The extension with this number, in O(1).
    pub fn extension(&self, number: &str) -> Option<&Extension> {
        self.extension_index
            .get(number)
            .and_then(|&i| self.config.extensions.get(i))
    }

    /// Whether the org owns this DID (`+E164`).
    pub fn owns_did(&self, did: &E164) -> bool {
        self.dids.contains(did.as_str())
    }

    /// The route of one of the org's DIDs: `Some(None)` when calls to it are refused, `None`
    /// when the DID has no route at all.
    pub(crate) fn route(&self, did: &str) -> Option<Option<&ExtensionNumber>> {
        self.routes.get(did).map(Option::as_ref)
    }

    /// The caller ID for PSTN calls on behalf of `ext` (or of the org when `None`): the
    /// extension's own DID, else the org default, and only if the org owns it.
    pub(crate) fn caller_id<'s>(&'s self, ext: Option<&'s Extension>) -> Option<&'s E164> {
        ext.and_then(|e| e.outbound_caller_id.as_ref())
            .filter(|d| self.owns_did(d))
            .or_else(|| {
                self.config
                    .options
                    .default_caller_id
                    .as_ref()
                    .filter(|d| self.owns_did(d))
            })
    }

    /// `hold_music` for the org: its own stream, silence when music is off, else the default.
    pub(crate) fn hold_music(&self, default: &str) -> String {
        if !self.config.options.moh_enabled {
            "silence_stream://-1".into()
        } else if self.moh_dir.is_some() {
            names::moh_url(&self.slug)
        } else {
            default.into()
        }
    }

    /// Whether `name` is one of this org's gateways.
    pub(crate) fn owns_gateway(&self, name: &str) -> bool {
        [&self.inbound_gateway, &self.outbound_gateway]
            .iter()
            .any(|g| g.as_ref().is_some_and(|g| g.name == name))
    }

    /// Whether `ip` lies in one of the org's trunk address blocks.
    pub(crate) fn trunk_source(&self, ip: IpAddr) -> bool {
        self.blocks.iter().any(|b| b.contains(ip))
    }

    /// The gateways to publish, inbound first.
    pub(crate) fn gateways(&self) -> impl Iterator<Item = &Gateway> {
        self.inbound_gateway
            .iter()
            .chain(self.outbound_gateway.iter())
    }
}

/// The company name reduced to the characters of a display name (letters, digits, spaces and
/// `. , - _ ' ( ) & /`), at most 40 of them: it becomes the caller name on PSTN calls, where a
/// quote or backslash would break the From header.
fn display_caller_name(company: &CompanyName) -> String {
    let allowed = |c: char| c.is_alphanumeric() || c == ' ' || ".,-_'()&/".contains(c);
    let cleaned: String = company
        .as_str()
        .chars()
        .map(|c| if allowed(c) { c } else { ' ' })
        .take(40)
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The trunk part of a view: what the directory publishes for a set of trunks.
pub(crate) struct Trunks {
    pub inbound: Option<Gateway>,
    pub outbound: Option<Gateway>,
    pub outbound_route: Option<String>,
    pub blocks: Vec<TrunkBlock>,
}

impl Trunks {
    pub(crate) fn collect(
        slug: &OrgSlug,
        inputs: &[TrunkInput],
        problems: &mut Vec<String>,
    ) -> Self {
        let find = |role| inputs.iter().find(|t| t.role == role);
        let inbound = find(TrunkRole::Inbound).and_then(|t| own_gateway(slug, t, problems));
        let (outbound, outbound_route) = match find(TrunkRole::Outbound).map(|t| (&t.config, t)) {
            Some((TrunkConfig::SameAsInbound, _)) => {
                let route = inbound.as_ref().map(|g| g.name.clone());
                if route.is_none() {
                    problems.push("outbound trunk is \"same as inbound\" but there is no usable inbound trunk".into());
                }
                (None, route)
            }
            Some((TrunkConfig::Own(_), t)) => {
                let gw = own_gateway(slug, t, problems);
                let route = gw.as_ref().map(|g| g.name.clone());
                (gw, route)
            }
            None => (None, None),
        };
        if inputs
            .iter()
            .filter(|t| t.role == TrunkRole::Inbound)
            .count()
            > 1
            || inputs
                .iter()
                .filter(|t| t.role == TrunkRole::Outbound)
                .count()
                > 1
        {
            problems.push("more than one trunk per role; the first of each is used".into());
        }
        let mut blocks = Vec::new();
        let published = [
            (&inbound, TrunkRole::Inbound),
            (&outbound, TrunkRole::Outbound),
        ];
        for (gw, role) in published {
            let Some(gw) = gw else { continue };
            for (i, cidr) in gw.settings.allowed_cidrs.iter().enumerate() {
                if let Some(block) = TrunkBlock::new(names::trunk_user(slug, role, i + 1), cidr) {
                    blocks.push(block);
                }
            }
        }
        Self {
            inbound,
            outbound,
            outbound_route,
            blocks,
        }
    }
}

fn own_gateway(slug: &OrgSlug, input: &TrunkInput, problems: &mut Vec<String>) -> Option<Gateway> {
    let TrunkConfig::Own(settings) = &input.config else {
        problems.push(format!(
            "{} trunk cannot be \"same as inbound\"",
            input.role.as_str()
        ));
        return None;
    };
    let password = input.password.clone().filter(|p| !p.is_empty());
    if let Some(p) = &password {
        if !p.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            problems.push(format!(
                "{} trunk password has non-printable characters; gateway left out",
                input.role.as_str()
            ));
            return None;
        }
    }
    if settings.register && password.is_none() {
        problems.push(format!(
            "{} trunk registers but has no password; gateway left out",
            input.role.as_str()
        ));
        return None;
    }
    Some(Gateway {
        name: names::gateway(slug, input.role),
        settings: settings.clone(),
        password,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(cidr: &str) -> TrunkBlock {
        TrunkBlock::new("x".into(), &Cidr::parse(cidr).unwrap()).unwrap()
    }

    #[test]
    fn address_blocks_contain_their_addresses_only() {
        let b = block("203.0.113.0/24");
        assert!(b.contains("203.0.113.77".parse().unwrap()));
        assert!(!b.contains("203.0.114.1".parse().unwrap()));
        assert!(!b.contains("2001:db8::1".parse().unwrap()));
        let b = block("203.0.113.10/31");
        assert!(b.contains("203.0.113.11".parse().unwrap()));
        assert!(!b.contains("203.0.113.12".parse().unwrap()));
        let b = block("2001:db8::/48");
        assert!(b.contains("2001:db8:0:ffff::1".parse().unwrap()));
        assert!(!b.contains("2001:db9::1".parse().unwrap()));
    }

    #[test]
    fn caller_names_keep_display_characters_only() {
        let company = CompanyName::parse("Acme \"Best\" & Sons; Ltd.").unwrap();
        assert_eq!(display_caller_name(&company), "Acme Best & Sons Ltd.");
    }
}
