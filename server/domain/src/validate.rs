//! Validation of a whole configuration before Apply.
//!
//! Single values are checked when they are parsed ([`crate::values`]); this module checks what
//! only the whole configuration can tell: duplicates, references to missing extensions, forward
//! loops, caller IDs the org does not own. Issues name the object and field they concern so the
//! web app can show each next to its field.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::{Deserialize, Serialize};

use crate::config::{NoAnswer, OrgConfig};
use crate::diff::Subject;
use crate::values::{ExtensionNumber, E164};

/// What the provider decides and the admin cannot change, needed to judge a configuration.
#[derive(Debug, Clone, Default)]
pub struct ValidationContext {
    /// The DIDs the provider assigned to the org.
    pub owned_dids: BTreeSet<E164>,
    /// Numbers that always reach the emergency services and so cannot be extensions.
    pub emergency_numbers: BTreeSet<String>,
    /// Most extensions one org may have.
    pub max_extensions: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueCode {
    DuplicateExtension,
    EmergencyNumberClash,
    ForwardTargetMissing,
    ForwardToSelf,
    ForwardLoop,
    ForwardToEmergency,
    VoicemailDisabled,
    CallerIdNotOwned,
    DidNotOwned,
    RouteTargetMissing,
    TooManyExtensions,
}

/// One problem that blocks Apply.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Issue {
    pub subject: Subject,
    /// The field concerned, named as in the API (`no_answer_target`, `outbound_caller_id`...).
    pub field: String,
    pub code: IssueCode,
    /// What to fix, for the admin.
    pub message: String,
}

impl Issue {
    fn new(subject: Subject, field: &str, code: IssueCode, message: String) -> Self {
        Self {
            subject,
            field: field.to_owned(),
            code,
            message,
        }
    }
}

/// Every issue of `config`, sorted; empty means it can be applied.
pub fn validate(config: &OrgConfig, context: &ValidationContext) -> Vec<Issue> {
    let mut issues = Vec::new();
    check_extension_numbers(config, context, &mut issues);
    check_call_flows(config, context, &mut issues);
    check_forward_loops(config, &mut issues);
    check_caller_ids(config, context, &mut issues);
    check_did_routes(config, context, &mut issues);
    issues.sort();
    issues.dedup();
    issues
}

/// Every issue of an org's draft, judged against what the provider decided for the org: the
/// DIDs assigned to it, the installation's emergency numbers and its extension limit (0: none).
///
/// The PBX page, the Apply button and the Apply transaction all decide with this one function,
/// so what the admin is shown as blocking Apply is exactly what Apply refuses.
pub fn validate_draft<'a>(
    draft: &OrgConfig,
    owned_dids: impl IntoIterator<Item = E164>,
    emergency_numbers: impl IntoIterator<Item = &'a String>,
    max_extensions: u32,
) -> Vec<Issue> {
    let context = ValidationContext {
        owned_dids: owned_dids.into_iter().collect(),
        emergency_numbers: emergency_numbers.into_iter().cloned().collect(),
        max_extensions: usize::try_from(max_extensions).unwrap_or(usize::MAX),
    };
    validate(draft, &context)
}

fn ext_subject(number: &ExtensionNumber) -> Subject {
    Subject::Extension(number.clone())
}

fn check_extension_numbers(
    config: &OrgConfig,
    context: &ValidationContext,
    issues: &mut Vec<Issue>,
) {
    let mut seen = HashSet::new();
    for ext in &config.extensions {
        if !seen.insert(&ext.number) {
            issues.push(Issue::new(
                ext_subject(&ext.number),
                "number",
                IssueCode::DuplicateExtension,
                format!(
                    "Extension {} exists twice; give one of them another number.",
                    ext.number
                ),
            ));
        }
        if context.emergency_numbers.contains(ext.number.as_str()) {
            issues.push(Issue::new(
                ext_subject(&ext.number),
                "number",
                IssueCode::EmergencyNumberClash,
                format!(
                    "{} is an emergency number and cannot be an extension.",
                    ext.number
                ),
            ));
        }
    }
    if context.max_extensions > 0 && config.extensions.len() > context.max_extensions {
        issues.push(Issue::new(
            Subject::Options,
            "extensions",
            IssueCode::TooManyExtensions,
            format!(
                "This PBX can have at most {} extensions; remove {}.",
                context.max_extensions,
                config.extensions.len() - context.max_extensions
            ),
        ));
    }
}

