//! The scenarios, each named for what it proves.

use std::future::Future;
use std::net::Ipv4Addr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use reqwest::Method;
use serde_json::json;

use crate::desk_phones::*;
use crate::fs_database::*;
use crate::history::*;
use crate::holes::*;
use crate::sipp::{self, Account, Answer, Call, Outcome, Running};
use crate::world::{Backend, Env, Org};

pub(crate) type Scenario = fn(Arc<Env>) -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;

macro_rules! scenario {
    ($name:ident) => {
        (stringify!($name), (|env| Box::pin($name(env))) as Scenario)
    };
}

/// Every scenario with its backend, in the order they run.
pub fn all() -> Vec<(String, Backend, Scenario)> {
    let sqlite = [
        scenario!(registration_of_the_same_number_in_two_orgs),
        scenario!(wrong_password_and_foreign_domain_are_refused),
        scenario!(littlepbx_says_whether_freeswitchs_scratch_directories_are_on_tmpfs),
        scenario!(a_call_inside_each_org_reaches_that_orgs_phone),
        scenario!(no_answer_goes_to_the_orgs_voicemail),
        scenario!(do_not_disturb_goes_straight_to_voicemail),
        scenario!(a_did_from_the_carrier_reaches_the_right_org_only),
        scenario!(outbound_calls_leave_through_the_orgs_own_gateway_only),
        scenario!(apply_without_waiting_leaves_calls_of_both_orgs_up),
        scenario!(apply_with_waiting_holds_until_the_orgs_own_call_ends_and_stop_cancels),
        scenario!(a_trunk_change_takes_effect_at_once_for_that_org_only),
        scenario!(music_on_hold_upload_and_apply_plays_the_orgs_stream),
        scenario!(call_records_of_each_kind_arrive_once_in_the_right_org),
        scenario!(suspending_an_org_drops_its_registrations_and_gateway_only),
        scenario!(a_phone_cannot_reach_another_orgs_number_by_naming_its_gateway),
        scenario!(a_phone_cannot_take_over_another_orgs_call_with_replaces),
        scenario!(a_phones_own_sip_headers_never_reach_the_carrier),
        scenario!(a_phone_cannot_watch_another_orgs_phones),
        scenario!(refer_outside_the_org_is_refused_and_nothing_leaves_for_its_target),
        scenario!(a_transfer_naming_no_call_dials_nothing_while_littlepbx_is_down),
        scenario!(a_blind_transfer_reaches_the_orgs_extension_or_leaves_through_its_gateway),
        scenario!(attended_transfer_joins_the_phones_own_calls_and_nothing_else),
        scenario!(what_a_refused_refer_leaves_on_a_leg_never_reaches_the_carrier),
        scenario!(a_restored_version_is_what_freeswitch_answers_after_apply),
        scenario!(a_desk_phone_registers_with_the_account_of_its_file),
        // Last: it leaves acme's 102 locked out at 127.0.0.1 for 15 minutes.
        scenario!(guessing_a_password_locks_out_that_user_there_not_the_office),
    ];
    let mariadb = [
        scenario!(apply_without_waiting_leaves_calls_of_both_orgs_up),
        scenario!(apply_with_waiting_holds_until_the_orgs_own_call_ends_and_stop_cancels),
        scenario!(a_trunk_change_takes_effect_at_once_for_that_org_only),
        scenario!(a_trunk_change_made_through_another_instance_waits_for_freeswitchs_instance),
        scenario!(registrations_go_on_when_the_database_is_killed_and_restarted),
        // Last: it kills and restarts both instances.
        scenario!(registrations_go_on_when_either_instance_is_killed),
    ];
    let fs_on_mariadb = [
        scenario!(registrations_land_in_mariadb_and_each_org_sees_only_its_own),
        scenario!(registrations_survive_a_freeswitch_restart_and_go_with_flush_or_unregister),
        scenario!(calls_stay_up_while_mariadb_does_not_answer_and_littlepbx_says_so),
    ];
    let named = |prefix: &str, backend, list: &[(&str, Scenario)]| {
        list.iter()
            .map(|(name, f)| (format!("{prefix}::{name}"), backend, *f))
            .collect::<Vec<_>>()
    };
    let mut all = named("sqlite", Backend::Sqlite, &sqlite);
    all.extend(named("mariadb", Backend::MariaDb, &mariadb));
    all.extend(named("fs_on_mariadb", Backend::FsOnMariaDb, &fs_on_mariadb));
    all
}

// ---------------------------------------------------------------------------------------------
// Phones: fixed local ports per org and extension
// ---------------------------------------------------------------------------------------------

/// The local SIP port of a registered phone.
pub(crate) fn phone_port(env: &Env, org: &Org, number: &str) -> u16 {
    let org_index = if org.slug == "acme" { 0 } else { 10 };
    let ext_index: u16 = number.parse::<u16>().unwrap_or(100) - 100;
    env.ports.agent(org_index + ext_index)
}

/// A port for a caller that does not register (20..40, one per use in a scenario).
pub(crate) fn caller_port(env: &Env, n: u16) -> u16 {
    env.ports.agent(20 + n)
}

