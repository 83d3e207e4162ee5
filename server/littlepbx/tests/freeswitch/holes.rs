//! The SIP-level attacks of one org's phone on another org and on the carrier, each tried on the
//! real FreeSWITCH: every one must be refused and leave the other org's phones and calls alone.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{ensure, Context};
use serde_json::Value;

use crate::scenarios::{
    answered, call_from, call_in, caller_port, ended_by_caller, phone, wait_calls,
};
use crate::sipp::{self, Answer, Outcome};
use crate::world::Env;

/// Refused: a final failure, or answered and hung up by FreeSWITCH at once (the guard on calls
/// sofia runs without the dialplan).
fn refused(outcome: &Outcome) -> bool {
    let hung_up = outcome.requests_received.iter().any(|m| m == "BYE");
    outcome.final_code.is_some_and(|c| c >= 300) || (answered(outcome) && hung_up)
}

/// `gw+NAME` in the Request-URI, `;gw=NAME` as a URI parameter, and the same on the carrier
/// profile with a phone's digest: none reaches another org's number.
pub async fn a_phone_cannot_reach_another_orgs_number_by_naming_its_gateway(
    env: Arc<Env>,
) -> anyhow::Result<()> {
    let globex_101 = phone(&env, &env.globex, "101", Answer::Answer)?;
    let did = env.globex.did.clone();
    let sip = env.ports.sip();
    let attempts = [
        (
            "gw+ on the phones' profile",
            format!("sip:gw+globex.in@127.0.0.1:{sip}"),
            env.target(),
        ),
        (
            ";gw= on the phones' profile",
            format!("sip:{did}@127.0.0.1:{sip};gw=globex.in"),
            env.target(),
        ),
        (
            "gw+ on the carrier profile with a phone's digest",
            format!("sip:gw+globex.in@127.0.0.1:{}", env.ports.carrier()),
            env.carrier_target(),
        ),
    ];
    for (n, (what, uri, target)) in attempts.into_iter().enumerate() {
        let mut call = call_from(env.acme.account("101"), &did, caller_port(&env, 15), 1000);
        call.request_uri = Some(uri);
        call.to_header_user = Some(did.clone());
        let outcome = sipp::call(&call, target)?.wait()?;
        ensure!(refused(&outcome), "{what} (attempt {n}): {outcome:?}");
    }
    let seen = globex_101.stop()?;
    ensure!(
        !seen.requests_received.iter().any(|m| m == "INVITE"),
        "globex's phone rang for acme's phone"
    );
    Ok(())
}

