//! SIP trunks: the upstream carriers an org's calls enter and leave through. Set by the provider.
//!
//! Each org has at most one inbound and one outbound trunk; the outbound one may be "the same as
//! inbound". Every field that reaches FreeSWITCH's gateway XML is a whitelisted value type.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::values::ValueError;

fn refuse<T>(message: impl Into<String>) -> Result<T, ValueError> {
    Err(ValueError(message.into()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrunkRole {
    Inbound,
    Outbound,
}

impl TrunkRole {
    pub fn as_str(self) -> &'static str {
        match self {
            TrunkRole::Inbound => "inbound",
            TrunkRole::Outbound => "outbound",
        }
    }

    pub fn parse(value: &str) -> Result<Self, ValueError> {
        match value {
            "inbound" => Ok(TrunkRole::Inbound),
            "outbound" => Ok(TrunkRole::Outbound),
            _ => refuse("A trunk is \"inbound\" or \"outbound\"."),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    Udp,
    Tcp,
    Tls,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
        }
    }

    pub fn parse(value: &str) -> Result<Self, ValueError> {
        match value.to_ascii_lowercase().as_str() {
            "udp" => Ok(Transport::Udp),
            "tcp" => Ok(Transport::Tcp),
            "tls" => Ok(Transport::Tls),
            _ => refuse("Transport is udp, tcp or tls."),
        }
    }
}

/// A host name or an IP address of a carrier.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SipHost(String);

impl SipHost {
    pub fn parse(value: &str) -> Result<Self, ValueError> {
        let value = value.trim().to_ascii_lowercase();
        if value.parse::<IpAddr>().is_ok() {
            return Ok(Self(value));
        }
        let valid_label = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if value.is_empty() || value.len() > 253 || !value.split('.').all(valid_label) {
            return refuse("A host is a name like sip.carrier.example or an IP address.");
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SipHost {
    type Error = ValueError;
    fn try_from(value: String) -> Result<Self, ValueError> {
        Self::parse(&value)
    }
}

impl From<SipHost> for String {
    fn from(value: SipHost) -> String {
        value.0
    }
}

impl fmt::Display for SipHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A SIP user part given by a carrier: 1 to 64 of letters, digits and `. _ + -`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SipUser(String);

impl SipUser {
    pub fn parse(value: &str) -> Result<Self, ValueError> {
        let value = value.trim();
        if !(1..=64).contains(&value.len())
            || !value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b))
        {
            return refuse("A SIP user name has 1 to 64 letters, digits, dots, underscores, plus or minus signs.");
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SipUser {
    type Error = ValueError;
    fn try_from(value: String) -> Result<Self, ValueError> {
        Self::parse(&value)
    }
}

impl From<SipUser> for String {
    fn from(value: SipUser) -> String {
        value.0
    }
}

impl fmt::Display for SipUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An address block a carrier sends calls from (`203.0.113.10/32`, `2001:db8::/48`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cidr(String);

impl Cidr {
    pub fn parse(value: &str) -> Result<Self, ValueError> {
        let value = value.trim();
        let (addr, prefix) = match value.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (value, None),
        };
        let Ok(ip) = addr.parse::<IpAddr>() else {
            return refuse(
                "An address is an IP address with an optional /prefix, like 203.0.113.10/32.",
            );
        };
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(p) if p <= max && p >= max / 4 => p,
                _ => {
                    return refuse(format!(
                        "The prefix of {value} must be between /{} and /{max}.",
                        max / 4
                    ))
                }
            },
        };
        Ok(Self(format!("{ip}/{prefix}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Cidr {
    type Error = ValueError;
    fn try_from(value: String) -> Result<Self, ValueError> {
        Self::parse(&value)
    }
}

impl From<Cidr> for String {
    fn from(value: Cidr) -> String {
        value.0
    }
}

/// A carrier's password: 1 to 128 printable ASCII characters. Kept encrypted at rest and never
/// shown again once set; `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct TrunkSecret(String);

impl TrunkSecret {
    pub fn parse(value: &str) -> Result<Self, ValueError> {
        if !(1..=128).contains(&value.len()) || !value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return refuse("A trunk password has 1 to 128 printable characters.");
        }
        Ok(Self(value.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TrunkSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TrunkSecret(***)")
    }
}

/// How to reach and authenticate with one carrier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrunkSettings {
    pub username: SipUser,
    /// When the carrier's authentication user differs from `username`.
    pub auth_username: Option<SipUser>,
    pub host: SipHost,
    /// Where to send requests when not to `host` (outbound proxy).
    pub proxy: Option<SipHost>,
    pub port: u16,
    pub transport: Transport,
    /// Register with the carrier (needed when it sends calls to a registered contact).
    pub register: bool,
    pub realm: Option<SipHost>,
    pub from_user: Option<SipUser>,
    pub from_domain: Option<SipHost>,
    /// Put the caller's number in the From header (some carriers require it for caller ID).
    pub caller_id_in_from: bool,
    pub expire_seconds: u32,
    /// Addresses the carrier sends calls from: the inbound ACL of the external profile.
    pub allowed_cidrs: Vec<Cidr>,
}

/// One of an org's trunks, as configured.
// At most two per org and never in a hot collection: boxing the settings would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TrunkConfig {
    /// Its own carrier account.
    Own(TrunkSettings),
    /// Outbound calls use the inbound trunk.
    SameAsInbound,
}

pub fn check_port(port: u32) -> Result<u16, ValueError> {
    match u16::try_from(port) {
        Ok(p) if p > 0 => Ok(p),
        _ => refuse("A port is a number from 1 to 65535."),
    }
}

pub fn check_expire_seconds(seconds: u32) -> Result<u32, ValueError> {
    if !(60..=86_400).contains(&seconds) {
        return refuse("Registration expiry is 60 to 86400 seconds.");
    }
    Ok(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert!(SipHost::parse("sip.carrier.example").is_ok());
        assert!(SipHost::parse("203.0.113.10").is_ok());
        assert!(SipHost::parse("2001:db8::1").is_ok());
        for bad in ["", "a b", "host;transport=tcp", "x${y}", "-a.b", "a/b"] {
            assert!(SipHost::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn users() {
        assert!(SipUser::parse("acme_trunk-1+x").is_ok());
        for bad in ["", "a b", "a@b", "a\"b", "a$b", &"x".repeat(65)] {
            assert!(SipUser::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn cidrs() {
        assert_eq!(
            Cidr::parse("203.0.113.10").unwrap().as_str(),
            "203.0.113.10/32"
        );
        assert_eq!(
            Cidr::parse("2001:db8::/48").unwrap().as_str(),
            "2001:db8::/48"
        );
        for bad in [
            "0.0.0.0/0",
            "203.0.113.10/33",
            "host/32",
            "1.2.3.4/x",
            "::/0",
        ] {
            assert!(Cidr::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn secrets_do_not_print() {
        let secret = TrunkSecret::parse("hunter2").unwrap();
        assert_eq!(format!("{secret:?}"), "TrunkSecret(***)");
        assert!(TrunkSecret::parse("a\nb").is_err());
        assert!(
            TrunkSecret::parse("p$ss{w}'rd\"<>").is_ok(),
            "carriers choose passwords; the XML writer escapes them"
        );
    }
}
