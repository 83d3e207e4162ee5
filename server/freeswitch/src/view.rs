//! The per-org view every answer is rendered from, built once per applied version.
//!
//! Building it does all the work that does not depend on a request: indexes (extension by
//! number, DID routes, trunk address blocks), FreeSWITCH names, the gateways to publish. Answers
//! then only look things up (binary searches), so a REGISTER or a call costs about the same
//! whatever the org's size.
//!
//! # Storage
//!
//! The server keeps a view of **every** org in memory (10,000 orgs of 100 extensions is a
//! million extensions), so the per-extension and per-DID parts are compact rather than
//! `domain` values (seven `String`s per extension) behind hash maps:
//!
//! - all text of the org's extensions (display name, PIN, e-mail, forward target, caller ID)
//!   lies back to back in one arena (`Box<str>`);
//! - each extension is a fixed 36-byte record: its number inline (NUL-padded ASCII, which
//!   sorts like the string), the a1-hash as 16 bytes, one `u32` offset into the arena and one
//!   `u8` length per text field (0 = none), the ring time, the no-answer action and two
//!   flags. The records are sorted by number and found by binary search;
//! - the DIDs are sorted strings in one arena with their end offsets, and each DID's route
//!   sits at the same index in a parallel slice.
//!
//! [`OrgView::extension`] hands out an [`ExtensionRef`] that reads the record in place;
//! [`ExtensionRef::to_extension`] rebuilds the `domain` value when one is needed.

use std::net::IpAddr;

