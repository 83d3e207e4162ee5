//! Everything LittlePBX knows about FreeSWITCH: parsing mod_xml_curl requests and answering
//! them from the applied configuration of each org, the names of FreeSWITCH objects, the
//! event-socket commands a change needs and the state questions with their parsers, and
//! mod_json_cdr's call records. The only crate that knows FreeSWITCH's XML, names and commands.
//!
//! Invariant: **pure**. No IO, no HTTP, no database, no clock, no randomness: a request, the
//! org views and the settings determine the answer byte for byte.
//!
//! # Module map
//!
//! | module | what it does |
//! |---|---|
//! | [`request`] | decodes the form body (borrowing, values decoded on first read; `Send`, not `Sync`), typed accessors that refuse repeated parameters |
//! | [`view`] | [`OrgView`]: one org's applied state, indexed once per applied version, stored compactly (about 70 bytes per extension); [`ExtensionRef`] reads one extension in place |
//! | [`lookup`] | the [`Lookup`] trait the server implements over its cache; [`MemoryLookup`] |
//! | [`answer()`](answer::answer) | dispatch by section; [`Answer`] = XML + [`Reason`] + [`AuthCheck`]; [`Policy`] |
//! | `directory` | users (`sip_auth` checks, digest verification), gateways, carrier ACL |
//! | `dialplan` | `org_<slug>`, `org_<slug>_inbound`, `public` |
//! | `chatplan` | SIP MESSAGE inside one org |
//! | [`channels`] | attended transfers (sofia's nightmare path): a phone's own two calls joined, everything else refused |
//! | `config` | `local_stream.conf` |
//! | [`sync`] | event-socket commands after an Apply, a trunk change, a suspension, a deletion |
//! | [`names`] | every FreeSWITCH object name (contexts, gateways, streams, rooms, markers) |
//! | [`cdr`] | `mod_json_cdr` records: the three body encodings, the compact row, the org a record may be attributed to |
//! | [`status`] | the state questions asked over the event socket (`sofia xmlstatus ...`) and the parsers of their answers |
//! | `xml` | the writer: escaping (`$` as `&#36;`), one element per line, no declaration |
//! | [`settings`] | provider knobs, validated at start-up |
//!
//! # What each request gets
//!
//! | request | answer |
//! |---|---|
//! | directory, `action=sip_auth` | the user (a1-hash, never a password) if realm = domain key = `domain` = the org's domain, To (REGISTER) or From (other methods) user and host = digest username and realm, user known, org active, source not blocked; otherwise the domain **without** the user (FreeSWITCH answers 403 and does not read static files). [`AuthCheck`] tells the server whether to count a failure. Unknown domain: not found. |
//! | directory, `user_call`, `message-count`, `voicemail-lookup`, no action (`user_exists`, `user_data`) | the user if `key=id`, the `domain` parameter matches and the org is active; else the domain without the user |
//! | directory, any other action (`reverse-auth-lookup`...) | the domain without the user |
//! | directory, domain only | domain params (dial-string) and variables, no users |
//! | directory, `purpose=gateways` | external profile: gateways `<slug>.in` / `<slug>.out` of every active org (or of the one domain asked for); any other profile: a directory without gateways |
//! | directory, `purpose=network-list` for the carrier ACL domain | one user per trunk address block, id `<slug>.in.<n>` / `<slug>.out.<n>`, attribute `cidr` |
//! | directory, carrier ACL domain, no action, `user=<slug>.in.<n>` | the pseudo-user, variables `user_context=public`, `lpbx_trunk_org=<slug>`; never for `sip_auth` |
//! | dialplan | see below; an unusable context is answered with a hang-up, never "not found" |
//! | chatplan | deliver within the sender's org, else drop; always with `final_delivery=true` |
//! | channels (`purpose=nightmare_xfer`) | with the facts the server read over the event socket: `absolute-dial-string` `[lpbx_org=<slug>,process_cdr=false]loopback/app=intercept:<uuid>` when the Replaces names a call of the REFER-er's own extension in its org (uuid = that call's other party); otherwise `error/CALL_REJECTED`: nothing is called |
//! | configuration `local_stream.conf` | the default stream and `<slug>_moh/8000`, `/16000` per org with music |
//! | anything else | not found |
//!
//! # Decisions
//!
//! **No user caching.** No `<user>` carries `cacheable`: FreeSWITCH keys its user cache by
//! key + user + domain only and serves `sip_auth` and `user_call` from the same entry, so a
//! cached user would skip the cross-org checks. Answers are served from memory instead.
//!
//! **Carrier ACL and its tokens.** acl.conf is expected to hold
//! `<list name="lpbx_trunks" default="deny"><node type="allow" domain="trunks.littlepbx.invalid"/></list>`
//! and the external profile `apply-inbound-acl=lpbx_trunks:public` (the domain is
//! [`Settings::trunk_acl_domain`]). Read in sofia.c `sofia_handle_sip_i_invite`: when an INVITE's
//! source matches a node, sofia sets `acl_token`/`sip_acl_token`, counts the call as
//! authenticated, then calls `sofia_locate_user(token)`, i.e. a directory lookup of user
//! `<slug>.in.<n>` in the ACL domain **without an `action`**, with every unknown SIP header of
//! the INVITE as a request parameter, and copies the user's variables (and `user_name`,
//! `domain_name`) onto the channel; the context is the ACL pass context, else `user_context`.
//! So the pseudo-user sets `user_context=public` and `lpbx_trunk_org=<slug>`, has no
//! credentials, and is never answered for `sip_auth` or any action (a `sip_auth` in that
//! domain gets the domain without users: 403). The network list nodes are matched longest
//! prefix first (switch_utils.c), so with carriers shared between orgs the token names only
//! one of them; `public` therefore admits a call to a DID when the call's **source address**
//! (`sip_network_ip`) lies in one of the DID org's trunk blocks, and refuses a call that came
//! through another org's gateway (`sip_gateway`, set by sofia for `gw+NAME` / `;gw=NAME`).
//! Gateway inbound variables also set `lpbx_trunk_org`. Trunk address changes need
//! `reloadacl` ([`sync::trunk_commands`]).
//!
//! **Suspended orgs.** No user is answered (phones cannot register or call), no context routes
//! (every org context and every DID of the org hangs up with `CALL_REJECTED`), no chat is
//! delivered, and their gateways, ACL blocks and music streams are not published:
//! [`sync::status_commands`] kills the gateways and stops the streams on suspension and
//! rescans on reactivation.
//!
//! **Transfers** (sofia.c `sofia_handle_sip_i_refer`, 1.10.12; the phones' profile only, the
//! carrier profile refuses REFER). Blind transfer transfers the *other* leg with
//! `switch_ivr_session_transfer(leg, exten, NULL, NULL)`, `exten` being the Refer-To user: the
//! context is that leg's `force_transfer_context`, else its caller-profile context. Calls
//! between phones run in `org_<slug>` (a `user/` B leg takes the phone's `user_context`, and
//! gets `domain_name` from our directory answer so that the guard below admits it). Carrier legs
//! run in `org_<slug>_inbound`, so that context sets `force_transfer_context=org_<slug>` on the
//! carrier leg (not exported). sofia puts the whole Refer-To into the leg's `sip_refer_to`; the
//! org context refuses it unless its host is the org's domain (sofia ignores the host, so
//! `101@<other org>` would otherwise ring this org's 101). Every REFER with Replaces (attended
//! transfer) takes sofia's "nightmare transfer" path (`make-every-transfer-a-nightmare`), which
//! asks the `channels` section for the dial string: [`channels`] joins the phone's own two calls
//! and refuses everything else. sofia's own attended-transfer code, whose only veto is the
//! boolean `deny_refer_requests`, is not reached; every org context still exports that veto, so
//! a FreeSWITCH without the flag refuses every attended transfer instead of allowing any.
//! Every context checks that the channel's `domain_name` is the org's before routing.
//!
//! **Caller identity in the dialplan.** The calling extension is the authenticated `user_name`
//! variable (or, on a phone's `user/` leg that was transferred, the `lpbx_ext` our directory set),
//! checked against the org, and is hard-coded into the answer (`*97`, caller ID),
//! never left as `${user_name}`. Outbound caller ID is the extension's DID or the org default,
//! only if the org owns it; without one only emergency numbers route. Limits: `limit hash
//! lpbx_cps <slug> <n>/1 !CALL_REJECTED` on the calling leg, and `limit hash lpbx_out <slug>
//! <max> !CALL_REJECTED` run by the carrier leg itself when it is originated (before its INVITE)
//! with `limit_ignore_transfer=true`, so an outside call counts for as long as it lasts, also
//! after a transfer hung up the leg that dialled it; 0 bars PSTN calls. The caller name on PSTN calls is the company name reduced to display-name
//! characters.
//!
//! **Inbound flow.** `org_<slug>_inbound` routes only to extensions and runs their call flow,
//! including a forward to the outside number the admin configured (with the org's caller ID and
//! limits); nothing the caller dials reaches the PSTN.
//!
//! **Sizes.** mod_xml_curl drops answers over 1 MiB. Lists that grow with the number of orgs
//! (all gateways, the ACL, `local_stream.conf`) stop adding whole orgs at
//! [`Settings::max_answer_bytes`] and say so in the [`Reason`] (`omitted_orgs`) for the log.
//! About 550 orgs with two gateways (1,000 with one) fit the "all domains" gateway answer;
//! beyond that, list the org domains one by one in sofia.conf (per-domain lookups are answered
//! too). `local_stream.conf` holds about 2,000 orgs with music, and each stream is a thread in
//! FreeSWITCH.
//!
//! **Chat.** The core delivers a message directly after the chatplan unless the event says
//! `final_delivery=true`, so both delivery and refusal set it.
//!
//! # FreeSWITCH modules the answers need (for xml-templates)
//!
//! mod_xml_curl (bindings `directory|dialplan|configuration|chatplan|channels`), mod_sofia,
//! mod_dialplan_xml, mod_dptools (`set`, `export`, `bridge`, `transfer`, `hangup`, `answer`,
//! `echo`, `limit`), mod_hash (the `hash` limit backend), mod_voicemail, mod_conference,
//! mod_local_stream, mod_sndfile (WAV music), mod_sms (chatplan, `send`, `stop`),
//! mod_commands (`xml_flush_cache`, `reloadacl`), mod_event_socket, a say module for
//! voicemail prompts (mod_say_en) and the prompts themselves. Profiles: internal
//! `challenge-realm=auto_from`, `auth-calls=true`, `auth-messages=true`,
//! `inbound-reg-force-matching-username=true`, `accept-blind-reg=false`,
//! `accept-blind-auth=false`, `<domain name="all" alias="false" parse="false"/>`; external
//! `auth-calls=true`, `apply-inbound-acl=lpbx_trunks:public`,
//! `<domain name="all" alias="false" parse="true"/>`, `context=public`.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod answer;
pub mod cdr;
pub mod channels;
mod chatplan;
mod config;
mod dialplan;
mod directory;
pub mod lookup;
pub mod names;
pub mod request;
pub mod settings;
pub mod status;
pub mod sync;
pub mod view;
mod xml;

pub use answer::{answer, answer_body, AllowAll, Answer, AuthCheck, Policy, Reason};
pub use directory::{digest_matches, DIAL_STRING};
pub use lookup::{Lookup, LookupConflict, MemoryLookup};
pub use request::{Action, ParseError, Purpose, Request, Section, SipAuth};
pub use settings::{DefaultMoh, Settings, SettingsError};
pub use view::{
    org_has_music, ExtensionRef, NoAnswerRef, OrgInput, OrgView, ProviderLimits, TrunkInput,
};
pub use xml::{escape, Unwritable, NOT_FOUND};