/// Registers the phone and starts its user agent; the registration answer must be 200.
pub(crate) fn phone(env: &Env, org: &Org, number: &str, answer: Answer) -> anyhow::Result<Running> {
    let port = phone_port(env, org, number);
    let registered = sipp::register(&org.account(number), env.target(), port, 600)?;
    ensure!(
        registered.final_code == Some(200),
        "REGISTER of {number}@{} answered {:?}",
        org.domain,
        registered.final_code
    );
    sipp::uas(Ipv4Addr::LOCALHOST, port, answer)
}

pub(crate) fn call_from(from: Account, to: &str, port: u16, hold_ms: u64) -> Call {
    Call {
        from,
        to_user: to.to_owned(),
        request_uri: None,
        to_header_user: None,
        extra_headers: Vec::new(),
        local_ip: Ipv4Addr::LOCALHOST,
        local_port: port,
        authenticate: true,
        hold_ms,
        timeout_s: 30,
        refer_to: None,
        refer_after_ms: sipp::REFER_DELAY_MS,
        call_id: None,
    }
}

/// A carrier's INVITE for `number` from `source` (no authentication: the ACL admits carriers).
pub(crate) fn carrier_call(
    env: &Env,
    source: Ipv4Addr,
    number: &str,
    port: u16,
    hold_ms: u64,
) -> Call {
    Call {
        from: Account {
            user: "+15557770000".into(),
            domain: source.to_string(),
            password: String::new(),
        },
        to_user: number.to_owned(),
        request_uri: Some(format!("sip:{number}@127.0.0.1:{}", env.ports.carrier())),
        to_header_user: None,
        extra_headers: Vec::new(),
        local_ip: source,
        local_port: port,
        authenticate: false,
        hold_ms,
        timeout_s: 30,
        refer_to: None,
        refer_after_ms: sipp::REFER_DELAY_MS,
        call_id: None,
    }
}

pub(crate) fn answered(outcome: &Outcome) -> bool {
    outcome.final_code == Some(200)
}

/// Waits until the org's calls (`limit_usage hash lpbx_calls <slug>`) are `n`.
pub(crate) fn wait_calls(env: &Env, slug: &str, n: u32) -> anyhow::Result<()> {
    wait_usage(env, "lpbx_calls", slug, n)
}

/// Waits until the org's outside calls (`limit_usage hash lpbx_out <slug>`) are `n`.
pub(crate) fn wait_outside_calls(env: &Env, slug: &str, n: u32) -> anyhow::Result<()> {
    wait_usage(env, "lpbx_out", slug, n)
}

fn wait_usage(env: &Env, realm: &str, slug: &str, n: u32) -> anyhow::Result<()> {
    env.fs
        .wait_for(
            &format!("limit_usage hash {realm} {slug}"),
            Duration::from_secs(15),
            |out| out.trim() == n.to_string(),
        )
        .map(|_| ())
}

fn registrations(env: &Env) -> anyhow::Result<String> {
    env.fs.api("sofia status profile internal reg")
}

// ---------------------------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------------------------

async fn registration_of_the_same_number_in_two_orgs(env: Arc<Env>) -> anyhow::Result<()> {
    for org in [&env.acme, &env.globex] {
        let port = phone_port(&env, org, "101");
        let outcome = sipp::register(&org.account("101"), env.target(), port, 600)?;
        ensure!(outcome.final_code == Some(200), "{}: {outcome:?}", org.slug);
    }
    let reg = registrations(&env)?;
    for (org, port) in [
        (&env.acme, phone_port(&env, &env.acme, "101")),
        (&env.globex, phone_port(&env, &env.globex, "101")),
    ] {
        ensure!(
            reg.contains(&format!("101@{}", org.domain)),
            "no registration of 101@{} in:\n{reg}",
            org.domain
        );
        ensure!(
            reg.contains(&format!(":{port}")),
            "no contact on port {port} in:\n{reg}"
        );
    }
    Ok(())
}