use domain::trunk::{Cidr, TrunkConfig, TrunkRole, TrunkSettings};
use domain::{
    A1Hash, CallFlow, CompanyName, DisplayName, Email, Extension, ExtensionNumber, ExternalNumber,
    NoAnswer, OrgConfig, OrgOptions, OrgSlug, OrgStatus, RingSeconds, SipDomain, VoicemailPin,
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
    /// The applied org-wide options.
    pub(crate) options: OrgOptions,
    /// Company name reduced to display-name characters, for the caller name on PSTN calls.
    pub(crate) caller_name: String,
    extensions: Extensions,
    /// The org's DIDs, sorted, each once.
    dids: SortedTexts,
    /// The route of each DID, at the DID's index in `dids`.
    routes: Box<[Route]>,
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
        let extensions = Extensions::build(&config.extensions, &mut problems);
        let dids = SortedTexts::new(input.dids.iter().map(E164::as_str));
        let mut routes = vec![Route::Missing; dids.len()];
        // Sorted by DID (stable): of two routes for one DID the later one wins, as it did when
        // this was a map built in that order.
        for route in &config.did_routes {
            let Some(slot) = dids
                .position(route.did.as_str())
                .and_then(|i| routes.get_mut(i))
            else {
                continue;
            };
            *slot = match &route.extension {
                None => Route::Refused,
                Some(ext) => match Number::new(ext.as_str()) {
                    Some(n) => Route::To(n),
                    None => {
                        problems.push(format!("route of {} could not be stored", route.did));
                        continue;
                    }
                },
            };
        }
        let trunks = Trunks::collect(&input.slug, &input.trunks, &mut problems);
        let mut blocks = trunks.blocks;
        blocks.shrink_to_fit();
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
            options: config.options,
            extensions,
            dids,
            routes: routes.into_boxed_slice(),
            inbound_gateway: trunks.inbound,
            outbound_gateway: trunks.outbound,
            outbound_route: trunks.outbound_route,
            blocks,
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
    /// The org's DIDs in E.164 form (`+15550100100`), sorted, for building a DID index.
    pub fn dids(&self) -> impl Iterator<Item = &str> {
        self.dids.iter()
    }

    /// The extension with this number (exactly as stored: `"1001"`, not `" 1001"`), by binary
    /// search.
    pub fn extension(&self, number: &str) -> Option<ExtensionRef<'_>> {
        self.extensions.get(number)
    }

    /// The numbers of the org's extensions, in ascending (string) order.
    pub fn extension_numbers(&self) -> impl Iterator<Item = &str> {
        self.extensions.records.iter().map(|r| r.number.as_str())
    }

    /// How many extensions the view holds.
    pub fn extension_count(&self) -> usize {
        self.extensions.records.len()
    }

    /// Whether the org owns this DID (`+E164`).
    pub fn owns_did(&self, did: &E164) -> bool {
        self.owns_did_str(did.as_str())
    }

    fn owns_did_str(&self, did: &str) -> bool {
        self.dids.position(did).is_some()
    }

    /// The route of one of the org's DIDs: `Some(None)` when calls to it are refused, `None`
    /// when the DID has no route at all.
    pub(crate) fn route(&self, did: &str) -> Option<Option<&str>> {
        let i = self.dids.position(did)?;
        match self.routes.get(i)? {
            Route::Missing => None,
            Route::Refused => Some(None),
            Route::To(ext) => Some(Some(ext.as_str())),
        }
    }

    /// The caller ID (`+E164`) for PSTN calls on behalf of `ext` (or of the org when `None`):
    /// the extension's own DID, else the org default, and only if the org owns it.
    pub(crate) fn caller_id<'s>(&'s self, ext: Option<ExtensionRef<'s>>) -> Option<&'s str> {
        ext.and_then(|e| e.outbound_caller_id())
            .filter(|d| self.owns_did_str(d))
            .or_else(|| {
                self.options
                    .default_caller_id
                    .as_ref()
                    .map(E164::as_str)
                    .filter(|d| self.owns_did_str(d))
            })
    }

    /// `hold_music` for the org: its own stream, silence when music is off, else the default.
    pub(crate) fn hold_music(&self, default: &str) -> String {
        if !self.options.moh_enabled {
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

// ---------------------------------------------------------------------------------------
// Compact storage
// ---------------------------------------------------------------------------------------

/// An extension number as stored: its ASCII digits, NUL-padded. Extension numbers have 2 to 5
/// digits, and padded with NULs (which sort before every digit) they compare exactly like the
/// strings, so the records keep the order of `OrgConfig::normalized`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Number([u8; 5]);

impl Number {
    /// `None` unless `s` is 1 to 5 ASCII digits (no stored number can equal anything else).
    fn new(s: &str) -> Option<Self> {
        let bytes = s.as_bytes();
        if bytes.is_empty() || bytes.len() > 5 || !bytes.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut n = [0; 5];
        n.get_mut(..bytes.len())?.copy_from_slice(bytes);
        Some(Self(n))
    }

    fn as_str(&self) -> &str {
        let digits = self.0.split(|&b| b == 0).next().unwrap_or_default();
        std::str::from_utf8(digits).unwrap_or_default()
    }
}

/// The no-answer action of a record; its target (if any) is a text field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Voicemail,
    ForwardExtension,
    ForwardExternal,
    Hangup,
}

/// The text fields of a record, in arena order.
const DISPLAY_NAME: usize = 0;
const PIN: usize = 1;
const EMAIL: usize = 2;
const TARGET: usize = 3;
const CALLER_ID: usize = 4;
const FIELDS: usize = 5;

/// One extension in 36 bytes; its text lies in the org's arena from `text` on, field after
/// field, each `lens[i]` bytes long (0: absent; no present field is empty).
#[derive(Debug, Clone, Copy)]
struct Record {
    a1_hash: [u8; 16],
    text: u32,
    number: Number,
    lens: [u8; FIELDS],
    ring_seconds: u16,
    no_answer: Action,
    voicemail_enabled: bool,
    do_not_disturb: bool,
}

impl Record {
    /// Appends the extension's text to `arena` and returns its record; `None` (and `arena`
    /// untouched) if it does not fit the format, which no valid extension does.
    fn store(ext: &Extension, arena: &mut String) -> Option<Self> {
        let (no_answer, target) = match &ext.call_flow.no_answer {
            NoAnswer::Voicemail => (Action::Voicemail, ""),
            NoAnswer::ForwardExtension(n) => (Action::ForwardExtension, n.as_str()),
            NoAnswer::ForwardExternal(n) => (Action::ForwardExternal, n.as_str()),
            NoAnswer::Hangup => (Action::Hangup, ""),
        };
        let mut parts = [""; FIELDS];
        parts[DISPLAY_NAME] = ext.display_name.as_str();
        parts[PIN] = ext.voicemail_pin.as_str();
        parts[EMAIL] = ext.voicemail_email.as_ref().map_or("", Email::as_str);
        parts[TARGET] = target;
        parts[CALLER_ID] = ext.outbound_caller_id.as_ref().map_or("", E164::as_str);
        let mut lens = [0; FIELDS];
        for (len, part) in lens.iter_mut().zip(parts) {
            *len = u8::try_from(part.len()).ok()?;
        }
        let start = arena.len();
        let total: usize = parts.iter().map(|p| p.len()).sum();
        u32::try_from(start + total).ok()?;
        let record = Self {
            a1_hash: decode_hex16(ext.a1_hash.as_str())?,
            text: u32::try_from(start).ok()?,
            number: Number::new(ext.number.as_str())?,
            lens,
            ring_seconds: ext.call_flow.ring_seconds.get(),
            no_answer,
            voicemail_enabled: ext.voicemail_enabled,
            do_not_disturb: ext.do_not_disturb,
        };
        parts.iter().for_each(|p| arena.push_str(p));
        Some(record)
    }
}

/// The extensions of one org: records sorted by number, and their text.
#[derive(Debug, Clone)]
struct Extensions {
    records: Box<[Record]>,
    arena: Box<str>,
}

impl Extensions {
    fn build(list: &[Extension], problems: &mut Vec<String>) -> Self {
        let mut arena = String::new();
        let mut records = Vec::with_capacity(list.len());
        for ext in list {
            match Record::store(ext, &mut arena) {
                Some(record) => records.push(record),
                None => problems.push(format!(
                    "extension {} could not be stored; left out",
                    ext.number
                )),
            }
        }
        // Stable, and a no-op after `normalized()` (the padded numbers sort like the strings);
        // kept so the binary search can rely on it.
        records.sort_by_key(|r| r.number);
        Self {
            records: records.into_boxed_slice(),
            arena: arena.into_boxed_str(),
        }
    }

    /// Of two extensions with the same number the later one is found, as when this was a map.
    fn get(&self, number: &str) -> Option<ExtensionRef<'_>> {
        let key = Number::new(number)?;
        let end = self.records.partition_point(|r| r.number <= key);
        let record = self.records.get(end.checked_sub(1)?)?;
        (record.number == key).then_some(ExtensionRef {
            record,
            arena: &self.arena,
        })
    }
}

