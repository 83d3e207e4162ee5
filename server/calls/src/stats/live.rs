//! The live view of an org: its registered phones and its calls in progress, asked from
//! FreeSWITCH.
//!
//! When FreeSWITCH keeps its database on MariaDB and LittlePBX has its read-only
//! URL (`freeswitch.db_url`), registrations are read from sofia's `sip_registrations` table,
//! selecting the org's domain and the internal profile ([`store::freeswitch_db`]). Otherwise
//! they come from `sofia xmlstatus profile <internal> user @<domain>`:
//! FreeSWITCH selects the org's domain exactly (`sip_host = '<domain>'`). Either way we drop any
//! row of another domain again, so a FreeSWITCH that ignored the filter still shows no other org's
//! phones. (`show registrations as json` was not used: the core registrations table it reads
//! has no user agent, and it lists every org's phones on every request.) FreeSWITCH does not
//! keep when a registration began; [`RegistrationTracker`] remembers when this instance first
//! saw each one (a phone renews under the same Call-ID). Calls in progress are the org's
//! `limit_usage hash lpbx_calls <slug>` counter, which every call of the org passes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use api_types::stats::{LiveExtension, LiveSource, LiveState, LiveView, RegisteredPhone};
use freeswitch::status::{self, Registration};
use store::freeswitch_db::SofiaRegistration;
use store::orgs::Org;
use store::Layer;

use engine::fs_socket::FsError;
use engine::Engine;
use engine::Result as EngineResult;

/// When this instance first saw each registration (FreeSWITCH does not say when one began).
#[derive(Default)]
pub struct RegistrationTracker {
    seen: Mutex<HashMap<(String, String, String), i64>>,
}

impl RegistrationTracker {
    /// The first-seen time of each of `regs` (all of `domain`), forgetting the domain's
    /// registrations that are gone.
    pub fn since(&self, domain: &str, regs: &[Registration], now_ms: i64) -> Vec<i64> {
        let key = |r: &Registration| {
            let id = if r.call_id.is_empty() {
                &r.contact
            } else {
                &r.call_id
            };
            (domain.to_owned(), r.user.clone(), id.clone())
        };
        let Ok(mut seen) = self.seen.lock() else {
            return vec![now_ms; regs.len()];
        };
        let current: HashSet<_> = regs.iter().map(key).collect();
        seen.retain(|k, _| k.0 != domain || current.contains(k));
        regs.iter()
            .map(|r| *seen.entry(key(r)).or_insert(now_ms))
            .collect()
    }
}

fn fs_message(err: &FsError) -> (LiveState, String) {
    match err {
        FsError::NotConfigured => (
            LiveState::NotConfigured,
            "Live data is not available: LittlePBX is not connected to FreeSWITCH (no event-socket password configured).".into(),
        ),
        FsError::Unreachable(_) => (
            LiveState::Unreachable,
            "Live data is not available right now: FreeSWITCH cannot be reached.".into(),
        ),
        FsError::Refused(_) => (
            LiveState::Partial,
            "FreeSWITCH did not give all live data.".into(),
        ),
    }
}

/// Why the registrations could not be listed: the live view's state and a sentence for people.
pub type RegistrationsProblem = (LiveState, String);

