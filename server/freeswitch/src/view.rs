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
//!
//! The compact records and their reader live in `compact`; the trunk part (gateways and ACL
//! address blocks) in `trunks`.

mod compact;
mod trunks;

use std::net::IpAddr;

use domain::trunk::{TrunkConfig, TrunkRole};
use domain::{CompanyName, OrgConfig, OrgOptions, OrgSlug, OrgStatus, SipDomain, E164};

use crate::names;
use crate::settings::is_safe_path;
use compact::{Extensions, Number, Route, SortedTexts};

pub use compact::{ExtensionRef, NoAnswerRef};
pub(crate) use trunks::{Gateway, TrunkBlock, Trunks};

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

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{
        A1Hash, CallFlow, DisplayName, Email, Extension, ExtensionNumber, ExternalNumber, NoAnswer,
        RingSeconds, VoicemailPin,
    };

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
    fn caller_names_keep_display_characters_only() {
        let company = CompanyName::parse("Acme \"Best\" & Sons; Ltd.").unwrap();
        assert_eq!(display_caller_name(&company), "Acme Best & Sons Ltd.");
    }
}
