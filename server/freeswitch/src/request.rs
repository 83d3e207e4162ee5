//! Parsing of the form body mod_xml_curl POSTs.
//!
//! The body is `hostname=..&section=..&tag_name=..&key_name=..&key_value=..` (these five are
//! written raw by mod_xml_curl, not URL-encoded, and `key_value` often comes from a SIP header)
//! followed by every header of the lookup event, URL-encoded. Everything is decoded with the same
//! lenient form rules (`+` is a space, `%XX` a byte, invalid UTF-8 replaced) and kept in arrival
//! order. This is the hot path (every REGISTER and call; a dialplan lookup has ~170
//! parameters), so names are decoded while splitting but values only when first read, and
//! nothing is copied that needed no decoding. The lazy values make a `Request` `Send` but not
//! `Sync`: parse and answer it on one thread.
//!
//! Nothing here is trusted. A raw `key_value` can smuggle `&name=value` pairs into the body, and
//! sofia copies SIP headers of the caller into some lookups under their own names. So the typed
//! accessors return a value only when its parameter occurs **exactly once**; a repeated
//! parameter reads as absent and [`Request::is_ambiguous`] tells the renderers to refuse.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Why a body is not a mod_xml_curl request at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the body has no section parameter")]
    MissingSection,
    #[error("the body names more than one section")]
    DuplicateSection,
}

/// The XML section FreeSWITCH asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Directory,
    Dialplan,
    Configuration,
    Chatplan,
    /// sofia's nightmare transfers (`crate::channels`).
    Channels,
    /// Anything else (`languages`, `phrases`...): answered "not found".
    Other,
}

/// What a directory lookup is for (`action=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'r> {
    /// Digest authentication of REGISTER, INVITE, MESSAGE, SUBSCRIBE... (sofia_reg_parse_auth).
    SipAuth,
    /// `bridge user/N@D` (mod_dptools user_outgoing_channel).
    UserCall,
    /// mod_voicemail MWI.
    MessageCount,
    /// mod_voicemail box lookups.
    VoicemailLookup,
    /// Sofia's reverse authentication (we never answer a user for it).
    ReverseAuthLookup,
    /// No `action`: `user_exists`, `user_data`, sofia's ACL-token lookup, `set_user`...
    Absent,
    /// Any other action, answered without the user.
    Other(&'r str),
}

/// Why a directory lookup is made (`purpose=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose<'r> {
    /// Sofia profile start / rescan reading gateways.
    Gateways,
    /// acl.conf `<node domain=...>` reading address blocks.
    NetworkList,
    Other(&'r str),
}

/// The fields of a `sip_auth` lookup needed to check it and to recompute the digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SipAuth<'r> {
    pub username: &'r str,
    pub realm: &'r str,
    pub method: &'r str,
    pub uri: &'r str,
    pub nonce: &'r str,
    pub nc: &'r str,
    pub cnonce: &'r str,
    pub qop: Option<&'r str>,
    pub response: &'r str,
    pub to_user: &'r str,
    pub to_host: &'r str,
    pub from_user: &'r str,
    pub from_host: &'r str,
}

/// One parameter: the decoded name, the raw value and its decoding once read.
#[derive(Debug, Clone)]
struct Param<'a> {
    name: Cow<'a, str>,
    raw: &'a [u8],
    value: OnceCell<Cow<'a, str>>,
}

impl<'a> Param<'a> {
    fn new(piece: &'a [u8]) -> Self {
        let (name, raw) = match piece.iter().position(|&b| b == b'=') {
            Some(i) => (&piece[..i], &piece[i + 1..]),
            None => (piece, &piece[piece.len()..]),
        };
        Self {
            name: decode(name),
            raw,
            value: OnceCell::new(),
        }
    }

    fn value(&self) -> &str {
        self.value.get_or_init(|| decode(self.raw))
    }
}

