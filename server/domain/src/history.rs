//! The Apply history in words, and restoring a version.
//!
//! [`describe`]: what an Apply changed, as an org admin reads it: one sentence per extension,
//! number or org-wide setting that differs between two configurations ("Extension 102 'Front
//! desk': rings 20 s instead of 25 s."). Secrets are named ("new SIP password"), never shown.
//!
//! [`restore_plan`]: the draft that restoring a kept version makes.

use crate::config::{DidRoute, Extension, NoAnswer, OrgConfig, OrgOptions};
use crate::diff::{diff, Change, ChangeKind, Subject};
use crate::values::{ExtensionNumber, E164};

/// The draft a restore writes, and what the admin is told about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestorePlan {
    pub config: OrgConfig,
    /// Extensions of the current draft whose SIP password or voicemail PIN differ in the
    /// version (they keep the current ones unless the secrets are restored too).
    pub secrets_differ: Vec<ExtensionNumber>,
    /// Numbers the version routed that the org no longer has: their routes are left out.
    pub numbers_gone: Vec<E164>,
    /// Extensions of the version that the draft no longer has: they come back with the SIP
    /// password and voicemail PIN they had then (whoever still knows them can register).
    pub returning: Vec<ExtensionNumber>,
}

/// The version's configuration as the new draft:
/// - extensions, call flows, voicemail and org settings as in the version;
/// - an extension that exists in the draft keeps its current SIP password (a1-hash) and
///   voicemail PIN unless `restore_secrets`; one that no longer exists comes back with the
///   credentials it had (its phone was set up with them);
/// - routes of numbers the org no longer has are left out; numbers the org got since keep
///   their current route.
pub fn restore_plan(
    version: &OrgConfig,
    draft: &OrgConfig,
    owned_dids: &[E164],
    restore_secrets: bool,
) -> RestorePlan {
    let mut secrets_differ = Vec::new();
    let mut returning = Vec::new();
    let extensions = version
        .extensions
        .iter()
        .map(|old| {
            let mut ext = old.clone();
            if let Some(now) = draft.extension(&old.number) {
                if now.a1_hash != old.a1_hash || now.voicemail_pin != old.voicemail_pin {
                    secrets_differ.push(old.number.clone());
                }
                if !restore_secrets {
                    ext.a1_hash = now.a1_hash.clone();
                    ext.voicemail_pin = now.voicemail_pin.clone();
                }
            } else {
                returning.push(old.number.clone());
            }
            ext
        })
        .collect();
    let (kept, gone): (Vec<&DidRoute>, Vec<&DidRoute>) = version
        .did_routes
        .iter()
        .partition(|route| owned_dids.contains(&route.did));
    let mut did_routes: Vec<DidRoute> = kept.into_iter().cloned().collect();
    did_routes.extend(
        draft
            .did_routes
            .iter()
            .filter(|route| owned_dids.contains(&route.did))
            .filter(|route| !version.did_routes.iter().any(|r| r.did == route.did))
            .cloned(),
    );
    RestorePlan {
        config: OrgConfig {
            extensions,
            did_routes,
            options: version.options.clone(),
        }
        .normalized(),
        secrets_differ,
        numbers_gone: gone.into_iter().map(|route| route.did.clone()).collect(),
        returning,
    }
}

/// Sentences for an Apply whose previous configuration is not known (the oldest kept, or one
/// made before versions were kept whole): what changed, by field name.
pub fn describe_changes(changes: &[Change]) -> Vec<String> {
    changes
        .iter()
        .map(|change| {
            let subject = match &change.subject {
                Subject::Extension(number) => format!("Extension {number}"),
                Subject::DidRoute(did) => format!("Number {did}"),
                Subject::Options => "Org settings".to_owned(),
            };
            match change.kind {
                ChangeKind::Added => format!("{subject} added."),
                ChangeKind::Removed => format!("{subject} removed."),
                ChangeKind::Modified => format!(
                    "{subject} changed: {}.",
                    change.fields.join(", ").replace('_', " ")
                ),
            }
        })
        .collect()
}

