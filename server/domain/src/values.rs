//! Validated value types ("parse, don't validate").
//!
//! Every string that a tenant or the provider can set and that reaches FreeSWITCH goes through one of
//! these types. Their character sets are whitelists: none of them can carry `$`, `{`, `}`, quotes,
//! angle brackets, backslashes or control characters, so no tenant value can start a FreeSWITCH
//! variable expansion or an XML construct, even before the XML writer escapes it.

use std::fmt;

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

/// Why a value was refused. The message is written for the person who typed the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(pub String);

fn refuse<T>(message: impl Into<String>) -> Result<T, ValueError> {
    Err(ValueError(message.into()))
}

macro_rules! string_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValueError;
            fn try_from(value: String) -> Result<Self, ValueError> {
                Self::parse(&value)
            }
        }

        impl std::str::FromStr for $name {
            type Err = ValueError;
            fn from_str(value: &str) -> Result<Self, ValueError> {
                Self::parse(value)
            }
        }
    };
}

string_newtype!(
    /// An extension number inside one org: 2 to 5 digits, not starting with 0.
    ///
    /// Longer numbers are external numbers, `*` starts a feature code and a leading 0 is the
    /// usual trunk prefix, so the dialplan can tell them apart without per-org rules.
    ExtensionNumber
);

impl ExtensionNumber {
    pub fn parse(value: &str) -> Result<Self, ValueError> {
        let value = value.trim();
        if !(2..=5).contains(&value.len()) || !value.bytes().all(|b| b.is_ascii_digit()) {
            return refuse("An extension number has 2 to 5 digits, for example 101.");
        }
        if value.starts_with('0') {
            return refuse("An extension number cannot start with 0 (0 is used to dial out).");
        }
        Ok(Self(value.to_owned()))
    }
}

string_newtype!(
    /// A phone number in E.164 form: `+`, a country code and the national number, 8 to 16
    /// characters in all (`+15550100100`).
    E164
);

impl E164 {
    pub fn parse(value: &str) -> Result<Self, ValueError> {
        let compact: String = value
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
            .collect();
        let Some(digits) = compact.strip_prefix('+') else {
            return refuse(
                "Write the number in international form starting with +, for example +15550100100.",
            );
        };
        if !(7..=15).contains(&digits.len())
            || !digits.bytes().all(|b| b.is_ascii_digit())
            || digits.starts_with('0')
        {
            return refuse(
                "An international number is + followed by 7 to 15 digits, the first not 0.",
            );
        }
        Ok(Self(compact))
    }

    /// The number without the leading `+`, as carriers usually send it in the request URI.
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }
}

string_newtype!(
    /// A number outside the PBX that calls may be forwarded to: E.164 (`+4930123456`) or a
    /// national number of 3 to 15 digits (`0301234567`, `911`).
    ExternalNumber
);

impl ExternalNumber {
    pub fn parse(value: &str) -> Result<Self, ValueError> {
        let compact: String = value
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
            .collect();
        let digits = compact.strip_prefix('+').unwrap_or(&compact);
        if !(3..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return refuse("An outside number has 3 to 15 digits, optionally starting with +.");
        }
        Ok(Self(compact))
    }
}

string_newtype!(
    /// A SIP domain: lowercase host name with at least two labels (`pbx.acme.example.com`).
    SipDomain
);

impl SipDomain {
    pub fn parse(value: &str) -> Result<Self, ValueError> {
        let value = value.trim().to_ascii_lowercase();
        if value.is_empty() || value.len() > 253 {
            return refuse("A SIP domain is a host name of at most 253 characters.");
        }
        let labels: Vec<&str> = value.split('.').collect();
        if labels.len() < 2 {
            return refuse(
                "A SIP domain has at least two parts, for example pbx.acme.example.com.",
            );
        }
        for label in &labels {
            let valid = !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-');
            if !valid {
                return refuse(
                    "Each part of a SIP domain uses letters, digits and inner hyphens only.",
                );
            }
        }
        if labels.iter().all(|l| l.bytes().all(|b| b.is_ascii_digit())) {
            return refuse("A SIP domain must be a name, not an IP address.");
        }
        // `.invalid` names are LittlePBX's own (the carrier ACL's directory domain).
        if labels.last() == Some(&"invalid") {
            return refuse("A SIP domain cannot end in .invalid.");
        }
        Ok(Self(value))
    }
}