/// Form decoding: `+` is a space, `%XX` a byte (an invalid escape stays as it is), then UTF-8
/// with invalid sequences replaced. Borrows when nothing needs decoding.
fn decode(raw: &[u8]) -> Cow<'_, str> {
    if !raw.iter().any(|&b| b == b'%' || b == b'+') {
        return String::from_utf8_lossy(raw);
    }
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        let hex = |j: usize| raw.get(j).and_then(|&c| (c as char).to_digit(16));
        match b {
            b'+' => bytes.push(b' '),
            b'%' => match (hex(i + 1), hex(i + 2)) {
                (Some(hi), Some(lo)) => {
                    bytes.push((hi * 16 + lo) as u8);
                    i += 2;
                }
                _ => bytes.push(b'%'),
            },
            _ => bytes.push(b),
        }
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&bytes).into_owned())
}

/// One mod_xml_curl request, borrowing from the body.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    params: Vec<Param<'a>>,
    section: Section,
    /// The first security-relevant parameter found more than once, computed while parsing.
    ambiguous: Option<&'static str>,
}

/// Parameter names whose repetition makes a request ambiguous. Most are written once by
/// FreeSWITCH; a second copy can only come from a smuggled or copied header.
const CRITICAL: [&str; 41] = [
    "section",
    "tag_name",
    "key_name",
    "key_value",
    "action",
    "purpose",
    "profile",
    "key",
    "user",
    "domain",
    "ip",
    "type",
    "sip_auth_username",
    "sip_auth_realm",
    "sip_auth_method",
    "sip_auth_uri",
    "sip_auth_nonce",
    "sip_auth_nc",
    "sip_auth_cnonce",
    "sip_auth_qop",
    "sip_auth_response",
    "sip_to_user",
    "sip_to_host",
    "sip_from_user",
    "sip_from_host",
    "Hunt-Context",
    "Hunt-Destination-Number",
    "variable_domain_name",
    "variable_user_name",
    "variable_sip_network_ip",
    "variable_sip_gateway",
    "variable_acl_token",
    "variable_sip_acl_authed_by",
    "context",
    "from_user",
    "from_host",
    "to",
    "to_user",
    "to_host",
    "dest_proto",
    "proto",
];

/// Slot of each critical name, built once: a dialplan lookup has ~170 parameters and a hash
/// lookup per parameter is much cheaper than comparing each with every critical name.
fn critical_slots() -> &'static HashMap<&'static str, usize> {
    static SLOTS: OnceLock<HashMap<&'static str, usize>> = OnceLock::new();
    SLOTS.get_or_init(|| {
        CRITICAL
            .iter()
            .enumerate()
            .map(|(i, name)| (*name, i))
            .collect()
    })
}

