//! The `channels` section: attended transfers. sofia asks it (`purpose=nightmare_xfer`) for
//! every REFER that carries a `Replaces` (sofia.c `sofia_handle_sip_i_refer`, 1.10.12, with
//! the profile flags `make-every-transfer-a-nightmare` and
//! `channel-xml-fetch-on-nightmare-transfer`), and then calls the dial string we give and
//! bridges the REFER-er's other party to it. Without an answer sofia would call the Refer-To
//! URI itself: any host, no dialplan, gateway, caller-ID check or limit.
//!
//! The rule: a phone may join **its own** two calls, nothing else. The call the `Replaces`
//! names must be a channel of the same org and the same extension as the channel that received
//! the REFER, its other party a channel of that org, and the party handed over a channel of that
//! org too; then the answer is a `loopback/` leg that intercepts that other party (`intercept` hangs up the phone's leg of the named call and
//! bridges the loopback to it; the loopback then bows out). Every other case, and every lookup
//! LittlePBX cannot check, is answered with a dial string that fails at once,
//! [`REFUSED_DIAL_STRING`], so nothing is called.
//!
//! sofia puts the Refer-To's URI parameters and headers into the dial string it builds from
//! our answer (`{sip_invite_params=<params>?<headers>}<our dial string>`), unescaped and
//! unchecked: a `,` or `}` there would add channel variables or change the dial string. A
//! transfer whose parameters or headers hold anything but plain URI characters, or whose
//! headers are more than the one `Replaces`, is refused.
//!
//! What LittlePBX knows about the channels comes from FreeSWITCH over the event socket
//! ([`TransferFacts`], gathered by the server; [`FACT_VARIABLES`] says which variables).

use crate::answer::{Answer, Reason};
use crate::names;
use crate::request::Request;
use crate::xml::{Doc, Unwritable};

/// The dial string sofia is given to refuse: `error/` ends the originate with this cause.
pub const REFUSED_DIAL_STRING: &str = "error/CALL_REJECTED";

/// The channel variables [`Leg`] is read from: org, extension, SIP Call-ID, the channel it is
/// bridged to, and the presence id that finds the other channels of the same phone.
pub const FACT_VARIABLES: [&str; 6] = [
    names::ORG_MARKER,
    names::EXTENSION_MARKER,
    "sip_call_id",
    "bridge_to",
    "signal_bond",
    "presence_id",
];

/// One FreeSWITCH channel, as the event socket described it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Leg {
    pub uuid: String,
    /// `lpbx_org`: set by LittlePBX's directory and org contexts, never by a phone.
    pub org: Option<String>,
    /// `lpbx_ext`: the directory user's extension (a phone's own legs, both directions).
    pub extension: Option<String>,
    /// `sip_call_id`.
    pub call_id: Option<String>,
    /// `bridge_to`: the channel it is bridged to now.
    pub bridged_to: Option<String>,
    /// `signal_bond`: its partner in signalling (set by originate; a `uuid_bridge` may leave it).
    pub partner: Option<String>,
    /// `presence_id` (`<extension>@<domain>` on a phone's legs).
    pub presence_id: Option<String>,
}

impl Leg {
    /// A leg from `(variable, value)` pairs read with [`FACT_VARIABLES`]; empty values and
    /// FreeSWITCH's `_undef_` count as absent.
    pub fn from_variables<'v>(
        uuid: &str,
        variables: impl IntoIterator<Item = (&'v str, &'v str)>,
    ) -> Leg {
        let mut leg = Leg {
            uuid: uuid.to_owned(),
            ..Leg::default()
        };
        for (name, value) in variables {
            let value = value.trim();
            if value.is_empty() || value == "_undef_" || value.starts_with("-ERR") {
                continue;
            }
            let slot = match name {
                names::ORG_MARKER => &mut leg.org,
                names::EXTENSION_MARKER => &mut leg.extension,
                "sip_call_id" => &mut leg.call_id,
                "bridge_to" => &mut leg.bridged_to,
                "signal_bond" => &mut leg.partner,
                "presence_id" => &mut leg.presence_id,
                _ => continue,
            };
            *slot = Some(value.to_owned());
        }
        leg
    }

    /// Whether LittlePBX marked this channel as `org`'s.
    pub fn is_of(&self, org: &str) -> bool {
        self.org.as_deref() == Some(org)
    }

    /// The channel this one talks to: the one it is bridged to, else its signalling partner.
    pub fn other_party(&self) -> Option<&str> {
        self.bridged_to.as_deref().or(self.partner.as_deref())
    }
}

