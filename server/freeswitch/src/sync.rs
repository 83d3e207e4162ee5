//! What FreeSWITCH must be told after a change, as event-socket API commands, for one org only.
//!
//! Every command is idempotent (flush a cache entry, drop registrations, restart one gateway,
//! reload one stream), so running one twice after a crash does no harm. None of them touches a
//! call of another org, and no profile is ever restarted or stopped (that would hang up every
//! call on it): a changed gateway is killed and the profile rescanned, because `startgw` only
//! reads sofia.conf, never the directory, and `rescan` adds new gateways without touching
//! calls.

use std::collections::BTreeMap;
use std::fmt;

pub use domain::ApplyFacts;
use domain::{ChangeKind, ExtensionNumber, OrgOptions, OrgSlug, OrgStatus, SipDomain, Subject};

use crate::directory::gateway_params;
use crate::names;
use crate::settings::Settings;
use crate::view::{org_has_music, OrgView, TrunkInput, Trunks};

/// One event-socket API command. `Display` gives the exact text to send after `api `.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Command {
    /// `xml_flush_cache id USER DOMAIN`: forget one cached user (all three arguments, or
    /// FreeSWITCH flushes the whole cache).
    FlushUser { user: String, domain: String },
    /// `sofia profile P flush_inbound_reg USER@DOMAIN`: drop the user's registrations.
    FlushRegistrations {
        profile: String,
        user: String,
        domain: String,
    },
    /// `local_stream start NAME`
    StreamStart(String),
    /// `local_stream reload NAME`
    StreamReload(String),
    /// `local_stream stop NAME`
    StreamStop(String),
    /// `sofia profile P killgw NAME`
    KillGateway { profile: String, name: String },
    /// `sofia profile P rescan`: adds gateways that are not running, touches no call.
    Rescan { profile: String },
    /// `reloadacl`: re-reads acl.conf, and with it the carrier ACL from the directory.
    ReloadAcl,
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::FlushUser { user, domain } => write!(f, "xml_flush_cache id {user} {domain}"),
            Command::FlushRegistrations {
                profile,
                user,
                domain,
            } => {
                write!(
                    f,
                    "sofia profile {profile} flush_inbound_reg {user}@{domain}"
                )
            }
            Command::StreamStart(name) => write!(f, "local_stream start {name}"),
            Command::StreamReload(name) => write!(f, "local_stream reload {name}"),
            Command::StreamStop(name) => write!(f, "local_stream stop {name}"),
            Command::KillGateway { profile, name } => {
                write!(f, "sofia profile {profile} killgw {name}")
            }
            Command::Rescan { profile } => write!(f, "sofia profile {profile} rescan"),
            Command::ReloadAcl => f.write_str("reloadacl"),
        }
    }
}

/// An event fired inside FreeSWITCH over the event socket (`sendevent NAME` + headers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsEvent {
    pub name: &'static str,
    pub headers: Vec<(&'static str, String)>,
}

/// Asks the phones registered as `number` of `domain` to fetch their provisioning file again:
/// a `NOTIFY` event that mod_sofia sends as a SIP NOTIFY `check-sync` to the registrations
/// `where sip_user = USER and sip_host = HOST` only. Not `sofia profile P check_sync USER@HOST`:
/// that also matches any registration whose Call-ID is the text `USER@HOST`, which a phone of
/// another org may choose.
pub fn check_sync(number: &ExtensionNumber, domain: &SipDomain, settings: &Settings) -> FsEvent {
    FsEvent {
        name: "NOTIFY",
        headers: vec![
            ("profile", settings.internal_profile.clone()),
            ("event-string", "check-sync".to_owned()),
            (
                "content-type",
                "application/simple-message-summary".to_owned(),
            ),
            ("user", number.to_string()),
            ("host", domain.to_string()),
        ],
    }
}

/// Turns commands into the strings the store queues.
pub fn to_strings(commands: &[Command]) -> Vec<String> {
    commands.iter().map(ToString::to_string).collect()
}

/// Commands after an Apply: flush changed and removed users (and every user when org options
/// that feed their directory variables changed), drop the registrations of removed users and
/// of users whose password changed (a phone with the old password must not stay reachable),
/// and start, reload or stop the org's music streams.
pub fn apply_commands(facts: &ApplyFacts<'_>, settings: &Settings) -> Vec<Command> {
    let mut out = Vec::new();
    let domain = facts.domain.as_str().to_owned();
    let flush = |out: &mut Vec<Command>, user: &ExtensionNumber| {
        out.push(Command::FlushUser {
            user: user.as_str().to_owned(),
            domain: domain.clone(),
        });
    };
    let unregister = |out: &mut Vec<Command>, user: &ExtensionNumber| {
        out.push(Command::FlushRegistrations {
            profile: settings.internal_profile.clone(),
            user: user.as_str().to_owned(),
            domain: domain.clone(),
        });
    };
    let mut options_changed = false;
    for change in facts.changes {
        match (&change.subject, change.kind) {
            (Subject::Extension(n), ChangeKind::Removed) => {
                flush(&mut out, n);
                unregister(&mut out, n);
            }
            (Subject::Extension(n), ChangeKind::Modified) => {
                flush(&mut out, n);
                if change.fields.iter().any(|f| f == "sip_password") {
                    unregister(&mut out, n);
                }
            }
            (Subject::Options, _) => options_changed = true,
            _ => {}
        }
    }
    if options_changed {
        for ext in &facts.next.extensions {
            flush(&mut out, &ext.number);
        }
    }
    out.extend(music_commands(
        facts.slug,
        &facts.previous.options,
        &facts.next.options,
    ));
    dedup(out)
}