/// The first critical name that occurs more than once, in one pass.
fn first_repeated(params: &[Param<'_>]) -> Option<&'static str> {
    let slots = critical_slots();
    let mut seen = [0u8; CRITICAL.len()];
    let mut first: Option<usize> = None;
    for p in params {
        if let Some(&slot) = slots.get(p.name.as_ref()) {
            seen[slot] = seen[slot].saturating_add(1);
            if seen[slot] == 2 && first.is_none_or(|f| slot < f) {
                first = Some(slot);
            }
        }
    }
    first.map(|slot| CRITICAL[slot])
}

impl<'a> Request<'a> {
    /// Decodes a form body. Never panics; invalid UTF-8 is replaced, not refused.
    pub fn parse(body: &'a [u8]) -> Result<Self, ParseError> {
        let params: Vec<Param<'a>> = body
            .split(|&b| b == b'&')
            .filter(|piece| !piece.is_empty())
            .map(Param::new)
            .collect();
        let mut sections = params.iter().filter(|p| p.name == "section");
        let section = match (sections.next(), sections.next()) {
            (None, _) => return Err(ParseError::MissingSection),
            (Some(_), Some(_)) => return Err(ParseError::DuplicateSection),
            (Some(p), None) => parse_section(p.value()),
        };
        let ambiguous = first_repeated(&params);
        Ok(Self {
            params,
            section,
            ambiguous,
        })
    }

    pub fn section(&self) -> Section {
        self.section
    }

    /// All parameters in arrival order, decoded, for generic access and logging.
    pub fn params<'s>(&'s self) -> impl Iterator<Item = (&'s str, &'s str)> + use<'s, 'a> {
        self.params.iter().map(|p| (p.name.as_ref(), p.value()))
    }

    /// The value of `name` when it occurs exactly once; `None` when absent or repeated.
    pub fn param(&self, name: &str) -> Option<&str> {
        let mut found = None;
        for p in &self.params {
            if p.name == name {
                if found.is_some() {
                    return None;
                }
                found = Some(p);
            }
        }
        found.map(Param::value)
    }

    /// Every value of `name`, in order.
    pub fn param_all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> + use<'s, 'a> {
        self.params
            .iter()
            .filter(move |p| p.name == name)
            .map(Param::value)
    }

    /// How often `name` occurs.
    pub fn count(&self, name: &str) -> usize {
        self.params.iter().filter(|p| p.name == name).count()
    }

    /// The first security-relevant parameter (in the order of the internal list) that occurs
    /// more than once, if any.
    pub fn is_ambiguous(&self) -> Option<&'static str> {
        self.ambiguous
    }

    /// A non-empty, unique value.
    fn nonempty(&self, name: &str) -> Option<&str> {
        self.param(name).filter(|v| !v.is_empty())
    }

    pub fn hostname(&self) -> &str {
        self.param("hostname").unwrap_or("")
    }
    pub fn tag_name(&self) -> &str {
        self.param("tag_name").unwrap_or("")
    }
    pub fn key_name(&self) -> &str {
        self.param("key_name").unwrap_or("")
    }
    pub fn key_value(&self) -> &str {
        self.param("key_value").unwrap_or("")
    }

    pub fn action(&self) -> Action<'_> {
        match self.param("action") {
            None if self.count("action") == 0 => Action::Absent,
            None => Action::Other(""),
            Some("sip_auth") => Action::SipAuth,
            Some("user_call") => Action::UserCall,
            Some("message-count") => Action::MessageCount,
            Some("voicemail-lookup") => Action::VoicemailLookup,
            Some("reverse-auth-lookup") => Action::ReverseAuthLookup,
            Some(other) => Action::Other(other),
        }
    }

    pub fn purpose(&self) -> Option<Purpose<'_>> {
        match self.param("purpose")? {
            "gateways" => Some(Purpose::Gateways),
            "network-list" => Some(Purpose::NetworkList),
            other => Some(Purpose::Other(other)),
        }
    }

    /// `profile=` of a `purpose=gateways` lookup.
    pub fn profile(&self) -> Option<&str> {
        self.nonempty("profile")
    }
    /// `user=` added by switch_xml_locate_user.
    pub fn user(&self) -> Option<&str> {
        self.nonempty("user")
    }
    /// `domain=` added by switch_xml_locate_user (or by acl.conf network lists).
    pub fn domain(&self) -> Option<&str> {
        self.nonempty("domain")
    }
    /// `key=` (`id`, `number-alias`...).
    pub fn key(&self) -> Option<&str> {
        self.nonempty("key")
    }
    /// The source address of the lookup (`ip=`), when FreeSWITCH knows it.
    pub fn ip(&self) -> Option<&str> {
        self.nonempty("ip")
    }
    /// `type=` of `user_data` (`param`, `var`, `attr`).
    pub fn data_type(&self) -> Option<&str> {
        self.nonempty("type")
    }

    /// The digest fields of a `sip_auth` lookup; `None` unless the mandatory ones are present.
    pub fn sip_auth(&self) -> Option<SipAuth<'_>> {
        Some(SipAuth {
            username: self.nonempty("sip_auth_username")?,
            realm: self.nonempty("sip_auth_realm")?,
            method: self.nonempty("sip_auth_method")?,
            uri: self.nonempty("sip_auth_uri")?,
            nonce: self.nonempty("sip_auth_nonce")?,
            nc: self.param("sip_auth_nc").unwrap_or(""),
            cnonce: self.param("sip_auth_cnonce").unwrap_or(""),
            qop: self.nonempty("sip_auth_qop"),
            response: self.nonempty("sip_auth_response")?,
            to_user: self.param("sip_to_user").unwrap_or(""),
            to_host: self.param("sip_to_host").unwrap_or(""),
            from_user: self.param("sip_from_user").unwrap_or(""),
            from_host: self.param("sip_from_host").unwrap_or(""),
        })
    }

    pub fn sip_request_user(&self) -> Option<&str> {
        self.nonempty("sip_request_user")
    }
    pub fn sip_request_host(&self) -> Option<&str> {
        self.nonempty("sip_request_host")
    }

    /// The context being hunted (dialplan lookups).
    pub fn hunt_context(&self) -> Option<&str> {
        self.nonempty("Hunt-Context")
    }
    /// The number being hunted (dialplan lookups).
    pub fn hunt_destination_number(&self) -> Option<&str> {
        self.nonempty("Hunt-Destination-Number")
    }

    /// A channel variable of a dialplan lookup (`variable_<name>`), unique and non-empty.
    pub fn variable(&self, name: &str) -> Option<&str> {
        self.prefixed("variable_", name)
    }
    /// A caller-profile field of a dialplan lookup (`Caller-<name>`), unique and non-empty.
    pub fn caller(&self, name: &str) -> Option<&str> {
        self.prefixed("Caller-", name)
    }

    fn prefixed(&self, prefix: &str, name: &str) -> Option<&str> {
        let mut found = None;
        for p in &self.params {
            if p.name.strip_prefix(prefix) == Some(name) {
                if found.is_some() {
                    return None;
                }
                found = Some(p);
            }
        }
        found.map(Param::value).filter(|v| !v.is_empty())
    }
}