/// A call of the transferring phone: its own leg and the leg it talks to
/// ([`Leg::other_party`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhoneCall {
    pub leg: Leg,
    pub partner: Option<Leg>,
}

/// What the server read from FreeSWITCH before answering a `channels` lookup.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransferFacts {
    /// The channel that received the REFER (`refer-from-channel-id`); `None` when it could not
    /// be read.
    pub from: Option<Leg>,
    /// The party the REFER-er hands over (`refer-for-channel-id`, sofia's partner of `from`).
    pub transferee: Option<Leg>,
    /// The other channels with the same presence id as `from`, each with its partner.
    pub phone_calls: Vec<PhoneCall>,
}

/// What to do with one attended transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Bridge the REFER-er's other party to `target` (the other party of the named call).
    Join { org: String, target: String },
    /// Call nothing; `org` is the REFER-er's org when known.
    Refuse {
        org: Option<String>,
        why: &'static str,
    },
}

/// Whether a channel uuid is safe to put into an event-socket command or a dial string.
pub fn is_uuid(text: &str) -> bool {
    (1..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// Decides one `channels` lookup from the request and what FreeSWITCH said.
pub fn decide(req: &Request<'_>, facts: &TransferFacts) -> Decision {
    let refuse = |org: Option<&str>, why| Decision::Refuse {
        org: org.map(str::to_owned),
        why,
    };
    if req.param("purpose") != Some("nightmare_xfer") {
        return refuse(None, "unknown channels lookup");
    }
    let Some(from) = &facts.from else {
        return refuse(None, "the transferring channel is gone");
    };
    let (Some(org), Some(extension)) = (from.org.as_deref(), from.extension.as_deref()) else {
        return refuse(
            from.org.as_deref(),
            "the transferring channel is not an org's phone",
        );
    };
    match join_target(req, facts, from, org, extension) {
        Ok(target) => Decision::Join {
            org: org.to_owned(),
            target: target.to_owned(),
        },
        Err(why) => refuse(Some(org), why),
    }
}

/// The channel to intercept for the REFER-er `from`, a phone of `org` with `extension`: the
/// other party of the one call of that phone the Replaces names; or why there is none.
fn join_target<'f>(
    req: &Request<'_>,
    facts: &'f TransferFacts,
    from: &Leg,
    org: &str,
    extension: &str,
) -> Result<&'f str, &'static str> {
    if !refer_to_is_plain(req) {
        return Err("the Refer-To carries more than a plain Replaces");
    }
    let call_id = req
        .param("replaces-call-id")
        .filter(|c| !c.is_empty())
        .ok_or("the Replaces names no call")?;
    let mut named = facts.phone_calls.iter().filter(|call| {
        call.leg.uuid != from.uuid
            && call.leg.call_id.as_deref() == Some(call_id)
            && call.leg.is_of(org)
            && call.leg.extension.as_deref() == Some(extension)
    });
    let (Some(call), None) = (named.next(), named.next()) else {
        return Err("the Replaces names no call of the transferring phone");
    };
    let target = call
        .partner
        .as_ref()
        .filter(|p| p.is_of(org) && is_uuid(&p.uuid))
        .ok_or("the named call has no other party in the org")?;
    if facts.transferee.as_ref().is_none_or(|t| !t.is_of(org)) {
        return Err("the party to hand over is not a call of the org");
    }
    // Two outside parties may be joined too: an outside call the org dialled keeps counting
    // against its outbound limit on its own carrier leg (see the dialplan's `outbound`).
    Ok(&target.uuid)
}

/// True when the Refer-To's parameters are plain URI characters and its headers are exactly
/// one `Replaces` of plain URI characters (sofia pastes both into the dial string).
fn refer_to_is_plain(req: &Request<'_>) -> bool {
    let plain = |text: &str| {
        text.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%;=@+!*".contains(&b))
    };
    let params = req.param("refer-to-params").unwrap_or("");
    let headers = req.param("refer-to-headers").unwrap_or("");
    let replaces = headers
        .split_once('=')
        .filter(|(name, _)| name.eq_ignore_ascii_case("Replaces"))
        .map(|(_, value)| value);
    plain(params) && replaces.is_some_and(|value| !value.is_empty() && plain(value))
}

/// The dial string that joins the REFER-er's other party to `target`: a loopback leg running
/// `intercept` (no dialplan). Its two channels write no call record and carry the org marker.
pub fn join_dial_string(org: &str, target: &str) -> String {
    format!(
        "[{}={org},process_cdr=false]loopback/app=intercept:{target}",
        names::ORG_MARKER
    )
}

/// The answer to a `channels` lookup; `org` is set so the log names it.
pub fn answer(req: &Request<'_>, facts: &TransferFacts) -> Answer {
    let (dial, reason, org) = match decide(req, facts) {
        Decision::Join { org, target } => (
            join_dial_string(&org, &target),
            Reason::AttendedTransfer,
            Some(org),
        ),
        Decision::Refuse { org, why } => (
            REFUSED_DIAL_STRING.to_owned(),
            Reason::TransferRefused(why),
            org,
        ),
    };
    let answer = match render(&dial) {
        Ok(xml) => Answer::new(xml, reason),
        Err(u) => Answer::new(crate::xml::NOT_FOUND.to_owned(), Reason::Unwritable(u)),
    };
    match org {
        Some(org) => answer.for_org(&org),
        None => answer,
    }
}

/// `<section name="channels"><params>`: sofia reads the section's own `params` (it looks the
/// section up without a tag name). `dial-prefix` is given as empty so that nothing is put
/// before the dial string.
fn render(dial: &str) -> Result<String, Unwritable> {
    let mut doc = Doc::new("channels");
    doc.open("params", &[])?;
    doc.empty("param", &[("name", "dial-prefix"), ("value", "")])?;
    doc.empty(
        "param",
        &[("name", "absolute-dial-string"), ("value", dial)],
    )?;
    Ok(doc.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FROM: &str = "aaaaaaaa-0000-0000-0000-000000000001";
    const OWN: &str = "aaaaaaaa-0000-0000-0000-000000000002";
    const OTHER_PARTY: &str = "aaaaaaaa-0000-0000-0000-000000000003";
    const TRANSFEREE: &str = "aaaaaaaa-0000-0000-0000-000000000004";

    fn leg(uuid: &str, org: &str, ext: &str, call_id: &str, partner: &str) -> Leg {
        Leg::from_variables(
            uuid,
            [
                ("lpbx_org", org),
                ("lpbx_ext", ext),
                ("sip_call_id", call_id),
                ("signal_bond", partner),
                ("presence_id", "101@pbx.acme.test"),
            ],
        )
    }

    fn facts(calls: Vec<PhoneCall>) -> TransferFacts {
        TransferFacts {
            from: Some(leg(FROM, "acme", "101", "consult@phone", TRANSFEREE)),
            transferee: Some(leg(TRANSFEREE, "acme", "102", "b-leg", FROM)),
            phone_calls: calls,
        }
    }

    fn own_call(partner_org: &str) -> PhoneCall {
        PhoneCall {
            leg: leg(OWN, "acme", "101", "first@phone", OTHER_PARTY),
            partner: Some(leg(OTHER_PARTY, partner_org, "", "carrier-call", OWN)),
        }
    }

    fn lookup(extra: &str) -> String {
        format!(
            "section=channels&purpose=nightmare_xfer&refer-from-channel-id={FROM}\
             &refer-to-user=102&refer-to-host=pbx.acme.test&refer-to-params=\
             &refer-to-headers=Replaces%3Dfirst%2540phone%253Bto-tag%253Dx\
             &replaces-call-id=first%40phone{extra}"
        )
    }

    fn decide_body(body: &str, facts: &TransferFacts) -> Decision {
        decide(&Request::parse(body.as_bytes()).unwrap(), facts)
    }

    #[test]
    fn a_phone_joins_its_own_two_calls() {
        assert_eq!(
            decide_body(&lookup(""), &facts(vec![own_call("acme")])),
            Decision::Join {
                org: "acme".into(),
                target: OTHER_PARTY.into()
            }
        );
        let dial = join_dial_string("acme", OTHER_PARTY);
        assert_eq!(
            dial,
            format!("[lpbx_org=acme,process_cdr=false]loopback/app=intercept:{OTHER_PARTY}")
        );
        let xml = render(&dial).unwrap();
        assert!(xml.contains(&format!(r#"value="{dial}""#)), "{xml}");
        assert!(
            xml.contains(r#"<param name="dial-prefix" value=""/>"#),
            "{xml}"
        );
    }

    #[test]
    fn any_call_that_is_not_the_phones_own_is_refused() {
        let refused = |calls: Vec<PhoneCall>, why_part: &str| match decide_body(
            &lookup(""),
            &facts(calls.clone()),
        ) {
            Decision::Refuse { org, why } => {
                assert_eq!(org.as_deref(), Some("acme"), "{calls:?}");
                assert!(why.contains(why_part), "{why} / {calls:?}");
            }
            join => panic!("joined {join:?} for {calls:?}"),
        };
        refused(vec![], "names no call of the transferring phone");
        // Another org's call with that Call-ID, another extension's, a call without org.
        for (org, ext) in [
            ("globex", "101"),
            ("acme", "102"),
            ("", "101"),
            ("acme", ""),
        ] {
            let mut call = own_call("acme");
            call.leg = leg(OWN, org, ext, "first@phone", OTHER_PARTY);
            refused(vec![call], "names no call of the transferring phone");
        }
        // Another Call-ID; the REFER-er's own channel named.
        let mut call = own_call("acme");
        call.leg.call_id = Some("other@phone".into());
        refused(vec![call], "names no call");
        let mut call = own_call("acme");
        call.leg.uuid = FROM.into();
        refused(vec![call], "names no call");
        // Two channels of the phone with the same Call-ID: ambiguous.
        refused(vec![own_call("acme"), own_call("acme")], "names no call");
        // The named call's other party belongs to another org, is unknown, or is no uuid.
        refused(vec![own_call("globex")], "no other party in the org");
        let mut call = own_call("acme");
        call.partner = None;
        refused(vec![call], "no other party");
        let mut call = own_call("acme");
        call.partner.as_mut().unwrap().uuid = "x,y".into();
        refused(vec![call], "no other party");
    }

    #[test]
    fn outside_parties_are_joined_and_the_handed_over_party_must_be_the_orgs() {
        // The outside caller (no extension) to 102 (a phone) and 102 to an outside party: joined.
        let mut facts = facts(vec![own_call("acme")]);
        assert!(matches!(
            decide_body(&lookup(""), &facts),
            Decision::Join { .. }
        ));
        let mut to_a_phone = own_call("acme");
        to_a_phone.partner.as_mut().unwrap().extension = Some("103".into());
        facts.transferee.as_mut().unwrap().extension = None;
        facts.phone_calls = vec![to_a_phone];
        assert!(matches!(
            decide_body(&lookup(""), &facts),
            Decision::Join { .. }
        ));
        // Outside to outside: joined too.
        facts.phone_calls = vec![own_call("acme")];
        assert!(matches!(
            decide_body(&lookup(""), &facts),
            Decision::Join { .. }
        ));
        // The party handed over unknown or another org's.
        for transferee in [None, Some(leg(TRANSFEREE, "globex", "102", "b", FROM))] {
            let mut facts = self::facts(vec![own_call("acme")]);
            facts.transferee = transferee;
            match decide_body(&lookup(""), &facts) {
                Decision::Refuse { why, .. } => assert!(why.contains("hand over"), "{why}"),
                join => panic!("{join:?}"),
            }
        }
    }

    #[test]
    fn an_unknown_or_foreign_transferring_channel_is_refused() {
        let body = lookup("");
        let gone = TransferFacts {
            from: None,
            transferee: None,
            phone_calls: vec![own_call("acme")],
        };
        assert!(matches!(
            decide_body(&body, &gone),
            Decision::Refuse { org: None, .. }
        ));
        for (org, ext) in [("", "101"), ("acme", "")] {
            let mut facts = facts(vec![own_call("acme")]);
            facts.from = Some(leg(FROM, org, ext, "consult@phone", "bbbb"));
            assert!(
                matches!(decide_body(&body, &facts), Decision::Refuse { .. }),
                "{org}/{ext}"
            );
        }
        let other_purpose = lookup("").replace("nightmare_xfer", "something");
        assert!(matches!(
            decide_body(&other_purpose, &facts(vec![own_call("acme")])),
            Decision::Refuse { org: None, .. }
        ));
    }

    #[test]
    fn a_refer_to_that_could_change_the_dial_string_is_refused() {
        let with = |params: &str, headers: &str| {
            let body = format!(
                "section=channels&purpose=nightmare_xfer&refer-from-channel-id={FROM}\
                 &refer-to-params={params}&refer-to-headers={headers}\
                 &replaces-call-id=first%40phone"
            );
            decide_body(&body, &facts(vec![own_call("acme")]))
        };
        assert!(matches!(
            with("user%3Dphone", "Replaces%3Dfirst%2540phone"),
            Decision::Join { .. }
        ));
        for (params, headers) in [
            // A second header (sofia would set sip_h_<name> and pass it on).
            ("", "Replaces%3Dfirst%2540phone%26P-Charge-Info%3Dx"),
            // Characters that end the variable block or add variables and legs.
            ("", "Replaces%3Dfirst%2540phone%2Cexecute_on_answer%3Dx"),
            ("", "Replaces%3Dfirst%2540phone%7Dsofia%2Finternal%2Fx"),
            ("x%7D", "Replaces%3Dfirst%2540phone"),
            ("x%2Cy%3Dz", "Replaces%3Dfirst%2540phone"),
            ("", "Replaces%3Dfirst%2540phone%7Csofia%2Fx"),
            ("", "Replaces%3Dfirst%2540phone%3A_%3Asofia%2Fx"),
            ("a b", "Replaces%3Dfirst%2540phone"),
            ("", "Replaces%3D"),
            ("", "Other%3Dfirst%2540phone"),
            ("", ""),
        ] {
            assert!(
                matches!(with(params, headers), Decision::Refuse { .. }),
                "{params} / {headers}"
            );
        }
    }

    #[test]
    fn variables_read_as_absent_when_freeswitch_has_none() {
        let leg = Leg::from_variables(
            OWN,
            [
                ("lpbx_org", "_undef_"),
                ("lpbx_ext", ""),
                ("sip_call_id", "-ERR No such channel!"),
                ("signal_bond", " b \n"),
                ("unrelated", "x"),
            ],
        );
        assert_eq!(
            leg,
            Leg {
                uuid: OWN.into(),
                partner: Some("b".into()),
                ..Leg::default()
            }
        );
    }

    #[test]
    fn the_other_party_is_the_bridged_channel_before_the_signalling_partner() {
        let both = Leg::from_variables(OWN, [("bridge_to", "b1"), ("signal_bond", "s1")]);
        assert_eq!(both.other_party(), Some("b1"));
        let bond_only = Leg::from_variables(OWN, [("signal_bond", "s1")]);
        assert_eq!(bond_only.other_party(), Some("s1"));
        assert_eq!(Leg::from_variables(OWN, []).other_party(), None);
    }

    #[test]
    fn uuids_are_hex_and_dashes_only() {
        assert!(is_uuid(OWN));
        for bad in ["", "x", "a b", "a,b", "a}b", &"a".repeat(65)] {
            assert!(!is_uuid(bad), "{bad}");
        }
    }
}
