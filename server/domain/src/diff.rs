//! The difference between the draft and the applied configuration.
//!
//! Drives the "N changes not applied yet" banner, the Apply history and the list of users that
//! FreeSWITCH must forget after an Apply.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::{DidRoute, Extension, OrgConfig, OrgOptions};
use crate::values::{ExtensionNumber, E164};

/// The object a change or an issue is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Subject {
    Extension(ExtensionNumber),
    DidRoute(E164),
    Options,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    Modified,
}

/// One object that differs, with the names of the fields that differ when it was modified.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Change {
    pub subject: Subject,
    pub kind: ChangeKind,
    pub fields: Vec<String>,
}

/// What turns `applied` into `draft`, ordered by subject.
pub fn diff(draft: &OrgConfig, applied: &OrgConfig) -> Vec<Change> {
    let mut changes = Vec::new();
    diff_keyed(
        &keyed(&draft.extensions, |e| e.number.clone()),
        &keyed(&applied.extensions, |e| e.number.clone()),
        Subject::Extension,
        extension_fields,
        &mut changes,
    );
    diff_keyed(
        &keyed(&draft.did_routes, |r| r.did.clone()),
        &keyed(&applied.did_routes, |r| r.did.clone()),
        Subject::DidRoute,
        route_fields,
        &mut changes,
    );
    let option_fields = options_fields(&draft.options, &applied.options);
    if !option_fields.is_empty() {
        changes.push(Change {
            subject: Subject::Options,
            kind: ChangeKind::Modified,
            fields: option_fields,
        });
    }
    changes.sort();
    changes
}

fn keyed<T, K: Ord>(items: &[T], key: impl Fn(&T) -> K) -> BTreeMap<K, &T> {
    items.iter().map(|item| (key(item), item)).collect()
}

fn diff_keyed<K: Ord + Clone, T>(
    draft: &BTreeMap<K, &T>,
    applied: &BTreeMap<K, &T>,
    subject: impl Fn(K) -> Subject,
    fields: impl Fn(&T, &T) -> Vec<String>,
    changes: &mut Vec<Change>,
) {
    for (key, new) in draft {
        match applied.get(key) {
            None => changes.push(Change {
                subject: subject(key.clone()),
                kind: ChangeKind::Added,
                fields: vec![],
            }),
            Some(old) => {
                let changed = fields(new, old);
                if !changed.is_empty() {
                    changes.push(Change {
                        subject: subject(key.clone()),
                        kind: ChangeKind::Modified,
                        fields: changed,
                    });
                }
            }
        }
    }
    for key in applied.keys().filter(|key| !draft.contains_key(*key)) {
        changes.push(Change {
            subject: subject(key.clone()),
            kind: ChangeKind::Removed,
            fields: vec![],
        });
    }
}

/// Collects the names of the fields whose values differ.
fn changed_fields(pairs: &[(&str, bool)]) -> Vec<String> {
    pairs
        .iter()
        .filter(|(_, differs)| *differs)
        .map(|(name, _)| (*name).to_owned())
        .collect()
}

fn extension_fields(new: &Extension, old: &Extension) -> Vec<String> {
    changed_fields(&[
        ("display_name", new.display_name != old.display_name),
        // Named for what the admin did; the hash itself is never shown.
        ("sip_password", new.a1_hash != old.a1_hash),
        (
            "voicemail_enabled",
            new.voicemail_enabled != old.voicemail_enabled,
        ),
        ("voicemail_pin", new.voicemail_pin != old.voicemail_pin),
        (
            "voicemail_email",
            new.voicemail_email != old.voicemail_email,
        ),
        (
            "ring_seconds",
            new.call_flow.ring_seconds != old.call_flow.ring_seconds,
        ),
        (
            "no_answer",
            new.call_flow.no_answer != old.call_flow.no_answer,
        ),
        ("do_not_disturb", new.do_not_disturb != old.do_not_disturb),
        (
            "outbound_caller_id",
            new.outbound_caller_id != old.outbound_caller_id,
        ),
    ])
}