/// The uuid and SIP Call-ID of the channel that rings `user@domain` (its presence id), once
/// it is up (at most 5 s).
fn leg_of(env: &Env, user_at_domain: &str) -> anyhow::Result<(String, String)> {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let json: Value = serde_json::from_str(&env.fs.api("show channels as json")?)
            .context("show channels as json")?;
        let uuids = json["rows"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| {
                (r["presence_id"].as_str() == Some(user_at_domain)).then(|| r["uuid"].as_str())?
            });
        // `show channels` reads FreeSWITCH's core database, which may still list a channel of
        // an earlier scenario that is gone: take one that answers.
        for uuid in uuids {
            let call_id = env.fs.api(&format!("uuid_getvar {uuid} sip_call_id"))?;
            let call_id = call_id.trim();
            if !call_id.is_empty() && !call_id.starts_with("-ERR") && call_id != "_undef_" {
                return Ok((uuid.to_owned(), call_id.to_owned()));
            }
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "no channel of {user_at_domain}: {json}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// An INVITE with `Replaces` naming another org's call (by channel uuid, by Call-ID, as the
/// a-leg): sofia would intercept it without asking LittlePBX. The attacker is hung up, and
/// globex's call goes on untouched.
pub async fn a_phone_cannot_take_over_another_orgs_call_with_replaces(
    env: Arc<Env>,
) -> anyhow::Result<()> {
    let (globex_caller, globex_callee) = call_in(&env, &env.globex, 16, 9000)?;
    ensure!(
        globex_callee.wait_for_request("ACK", Duration::from_secs(5)),
        "globex's call was not answered"
    );
    let target = format!("102@{}", env.globex.domain);
    let (uuid, call_id) = leg_of(&env, &target)?;
    let mark = env.fs.log_mark();
    for replaces in [
        uuid.clone(),
        call_id.clone(),
        format!("{call_id};to-tag=x;from-tag=y"),
        format!("{uuid};a-leg=true"),
    ] {
        let mut call = call_from(env.acme.account("101"), "102", caller_port(&env, 17), 1500);
        call.extra_headers = vec![format!("Replaces: {replaces}")];
        let outcome = sipp::call(&call, env.target())?.wait()?;
        ensure!(refused(&outcome), "Replaces: {replaces}: {outcome:?}");
        ensure!(
            env.fs.api("limit_usage hash lpbx_calls globex")?.trim() == "1",
            "globex's call is gone after Replaces: {replaces}"
        );
    }
    let log = env.fs.log_since(mark);
    ensure!(
        !log.contains("PICKED_OFF"),
        "a globex leg was picked off:\n{}",
        crate::scenarios::tail(&log, 30)
    );
    ended_by_caller(&globex_caller.wait()?, "globex's call")?;
    globex_callee.wait_for_request("BYE", Duration::from_secs(5));
    let callee = globex_callee.stop()?;
    let byes = callee
        .requests_received
        .iter()
        .filter(|m| *m == "BYE")
        .count();
    ensure!(
        byes == 1,
        "globex's 102 got {byes} BYEs, not its caller's one"
    );
    Ok(())
}

/// A phone's own headers (`P-Charge-Info` would bill someone else, `X-` headers carry anything)
/// do not reach the carrier.
pub async fn a_phones_own_sip_headers_never_reach_the_carrier(env: Arc<Env>) -> anyhow::Result<()> {
    let carrier = sipp::uas(Ipv4Addr::LOCALHOST, env.ports.agent(50), Answer::Answer)?;
    let mut call = call_from(
        env.acme.account("101"),
        "+15557654321",
        caller_port(&env, 18),
        500,
    );
    call.extra_headers = vec![
        "P-Charge-Info: <sip:+15550000000@127.0.0.1>".into(),
        "X-Billing-Account: free".into(),
    ];
    let outcome = sipp::call(&call, env.target())?.wait()?;
    ensure!(answered(&outcome), "the outside call: {outcome:?}");
    let seen = carrier.stop()?;
    let invite = seen
        .received
        .iter()
        .find(|m| m.starts_with("INVITE "))
        .context("the carrier got no INVITE")?;
    let lower = invite.to_ascii_lowercase();
    ensure!(
        !lower.contains("p-charge-info") && !lower.contains("x-billing-account"),
        "the phone's headers reached the carrier:\n{invite}"
    );
    wait_calls(&env, "acme", 0)
}

/// Wrong passwords for one user from an office's address (as a spoofing attacker can send them)
/// lock that user out at that address, with a log line the provider can act on; the office's
/// other phones keep registering.
pub async fn guessing_a_password_locks_out_that_user_there_not_the_office(
    env: Arc<Env>,
) -> anyhow::Result<()> {
    let port = caller_port(&env, 19);
    let working = sipp::register(&env.acme.account("101"), env.target(), port, 600)?;
    ensure!(working.final_code == Some(200), "{working:?}");
    let mut guess = env.acme.account("102");
    guess.password = "guess".into();
    for n in 0..5 {
        let outcome = sipp::register(&guess, env.target(), port, 600)?;
        ensure!(outcome.final_code == Some(403), "guess {n}: {outcome:?}");
    }
    let right = sipp::register(&env.acme.account("102"), env.target(), port, 600)?;
    ensure!(
        right.final_code == Some(403),
        "102 is not locked out at this address: {right:?}"
    );
    let other = sipp::register(&env.acme.account("101"), env.target(), port, 600)?;
    ensure!(
        other.final_code == Some(200),
        "the office's other phone was locked out too: {other:?}"
    );
    let log = env.pbx_log_text(0);
    let line = log
        .lines()
        .find(|l| l.contains("locked out at this address"))
        .context("no lock-out line in LittlePBX's log")?;
    ensure!(
        line.contains(&format!("102@{}", env.acme.domain)) && line.contains("127.0.0.1"),
        "the lock-out line names neither the user nor the address: {line}"
    );
    Ok(())
}

/// Subscriptions (dialog, presence, message-summary) to another org's phone in sofia's
/// `sip+USER+HOST` form, or to something that is not an extension, are refused and bring no
/// NOTIFY; a colleague in the same org can be watched.
pub async fn a_phone_cannot_watch_another_orgs_phones(env: Arc<Env>) -> anyhow::Result<()> {
    let port = caller_port(&env, 20);
    let acme_101 = env.acme.account("101");
    let foreign = format!("sip+102+{}", env.globex.domain);
    for event in ["dialog", "presence", "message-summary"] {
        for target in [foreign.as_str(), "9999"] {
            let outcome = sipp::subscribe(&acme_101, env.target(), port, target, event, 600)?;
            ensure!(
                outcome.final_code.is_some_and(|c| c >= 400),
                "{event} subscription to {target}: {outcome:?}"
            );
            ensure!(
                !outcome.requests_received.iter().any(|m| m == "NOTIFY"),
                "{event} subscription to {target} was notified"
            );
        }
        let own = sipp::subscribe(&acme_101, env.target(), port, "102", event, 600)?;
        ensure!(
            matches!(own.final_code, Some(200 | 202)),
            "{event} subscription to a colleague: {own:?}"
        );
        sipp::subscribe(&acme_101, env.target(), port, "102", event, 0)?;
    }
    let log = env.pbx_log_text(0);
    ensure!(
        log.lines().any(|l| l.contains("FreeSWITCH told to refuse")
            && l.contains("subscription to something that is not an extension")
            && l.contains("acme")),
        "no log line names acme and the reason"
    );
    Ok(())
}

/// Ends every call left over by a transfer scenario (the agents are gone; FreeSWITCH would
/// keep the legs until their media times out) so the next scenario counts calls from zero.
fn hang_up_everything(env: &Env) -> anyhow::Result<()> {
    env.fs.api("hupall NORMAL_CLEARING")?;
    wait_calls(env, "acme", 0)?;
    wait_calls(env, "globex", 0)
}

/// Whether LittlePBX's log has, within 10 s, a line with every one of `parts`.
async fn pbx_logged(env: &Env, parts: &[&str]) -> anyhow::Result<bool> {
    let log = crate::scenarios::lock_pbx(env)?[0].log.clone();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(&log)?;
        let plain = crate::scenarios::without_colours(&text);
        if plain.lines().any(|l| parts.iter().all(|p| l.contains(p))) {
            return Ok(true);
        }
        if std::time::Instant::now() > deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every REFER that leads out of the org is refused: a Replaces naming no call (sofia's
/// "nightmare transfer", which would call the Refer-To host itself), a blind transfer to an
/// address outside the org's domain or to another org's extension, a gateway name. No INVITE
/// leaves for the Refer-To host, none reaches the carrier or globex's phone, and LittlePBX logs
/// each refusal with the org.
pub async fn refer_outside_the_org_is_refused_and_nothing_leaves_for_its_target(
    env: Arc<Env>,
) -> anyhow::Result<()> {
    let attacker_port = env.ports.agent(57);
    let attacker = sipp::uas(Ipv4Addr::LOCALHOST, attacker_port, Answer::Answer)?;
    let carrier = sipp::uas(Ipv4Addr::LOCALHOST, env.ports.agent(50), Answer::Answer)?;
    let globex_101 = phone(&env, &env.globex, "101", Answer::Answer)?;
    let callee = phone(&env, &env.acme, "102", Answer::Answer)?;
    let mark = env.fs.log_mark();
    for refer_to in [
        format!(
            "<sip:+88212345@127.0.0.1:{attacker_port}?Replaces=nosuchcall%3Bto-tag%3D1%3Bfrom-tag%3D2>"
        ),
        format!("<sip:+88212345@127.0.0.1:{attacker_port}>"),
        format!("<sip:101@{}>", env.globex.domain),
        format!("<sip:gw+globex.in@{}>", env.acme.domain),
    ] {
        let mut call = call_from(env.acme.account("101"), "102", caller_port(&env, 21), 2000);
        call.refer_to = Some(refer_to.clone());
        let outcome = sipp::call(&call, env.target())?.wait()?;
        ensure!(answered(&outcome), "the call with REFER {refer_to}: {outcome:?}");
        ensure!(
            outcome.refer_code.is_some(),
            "REFER {refer_to} not answered: {outcome:?}"
        );
    }
    // Every refused transfer has run its course once acme has no call left; a leg that went
    // out after all would still be up here.
    wait_calls(&env, "acme", 0)?;
    let log = env.fs.log_since(mark);
    callee.stop()?;
    let seen = attacker.stop()?;
    ensure!(
        !seen.requests_received.iter().any(|m| m == "INVITE"),
        "an INVITE left FreeSWITCH for the Refer-To host"
    );
    ensure!(
        !carrier
            .stop()?
            .requests_received
            .iter()
            .any(|m| m == "INVITE"),
        "a refused transfer reached acme's carrier"
    );
    ensure!(
        !globex_101
            .stop()?
            .requests_received
            .iter()
            .any(|m| m == "INVITE"),
        "globex's 101 rang for acme's transfer"
    );
    ensure!(
        !log.lines()
            .any(|l| l.contains("Nightmare transfer") && l.contains("sofia/")),
        "sofia dialled the Refer-To URI:\n{}",
        crate::scenarios::tail(&log, 40)
    );
    ensure!(
        pbx_logged(
            &env,
            &["REFER refused", "org=\"acme\"", "nothing was called"]
        )
        .await?,
        "no log line names acme and the refused nightmare transfer"
    );
    ensure!(
        pbx_logged(
            &env,
            &["transfer to an address outside the org", "org=acme"]
        )
        .await?
            || pbx_logged(
                &env,
                &["transfer to an address outside the org", "org=\"acme\""]
            )
            .await?,
        "no log line names acme and the transfer outside the org"
    );
    hang_up_everything(&env)?;
    Ok(())
}

/// The same nightmare transfer while LittlePBX does not answer (killed mid-call; an attacker
/// could also make it slow): FreeSWITCH falls back to the static `channels/` file that
/// `fs-install.sh` put into `freeswitch.xml`, which refuses the same way. Nothing is dialled.
pub async fn a_transfer_naming_no_call_dials_nothing_while_littlepbx_is_down(
    env: Arc<Env>,
) -> anyhow::Result<()> {
    let attacker_port = env.ports.agent(57);
    let attacker = sipp::uas(Ipv4Addr::LOCALHOST, attacker_port, Answer::Answer)?;
    let callee = phone(&env, &env.acme, "102", Answer::Answer)?;
    let mut call = call_from(env.acme.account("101"), "102", caller_port(&env, 26), 6000);
    call.refer_to = Some(format!(
        "<sip:+88212345@127.0.0.1:{attacker_port}?Replaces=nosuchcall%3Bto-tag%3D1%3Bfrom-tag%3D2>"
    ));
    call.refer_after_ms = 3000;
    let mark = env.fs.log_mark();
    let running = sipp::call(&call, env.target())?;
    wait_calls(&env, "acme", 1)?;
    crate::scenarios::lock_pbx(&env)?[0].kill();
    let outcome = running.wait()?;
    let restarted = crate::fixture::Pbx::start(
        &env.root,
        env.ports,
        0,
        &env.database_url,
        &[("LITTLEPBX_XML_CACHE_POLL_MS", "500")],
    )
    .await?;
    crate::scenarios::lock_pbx(&env)?[0] = restarted;
    wait_calls(&env, "acme", 0)?;
    let log = env.fs.log_since(mark);
    callee.stop()?;
    let seen = attacker.stop()?;
    ensure!(answered(&outcome), "the call: {outcome:?}");
    ensure!(
        outcome.refer_code.is_some(),
        "REFER not answered: {outcome:?}"
    );
    ensure!(
        !seen.requests_received.iter().any(|m| m == "INVITE"),
        "an INVITE left FreeSWITCH for the Refer-To host while LittlePBX was down"
    );
    let nightmare: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("Nightmare transfer to"))
        .collect();
    ensure!(
        nightmare.len() == 1 && nightmare[0].contains("error/CALL_REJECTED"),
        "not the static refusal: {nightmare:?}\n{}",
        crate::scenarios::tail(&log, 40)
    );
    // mod_xml_curl logs the request it could not make: the channels lookup failed, so the
    // refusal came from the static file.
    ensure!(
        log.lines()
            .any(|l| l.starts_with("data: [") && l.contains("section=channels")),
        "no failed channels lookup: LittlePBX answered after all:\n{}",
        crate::scenarios::tail(&log, 40)
    );
    hang_up_everything(&env)?;
    Ok(())
}

/// A blind transfer (REFER without Replaces) inside the org: to an extension it rings that
/// extension, to an outside number it leaves through the org's own gateway with the org's
/// caller ID, like a dialled call.
pub async fn a_blind_transfer_reaches_the_orgs_extension_or_leaves_through_its_gateway(
    env: Arc<Env>,
) -> anyhow::Result<()> {
    let carrier = sipp::uas(Ipv4Addr::LOCALHOST, env.ports.agent(50), Answer::Answer)?;
    // 102 calls 101 and transfers 101's leg: back to 102's own phone, then outside, where it
    // goes with 101's caller ID (the transferred party's, as if 101 had dialled).
    let target = phone(&env, &env.acme, "102", Answer::Answer)?;
    let callee = phone(&env, &env.acme, "101", Answer::Answer)?;
    let number = "+15557654321";
    for refer_to in [
        format!("<sip:102@{}>", env.acme.domain),
        format!("\"Outside\" <sip:{number}@{};user=phone>", env.acme.domain),
    ] {
        let mut call = call_from(env.acme.account("102"), "101", caller_port(&env, 22), 2000);
        call.refer_to = Some(refer_to.clone());
        let outcome = sipp::call(&call, env.target())?.wait()?;
        ensure!(
            answered(&outcome),
            "the call with REFER {refer_to}: {outcome:?}"
        );
        ensure!(
            outcome.refer_code == Some(202),
            "REFER {refer_to} answered {:?}",
            outcome.refer_code
        );
    }
    // The transferred legs are set up after the REFER-er's call ended: wait for them.
    target.wait_for_request("INVITE", Duration::from_secs(5));
    carrier.wait_for_request("INVITE", Duration::from_secs(5));
    callee.stop()?;
    let rang = target.stop()?;
    ensure!(
        rang.requests_received
            .iter()
            .filter(|m| *m == "INVITE")
            .count()
            == 1,
        "acme's 102 did not ring once for the transfer: {:?}",
        rang.requests_received
    );
    let seen = carrier.stop()?;
    let invites: Vec<&String> = seen
        .received
        .iter()
        .filter(|m| m.starts_with("INVITE "))
        .collect();
    ensure!(
        invites.len() == 1
            && invites[0]
                .lines()
                .next()
                .is_some_and(|l| l.contains("15557654321")),
        "acme's carrier did not get the transferred call once: {invites:?}"
    );
    ensure!(
        invites[0].contains("15550100100"),
        "the transferred call does not carry acme's caller ID:\n{}",
        invites[0]
    );
    hang_up_everything(&env)?;
    Ok(())
}

/// An attended transfer (REFER with Replaces naming a call sofia finds) is refused, whether the
/// named call is the org's own or another org's: sofia's only veto (`deny_refer_requests`) cannot
/// tell them apart. Both named calls go on.
pub async fn attended_transfer_is_refused_and_leaves_the_named_call_alone(
    env: Arc<Env>,
) -> anyhow::Result<()> {
    // The named calls last longer than the scenario; it ends them itself.
    let (globex_caller, globex_callee) = call_in(&env, &env.globex, 23, 30_000)?;
    let (_, globex_call_id) = leg_of(&env, &format!("102@{}", env.globex.domain))?;
    let target = phone(&env, &env.acme, "101", Answer::Answer)?;
    let named_call = call_from(
        env.acme.account("102"),
        "101",
        caller_port(&env, 24),
        30_000,
    );
    let acme_named = sipp::call(&named_call, env.target())?;
    wait_calls(&env, "acme", 1)?;
    let (_, acme_call_id) = leg_of(&env, &format!("101@{}", env.acme.domain))?;
    let callee = phone(&env, &env.acme, "102", Answer::Answer)?;
    for (whose, call_id) in [("acme's", &acme_call_id), ("globex's", &globex_call_id)] {
        let replaces = call_id.replace('@', "%40");
        let refer_to = format!(
            "<sip:101@{}?Replaces={replaces}%3Bto-tag%3Dx%3Bfrom-tag%3Dy>",
            env.acme.domain
        );
        let mark = env.fs.log_mark();
        let mut call = call_from(env.acme.account("101"), "102", caller_port(&env, 25), 2000);
        call.refer_to = Some(refer_to.clone());
        let outcome = sipp::call(&call, env.target())?.wait()?;
        ensure!(
            answered(&outcome),
            "the call with REFER {refer_to}: {outcome:?}"
        );
        let log = env.fs.log_since(mark);
        ensure!(
            log.contains("Denying Attended Transfer"),
            "the attended transfer naming {whose} call was not denied:\n{}",
            crate::scenarios::tail(&log, 40)
        );
        ensure!(!log.contains("PICKED_OFF"), "a leg was picked off");
        // Both named calls are still up.
        wait_calls(&env, "acme", 1)?;
        wait_calls(&env, "globex", 1)?;
    }
    let globex = globex_caller.stop()?;
    let acme = acme_named.stop()?;
    for (whose, outcome) in [("globex's", &globex), ("acme's", &acme)] {
        ensure!(
            answered(outcome) && !outcome.requests_received.iter().any(|m| m == "BYE"),
            "{whose} named call was hung up: {outcome:?}"
        );
    }
    callee.stop()?;
    globex_callee.stop()?;
    target.stop()?;
    hang_up_everything(&env)?;
    Ok(())
}