/// The org's registered phones: read from FreeSWITCH's own database when LittlePBX may read it
/// (`freeswitch.db_url`), otherwise asked over the event socket. Either way only rows of the
/// org's own SIP domain are kept.
pub async fn org_registrations(
    state: &Engine,
    org: &Org,
) -> Result<Vec<Registration>, RegistrationsProblem> {
    let domain = org.sip_domain.as_str();
    let profile = state.fs_settings().internal_profile.as_str();
    let all = match state.freeswitch_db() {
        Some(db) => match db.registrations(profile, domain).await {
            Ok(rows) => {
                let now_s = store::now_ms() / 1000;
                rows.into_iter()
                    .map(|row| from_database(row, now_s))
                    .collect()
            }
            Err(err) => {
                tracing::warn!(org = %org.slug, error = %err, "reading FreeSWITCH's registrations table");
                return Err(database_problem(&err));
            }
        },
        None => registrations_over_esl(state, org, profile).await?,
    };
    let before = all.len();
    let own: Vec<Registration> = all
        .into_iter()
        .filter(|r| r.host.eq_ignore_ascii_case(domain))
        .collect();
    if own.len() != before {
        tracing::warn!(
            org = %org.slug,
            dropped = before - own.len(),
            "FreeSWITCH listed registrations of other domains; not shown"
        );
    }
    Ok(own)
}

async fn registrations_over_esl(
    state: &Engine,
    org: &Org,
    profile: &str,
) -> Result<Vec<Registration>, RegistrationsProblem> {
    let command = status::registrations_command(profile, &org.sip_domain);
    match state.freeswitch().api_raw(&command).await {
        Ok(text) => status::parse_registrations(&text).ok_or_else(|| {
            tracing::warn!(org = %org.slug, answer = %text.trim(), "unexpected registration listing");
            (
                LiveState::Partial,
                "FreeSWITCH did not list the registered phones.".to_owned(),
            )
        }),
        Err(err) => {
            tracing::debug!(error = %err, "live registrations");
            Err(fs_message(&err))
        }
    }
}

/// A row of sofia's `sip_registrations`, as the live view shows it.
pub fn from_database(row: SofiaRegistration, now_s: i64) -> Registration {
    let (transport, _) = status::registration_status(&row.status);
    Registration {
        user: row.sip_user,
        host: row.sip_host,
        call_id: row.call_id,
        contact: row.contact,
        agent: row.user_agent,
        expires_in_s: (row.expires_at_s > 0).then(|| (row.expires_at_s - now_s).max(0)),
        network_ip: row.network_ip,
        network_port: row.network_port,
        transport,
    }
}

fn database_problem(err: &store::StoreError) -> RegistrationsProblem {
    if err.is_unavailable() {
        (
            LiveState::Unreachable,
            "Registered phones are not available right now: FreeSWITCH's database cannot be reached. Calls in progress are not affected.".to_owned(),
        )
    } else {
        (
            LiveState::Partial,
            "FreeSWITCH's database did not list the registered phones.".to_owned(),
        )
    }
}