fn check_call_flows(config: &OrgConfig, context: &ValidationContext, issues: &mut Vec<Issue>) {
    let numbers: HashSet<&ExtensionNumber> = config.extensions.iter().map(|e| &e.number).collect();
    for ext in &config.extensions {
        let subject = ext_subject(&ext.number);
        match &ext.call_flow.no_answer {
            NoAnswer::ForwardExtension(target) if target == &ext.number => issues.push(Issue::new(
                subject,
                "no_answer_target",
                IssueCode::ForwardToSelf,
                format!("Extension {} cannot forward unanswered calls to itself.", ext.number),
            )),
            NoAnswer::ForwardExtension(target) if !numbers.contains(target) => issues.push(Issue::new(
                subject,
                "no_answer_target",
                IssueCode::ForwardTargetMissing,
                format!("Unanswered calls go to extension {target}, which does not exist."),
            )),
            NoAnswer::ForwardExternal(number) if context.emergency_numbers.contains(number.as_str()) => {
                issues.push(Issue::new(
                    subject,
                    "no_answer_target",
                    IssueCode::ForwardToEmergency,
                    format!("Calls cannot be forwarded to the emergency number {number}."),
                ))
            }
            NoAnswer::Voicemail if !ext.voicemail_enabled => issues.push(Issue::new(
                subject,
                "no_answer_action",
                IssueCode::VoicemailDisabled,
                format!(
                    "Unanswered calls to {} go to voicemail, but its voicemail is off; turn it on or choose another action.",
                    ext.number
                ),
            )),
            _ => {}
        }
    }
}

/// Extensions that forward unanswered calls to each other in a circle would pass a call round
/// forever when nobody answers (at once when they are all on do-not-disturb).
fn check_forward_loops(config: &OrgConfig, issues: &mut Vec<Issue>) {
    let forwards: BTreeMap<&ExtensionNumber, &ExtensionNumber> = config
        .extensions
        .iter()
        .filter_map(|ext| match &ext.call_flow.no_answer {
            NoAnswer::ForwardExtension(target) if target != &ext.number => {
                Some((&ext.number, target))
            }
            _ => None,
        })
        .collect();
    let mut in_loop: BTreeSet<&ExtensionNumber> = BTreeSet::new();
    for &start in forwards.keys() {
        // Each extension forwards to at most one other, so following the chain from `start`
        // either ends or comes back to a number already on the path.
        let mut path = vec![start];
        let mut current = start;
        while let Some(&next) = forwards.get(current) {
            if let Some(pos) = path.iter().position(|n| *n == next) {
                in_loop.extend(&path[pos..]);
                break;
            }
            path.push(next);
            current = next;
        }
    }
    for number in in_loop {
        let circle = describe_loop(number, &forwards);
        issues.push(Issue::new(
            ext_subject(number),
            "no_answer_target",
            IssueCode::ForwardLoop,
            format!("Unanswered calls would go round in a circle ({circle}); end the chain with voicemail, an outside number or hang up."),
        ));
    }
}

fn describe_loop(
    start: &ExtensionNumber,
    forwards: &BTreeMap<&ExtensionNumber, &ExtensionNumber>,
) -> String {
    let mut names = vec![start.to_string()];
    let mut current = start;
    while let Some(&next) = forwards.get(current) {
        names.push(next.to_string());
        if next == start || names.len() > forwards.len() + 1 {
            break;
        }
        current = next;
    }
    names.join(" → ")
}

fn check_caller_ids(config: &OrgConfig, context: &ValidationContext, issues: &mut Vec<Issue>) {
    for ext in &config.extensions {
        if let Some(caller_id) = &ext.outbound_caller_id {
            if !context.owned_dids.contains(caller_id) {
                issues.push(Issue::new(
                    ext_subject(&ext.number),
                    "outbound_caller_id",
                    IssueCode::CallerIdNotOwned,
                    format!("{caller_id} is not one of this PBX's numbers; choose one of yours."),
                ));
            }
        }
    }
    if let Some(caller_id) = &config.options.default_caller_id {
        if !context.owned_dids.contains(caller_id) {
            issues.push(Issue::new(
                Subject::Options,
                "default_caller_id",
                IssueCode::CallerIdNotOwned,
                format!("{caller_id} is not one of this PBX's numbers; choose one of yours."),
            ));
        }
    }
}