/// On connecting, LittlePBX asks FreeSWITCH for its `temp_dir` and `log_dir` and logs whether
/// each is on tmpfs (every lookup writes files there). What the file system really is comes from
/// `df`, not from LittlePBX's own check.
async fn littlepbx_says_whether_freeswitchs_scratch_directories_are_on_tmpfs(
    env: Arc<Env>,
) -> anyhow::Result<()> {
    let log = lock_pbx(&env)?[0].log.clone();
    for (variable, dir) in [("temp_dir", "tmp"), ("log_dir", "log")] {
        let dir = env.fs.state.join(dir);
        let df = crate::fixture::run(
            std::process::Command::new("df")
                .arg("--output=fstype")
                .arg(&dir),
        )?;
        let on_tmpfs = df.lines().nth(1).map(str::trim) == Some("tmpfs");
        let dir = dir.display().to_string();
        let deadline = Instant::now() + Duration::from_secs(10);
        let line = loop {
            let text = without_colours(&std::fs::read_to_string(&log)?);
            let found = text
                .lines()
                .find(|l| l.contains(&format!("variable=\"{variable}\"")) && l.contains(&dir))
                .map(str::to_owned);
            match found {
                Some(line) => break line,
                None if Instant::now() > deadline => {
                    anyhow::bail!("no line about FreeSWITCH's {variable} {dir} in LittlePBX's log")
                }
                None => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        if on_tmpfs {
            ensure!(
                line.contains("is on tmpfs") && !line.contains("WARN"),
                "{line}"
            );
        } else {
            ensure!(
                line.contains("WARN")
                    && line.contains("is not on tmpfs")
                    && line.contains("-temp and -log"),
                "{df}\n{line}"
            );
        }
    }
    Ok(())
}

/// The log's text without its terminal colour codes (`ESC [ ... m`).
pub(crate) fn without_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

async fn wrong_password_and_foreign_domain_are_refused(env: Arc<Env>) -> anyhow::Result<()> {
    let port = caller_port(&env, 0);
    let mut wrong = env.acme.account("102");
    wrong.password = "not-the-password".into();
    let foreign = Account {
        domain: env.globex.domain.clone(),
        ..env.acme.account("102")
    };
    // acme's 102 with globex's 102 password, in acme's domain.
    let crossed = Account {
        password: env.globex.account("102").password,
        ..env.acme.account("102")
    };
    for (what, account) in [
        ("wrong password", wrong),
        ("acme's credentials in globex's domain", foreign),
        ("globex's password for acme's 102", crossed),
    ] {
        let outcome = sipp::register(&account, env.target(), port, 600)?;
        ensure!(
            outcome.final_code == Some(403),
            "{what}: REGISTER answered {:?}, not 403",
            outcome.final_code
        );
    }
    let reg = registrations(&env)?;
    ensure!(
        !reg.contains(&format!(":{port}")),
        "a refused REGISTER left a registration:\n{reg}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Calls inside an org
// ---------------------------------------------------------------------------------------------

async fn a_call_inside_each_org_reaches_that_orgs_phone(env: Arc<Env>) -> anyhow::Result<()> {
    let acme_102 = phone(&env, &env.acme, "102", Answer::Answer)?;
    let globex_102 = phone(&env, &env.globex, "102", Answer::Answer)?;
    // Each 102 must get its own org's call only: counted once both calls are done.
    for (org, callee) in [(&env.acme, &acme_102), (&env.globex, &globex_102)] {
        let call = call_from(org.account("101"), "102", caller_port(&env, 1), 1000);
        let outcome = sipp::call(&call, env.target())?.wait()?;
        ensure!(answered(&outcome), "{} 101 -> 102: {outcome:?}", org.slug);
        ensure!(
            callee.has_received("INVITE"),
            "{}'s 102 did not get the INVITE",
            org.slug
        );
    }
    let acme_seen = acme_102.stop()?;
    let globex_seen = globex_102.stop()?;
    ensure!(
        acme_seen.count("INVITE") == 1 && globex_seen.count("INVITE") == 1,
        "each 102 must get exactly its own org's call: acme {} globex {}",
        acme_seen.count("INVITE"),
        globex_seen.count("INVITE")
    );
    Ok(())
}

/// Calls `number` of `org` from its 101 and checks the org's voicemail answered it (the log
/// names the voicemail application with the org's domain and the box).
fn expect_voicemail(env: &Env, org: &Org, number: &str) -> anyhow::Result<Outcome> {
    let mark = env.fs.log_mark();
    let call = call_from(org.account("101"), number, caller_port(env, 2), 1500);
    let outcome = sipp::call(&call, env.target())?.wait()?;
    ensure!(
        answered(&outcome),
        "voicemail did not answer {number}: {outcome:?}"
    );
    let log = env.fs.log_since(mark);
    let needle = format!("voicemail(default {} {number})", org.domain);
    ensure!(
        log.contains(&needle),
        "FreeSWITCH's log does not show {needle:?}:\n{}",
        tail(&log, 40)
    );
    Ok(outcome)
}

pub(crate) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

async fn no_answer_goes_to_the_orgs_voicemail(env: Arc<Env>) -> anyhow::Result<()> {
    let ringing = phone(&env, &env.acme, "102", Answer::RingOnly)?;
    let started = Instant::now();
    expect_voicemail(&env, &env.acme, "102")?;
    ensure!(
        started.elapsed() >= Duration::from_secs(4),
        "voicemail answered before the 5 s ring time"
    );
    let seen = ringing.stop()?;
    ensure!(
        seen.requests_received.iter().any(|m| m == "INVITE")
            && seen.requests_received.iter().any(|m| m == "CANCEL"),
        "102 should ring, then be cancelled: {:?}",
        seen.requests_received
    );
    Ok(())
}

async fn do_not_disturb_goes_straight_to_voicemail(env: Arc<Env>) -> anyhow::Result<()> {
    let acme = &env.acme;
    acme.admin
        .patch_extension("102", json!({"do_not_disturb": true}))
        .await?;
    acme.admin.apply_and_sync().await?;
    let phone_102 = phone(&env, acme, "102", Answer::Answer)?;
    let result = expect_voicemail(&env, acme, "102");
    let seen = phone_102.stop()?;
    acme.admin
        .patch_extension("102", json!({"do_not_disturb": false}))
        .await?;
    acme.admin.apply_and_sync().await?;
    result?;
    ensure!(
        !seen.requests_received.iter().any(|m| m == "INVITE"),
        "a phone on do-not-disturb rang"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Carriers
// ---------------------------------------------------------------------------------------------

async fn a_did_from_the_carrier_reaches_the_right_org_only(env: Arc<Env>) -> anyhow::Result<()> {
    let acme_101 = phone(&env, &env.acme, "101", Answer::Answer)?;
    let globex_101 = phone(&env, &env.globex, "101", Answer::Answer)?;
    let carrier = Ipv4Addr::new(127, 0, 0, 1);
    let inbound = carrier_call(&env, carrier, &env.acme.did, caller_port(&env, 3), 1000);
    let outcome = sipp::call(&inbound, env.carrier_target())?.wait()?;
    ensure!(
        answered(&outcome),
        "acme's DID from acme's carrier: {outcome:?}"
    );
    ensure!(acme_101.has_received("INVITE"), "acme's 101 did not ring");
    ensure!(!globex_101.has_received("INVITE"), "globex's 101 rang");

    let unknown = carrier_call(&env, carrier, "+15559999999", caller_port(&env, 4), 0);
    let outcome = sipp::call(&unknown, env.carrier_target())?.wait()?;
    ensure!(
        outcome.final_code == Some(404),
        "an unknown DID answered {:?}, not 404",
        outcome.final_code
    );

    // globex's carrier address sending acme's number, and an address no trunk has.
    for source in [Ipv4Addr::new(127, 0, 0, 2), Ipv4Addr::new(127, 0, 0, 3)] {
        let call = carrier_call(&env, source, &env.acme.did, caller_port(&env, 5), 0);
        let outcome = sipp::call(&call, env.carrier_target())?.wait()?;
        ensure!(
            outcome.final_code.is_some_and(|c| c >= 400),
            "acme's DID from {source}: {outcome:?}"
        );
    }
    let acme_seen = acme_101.stop()?;
    globex_101.stop()?;
    let invites = acme_seen.count("INVITE");
    ensure!(
        invites == 1,
        "acme's 101 rang {invites} times: only the call from acme's own carrier may reach it"
    );
    Ok(())
}

async fn outbound_calls_leave_through_the_orgs_own_gateway_only(
    env: Arc<Env>,
) -> anyhow::Result<()> {
    let acme_carrier = sipp::uas(Ipv4Addr::LOCALHOST, env.ports.agent(50), Answer::Answer)?;
    let globex_carrier = sipp::uas(
        Ipv4Addr::new(127, 0, 0, 2),
        env.ports.agent(51),
        Answer::Answer,
    )?;
    let number = "+15557654321";
    let call = call_from(env.acme.account("101"), number, caller_port(&env, 6), 1000);
    let outcome = sipp::call(&call, env.target())?.wait()?;
    ensure!(answered(&outcome), "acme's outside call: {outcome:?}");

    let refused = call_from(env.globex.account("101"), number, caller_port(&env, 7), 0);
    let refused = sipp::call(&refused, env.target())?.wait()?;
    ensure!(
        refused.final_code.is_some_and(|c| c >= 400),
        "globex has no outbound trunk, yet: {refused:?}"
    );
    let acme_seen = acme_carrier.stop()?;
    let globex_seen = globex_carrier.stop()?;
    let invites = acme_seen.requests("INVITE");
    ensure!(
        invites.len() == 1,
        "acme's carrier got {} INVITEs",
        invites.len()
    );
    let invite = invites[0];
    ensure!(
        invite
            .lines()
            .next()
            .is_some_and(|l| l.contains("15557654321")),
        "the INVITE is not for the dialled number:\n{invite}"
    );
    // Without caller_id_in_from the gateway's own user is in From and the caller ID in
    // Remote-Party-ID / P-Asserted-Identity.
    let caller_id_lines: Vec<&str> = invite
        .lines()
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            l.starts_with("from:")
                || l.starts_with("remote-party-id:")
                || l.starts_with("p-asserted-identity:")
        })
        .collect();
    ensure!(
        caller_id_lines.iter().any(|l| l.contains("15550100100")),
        "the caller ID is not acme's own number:\n{invite}"
    );
    ensure!(
        !globex_seen.requests_received.iter().any(|m| m == "INVITE"),
        "globex's carrier got an INVITE"
    );
    outside_calls_are_capped_by_the_orgs_limit(&env, number).await
}

/// With acme's limit at one outside call, a second one while the first is up is refused before
/// anything leaves FreeSWITCH (the carrier leg takes the count before its INVITE is sent), and
/// the count follows the carrier leg: one while the call is up, none after.
async fn outside_calls_are_capped_by_the_orgs_limit(env: &Env, number: &str) -> anyhow::Result<()> {
    let org = env.provider.ok(Method::GET, "/orgs/acme", None).await?;
    let limits = org["limits"].clone();
    ensure!(limits.is_object(), "acme's limits: {org}");
    let mut capped = limits.clone();
    capped["max_outbound_calls"] = json!(1);
    set_acme_limits(env, capped).await?;
    let carrier = sipp::uas(Ipv4Addr::LOCALHOST, env.ports.agent(50), Answer::Answer)?;
    let first = call_from(env.acme.account("101"), number, caller_port(env, 6), 4000);
    let first = sipp::call(&first, env.target())?;
    wait_outside_calls(env, "acme", 1).context("the first outside call is not counted")?;
    let second = call_from(env.acme.account("102"), number, caller_port(env, 7), 0);
    let second = sipp::call(&second, env.target())?.wait()?;
    ensure!(
        second.final_code.is_some_and(|c| c >= 400),
        "a second outside call over acme's limit: {second:?}"
    );
    ensure!(answered(&first.wait()?), "the first outside call");
    wait_outside_calls(env, "acme", 0).context("the count outlived the call")?;
    let seen = carrier.stop()?;
    let invites = seen.count("INVITE");
    set_acme_limits(env, limits).await?;
    ensure!(
        invites == 1,
        "acme's carrier got {invites} INVITEs with a limit of one call"
    );
    Ok(())
}

/// Sets acme's limits and waits until LittlePBX serves them (its configuration epoch moved).
async fn set_acme_limits(env: &Env, limits: serde_json::Value) -> anyhow::Result<()> {
    let epoch = || async {
        let health: serde_json::Value =
            reqwest::get(format!("http://127.0.0.1:{}/healthz", env.ports.http(0)))
                .await?
                .json()
                .await?;
        anyhow::Ok(health["freeswitch_config"]["epoch"].as_i64().unwrap_or(-1))
    };
    let before = epoch().await?;
    env.provider
        .ok(
            Method::PATCH,
            "/orgs/acme",
            Some(json!({ "limits": limits })),
        )
        .await?;
    let deadline = Instant::now() + Duration::from_secs(5);
    while epoch().await? <= before {
        ensure!(
            Instant::now() < deadline,
            "acme's new limits are not served"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Apply
// ---------------------------------------------------------------------------------------------

/// Starts a call 101 -> 102 inside `org` that lasts `hold_ms`, and waits until it is up.
pub(crate) fn call_in(
    env: &Env,
    org: &Org,
    port_n: u16,
    hold_ms: u64,
) -> anyhow::Result<(Running, Running)> {
    let callee = phone(env, org, "102", Answer::Answer)?;
    let call = call_from(org.account("101"), "102", caller_port(env, port_n), hold_ms);
    let caller = sipp::call(&call, env.target())?;
    wait_calls(env, &org.slug, 1)
        .with_context(|| format!("{}'s call did not come up", org.slug))?;
    Ok((caller, callee))
}

/// The caller's view of a call it ended itself after its hold time: answered, no BYE from
/// FreeSWITCH.
pub(crate) fn ended_by_caller(outcome: &Outcome, what: &str) -> anyhow::Result<()> {
    ensure!(answered(outcome), "{what}: {outcome:?}");
    ensure!(
        !outcome.requests_received.iter().any(|m| m == "BYE"),
        "{what}: FreeSWITCH hung the call up: {:?}",
        outcome.requests_received
    );
    Ok(())
}

async fn apply_without_waiting_leaves_calls_of_both_orgs_up(env: Arc<Env>) -> anyhow::Result<()> {
    let (acme_caller, acme_callee) = call_in(&env, &env.acme, 8, 6000)?;
    let (globex_caller, globex_callee) = call_in(&env, &env.globex, 9, 6000)?;
    for org in [&env.acme, &env.globex] {
        org.admin
            .patch_extension(
                "102",
                json!({"display_name": format!("Desk {}", crate::now_ms())}),
            )
            .await?;
        org.admin.apply_and_sync().await?;
    }
    let count = env.fs.api("show calls count")?;
    ensure!(
        count.contains("2 total"),
        "both calls must be up after both Applies: {count}"
    );
    ended_by_caller(&acme_caller.wait()?, "acme's call")?;
    ended_by_caller(&globex_caller.wait()?, "globex's call")?;
    acme_callee.stop()?;
    globex_callee.stop()?;
    Ok(())
}

async fn apply_with_waiting_holds_until_the_orgs_own_call_ends_and_stop_cancels(
    env: Arc<Env>,
) -> anyhow::Result<()> {
    let admin = &env.acme.admin;
    // A waiting Apply, cancelled by Stop: nothing changes.
    let (acme_caller, acme_callee) = call_in(&env, &env.acme, 10, 12_000)?;
    let (globex_caller, globex_callee) = call_in(&env, &env.globex, 11, 3000)?;
    let before = admin.ok(Method::GET, "/pbx", None).await?["applied_version"].clone();
    admin
        .patch_extension("102", json!({"ring_seconds": 7}))
        .await?;
    let job = admin.apply(true).await?;
    let job = admin
        .wait_job(Duration::from_secs(5), |j| {
            j["state"] == "waiting" && j["calls_in_progress"] == 1
        })
        .await
        .with_context(|| format!("started as {job}"))?;
    // globex's call ending is not acme's.
    ended_by_caller(&globex_caller.wait()?, "globex's call")?;
    globex_callee.stop()?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let still = admin.ok(Method::GET, "/jobs/latest", None).await?;
    ensure!(
        still["state"] == "waiting",
        "the Apply stopped waiting when another org's call ended: {still}"
    );
    admin
        .ok(Method::POST, &format!("/jobs/{}/stop", job["id"]), None)
        .await?;
    admin
        .wait_job(Duration::from_secs(5), |j| j["state"] == "stopped")
        .await?;
    let after = admin.ok(Method::GET, "/pbx", None).await?["applied_version"].clone();
    ensure!(before == after, "Stop changed the applied version");

    // A waiting Apply that happens when the org's own call ends.
    admin.apply(true).await?;
    admin
        .wait_job(Duration::from_secs(5), |j| j["state"] == "waiting")
        .await?;
    ensure!(
        env.fs.api("limit_usage hash lpbx_calls acme")?.trim() == "1",
        "acme's call should still be up"
    );
    let caller_outcome = acme_caller.wait()?;
    ended_by_caller(&caller_outcome, "acme's call")?;
    acme_callee.stop()?;
    let done = admin
        .wait_job(Duration::from_secs(10), |j| j["state"] == "done")
        .await?;
    ensure!(
        done["applied_version"].as_i64() > before.as_i64(),
        "the Apply did not publish: {done}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Trunks
// ---------------------------------------------------------------------------------------------

/// Changes acme's inbound trunk through `provider` (a new address block and a new port) and
/// checks FreeSWITCH took both within `within`, and touched no gateway of globex.
async fn change_acme_trunk(
    env: &Env,
    provider: &crate::fixture::Provider,
    extra_cidr: &str,
    port: u16,
    within: Duration,
) -> anyhow::Result<Duration> {
    let mark = env.fs.log_mark();
    let ip = extra_cidr.trim_end_matches("/32");
    ensure!(
        env.fs.api(&format!("acl {ip} lpbx_trunks"))?.trim() == "false",
        "{ip} is in the carrier ACL before the change"
    );
    let started = Instant::now();
    provider
        .ok(
            Method::PUT,
            "/orgs/acme/trunks/inbound",
            Some(
                json!({"username": "acme-trunk", "host": "127.0.0.1", "port": port,
                        "transport": "udp", "register": false,
                        "allowed_cidrs": ["127.0.0.1/32", extra_cidr]}),
            ),
        )
        .await?;
    env.fs
        .wait_for(&format!("acl {ip} lpbx_trunks"), within, |out| {
            out.trim() == "true"
        })
        .with_context(|| format!("the carrier ACL\n{}", env.pbx_log(0)))?;
    env.fs
        .wait_for("sofia xmlstatus gateway acme.in", within, |out| {
            out.contains(&format!(":{port}"))
        })
        .context("acme's gateway")?;
    let took = started.elapsed();
    // A gateway (re)start is logged as "Added gateway 'NAME' to profile"; a rescan also logs
    // "Ignoring duplicate gateway" for every other gateway, which touches none of them.
    let log = env.fs.log_since(mark);
    ensure!(
        log.contains("Added gateway 'acme.in'"),
        "FreeSWITCH's log does not show acme's gateway restart:\n{}",
        tail(&log, 30)
    );
    let touched: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("'globex.") && !l.contains("Ignoring duplicate gateway"))
        .collect();
    ensure!(
        touched.is_empty(),
        "globex's gateway was touched:\n{}",
        touched.join("\n")
    );
    Ok(took)
}

async fn a_trunk_change_takes_effect_at_once_for_that_org_only(
    env: Arc<Env>,
) -> anyhow::Result<()> {
    let provider = env.provider.clone();
    let took = change_acme_trunk(
        &env,
        &provider,
        "127.0.0.5/32",
        env.ports.agent(55),
        Duration::from_secs(2),
    )
    .await?;
    eprintln!("trunk change in FreeSWITCH after {took:?}");
    restore_acme_trunk(&env).await
}

async fn restore_acme_trunk(env: &Env) -> anyhow::Result<()> {
    env.provider
        .ok(
            Method::PUT,
            "/orgs/acme/trunks/inbound",
            Some(
                json!({"username": "acme-trunk", "host": "127.0.0.1", "port": env.ports.agent(50),
                        "transport": "udp", "register": false, "allowed_cidrs": ["127.0.0.1/32"]}),
            ),
        )
        .await?;
    let port = env.ports.agent(50);
    env.fs
        .wait_for(
            "sofia xmlstatus gateway acme.in",
            Duration::from_secs(10),
            |out| out.contains(&format!(":{port}")),
        )
        .map(|_| ())
}

async fn a_trunk_change_made_through_another_instance_waits_for_freeswitchs_instance(
    env: Arc<Env>,
) -> anyhow::Result<()> {
    // Instance 1 shares the database; FreeSWITCH asks instance 0 (it polls every 3 s here).
    let second =
        crate::fixture::Pbx::start(&env.root, env.ports, 1, &env.database_url, &[]).await?;
    let key = crate::fixture::Pbx::create_api_key(&env.root, env.ports, &env.database_url)?;
    let provider = crate::fixture::Provider::new(second.port, &key);
    env.pbx
        .lock()
        .map_err(|_| anyhow::anyhow!("lock"))?
        .push(second);
    let took = change_acme_trunk(
        &env,
        &provider,
        "127.0.0.6/32",
        env.ports.agent(56),
        Duration::from_secs(8),
    )
    .await?;
    eprintln!("trunk change made through instance 1 in FreeSWITCH after {took:?}");
    restore_acme_trunk(&env).await
}

/// FreeSWITCH asks instance 0 first and instance 1 when 0 does not answer (`--url2`). Phones of
/// both orgs register back to back while instance 0 is killed (SIGKILL), started again, and
/// then instance 1 is killed: not one registration is refused.
async fn registrations_go_on_when_either_instance_is_killed(env: Arc<Env>) -> anyhow::Result<()> {
    if lock_pbx(&env)?.len() < 2 {
        let second =
            crate::fixture::Pbx::start(&env.root, env.ports, 1, &env.database_url, &[]).await?;
        lock_pbx(&env)?.push(second);
    }
    let phones = Phones::start(&env);
    tokio::time::sleep(Duration::from_secs(3)).await;
    lock_pbx(&env)?[0].kill();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let first = crate::fixture::Pbx::start(&env.root, env.ports, 0, &env.database_url, &[]).await?;
    lock_pbx(&env)?[0] = first;
    tokio::time::sleep(Duration::from_secs(1)).await;
    lock_pbx(&env)?[1].kill();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let codes = phones.stop()?;
    let refused = codes.iter().filter(|code| **code != Some(200)).count();
    eprintln!(
        "{} registrations across the kills, {refused} not accepted",
        codes.len()
    );
    ensure!(codes.len() >= 40, "too few registrations: {codes:?}");
    ensure!(refused == 0, "registrations refused: {codes:?}");
    Ok(())
}

/// MariaDB killed while phones of both orgs register back to back: every registration is
/// accepted (LittlePBX answers from memory), `/healthz` and the provider API say plainly that
/// the database is down, and once MariaDB is back a provider change reaches FreeSWITCH without
/// restarting anything.
async fn registrations_go_on_when_the_database_is_killed_and_restarted(
    env: Arc<Env>,
) -> anyhow::Result<()> {
    let Some(mariadb) = testkit::shared_private_mariadb() else {
        eprintln!("skipped: MariaDB is not a private server of this run");
        return Ok(());
    };
    let port = lock_pbx(&env)?[0].port;
    let http = reqwest::Client::new();
    let phones = Phones::start(&env);
    tokio::time::sleep(Duration::from_secs(2)).await;
    mariadb.kill();
    let deadline = Instant::now() + Duration::from_secs(5);
    let health = loop {
        let response = http
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .timeout(Duration::from_secs(1))
            .send()
            .await?;
        let (status, body) = (
            response.status().as_u16(),
            response.json::<serde_json::Value>().await?,
        );
        if status == 503 && body["database"]["state"] == "down" {
            break body;
        }
        ensure!(Instant::now() < deadline, "/healthz still {status}: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    ensure!(health["database"]["state"] == "down", "{health}");
    let started = Instant::now();
    let response = http
        .get(format!("http://127.0.0.1:{port}/api/v1/orgs"))
        .timeout(Duration::from_secs(5))
        .send()
        .await?;
    ensure!(
        response.status() == 503 && started.elapsed() < Duration::from_secs(2),
        "provider API during the outage: {} after {:?}",
        response.status(),
        started.elapsed()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    tokio::task::spawn_blocking(|| mariadb.restart())
        .await?
        .map_err(anyhow::Error::msg)?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let codes = phones.stop()?;
    let refused = codes.iter().filter(|code| **code != Some(200)).count();
    eprintln!(
        "{} registrations across the database outage, {refused} not accepted",
        codes.len()
    );
    ensure!(
        codes.len() >= 40 && refused == 0,
        "registrations: {codes:?}"
    );
    // Recovered without a restart: a trunk change made through the API reaches FreeSWITCH.
    change_acme_trunk(
        &env,
        &env.provider,
        "127.0.0.7/32",
        env.ports.agent(57),
        Duration::from_secs(20),
    )
    .await?;
    restore_acme_trunk(&env).await
}

/// Four phones (101 and 102 of both orgs) registering back to back, each on a thread of its
/// own, until stopped: about 20 registrations a second, each asking LittlePBX.
struct Phones {
    stop: Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<std::thread::JoinHandle<anyhow::Result<Vec<Option<u16>>>>>,
}

impl Phones {
    fn start(env: &Arc<Env>) -> Self {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut threads = Vec::new();
        for (slug, number) in [
            ("acme", "101"),
            ("acme", "102"),
            ("globex", "101"),
            ("globex", "102"),
        ] {
            let (env, stop) = (env.clone(), stop.clone());
            threads.push(std::thread::spawn(move || {
                let org = if slug == "acme" {
                    &env.acme
                } else {
                    &env.globex
                };
                let port = phone_port(&env, org, number);
                let mut codes = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    codes.push(
                        sipp::register(&org.account(number), env.target(), port, 600)?.final_code,
                    );
                }
                Ok(codes)
            }));
        }
        Self { stop, threads }
    }

    /// Stops the phones; the final answer of every registration they made.
    fn stop(self) -> anyhow::Result<Vec<Option<u16>>> {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let mut codes = Vec::new();
        for thread in self.threads {
            codes.extend(
                thread
                    .join()
                    .map_err(|_| anyhow::anyhow!("a phone's thread panicked"))??,
            );
        }
        Ok(codes)
    }
}

pub(crate) fn lock_pbx(
    env: &Env,
) -> anyhow::Result<std::sync::MutexGuard<'_, Vec<crate::fixture::Pbx>>> {
    env.pbx.lock().map_err(|_| anyhow::anyhow!("lock"))
}

// ---------------------------------------------------------------------------------------------
// Music on hold, call records, suspension
// ---------------------------------------------------------------------------------------------

async fn music_on_hold_upload_and_apply_plays_the_orgs_stream(env: Arc<Env>) -> anyhow::Result<()> {
    let mp3 = std::fs::read(crate::fixture::repo_root().join("e2e/fixtures/hold-music.mp3"))?;
    let admin = &env.acme.admin;
    admin.upload_moh(mp3, "audio/mpeg").await?;
    let revision = admin.revision("options", "").await?;
    admin
        .ok(
            Method::PATCH,
            "/options",
            Some(json!({"revision": revision, "moh_enabled": true})),
        )
        .await?;
    admin.apply_and_sync().await?;
    let shown = env
        .fs
        .wait_for("local_stream show", Duration::from_secs(5), |out| {
            out.contains("acme_moh/8000")
        })
        .map(|_| env.fs.api("local_stream show"))??;
    ensure!(
        !shown.contains("globex_moh"),
        "globex has no music yet has a stream:\n{shown}"
    );
    let detail = env.fs.api("local_stream show acme_moh/8000")?;
    ensure!(
        detail.contains(&format!("{}", env.root.join("moh").display())) || detail.contains("acme"),
        "acme's stream does not play acme's files:\n{detail}"
    );
    Ok(())
}

async fn recent_calls(org: &Org) -> anyhow::Result<Vec<serde_json::Value>> {
    let calls = org
        .admin
        .ok(Method::GET, "/stats/calls?limit=100", None)
        .await?;
    Ok(calls["calls"]
        .as_array()
        .or_else(|| calls["items"].as_array())
        .cloned()
        .unwrap_or_default())
}

async fn call_records_of_each_kind_arrive_once_in_the_right_org(
    env: Arc<Env>,
) -> anyhow::Result<()> {
    let acme_before = recent_calls(&env.acme).await?.len();
    let globex_before = recent_calls(&env.globex).await?.len();
    let carrier = sipp::uas(Ipv4Addr::LOCALHOST, env.ports.agent(50), Answer::Answer)?;
    let acme_101 = phone(&env, &env.acme, "101", Answer::Answer)?;
    let acme_102 = phone(&env, &env.acme, "102", Answer::Answer)?;
    // internal, inbound, outbound: one each.
    let internal = call_from(env.acme.account("101"), "102", caller_port(&env, 12), 500);
    let inbound = carrier_call(
        &env,
        Ipv4Addr::LOCALHOST,
        &env.acme.did,
        caller_port(&env, 13),
        500,
    );
    let outbound = call_from(
        env.acme.account("101"),
        "+15557654321",
        caller_port(&env, 14),
        500,
    );
    for (what, call, target) in [
        ("internal", internal, env.target()),
        ("inbound", inbound, env.carrier_target()),
        ("outbound", outbound, env.target()),
    ] {
        let outcome = sipp::call(&call, target)?.wait()?;
        ensure!(answered(&outcome), "{what} call: {outcome:?}");
    }
    carrier.stop()?;
    acme_101.stop()?;
    acme_102.stop()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut calls;
    loop {
        calls = recent_calls(&env.acme).await?;
        if calls.len() >= acme_before + 3 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A late duplicate would show up within this pause.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let calls = recent_calls(&env.acme).await?;
    ensure!(
        calls.len() == acme_before + 3,
        "acme has {} new call records, not 3: {:?}",
        calls.len() - acme_before,
        calls.iter().take(5).collect::<Vec<_>>()
    );
    let mut directions: Vec<&str> = calls[..3]
        .iter()
        .filter_map(|c| c["direction"].as_str())
        .collect();
    directions.sort_unstable();
    ensure!(
        directions == ["in", "internal", "out"],
        "one record of each kind expected: {:?}",
        &calls[..3]
    );
    let globex_after = recent_calls(&env.globex).await?.len();
    ensure!(globex_after == globex_before, "globex got acme's records");
    Ok(())
}

async fn suspending_an_org_drops_its_registrations_and_gateway_only(
    env: Arc<Env>,
) -> anyhow::Result<()> {
    for org in [&env.acme, &env.globex] {
        let port = phone_port(&env, org, "101");
        let outcome = sipp::register(&org.account("101"), env.target(), port, 600)?;
        ensure!(outcome.final_code == Some(200), "{}: {outcome:?}", org.slug);
    }
    env.provider
        .ok(
            Method::PATCH,
            "/orgs/acme",
            Some(json!({"status": "suspended"})),
        )
        .await?;
    let acme_domain = env.acme.domain.clone();
    let result = async {
        env.fs
            .wait_for(
                "sofia status profile internal reg",
                Duration::from_secs(5),
                |out| !out.contains(&acme_domain),
            )
            .context("acme's registrations")?;
        env.fs
            .wait_for(
                "sofia xmlstatus gateway acme.in",
                Duration::from_secs(5),
                |out| !out.contains("<gateway>"),
            )
            .context("acme's gateway")?;
        let reg = registrations(&env)?;
        ensure!(
            reg.contains(&env.globex.domain),
            "globex's registration went too:\n{reg}"
        );
        ensure!(
            env.fs
                .api("sofia xmlstatus gateway globex.in")?
                .contains("<gateway>"),
            "globex's gateway went too"
        );
        // A suspended org's phone cannot register again.
        let port = phone_port(&env, &env.acme, "101");
        let again = sipp::register(&env.acme.account("101"), env.target(), port, 600)?;
        ensure!(
            again.final_code.is_some_and(|c| c >= 400),
            "a suspended org's phone registered: {again:?}"
        );
        Ok(())
    }
    .await;
    env.provider
        .ok(
            Method::PATCH,
            "/orgs/acme",
            Some(json!({"status": "active"})),
        )
        .await?;
    result
}