fn route_fields(new: &DidRoute, old: &DidRoute) -> Vec<String> {
    changed_fields(&[("extension", new.extension != old.extension)])
}

fn options_fields(new: &OrgOptions, old: &OrgOptions) -> Vec<String> {
    changed_fields(&[
        ("moh_enabled", new.moh_enabled != old.moh_enabled),
        ("moh_file", new.moh_file != old.moh_file),
        (
            "default_caller_id",
            new.default_caller_id != old.default_caller_id,
        ),
        (
            "voicemail_attach_audio",
            new.voicemail_attach_audio != old.voicemail_attach_audio,
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{CallFlow, NoAnswer};
    use crate::values::*;

    fn ext(number: &str) -> Extension {
        let number = ExtensionNumber::parse(number).unwrap();
        Extension {
            a1_hash: A1Hash::compute(&number, &SipDomain::parse("pbx.acme.test").unwrap(), "pw"),
            number,
            display_name: DisplayName::parse("Someone").unwrap(),
            voicemail_enabled: true,
            voicemail_pin: VoicemailPin::parse("1234").unwrap(),
            voicemail_email: None,
            call_flow: CallFlow {
                ring_seconds: RingSeconds::parse(20).unwrap(),
                no_answer: NoAnswer::Voicemail,
            },
            do_not_disturb: false,
            outbound_caller_id: None,
        }
    }

    #[test]
    fn equal_configurations_have_no_changes() {
        let cfg = OrgConfig {
            extensions: vec![ext("101"), ext("102")],
            ..Default::default()
        };
        let reordered = OrgConfig {
            extensions: vec![ext("102"), ext("101")],
            ..Default::default()
        };
        assert_eq!(diff(&cfg, &reordered), vec![]);
    }

    #[test]
    fn added_removed_modified() {
        let applied = OrgConfig {
            extensions: vec![ext("101"), ext("102")],
            ..Default::default()
        };
        let mut changed = ext("101");
        changed.do_not_disturb = true;
        changed.call_flow.ring_seconds = RingSeconds::parse(30).unwrap();
        let mut draft = OrgConfig {
            extensions: vec![changed, ext("103")],
            ..Default::default()
        };
        draft.options.moh_enabled = false;
        draft.did_routes.push(DidRoute {
            did: E164::parse("+15550100100").unwrap(),
            extension: None,
        });

        let changes = diff(&draft, &applied);
        let n = |s: &str| Subject::Extension(ExtensionNumber::parse(s).unwrap());
        assert_eq!(
            changes,
            vec![
                Change {
                    subject: n("101"),
                    kind: ChangeKind::Modified,
                    fields: vec!["ring_seconds".into(), "do_not_disturb".into()]
                },
                Change {
                    subject: n("102"),
                    kind: ChangeKind::Removed,
                    fields: vec![]
                },
                Change {
                    subject: n("103"),
                    kind: ChangeKind::Added,
                    fields: vec![]
                },
                Change {
                    subject: Subject::DidRoute(E164::parse("+15550100100").unwrap()),
                    kind: ChangeKind::Added,
                    fields: vec![]
                },
                Change {
                    subject: Subject::Options,
                    kind: ChangeKind::Modified,
                    fields: vec!["moh_enabled".into()]
                },
            ]
        );
    }

    #[test]
    fn a_new_password_is_a_change_without_showing_the_hash() {
        let applied = OrgConfig {
            extensions: vec![ext("101")],
            ..Default::default()
        };
        let mut e = ext("101");
        e.a1_hash = A1Hash::compute(
            &e.number,
            &SipDomain::parse("pbx.acme.test").unwrap(),
            "new",
        );
        let draft = OrgConfig {
            extensions: vec![e],
            ..Default::default()
        };
        let changes = diff(&draft, &applied);
        assert_eq!(changes[0].fields, vec!["sip_password".to_owned()]);
        assert!(!serde_json::to_string(&changes)
            .unwrap()
            .contains(draft.extensions[0].a1_hash.as_str()));
    }
}