/// Start, reload or stop the org's two music streams when its music changed.
pub fn music_commands(slug: &OrgSlug, previous: &OrgOptions, next: &OrgOptions) -> Vec<Command> {
    let streams = || {
        names::MOH_RATES
            .iter()
            .map(|&rate| names::moh_stream_at(slug, rate))
    };
    match (org_has_music(previous), org_has_music(next)) {
        (false, true) => streams().map(Command::StreamStart).collect(),
        (true, false) => streams().map(Command::StreamStop).collect(),
        (true, true) if previous.moh_file != next.moh_file => {
            streams().map(Command::StreamReload).collect()
        }
        _ => Vec::new(),
    }
}

/// Commands after the provider changed the org's trunks: kill every gateway whose published
/// parameters changed or that disappeared, then rescan the external profile (which starts the
/// new ones); reload the ACL when the carrier addresses changed.
pub fn trunk_commands(
    slug: &OrgSlug,
    before: &[TrunkInput],
    after: &[TrunkInput],
    settings: &Settings,
) -> Vec<Command> {
    let old = published(slug, before, settings);
    let new = published(slug, after, settings);
    let profile = settings.external_profile.clone();
    let mut out: Vec<Command> = old
        .gateways
        .iter()
        .filter(|(name, params)| new.gateways.get(*name) != Some(params))
        .map(|(name, _)| Command::KillGateway {
            profile: profile.clone(),
            name: name.clone(),
        })
        .collect();
    if old.gateways != new.gateways {
        out.push(Command::Rescan { profile });
    }
    if old.blocks != new.blocks {
        out.push(Command::ReloadAcl);
    }
    out
}

/// Commands after the provider suspended or reactivated the org: its gateways, carrier
/// addresses, registrations and streams go away or come back.
pub fn status_commands(view: &OrgView, previous: OrgStatus, settings: &Settings) -> Vec<Command> {
    match (previous, view.status()) {
        (OrgStatus::Active, OrgStatus::Suspended) => teardown(view, settings),
        (OrgStatus::Suspended, OrgStatus::Active) => {
            let mut out = vec![
                Command::Rescan {
                    profile: settings.external_profile.clone(),
                },
                Command::ReloadAcl,
            ];
            if view.moh_dir.is_some() {
                let slug = view.slug();
                out.extend(
                    names::MOH_RATES
                        .iter()
                        .map(|&r| Command::StreamStart(names::moh_stream_at(slug, r))),
                );
            }
            out
        }
        _ => Vec::new(),
    }
}

/// Commands after the org was deleted (pass its last view).
pub fn removal_commands(view: &OrgView, settings: &Settings) -> Vec<Command> {
    teardown(view, settings)
}

fn teardown(view: &OrgView, settings: &Settings) -> Vec<Command> {
    let domain = view.domain().as_str();
    let mut out: Vec<Command> = view
        .gateways()
        .map(|gw| Command::KillGateway {
            profile: settings.external_profile.clone(),
            name: gw.name.clone(),
        })
        .collect();
    for number in view.extension_numbers() {
        out.push(Command::FlushUser {
            user: number.to_owned(),
            domain: domain.to_owned(),
        });
        out.push(Command::FlushRegistrations {
            profile: settings.internal_profile.clone(),
            user: number.to_owned(),
            domain: domain.to_owned(),
        });
    }
    if view.moh_dir.is_some() {
        let slug = view.slug();
        out.extend(
            names::MOH_RATES
                .iter()
                .map(|&r| Command::StreamStop(names::moh_stream_at(slug, r))),
        );
    }
    if !view.blocks.is_empty() {
        out.push(Command::ReloadAcl);
    }
    out
}

/// What the directory publishes for a set of trunks: gateway name → parameters, and the
/// carrier address blocks.
#[derive(PartialEq, Eq)]
struct Published {
    gateways: BTreeMap<String, Vec<(&'static str, String)>>,
    blocks: Vec<String>,
}

fn published(slug: &OrgSlug, trunks: &[TrunkInput], settings: &Settings) -> Published {
    let mut problems = Vec::new();
    let t = Trunks::collect(slug, trunks, &mut problems);
    Published {
        gateways: t
            .inbound
            .iter()
            .chain(t.outbound.iter())
            .map(|gw| (gw.name.clone(), gateway_params(gw, settings)))
            .collect(),
        blocks: t
            .blocks
            .iter()
            .map(|b| format!("{} {}", b.user_id, b.cidr.as_str()))
            .collect(),
    }
}

fn dedup(commands: Vec<Command>) -> Vec<Command> {
    let mut seen = std::collections::HashSet::new();
    commands
        .into_iter()
        .filter(|c| seen.insert(c.clone()))
        .collect()
}