/// Right now: the org's registered phones per extension and its calls in progress.
pub async fn live(
    state: &Engine,
    org: &Org,
    tracker: &RegistrationTracker,
) -> EngineResult<LiveView> {
    let applied = state.store().load_layer(org.id, Layer::Applied).await?;
    let domain = org.sip_domain.as_str();
    let (regs_answer, calls) = tokio::join!(
        org_registrations(state, org),
        state.freeswitch().calls_in_progress(org.slug.as_str())
    );
    let now = store::now_ms();
    let mut problems: Vec<(LiveState, String)> = Vec::new();
    let regs_ok = regs_answer.is_ok();
    let regs = regs_answer.unwrap_or_else(|problem| {
        problems.push(problem);
        Vec::new()
    });
    let calls_in_progress = match calls {
        Ok(n) => Some(n),
        Err(err) => {
            tracing::debug!(error = %err, "live calls");
            problems.push(fs_message(&err));
            None
        }
    };
    let since = tracker.since(domain, &regs, now);

    let mut extensions: BTreeMap<String, LiveExtension> = applied
        .extensions
        .iter()
        .map(|e| {
            (
                e.number.as_str().to_owned(),
                LiveExtension {
                    number: e.number.as_str().to_owned(),
                    display_name: Some(e.display_name.as_str().to_owned()),
                    phones: Vec::new(),
                },
            )
        })
        .collect();
    for (reg, since_ms) in regs.iter().zip(since) {
        let entry = extensions
            .entry(reg.user.clone())
            .or_insert_with(|| LiveExtension {
                number: reg.user.clone(),
                display_name: None,
                phones: Vec::new(),
            });
        entry.phones.push(RegisteredPhone {
            user_agent: reg.agent.clone(),
            since_ms,
            expires_in_s: reg.expires_in_s,
            address: if reg.network_port.is_empty() {
                reg.network_ip.clone()
            } else {
                format!("{}:{}", reg.network_ip, reg.network_port)
            },
            transport: reg.transport.clone(),
        });
    }
    let mut extensions: Vec<LiveExtension> = extensions.into_values().collect();
    // Numeric order for numbers (101 before 1000), any other user name after them.
    extensions.sort_by_key(|e| {
        (
            e.number.parse::<u64>().unwrap_or(u64::MAX),
            e.number.clone(),
        )
    });
    for e in &mut extensions {
        e.phones.sort_by_key(|p| p.since_ms);
    }
    let state = match (regs_ok, calls_in_progress.is_some()) {
        (true, true) => LiveState::Ok,
        (false, false) => problems.first().map_or(LiveState::Partial, |p| p.0),
        _ => LiveState::Partial,
    };
    let source = LiveSource {
        state,
        message: problems.first().map(|p| p.1.clone()),
    };
    Ok(LiveView {
        source,
        checked_at_ms: now,
        calls_in_progress,
        registered_phones: u32::try_from(regs.len()).unwrap_or(u32::MAX),
        extensions,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn rows_of_freeswitchs_table_read_like_the_event_socket_listing() {
        let row = SofiaRegistration {
            sip_user: "101".into(),
            sip_host: "pbx.acme.localhost".into(),
            call_id: "abc@1.2.3.4".into(),
            contact: "<sip:101@10.0.0.5:5060>".into(),
            user_agent: "Yealink SIP-T46S".into(),
            status: "Registered(TLS-NAT)".into(),
            expires_at_s: 1_000_100,
            network_ip: "10.0.0.5".into(),
            network_port: "5060".into(),
        };
        let reg = from_database(row.clone(), 1_000_000);
        assert_eq!(reg.user, "101");
        assert_eq!(reg.host, "pbx.acme.localhost");
        assert_eq!(reg.agent, "Yealink SIP-T46S");
        assert_eq!(reg.transport, "tls");
        assert_eq!(reg.expires_in_s, Some(100));
        assert_eq!(
            (reg.network_ip.as_str(), reg.network_port.as_str()),
            ("10.0.0.5", "5060")
        );
        // Past its time (sofia has not swept it yet): 0 s left, not negative.
        assert_eq!(from_database(row.clone(), 2_000_000).expires_in_s, Some(0));
        // No expiry stored, no transport known.
        let bare = SofiaRegistration {
            expires_at_s: 0,
            status: "Unregistered".into(),
            ..row
        };
        let reg = from_database(bare, 1_000_000);
        assert_eq!((reg.expires_in_s, reg.transport.as_str()), (None, ""));
    }

    #[test]
    fn first_seen_survives_renewals_and_forgets_what_is_gone() {
        let tracker = RegistrationTracker::default();
        let reg = |user: &str, id: &str| Registration {
            user: user.into(),
            call_id: id.into(),
            ..Registration::default()
        };
        let a = reg("101", "x");
        let b = reg("102", "y");
        assert_eq!(tracker.since("d", std::slice::from_ref(&a), 1), vec![1]);
        assert_eq!(tracker.since("d", &[a.clone(), b.clone()], 2), vec![1, 2]);
        // Another domain's list does not touch this one's.
        assert_eq!(tracker.since("e", &[reg("101", "z")], 3), vec![3]);
        assert_eq!(tracker.since("d", std::slice::from_ref(&b), 4), vec![2]);
        assert_eq!(tracker.since("d", &[a, b], 5), vec![5, 2]);
    }
}