/// One extension of an [`OrgView`], read in place. Every value is as the `domain` type held
/// it (the parsers' output), so it needs no further checks.
#[derive(Clone, Copy)]
pub struct ExtensionRef<'v> {
    record: &'v Record,
    arena: &'v str,
}

/// What happens to a call the extension does not answer; see [`NoAnswer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoAnswerRef<'v> {
    Voicemail,
    /// Transfer to this extension number of the org.
    ForwardExtension(&'v str),
    /// Forward to this outside number.
    ForwardExternal(&'v str),
    Hangup,
}

impl<'v> ExtensionRef<'v> {
    fn field(&self, field: usize) -> &'v str {
        let lens = &self.record.lens;
        let skip: usize = lens.iter().take(field).map(|&l| usize::from(l)).sum();
        let len = lens.get(field).map_or(0, |&l| usize::from(l));
        let start = self.record.text as usize + skip;
        self.arena.get(start..start + len).unwrap_or_default()
    }

    fn optional(&self, field: usize) -> Option<&'v str> {
        Some(self.field(field)).filter(|s| !s.is_empty())
    }

    pub fn number(&self) -> &'v str {
        self.record.number.as_str()
    }

    pub fn display_name(&self) -> &'v str {
        self.field(DISPLAY_NAME)
    }

    /// The a1-hash as FreeSWITCH reads it (32 lowercase hex digits), without allocating.
    pub(crate) fn a1_hex(&self) -> Hex32 {
        Hex32::encode(&self.record.a1_hash)
    }

    /// The a1-hash (`md5(number:domain:password)`).
    pub fn a1_hash(&self) -> Option<A1Hash> {
        A1Hash::parse(self.a1_hex().as_str()).ok()
    }

    pub fn voicemail_enabled(&self) -> bool {
        self.record.voicemail_enabled
    }

    pub fn voicemail_pin(&self) -> &'v str {
        self.field(PIN)
    }

    pub fn voicemail_email(&self) -> Option<&'v str> {
        self.optional(EMAIL)
    }

    pub fn ring_seconds(&self) -> u16 {
        self.record.ring_seconds
    }

    pub fn no_answer(&self) -> NoAnswerRef<'v> {
        let target = self.field(TARGET);
        match self.record.no_answer {
            Action::Voicemail => NoAnswerRef::Voicemail,
            Action::ForwardExtension => NoAnswerRef::ForwardExtension(target),
            Action::ForwardExternal => NoAnswerRef::ForwardExternal(target),
            Action::Hangup => NoAnswerRef::Hangup,
        }
    }

    pub fn do_not_disturb(&self) -> bool {
        self.record.do_not_disturb
    }

    /// The extension's own caller ID (`+E164`), whether or not the org (still) owns it.
    pub fn outbound_caller_id(&self) -> Option<&'v str> {
        self.optional(CALLER_ID)
    }

    /// The extension as the `domain` type, parsed back from the stored parts. They were
    /// valid when stored, so `None` would mean a bug in this module.
    pub fn to_extension(&self) -> Option<Extension> {
        let no_answer = match self.no_answer() {
            NoAnswerRef::Voicemail => NoAnswer::Voicemail,
            NoAnswerRef::ForwardExtension(n) => {
                NoAnswer::ForwardExtension(ExtensionNumber::parse(n).ok()?)
            }
            NoAnswerRef::ForwardExternal(n) => {
                NoAnswer::ForwardExternal(ExternalNumber::parse(n).ok()?)
            }
            NoAnswerRef::Hangup => NoAnswer::Hangup,
        };
        Some(Extension {
            number: ExtensionNumber::parse(self.number()).ok()?,
            display_name: DisplayName::parse(self.display_name()).ok()?,
            a1_hash: self.a1_hash()?,
            voicemail_enabled: self.voicemail_enabled(),
            voicemail_pin: VoicemailPin::parse(self.voicemail_pin()).ok()?,
            voicemail_email: self.voicemail_email().map(Email::parse).transpose().ok()?,
            call_flow: CallFlow {
                ring_seconds: RingSeconds::parse(self.ring_seconds()).ok()?,
                no_answer,
            },
            do_not_disturb: self.do_not_disturb(),
            outbound_caller_id: self
                .outbound_caller_id()
                .map(E164::parse)
                .transpose()
                .ok()?,
        })
    }
}

