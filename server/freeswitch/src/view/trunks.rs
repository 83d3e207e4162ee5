//! The trunk part of an org's view: the gateways published for the external profile and the
//! trunk address blocks of the carrier ACL, with the checks that leave an unusable trunk out.

use std::net::IpAddr;

use domain::trunk::{Cidr, TrunkConfig, TrunkRole, TrunkSettings};
use domain::OrgSlug;

use super::TrunkInput;
use crate::names;

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

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
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
}