/// The sentences that turn `previous` into `next`, in the order of [`diff`].
pub fn describe(previous: &OrgConfig, next: &OrgConfig) -> Vec<String> {
    diff(next, previous)
        .iter()
        .filter_map(|change| match &change.subject {
            Subject::Extension(number) => extension_sentence(
                change.kind,
                previous.extension(number),
                next.extension(number),
            ),
            Subject::DidRoute(did) => {
                let find = |config: &'_ OrgConfig| -> Option<DidRoute> {
                    config.did_routes.iter().find(|r| &r.did == did).cloned()
                };
                route_sentence(find(previous).as_ref(), find(next).as_ref())
            }
            Subject::Options => options_sentence(&previous.options, &next.options),
        })
        .collect()
}

fn extension_sentence(
    kind: ChangeKind,
    old: Option<&Extension>,
    new: Option<&Extension>,
) -> Option<String> {
    match (kind, old, new) {
        (ChangeKind::Added, _, Some(new)) => Some(format!(
            "{} added: {}.",
            extension_name(new),
            call_flow(new)
        )),
        (ChangeKind::Removed, Some(old), _) => Some(format!("{} removed.", extension_name(old))),
        (ChangeKind::Modified, Some(old), Some(new)) => {
            let parts = extension_changes(old, new);
            (!parts.is_empty()).then(|| format!("{}: {}.", extension_name(new), parts.join("; ")))
        }
        _ => None,
    }
}

fn extension_name(ext: &Extension) -> String {
    format!("Extension {} '{}'", ext.number, ext.display_name)
}

/// "rings 20 s, then voicemail" (or "does not ring: do not disturb, then voicemail").
fn call_flow(ext: &Extension) -> String {
    format!(
        "rings {} s, then {}",
        ext.call_flow.ring_seconds.get(),
        no_answer(&ext.call_flow.no_answer)
    )
}

fn no_answer(action: &NoAnswer) -> String {
    match action {
        NoAnswer::Voicemail => "voicemail".to_owned(),
        NoAnswer::ForwardExtension(number) => format!("forwards to extension {number}"),
        NoAnswer::ForwardExternal(number) => format!("forwards to {number}"),
        NoAnswer::Hangup => "hangs up".to_owned(),
    }
}

fn on_off(on: bool) -> &'static str {
    if on {
        "on"
    } else {
        "off"
    }
}

fn extension_changes(old: &Extension, new: &Extension) -> Vec<String> {
    let mut parts = Vec::new();
    if old.display_name != new.display_name {
        parts.push(format!("was '{}'", old.display_name));
    }
    let (old_flow, new_flow) = (&old.call_flow, &new.call_flow);
    if old_flow.ring_seconds != new_flow.ring_seconds {
        parts.push(format!(
            "rings {} s instead of {} s, then {}",
            new_flow.ring_seconds.get(),
            old_flow.ring_seconds.get(),
            no_answer(&new_flow.no_answer)
        ));
    }
    if old_flow.no_answer != new_flow.no_answer {
        parts.push(format!(
            "when not answered {} instead of {}",
            no_answer(&new_flow.no_answer),
            no_answer(&old_flow.no_answer)
        ));
    }
    if old.do_not_disturb != new.do_not_disturb {
        parts.push(format!("do not disturb {}", on_off(new.do_not_disturb)));
    }
    if old.voicemail_enabled != new.voicemail_enabled {
        parts.push(format!("voicemail {}", on_off(new.voicemail_enabled)));
    }
    if old.voicemail_email != new.voicemail_email {
        parts.push(match &new.voicemail_email {
            Some(email) => format!("voicemail e-mails to {email}"),
            None => "no voicemail e-mails".to_owned(),
        });
    }
    if old.outbound_caller_id != new.outbound_caller_id {
        parts.push(match &new.outbound_caller_id {
            Some(number) => format!("calls out as {number}"),
            None => "calls out with the org's number".to_owned(),
        });
    }
    if old.a1_hash != new.a1_hash {
        parts.push("new SIP password".to_owned());
    }
    if old.voicemail_pin != new.voicemail_pin {
        parts.push("new voicemail PIN".to_owned());
    }
    parts
}

fn rings(route: &DidRoute) -> String {
    match &route.extension {
        Some(ext) => format!("rings {ext}"),
        None => "rings no extension".to_owned(),
    }
}