impl std::fmt::Debug for ExtensionRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExtensionRef")
            .field("number", &self.number())
            .field("display_name", &self.display_name())
            .field("voicemail_enabled", &self.voicemail_enabled())
            .field("voicemail_email", &self.voicemail_email())
            .field("ring_seconds", &self.ring_seconds())
            .field("no_answer", &self.no_answer())
            .field("do_not_disturb", &self.do_not_disturb())
            .field("outbound_caller_id", &self.outbound_caller_id())
            .finish_non_exhaustive()
    }
}

/// 16 bytes as 32 lowercase hex digits, on the stack.
pub(crate) struct Hex32([u8; 32]);

impl Hex32 {
    fn encode(bytes: &[u8; 16]) -> Self {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0; 32];
        for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
            pair.copy_from_slice(&[DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]]);
        }
        Self(out)
    }

    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// 32 lowercase hex digits (an [`A1Hash`]) as 16 bytes.
fn decode_hex16(hex: &str) -> Option<[u8; 16]> {
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0; 16];
    for (o, pair) in out.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
        let [hi, lo] = pair else { return None };
        *o = nibble(*hi)? << 4 | nibble(*lo)?;
    }
    Some(out)
}

/// Distinct strings, sorted, back to back in one arena; `ends[i]` is where string `i` ends.
#[derive(Debug, Clone)]
struct SortedTexts {
    arena: Box<str>,
    ends: Box<[u32]>,
}

impl SortedTexts {
    fn new<'a>(items: impl Iterator<Item = &'a str>) -> Self {
        let mut items: Vec<&str> = items.collect();
        items.sort_unstable();
        items.dedup();
        let mut arena = String::with_capacity(items.iter().map(|s| s.len()).sum());
        let mut ends = Vec::with_capacity(items.len());
        for item in items {
            // More than 4 GiB of DIDs cannot happen; stop rather than store wrong offsets.
            let Ok(end) = u32::try_from(arena.len() + item.len()) else {
                break;
            };
            arena.push_str(item);
            ends.push(end);
        }
        Self {
            arena: arena.into_boxed_str(),
            ends: ends.into_boxed_slice(),
        }
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn get(&self, i: usize) -> Option<&str> {
        let start = match i.checked_sub(1) {
            Some(prev) => *self.ends.get(prev)?,
            None => 0,
        };
        let end = *self.ends.get(i)?;
        self.arena.get(start as usize..end as usize)
    }

    fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// The index of `item`, by binary search.
    fn position(&self, item: &str) -> Option<usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.get(mid)?.cmp(item) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }
}