fn parse_section(value: &str) -> Section {
    match value {
        "directory" => Section::Directory,
        "dialplan" => Section::Dialplan,
        "configuration" => Section::Configuration,
        "chatplan" => Section::Chatplan,
        "channels" => Section::Channels,
        _ => Section::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_first_params_and_encoded_rest() {
        let body = b"hostname=vm&section=directory&tag_name=domain&key_name=name&key_value=acme.test&Event-Date-GMT=Sat,%2028%20Nov&sip_call_id=1-11979%40127.0.0.1&action=sip_auth";
        let req = Request::parse(body).unwrap();
        assert_eq!(req.section(), Section::Directory);
        assert_eq!(req.key_value(), "acme.test");
        assert_eq!(req.param("Event-Date-GMT"), Some("Sat, 28 Nov"));
        assert_eq!(req.param("sip_call_id"), Some("1-11979@127.0.0.1"));
        assert_eq!(req.action(), Action::SipAuth);
        assert_eq!(req.is_ambiguous(), None);
    }

    #[test]
    fn smuggled_duplicates_read_as_absent_and_ambiguous() {
        // A realm of "acme.test&action=user_call" arrives raw in key_value.
        let body = b"section=directory&key_value=acme.test&action=user_call&action=sip_auth";
        let req = Request::parse(body).unwrap();
        assert_eq!(req.param("action"), None);
        assert_eq!(req.action(), Action::Other(""));
        assert_eq!(req.is_ambiguous(), Some("action"));
    }

    #[test]
    fn missing_or_repeated_section_is_an_error() {
        assert_eq!(Request::parse(b"").unwrap_err(), ParseError::MissingSection);
        assert_eq!(
            Request::parse(b"section=dialplan&section=directory").unwrap_err(),
            ParseError::DuplicateSection
        );
        assert_eq!(
            Request::parse(b"section=languages").unwrap().section(),
            Section::Other
        );
    }

    #[test]
    fn variables_and_caller_fields() {
        let body = b"section=dialplan&Hunt-Context=org_acme&variable_domain_name=acme.test&Caller-Destination-Number=1002&variable_x=";
        let req = Request::parse(body).unwrap();
        assert_eq!(req.hunt_context(), Some("org_acme"));
        assert_eq!(req.variable("domain_name"), Some("acme.test"));
        assert_eq!(req.caller("Destination-Number"), Some("1002"));
        assert_eq!(req.variable("x"), None);
        assert_eq!(req.variable("missing"), None);
    }

    #[test]
    fn decoding_matches_form_urlencoded() {
        let samples: [&[u8]; 7] = [
            b"a+b%20c",
            b"%",
            b"%4",
            b"%zz%41",
            b"%E2%82%AC",
            b"%ff",
            b"plain=with=equals",
        ];
        for raw in samples {
            let expected: String = form_urlencoded::parse(&[b"k=", raw].concat())
                .map(|(_, v)| v.into_owned())
                .collect();
            assert_eq!(decode(raw), expected, "{raw:?}");
        }
    }

    #[test]
    fn invalid_utf8_is_replaced_not_refused() {
        let req = Request::parse(b"section=directory&user=\xff\xfe").unwrap();
        assert_eq!(req.user(), Some("\u{fffd}\u{fffd}"));
    }
}