fn route_sentence(old: Option<&DidRoute>, new: Option<&DidRoute>) -> Option<String> {
    match (old, new) {
        (None, Some(new)) => Some(format!("Number {} {}.", new.did, rings(new))),
        (Some(old), None) => Some(format!("Number {} no longer routed.", old.did)),
        (Some(old), Some(new)) => Some(format!(
            "Number {} now {} instead of {}.",
            new.did,
            rings(new),
            rings(old).trim_start_matches("rings ")
        )),
        (None, None) => None,
    }
}

fn options_sentence(old: &OrgOptions, new: &OrgOptions) -> Option<String> {
    let mut parts = Vec::new();
    if old.moh_enabled != new.moh_enabled {
        parts.push(format!("music on hold {}", on_off(new.moh_enabled)));
    }
    if old.moh_file != new.moh_file {
        parts.push(match new.moh_file {
            Some(_) => "another music on hold recording".to_owned(),
            None => "the default music on hold".to_owned(),
        });
    }
    if old.default_caller_id != new.default_caller_id {
        parts.push(match &new.default_caller_id {
            Some(number) => format!("outside calls show {number}"),
            None => "outside calls show no org number".to_owned(),
        });
    }
    if old.voicemail_attach_audio != new.voicemail_attach_audio {
        parts.push(if new.voicemail_attach_audio {
            "voicemail e-mails carry the recording".to_owned()
        } else {
            "voicemail e-mails without the recording".to_owned()
        });
    }
    (!parts.is_empty()).then(|| format!("Org settings: {}.", parts.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CallFlow;
    use crate::values::*;

    fn ext(number: &str, name: &str, ring: u16) -> Extension {
        let number = ExtensionNumber::parse(number).unwrap();
        Extension {
            a1_hash: A1Hash::compute(&number, &SipDomain::parse("pbx.acme.test").unwrap(), "pw"),
            number,
            display_name: DisplayName::parse(name).unwrap(),
            voicemail_enabled: true,
            voicemail_pin: VoicemailPin::parse("1234").unwrap(),
            voicemail_email: None,
            call_flow: CallFlow {
                ring_seconds: RingSeconds::parse(ring).unwrap(),
                no_answer: NoAnswer::Voicemail,
            },
            do_not_disturb: false,
            outbound_caller_id: None,
        }
    }

    fn route(did: &str, ext: Option<&str>) -> DidRoute {
        DidRoute {
            did: E164::parse(did).unwrap(),
            extension: ext.map(|e| ExtensionNumber::parse(e).unwrap()),
        }
    }

    #[test]
    fn equal_configurations_say_nothing() {
        let config = OrgConfig {
            extensions: vec![ext("101", "Ann", 20)],
            ..Default::default()
        };
        assert_eq!(describe(&config, &config), Vec::<String>::new());
    }

    #[test]
    fn extensions_added_removed_and_changed_read_as_sentences() {
        let previous = OrgConfig {
            extensions: vec![ext("101", "Ann", 20), ext("102", "Front desk", 25)],
            ..Default::default()
        };
        let mut front = ext("102", "Front desk", 20);
        front.a1_hash = A1Hash::compute(
            &front.number,
            &SipDomain::parse("pbx.acme.test").unwrap(),
            "other",
        );
        let next = OrgConfig {
            extensions: vec![front, ext("103", "Bob", 30)],
            ..Default::default()
        };
        assert_eq!(
            describe(&previous, &next),
            vec![
                "Extension 101 'Ann' removed.",
                "Extension 102 'Front desk': rings 20 s instead of 25 s, then voicemail; new SIP password.",
                "Extension 103 'Bob' added: rings 30 s, then voicemail.",
            ]
        );
    }

    #[test]
    fn secrets_are_named_never_shown() {
        let previous = OrgConfig {
            extensions: vec![ext("101", "Ann", 20)],
            ..Default::default()
        };
        let mut changed = ext("101", "Ann", 20);
        changed.voicemail_pin = VoicemailPin::parse("987654").unwrap();
        let next = OrgConfig {
            extensions: vec![changed],
            ..Default::default()
        };
        let words = describe(&previous, &next).join(" ");
        assert_eq!(words, "Extension 101 'Ann': new voicemail PIN.");
        assert!(!words.contains("987654") && !words.contains("1234"));
    }

    #[test]
    fn numbers_say_which_extension_they_ring() {
        let previous = OrgConfig {
            did_routes: vec![
                route("+15550100100", Some("100")),
                route("+15550100101", None),
            ],
            ..Default::default()
        };
        let next = OrgConfig {
            did_routes: vec![
                route("+15550100100", Some("101")),
                route("+15550100102", Some("102")),
            ],
            ..Default::default()
        };
        assert_eq!(
            describe(&previous, &next),
            vec![
                "Number +15550100100 now rings 101 instead of 100.",
                "Number +15550100101 no longer routed.",
                "Number +15550100102 rings 102.",
            ]
        );
    }

    #[test]
    fn restore_keeps_current_secrets_unless_asked_and_drops_numbers_gone() {
        let mut old_101 = ext("101", "Ann", 25);
        old_101.voicemail_pin = VoicemailPin::parse("1111").unwrap();
        let version = OrgConfig {
            extensions: vec![old_101, ext("102", "Gone since", 20)],
            did_routes: vec![
                route("+15550100100", Some("101")),
                route("+15550100199", Some("102")),
            ],
            ..Default::default()
        };
        let draft = OrgConfig {
            extensions: vec![ext("101", "Ann", 20), ext("103", "Added since", 20)],
            did_routes: vec![
                route("+15550100100", Some("103")),
                route("+15550100101", Some("103")),
            ],
            ..Default::default()
        };
        let owned = [
            E164::parse("+15550100100").unwrap(),
            E164::parse("+15550100101").unwrap(),
        ];
        let plan = restore_plan(&version, &draft, &owned, false);
        let numbers: Vec<&str> = plan
            .config
            .extensions
            .iter()
            .map(|e| e.number.as_str())
            .collect();
        assert_eq!(numbers, ["101", "102"]);
        let restored_101 = plan
            .config
            .extension(&ExtensionNumber::parse("101").unwrap())
            .unwrap();
        assert_eq!(restored_101.call_flow.ring_seconds.get(), 25);
        assert_eq!(
            restored_101.voicemail_pin.as_str(),
            "1234",
            "current PIN kept"
        );
        assert_eq!(
            plan.secrets_differ,
            [ExtensionNumber::parse("101").unwrap()]
        );
        assert_eq!(plan.numbers_gone, [E164::parse("+15550100199").unwrap()]);
        assert_eq!(plan.returning, [ExtensionNumber::parse("102").unwrap()]);
        let routes: Vec<(String, Option<String>)> = plan
            .config
            .did_routes
            .iter()
            .map(|r| {
                (
                    r.did.to_string(),
                    r.extension.as_ref().map(ToString::to_string),
                )
            })
            .collect();
        assert_eq!(
            routes,
            [
                ("+15550100100".to_owned(), Some("101".to_owned())),
                ("+15550100101".to_owned(), Some("103".to_owned())),
            ]
        );

        let with_secrets = restore_plan(&version, &draft, &owned, true);
        let ext_101 = with_secrets
            .config
            .extension(&ExtensionNumber::parse("101").unwrap())
            .unwrap();
        assert_eq!(ext_101.voicemail_pin.as_str(), "1111");
    }

    #[test]
    fn changes_without_a_previous_version_are_named_by_field() {
        let changes = diff(
            &OrgConfig {
                extensions: vec![ext("101", "Ann", 30)],
                ..Default::default()
            },
            &OrgConfig {
                extensions: vec![ext("101", "Ann", 20)],
                ..Default::default()
            },
        );
        assert_eq!(
            describe_changes(&changes),
            ["Extension 101 changed: ring seconds."]
        );
    }

    #[test]
    fn call_flow_and_org_settings() {
        let previous = OrgConfig {
            extensions: vec![ext("101", "Ann", 20)],
            ..Default::default()
        };
        let mut forwarded = ext("101", "Ann", 20);
        forwarded.call_flow.no_answer =
            NoAnswer::ForwardExtension(ExtensionNumber::parse("102").unwrap());
        forwarded.do_not_disturb = true;
        let mut next = OrgConfig {
            extensions: vec![forwarded],
            ..Default::default()
        };
        next.options.moh_enabled = !previous.options.moh_enabled;
        let words = describe(&previous, &next);
        assert_eq!(
            words[0],
            "Extension 101 'Ann': when not answered forwards to extension 102 instead of voicemail; do not disturb on."
        );
        assert_eq!(
            words[1],
            format!(
                "Org settings: music on hold {}.",
                on_off(next.options.moh_enabled)
            )
        );
    }
}