/// The route of one DID.
#[derive(Debug, Clone, Copy)]
enum Route {
    /// No route configured.
    Missing,
    /// Calls to the DID are refused.
    Refused,
    To(Number),
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

    fn ext(number: &str, name: &str) -> Extension {
        let number = ExtensionNumber::parse(number).unwrap();
        let domain = SipDomain::parse("acme.test").unwrap();
        Extension {
            a1_hash: A1Hash::compute(&number, &domain, name),
            number,
            display_name: DisplayName::parse(name).unwrap(),
            voicemail_enabled: true,
            voicemail_pin: VoicemailPin::parse("0042").unwrap(),
            voicemail_email: None,
            call_flow: CallFlow {
                ring_seconds: RingSeconds::parse(20).unwrap(),
                no_answer: NoAnswer::Voicemail,
            },
            do_not_disturb: false,
            outbound_caller_id: None,
        }
    }

    fn e164(s: &str) -> E164 {
        E164::parse(s).unwrap()
    }

    fn view(extensions: Vec<Extension>, dids: &[&str], routes: Vec<DidRoute>) -> OrgView {
        OrgView::new(OrgInput {
            slug: OrgSlug::parse("acme").unwrap(),
            domain: SipDomain::parse("acme.test").unwrap(),
            company: CompanyName::parse("Acme").unwrap(),
            status: OrgStatus::Active,
            limits: ProviderLimits {
                max_outbound_calls: 1,
                calls_per_second: 1,
            },
            config: OrgConfig {
                extensions,
                did_routes: routes,
                options: OrgOptions::default(),
            },
            dids: dids.iter().map(|d| e164(d)).collect(),
            trunks: Vec::new(),
            moh_dir: None,
        })
    }

    use domain::DidRoute;

    #[test]
    fn a_record_is_36_bytes() {
        assert_eq!(std::mem::size_of::<Record>(), 36);
        assert_eq!(std::mem::size_of::<Route>(), 6);
    }

    #[test]
    fn extensions_read_back_exactly_as_stored() {
        let mut full = ext("99999", &"𝔸".repeat(40));
        full.voicemail_enabled = false;
        full.voicemail_email =
            Some(Email::parse(&format!("{}@example.com", "a".repeat(64))).unwrap());
        full.outbound_caller_id = Some(e164("+123456789012345"));
        full.do_not_disturb = true;
        full.call_flow = CallFlow {
            ring_seconds: RingSeconds::parse(120).unwrap(),
            no_answer: NoAnswer::ForwardExternal(
                ExternalNumber::parse("+123456789012345").unwrap(),
            ),
        };
        let mut fwd = ext("42", "José Müller (Sales)");
        fwd.call_flow.no_answer =
            NoAnswer::ForwardExtension(ExtensionNumber::parse("99999").unwrap());
        fwd.call_flow.ring_seconds = RingSeconds::parse(5).unwrap();
        let mut hangup = ext("1001", "Ann");
        hangup.call_flow.no_answer = NoAnswer::Hangup;
        hangup.voicemail_email = Some(Email::parse("ann@acme.test").unwrap());
        let all = vec![full, fwd, hangup, ext("101", "Bob")];
        let v = view(all.clone(), &[], Vec::new());
        assert!(v.problems().is_empty(), "{:?}", v.problems());
        assert_eq!(v.extension_count(), 4);
        for e in &all {
            let r = v.extension(e.number.as_str()).unwrap();
            assert_eq!(r.to_extension().as_ref(), Some(e));
            assert_eq!(r.number(), e.number.as_str());
            assert_eq!(r.display_name(), e.display_name.as_str());
            assert_eq!(r.a1_hex().as_str(), e.a1_hash.as_str());
            assert_eq!(r.voicemail_pin(), e.voicemail_pin.as_str());
            assert_eq!(
                r.voicemail_email(),
                e.voicemail_email.as_ref().map(Email::as_str)
            );
            assert_eq!(
                r.outbound_caller_id(),
                e.outbound_caller_id.as_ref().map(E164::as_str)
            );
            assert_eq!(r.ring_seconds(), e.call_flow.ring_seconds.get());
            assert_eq!(r.do_not_disturb(), e.do_not_disturb);
            assert_eq!(r.voicemail_enabled(), e.voicemail_enabled);
        }
    }