/// Slugs that would make confusing host names or clash with our own paths.
const RESERVED_SLUGS: &[&str] = &[
    "www",
    "api",
    "admin",
    "admin-demo",
    "fs",
    "static",
    "pbx",
    "mail",
];

string_newtype!(
    /// The org's short name in host names (`pbx.<slug>.<base domain>`) and FreeSWITCH object
    /// names (gateways, streams, limits): 2 to 32 of `a-z`, `0-9`, `-`, starting with a letter.
    OrgSlug
);

impl OrgSlug {
    pub fn parse(value: &str) -> Result<Self, ValueError> {
        let value = value.trim();
        let valid = (2..=32).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && value.starts_with(|c: char| c.is_ascii_lowercase())
            && !value.ends_with('-')
            && !value.contains("--");
        if !valid {
            return refuse(
                "A short name has 2 to 32 lowercase letters, digits or single hyphens, and starts with a letter.",
            );
        }
        if RESERVED_SLUGS.contains(&value) {
            return refuse(format!(
                "The short name \"{value}\" is reserved; choose another."
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

string_newtype!(
    /// An e-mail address, checked for shape only (`name@example.com`).
    Email
);

impl Email {
    pub fn parse(value: &str) -> Result<Self, ValueError> {
        let value = value.trim();
        let Some((local, host)) = value.rsplit_once('@') else {
            return refuse("An e-mail address looks like name@example.com.");
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && local
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._%+-".contains(&b))
            && !local.starts_with('.')
            && !local.ends_with('.');
        let host_ok = SipDomain::parse(host).is_ok() || is_dev_host(host);
        if !local_ok || !host_ok || value.len() > 254 {
            return refuse("An e-mail address looks like name@example.com.");
        }
        // Lowercase as a whole: mail systems treat addresses case-insensitively in practice, and
        // one form makes "already an admin" and logins behave alike on every database.
        Ok(Self(value.to_ascii_lowercase()))
    }
}

/// `localhost` is a valid mail host on development machines and in tests.
fn is_dev_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
}

string_newtype!(
    /// A person's or a phone's name as shown on displays: 1 to 40 letters (any script), digits,
    /// spaces and `. , - _ ' ( ) & /`.
    DisplayName
);

impl DisplayName {
    pub fn parse(value: &str) -> Result<Self, ValueError> {
        let value = value.trim();
        let count = value.chars().count();
        if !(1..=40).contains(&count) {
            return refuse("A name has 1 to 40 characters.");
        }
        let allowed = |c: char| c.is_alphanumeric() || c == ' ' || ".,-_'()&/".contains(c);
        if let Some(bad) = value.chars().find(|c| !allowed(*c)) {
            return refuse(format!(
                "A name may use letters, digits, spaces and . , - _ ' ( ) & / — not \"{}\".",
                bad.escape_default()
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

string_newtype!(
    /// A company name as shown on the org's pages: 1 to 100 characters, no control characters
    /// and none of `< > $ { } \\`.
    CompanyName
);

impl CompanyName {
    pub fn parse(value: &str) -> Result<Self, ValueError> {
        let value = value.trim();
        if !(1..=100).contains(&value.chars().count()) {
            return refuse("A company name has 1 to 100 characters.");
        }
        if value
            .chars()
            .any(|c| c.is_control() || "<>${}\\".contains(c))
        {
            return refuse("A company name cannot contain control characters or < > $ { } \\.");
        }
        Ok(Self(value.to_owned()))
    }
}

string_newtype!(
    /// The voicemail PIN: 4 to 10 digits.
    VoicemailPin
);

impl VoicemailPin {
    pub fn parse(value: &str) -> Result<Self, ValueError> {
        let value = value.trim();
        if !(4..=10).contains(&value.len()) || !value.bytes().all(|b| b.is_ascii_digit()) {
            return refuse("A voicemail PIN has 4 to 10 digits.");
        }
        Ok(Self(value.to_owned()))
    }
}

string_newtype!(
    /// FreeSWITCH's `a1-hash`: lowercase hex MD5 of `user:domain:password`.
    ///
    /// The only form in which a SIP password is stored; FreeSWITCH checks digests with it.
    A1Hash
);

impl A1Hash {
    pub fn parse(value: &str) -> Result<Self, ValueError> {
        if value.len() != 32
            || !value
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return refuse("An a1-hash is 32 lowercase hexadecimal characters.");
        }
        Ok(Self(value.to_owned()))
    }

    pub fn compute(user: &ExtensionNumber, domain: &SipDomain, password: &str) -> Self {
        Self(md5_hex(&format!("{user}:{domain}:{password}")))
    }

    /// Checks a plain password (HTTP basic) against this hash in constant time.
    pub fn matches_password(
        &self,
        user: &ExtensionNumber,
        domain: &SipDomain,
        password: &str,
    ) -> bool {
        constant_time_eq(
            Self::compute(user, domain, password).0.as_bytes(),
            self.0.as_bytes(),
        )
    }

    /// The expected response of an RFC 2617/7616 MD5 digest (`qop=auth` or none) built on
    /// this hash. Used to verify SIP and HTTP digests without knowing the password.
    pub fn digest_response(&self, challenge: &DigestParams<'_>) -> String {
        let ha2 = md5_hex(&format!("{}:{}", challenge.method, challenge.uri));
        match challenge.qop {
            Some(qop) if !qop.is_empty() => md5_hex(&format!(
                "{}:{}:{}:{}:{}:{}",
                self.0, challenge.nonce, challenge.nc, challenge.cnonce, qop, ha2
            )),
            _ => md5_hex(&format!("{}:{}:{}", self.0, challenge.nonce, ha2)),
        }
    }

    /// True when `response` is the correct digest for this hash (compared in constant time).
    pub fn verifies_digest(&self, challenge: &DigestParams<'_>, response: &str) -> bool {
        constant_time_eq(
            self.digest_response(challenge).as_bytes(),
            response.to_ascii_lowercase().as_bytes(),
        )
    }
}

/// The parts of a digest exchange needed to recompute its response.
#[derive(Debug, Clone, Copy)]
pub struct DigestParams<'a> {
    pub method: &'a str,
    pub uri: &'a str,
    pub nonce: &'a str,
    pub nc: &'a str,
    pub cnonce: &'a str,
    pub qop: Option<&'a str>,
}

pub fn md5_hex(input: &str) -> String {
    hex::encode(Md5::digest(input.as_bytes()))
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Seconds a phone rings before the no-answer action: 5 to 120.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct RingSeconds(u16);

impl RingSeconds {
    pub const MIN: u16 = 5;
    pub const MAX: u16 = 120;

    pub fn parse(value: u16) -> Result<Self, ValueError> {
        if !(Self::MIN..=Self::MAX).contains(&value) {
            return refuse(format!(
                "Ring time is {} to {} seconds.",
                Self::MIN,
                Self::MAX
            ));
        }
        Ok(Self(value))
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

impl TryFrom<u16> for RingSeconds {
    type Error = ValueError;
    fn try_from(value: u16) -> Result<Self, ValueError> {
        Self::parse(value)
    }
}

impl From<RingSeconds> for u16 {
    fn from(value: RingSeconds) -> u16 {
        value.0
    }
}

#[cfg(test)]
mod tests;