fn check_did_routes(config: &OrgConfig, context: &ValidationContext, issues: &mut Vec<Issue>) {
    let numbers: HashSet<&ExtensionNumber> = config.extensions.iter().map(|e| &e.number).collect();
    for route in &config.did_routes {
        let subject = Subject::DidRoute(route.did.clone());
        if !context.owned_dids.contains(&route.did) {
            issues.push(Issue::new(
                subject.clone(),
                "did",
                IssueCode::DidNotOwned,
                format!(
                    "{} is no longer one of this PBX's numbers; remove its routing.",
                    route.did
                ),
            ));
        }
        if let Some(target) = &route.extension {
            if !numbers.contains(target) {
                issues.push(Issue::new(
                    subject,
                    "extension",
                    IssueCode::RouteTargetMissing,
                    format!(
                        "Calls to {} ring extension {target}, which does not exist.",
                        route.did
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{CallFlow, DidRoute, Extension, OrgOptions};
    use crate::values::*;

    fn ext(number: &str, no_answer: NoAnswer) -> Extension {
        let number = ExtensionNumber::parse(number).unwrap();
        let domain = SipDomain::parse("pbx.acme.test").unwrap();
        Extension {
            a1_hash: A1Hash::compute(&number, &domain, "pw"),
            number,
            display_name: DisplayName::parse("Someone").unwrap(),
            voicemail_enabled: true,
            voicemail_pin: VoicemailPin::parse("1234").unwrap(),
            voicemail_email: None,
            call_flow: CallFlow {
                ring_seconds: RingSeconds::parse(20).unwrap(),
                no_answer,
            },
            do_not_disturb: false,
            outbound_caller_id: None,
        }
    }

    fn fwd(target: &str) -> NoAnswer {
        NoAnswer::ForwardExtension(ExtensionNumber::parse(target).unwrap())
    }

    fn context() -> ValidationContext {
        ValidationContext {
            owned_dids: [E164::parse("+15550100100").unwrap()].into(),
            emergency_numbers: ["112".to_owned(), "911".to_owned()].into(),
            max_extensions: 10,
        }
    }

    fn config(extensions: Vec<Extension>) -> OrgConfig {
        OrgConfig {
            extensions,
            did_routes: vec![],
            options: OrgOptions::default(),
        }
    }

    fn codes(issues: &[Issue]) -> Vec<(String, IssueCode)> {
        issues
            .iter()
            .map(|i| {
                let subject = match &i.subject {
                    Subject::Extension(n) => n.to_string(),
                    Subject::DidRoute(d) => d.to_string(),
                    Subject::Options => "options".to_owned(),
                };
                (subject, i.code)
            })
            .collect()
    }

    #[test]
    fn a_sound_configuration_has_no_issues() {
        let cfg = config(vec![
            ext("101", NoAnswer::Voicemail),
            ext("102", fwd("101")),
        ]);
        assert_eq!(validate(&cfg, &context()), vec![]);
    }

    #[test]
    fn duplicates_and_emergency_numbers() {
        let cfg = config(vec![
            ext("101", NoAnswer::Hangup),
            ext("101", NoAnswer::Hangup),
            ext("112", NoAnswer::Hangup),
        ]);
        assert_eq!(
            codes(&validate(&cfg, &context())),
            vec![
                ("101".into(), IssueCode::DuplicateExtension),
                ("112".into(), IssueCode::EmergencyNumberClash)
            ]
        );
    }

    #[test]
    fn forward_targets() {
        let cfg = config(vec![
            ext("101", fwd("199")),
            ext("102", fwd("102")),
            ext(
                "103",
                NoAnswer::ForwardExternal(ExternalNumber::parse("911").unwrap()),
            ),
        ]);
        assert_eq!(
            codes(&validate(&cfg, &context())),
            vec![
                ("101".into(), IssueCode::ForwardTargetMissing),
                ("102".into(), IssueCode::ForwardToSelf),
                ("103".into(), IssueCode::ForwardToEmergency),
            ]
        );
    }

    #[test]
    fn forward_loops_are_found_and_tails_are_not_blamed() {
        // 104 -> 101 -> 102 -> 103 -> 101: the circle is 101, 102, 103; 104 only leads into it.
        let cfg = config(vec![
            ext("101", fwd("102")),
            ext("102", fwd("103")),
            ext("103", fwd("101")),
            ext("104", fwd("101")),
        ]);
        let issues = validate(&cfg, &context());
        assert_eq!(
            codes(&issues),
            vec![
                ("101".into(), IssueCode::ForwardLoop),
                ("102".into(), IssueCode::ForwardLoop),
                ("103".into(), IssueCode::ForwardLoop),
            ]
        );
        assert!(
            issues[0].message.contains("101 → 102 → 103 → 101"),
            "{}",
            issues[0].message
        );
    }

    #[test]
    fn voicemail_action_needs_voicemail() {
        let mut e = ext("101", NoAnswer::Voicemail);
        e.voicemail_enabled = false;
        let issues = validate(&config(vec![e]), &context());
        assert_eq!(
            codes(&issues),
            vec![("101".into(), IssueCode::VoicemailDisabled)]
        );
        assert_eq!(issues[0].field, "no_answer_action");
    }

    #[test]
    fn caller_ids_must_be_owned() {
        let mut e = ext("101", NoAnswer::Hangup);
        e.outbound_caller_id = Some(E164::parse("+15550199999").unwrap());
        let mut cfg = config(vec![e]);
        cfg.options.default_caller_id = Some(E164::parse("+15550188888").unwrap());
        assert_eq!(
            codes(&validate(&cfg, &context())),
            vec![
                ("101".into(), IssueCode::CallerIdNotOwned),
                ("options".into(), IssueCode::CallerIdNotOwned)
            ]
        );
    }

    #[test]
    fn did_routes_must_point_at_owned_dids_and_real_extensions() {
        let mut cfg = config(vec![ext("101", NoAnswer::Hangup)]);
        cfg.did_routes = vec![
            DidRoute {
                did: E164::parse("+15550100100").unwrap(),
                extension: Some(ExtensionNumber::parse("105").unwrap()),
            },
            DidRoute {
                did: E164::parse("+15550177777").unwrap(),
                extension: None,
            },
        ];
        assert_eq!(
            codes(&validate(&cfg, &context())),
            vec![
                ("+15550100100".into(), IssueCode::RouteTargetMissing),
                ("+15550177777".into(), IssueCode::DidNotOwned)
            ]
        );
    }

    #[test]
    fn too_many_extensions() {
        let exts = (10..21)
            .map(|n| ext(&n.to_string(), NoAnswer::Hangup))
            .collect();
        assert_eq!(
            codes(&validate(&config(exts), &context())),
            vec![("options".into(), IssueCode::TooManyExtensions)]
        );
    }

    /// A draft using an owned DID, an emergency number and one extension over the limit.
    fn draft_near_the_limits() -> OrgConfig {
        let mut forwarder = ext("101", NoAnswer::Hangup);
        forwarder.outbound_caller_id = Some(E164::parse("+15550100100").unwrap());
        config(vec![
            forwarder,
            ext("112", NoAnswer::Hangup),
            ext("102", NoAnswer::Hangup),
        ])
    }

    #[test]
    fn validate_draft_judges_with_the_providers_decisions() {
        let dids = [E164::parse("+15550100100").unwrap()];
        let emergency = vec!["112".to_owned()];
        assert_eq!(
            codes(&validate_draft(
                &draft_near_the_limits(),
                dids,
                &emergency,
                2
            )),
            vec![
                ("112".into(), IssueCode::EmergencyNumberClash),
                ("options".into(), IssueCode::TooManyExtensions)
            ]
        );
    }

    #[test]
    fn validate_draft_without_dids_refuses_their_caller_ids_and_zero_means_no_limit() {
        let emergency: BTreeSet<String> = BTreeSet::new();
        assert_eq!(
            codes(&validate_draft(&draft_near_the_limits(), [], &emergency, 0)),
            vec![("101".into(), IssueCode::CallerIdNotOwned)]
        );
    }

    #[test]
    fn validate_draft_is_validate_with_the_same_context() {
        let ctx = context();
        let draft = draft_near_the_limits();
        assert_eq!(
            validate_draft(&draft, ctx.owned_dids.clone(), &ctx.emergency_numbers, 10),
            validate(&draft, &ctx)
        );
    }
}