    #[test]
    fn lookups_match_whole_numbers_only() {
        let v = view(
            vec![
                ext("1001", "A"),
                ext("42", "B"),
                ext("99999", "C"),
                ext("101", "D"),
            ],
            &[],
            Vec::new(),
        );
        for found in ["1001", "42", "99999", "101"] {
            assert_eq!(v.extension(found).map(|e| e.number()), Some(found));
        }
        for missing in [
            "", "1", "4", "100", "10", "10010", "1001 ", " 1001", "1001\0", "\x001001", "01001",
            "١٠٠١", "+1001", "999999", "1002",
        ] {
            assert!(v.extension(missing).is_none(), "{missing:?} found");
        }
        // The order of `OrgConfig::normalized` (string order), which teardown relies on.
        let numbers: Vec<&str> = v.extension_numbers().collect();
        assert_eq!(numbers, ["1001", "101", "42", "99999"]);
    }

    #[test]
    fn padded_numbers_sort_like_strings() {
        let all = [
            "10", "100", "1000", "10000", "101", "11", "19", "2", "20", "99", "99999", "9",
        ];
        for a in all {
            for b in all {
                let (x, y) = (Number::new(a).unwrap(), Number::new(b).unwrap());
                assert_eq!(x.cmp(&y), a.cmp(b), "{a} vs {b}");
                assert_eq!(x.as_str(), a);
            }
        }
    }

    #[test]
    fn of_two_extensions_with_one_number_the_later_one_is_found() {
        let v = view(
            vec![
                ext("1001", "First"),
                ext("1002", "X"),
                ext("1001", "Second"),
            ],
            &[],
            Vec::new(),
        );
        assert_eq!(v.extension("1001").unwrap().display_name(), "Second");
        assert_eq!(
            v.extension_numbers().collect::<Vec<_>>(),
            ["1001", "1001", "1002"]
        );
    }

    #[test]
    fn dids_and_routes() {
        let route = |did: &str, ext: Option<&str>| DidRoute {
            did: e164(did),
            extension: ext.map(|e| ExtensionNumber::parse(e).unwrap()),
        };
        let v = view(
            vec![ext("1001", "A")],
            &[
                "+15550100102",
                "+15550100100",
                "+15550100101",
                "+15550100100",
            ],
            vec![
                route("+15550100100", Some("1002")),
                route("+15550100101", None),
                route("+15550100100", Some("1001")),
                route("+4930123456", Some("1001")),
            ],
        );
        assert_eq!(
            v.dids().collect::<Vec<_>>(),
            ["+15550100100", "+15550100101", "+15550100102"]
        );
        assert!(v.owns_did(&e164("+15550100101")));
        assert!(!v.owns_did(&e164("+4930123456")));
        assert_eq!(v.route("+15550100100"), Some(Some("1001")));
        assert_eq!(v.route("+15550100101"), Some(None));
        assert_eq!(v.route("+15550100102"), None);
        assert_eq!(v.route("+4930123456"), None);
        assert_eq!(v.route("+1555010010"), None);
        assert_eq!(v.route(""), None);
        let none = view(Vec::new(), &[], Vec::new());
        assert_eq!(none.dids().count(), 0);
        assert_eq!(none.route("+15550100100"), None);
        assert!(none.extension("1001").is_none());
    }

    #[test]
    fn hex_round_trips() {
        let hex = "0123456789abcdeffedcba9876543210";
        assert_eq!(Hex32::encode(&decode_hex16(hex).unwrap()).as_str(), hex);
        for bad in [
            "0123456789ABCDEFfedcba9876543210",
            "0123",
            "0123456789abcdeffedcba987654321g",
        ] {
            assert!(decode_hex16(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn caller_names_keep_display_characters_only() {
        let company = CompanyName::parse("Acme \"Best\" & Sons; Ltd.").unwrap();
        assert_eq!(display_caller_name(&company), "Acme Best & Sons Ltd.");
    }
}
