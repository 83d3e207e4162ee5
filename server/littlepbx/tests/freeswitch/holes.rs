//! The SIP-level attacks of one org's phone on another org and on the carrier, each tried on the
//! real FreeSWITCH: every one must be refused and leave the other org's phones and calls alone.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{ensure, Context};
use serde_json::Value;

use crate::scenarios::{
    answered, call_from, call_in, caller_port, ended_by_caller, phone, wait_calls,
    wait_outside_calls,
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
    let uuid = leg_with(env, "presence_id", user_at_domain)?;
    let call_id = channel_var(env, &uuid, "sip_call_id")?
        .with_context(|| format!("{uuid} of {user_at_domain} has no Call-ID"))?;
    Ok((uuid, call_id))
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
    let byes = callee.count("BYE");
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
    let invite = *seen
        .requests("INVITE")
        .first()
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
    // The carrier's side of a call may not transfer at all (the carrier profile refuses REFER),
    // blind or with Replaces: the call from the DID reaches acme's voicemail, and the REFER
    // sent during it is answered 405 (the profile does not offer REFER at all).
    for refer_to in [
        format!("<sip:+88212345@127.0.0.1:{attacker_port}>"),
        format!("<sip:101@{}>", env.acme.domain),
        format!(
            "<sip:+88212345@127.0.0.1:{attacker_port}?Replaces=nosuchcall%3Bto-tag%3D1%3Bfrom-tag%3D2>"
        ),
    ] {
        let mut call = crate::scenarios::carrier_call(
            &env,
            Ipv4Addr::LOCALHOST,
            &env.acme.did,
            caller_port(&env, 28),
            3000,
        );
        call.refer_after_ms = 1000;
        call.refer_to = Some(refer_to.clone());
        let outcome = sipp::call(&call, env.carrier_target())?.wait()?;
        ensure!(
            answered(&outcome) && outcome.refer_code == Some(405),
            "the carrier's REFER {refer_to}: {outcome:?}"
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

/// What a refused REFER leaves behind never reaches the carrier: sofia copies the Refer-To's
/// `Replaces` and other headers onto the transferred party's leg (`_sofia_replaces_`,
/// `sip_h_<name>`) whatever LittlePBX answers, and a later call from that leg would carry them.
/// Here the leg is then sent to an outside number the way a blind transfer sends it (through
/// its org context); the carrier's INVITE has neither header.
pub async fn what_a_refused_refer_leaves_on_a_leg_never_reaches_the_carrier(
    env: Arc<Env>,
) -> anyhow::Result<()> {
    let carrier = sipp::uas(Ipv4Addr::LOCALHOST, env.ports.agent(50), Answer::Answer)?;
    let callee = phone(&env, &env.acme, "101", Answer::Answer)?;
    let mut call = call_from(env.acme.account("102"), "101", caller_port(&env, 29), 8000);
    call.refer_to = Some(format!(
        "<sip:101@{}?Replaces=nosuchcall%3Bto-tag%3D1%3Bfrom-tag%3D2&P-Charge-Info=%3Csip%3A%2B1999%40x%3E>",
        env.acme.domain
    ));
    let running = sipp::call(&call, env.target())?;
    let (leg, _) = leg_of(&env, &format!("101@{}", env.acme.domain))?;
    env.fs
        .wait_for(
            &format!("uuid_getvar {leg} _sofia_replaces_"),
            Duration::from_secs(5),
            |out| out.contains("nosuchcall"),
        )
        .context("sofia did not put the REFER's Replaces on the transferred leg")?;
    ensure!(
        channel_var(&env, &leg, "sip_h_P-Charge-Info")?.is_some(),
        "sofia did not put the REFER's other header on the transferred leg"
    );
    let number = "+15557654321";
    env.fs.api(&format!(
        "uuid_transfer {leg} {number} XML org_{}",
        env.acme.slug
    ))?;
    ensure!(
        carrier.wait_for_request("INVITE", Duration::from_secs(5)),
        "the transferred leg did not reach acme's carrier"
    );
    running.stop()?;
    callee.stop()?;
    let seen = carrier.stop()?;
    let invite = *seen.requests("INVITE").first().context("no INVITE")?;
    ensure!(
        invite
            .lines()
            .next()
            .is_some_and(|l| l.contains("15557654321")),
        "{invite}"
    );
    for header in ["Replaces:", "P-Charge-Info:"] {
        ensure!(
            !invite.lines().any(|l| l.starts_with(header)),
            "the carrier's INVITE carries {header}\n{invite}"
        );
    }
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
        rang.count("INVITE") == 1,
        "acme's 102 did not ring once for the transfer: {:?}",
        rang.requests_received
    );
    let seen = carrier.stop()?;
    let invites = seen.requests("INVITE");
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

/// A channel variable, `None` when unset or the channel is gone.
fn channel_var(env: &Env, uuid: &str, name: &str) -> anyhow::Result<Option<String>> {
    let out = env.fs.api(&format!("uuid_getvar {uuid} {name}"))?;
    let out = out.trim();
    Ok((!out.is_empty() && out != "_undef_" && !out.starts_with("-ERR")).then(|| out.to_owned()))
}

/// The channel `uuid` is bridged to (`bridge_to`), looking through a loopback pair (an
/// attended transfer's loopback bows out only once real audio flows, which sipp sends none of).
fn talks_to(env: &Env, uuid: &str) -> anyhow::Result<Option<String>> {
    let Some(peer) = channel_var(env, uuid, "bridge_to")? else {
        return Ok(None);
    };
    match channel_var(env, &peer, "other_loopback_leg_uuid")? {
        Some(other) => channel_var(env, &other, "bridge_to"),
        None => Ok(Some(peer)),
    }
}

/// Waits (at most 5 s) until `uuid` talks to `other`.
fn wait_talking(env: &Env, uuid: &str, other: &str) -> anyhow::Result<bool> {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        if talks_to(env, uuid)?.as_deref() == Some(other) {
            return Ok(true);
        }
        if std::time::Instant::now() > deadline {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The channel `uuid` talks to ([`talks_to`]), once it talks to one (at most 5 s).
fn partner_of(env: &Env, uuid: &str) -> anyhow::Result<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(partner) = talks_to(env, uuid)? {
            return Ok(partner);
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "{uuid} is bridged to nothing"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A REFER's Refer-To naming `call_id` in its Replaces (tags as a phone sends them; sofia looks
/// the call up by its Call-ID).
fn replaces_refer_to(env: &Env, user: &str, call_id: &str, more_headers: &str) -> String {
    let call_id = call_id.replace('@', "%40");
    format!(
        "<sip:{user}@{}?Replaces={call_id}%3Bto-tag%3Dx%3Bfrom-tag%3Dy{more_headers}>",
        env.acme.domain
    )
}

/// The sipfrag status lines of the NOTIFYs FreeSWITCH sent about a REFER.
fn notified(outcome: &Outcome) -> Vec<String> {
    outcome
        .requests("NOTIFY")
        .into_iter()
        .filter_map(|m| m.lines().find(|l| l.starts_with("SIP/2.0 ")))
        .map(|l| l.trim().to_owned())
        .collect()
}

/// Attended transfer inside the org: an outside caller reaches acme's 101 through the DID; 101
/// calls 102 from another dialog and sends REFER with Replaces naming its first call. The
/// caller ends up talking to 102, and 101's two legs are gone. Then every REFER with Replaces
/// that names a call that is not the REFER-er's own is refused and changes nothing: globex's
/// call, the call of acme's 102, and the phone's own call with an extra Refer-To header. Two
/// outside parties are joined (the outside call keeps counting against acme's limit), and the
/// REFER sent on the first call naming the consultation (the other way round) joins the same
/// way.
pub async fn attended_transfer_joins_the_phones_own_calls_and_nothing_else(
    env: Arc<Env>,
) -> anyhow::Result<()> {
    let phone_101 = phone(&env, &env.acme, "101", Answer::Answer)?;
    let phone_102 = phone(&env, &env.acme, "102", Answer::Answer)?;
    let carrier = Ipv4Addr::new(127, 0, 0, 1);
    let inbound =
        crate::scenarios::carrier_call(&env, carrier, &env.acme.did, caller_port(&env, 26), 30_000);
    let caller = sipp::call(&inbound, env.carrier_target())?;
    wait_calls(&env, "acme", 1)?;
    let (first_leg, first_call_id) = leg_of(&env, &format!("101@{}", env.acme.domain))?;
    let outside = partner_of(&env, &first_leg)?;
    ensure!(
        env.fs
            .api(&format!(
                "uuid_getvar {outside} exclude_outgoing_extra_header"
            ))?
            .trim()
            == "^sip_h_",
        "the carrier leg may send sip_h_ variables as headers"
    );

    // 101 consults 102, then transfers: REFER on the consultation naming the first call.
    let mark = env.fs.log_mark();
    let mut consult = call_from(env.acme.account("101"), "102", caller_port(&env, 25), 4000);
    consult.refer_after_ms = 1000;
    consult.refer_to = Some(replaces_refer_to(&env, "102", &first_call_id, ""));
    let consult = sipp::call(&consult, env.target())?.wait()?;
    ensure!(
        answered(&consult) && consult.refer_code == Some(202),
        "the consultation call and its REFER: {consult:?}"
    );
    ensure!(
        notified(&consult).iter().any(|l| l == "SIP/2.0 200 OK"),
        "101 was not told the transfer succeeded: {:?}\n{}",
        notified(&consult),
        crate::scenarios::tail(&env.fs.log_since(mark), 60)
    );
    // The outside caller talks to 102's phone.
    let (leg_102, _) = leg_of(&env, &format!("102@{}", env.acme.domain))?;
    ensure!(
        wait_talking(&env, &outside, &leg_102)?,
        "the outside caller is not bridged to 102 ({leg_102}): {:?}\n{}",
        talks_to(&env, &outside)?,
        crate::scenarios::tail(&env.fs.log_since(mark), 60)
    );
    ensure!(
        phone_101.wait_for_request("BYE", Duration::from_secs(5)),
        "101's leg of the first call was not hung up"
    );
    ensure!(
        pbx_logged(&env, &["REFER accepted", "org=\"acme\"", &first_call_id]).await?,
        "no log line names acme and the attended transfer"
    );

    // Refused: another org's call, another extension's call of the same org, and the phone's
    // own call with a second Refer-To header.
    let (globex_caller, globex_callee) = call_in(&env, &env.globex, 23, 30_000)?;
    let (_, globex_call_id) = leg_of(&env, &format!("102@{}", env.globex.domain))?;
    let (_, call_id_102) = leg_of(&env, &format!("102@{}", env.acme.domain))?;
    let own_caller =
        crate::scenarios::carrier_call(&env, carrier, &env.acme.did, caller_port(&env, 27), 30_000);
    let own_caller = sipp::call(&own_caller, env.carrier_target())?;
    wait_calls(&env, "acme", 2)?;
    let (own_leg, own_call_id) = leg_of(&env, &format!("101@{}", env.acme.domain))?;
    let own_outside = partner_of(&env, &own_leg)?;
    let carrier_agent = sipp::uas(Ipv4Addr::LOCALHOST, env.ports.agent(50), Answer::Answer)?;
    for (what, to, refer_to) in [
        (
            "globex's call",
            "102",
            replaces_refer_to(&env, "102", &globex_call_id, ""),
        ),
        (
            "acme's 102's call",
            "102",
            replaces_refer_to(&env, "102", &call_id_102, ""),
        ),
        (
            "its own call with a P-Charge-Info header",
            "102",
            replaces_refer_to(
                &env,
                "102",
                &own_call_id,
                "&P-Charge-Info=%3Csip%3A%2B1999%40x%3E",
            ),
        ),
        // sofia pastes the parameters unescaped into the dial string's variable block: a comma
        // would add a variable to the leg it calls.
        (
            "its own call with a comma in the Refer-To parameters",
            "102",
            replaces_refer_to(&env, "102", &own_call_id, "")
                .replace("?Replaces=", ";x=1,execute_on_answer=hangup?Replaces="),
        ),
    ] {
        let mark = env.fs.log_mark();
        let mut call = call_from(env.acme.account("101"), to, caller_port(&env, 25), 3000);
        call.refer_after_ms = 1000;
        call.refer_to = Some(refer_to.clone());
        let outcome = sipp::call(&call, env.target())?.wait()?;
        let log = env.fs.log_since(mark);
        ensure!(
            answered(&outcome) && outcome.refer_code == Some(202),
            "{what}: the call with REFER {refer_to}: {outcome:?}"
        );
        ensure!(
            notified(&outcome)
                .iter()
                .any(|l| l.starts_with("SIP/2.0 403")),
            "{what}: 101 was not told the transfer failed: {:?}",
            notified(&outcome)
        );
        ensure!(
            log.lines()
                .any(|l| l.contains("Nightmare transfer") && l.contains("error/CALL_REJECTED")),
            "{what}: FreeSWITCH was not told to call nothing:\n{}",
            crate::scenarios::tail(&log, 40)
        );
        ensure!(!log.contains("PICKED_OFF"), "{what}: a leg was picked off");
        // Every named call is still up, bridged as before.
        wait_calls(&env, "globex", 1)?;
        ensure!(
            talks_to(&env, &outside)?.as_deref() == Some(leg_102.as_str()),
            "{what}: the transferred call was changed"
        );
        ensure!(
            talks_to(&env, &own_outside)?.as_deref() == Some(own_leg.as_str()),
            "{what}: 101's own call was changed"
        );
    }
    for why in [
        "names no call of the transferring phone",
        "the Refer-To carries more than a plain Replaces",
    ] {
        ensure!(
            pbx_logged(&env, &["REFER refused", "org=\"acme\"", why]).await?,
            "no log line names acme and: {why}"
        );
    }

    // 101 calls out and hands that outside party to its other outside caller: the two outside
    // parties talk, the outside call still counts against acme's limit, and ends with them.
    let number = "+15557654321";
    let mut consult = call_from(env.acme.account("101"), number, caller_port(&env, 25), 3000);
    consult.refer_after_ms = 1000;
    consult.refer_to = Some(replaces_refer_to(&env, "102", &own_call_id, ""));
    let consult = sipp::call(&consult, env.target())?.wait()?;
    ensure!(
        consult.refer_code == Some(202) && notified(&consult).iter().any(|l| l == "SIP/2.0 200 OK"),
        "joining two outside parties: {consult:?}"
    );
    let outside_call = leg_with(&env, "channel_name", &format!("sofia/external/{number}"))?;
    ensure!(
        wait_talking(&env, &own_outside, &outside_call)?,
        "101's outside caller is not joined to the outside call: {:?}",
        talks_to(&env, &own_outside)?
    );
    wait_outside_calls(&env, "acme", 1).context("the joined outside call is not counted")?;
    env.fs.api(&format!("uuid_kill {own_outside}"))?;
    ensure!(
        carrier_agent.wait_for_request("BYE", Duration::from_secs(5)),
        "the outside call was not hung up with the caller it was joined to"
    );
    ensure!(
        carrier_agent.stop()?.count("INVITE") == 1,
        "101's outside call did not leave once"
    );
    own_caller.stop()?;
    // When 102 hangs up, the transferred caller is hung up too (no call is left behind).
    env.fs.api(&format!("uuid_kill {leg_102}"))?;
    let outcome = caller.wait()?;
    ensure!(
        answered(&outcome) && outcome.requests_received.iter().any(|m| m == "BYE"),
        "the transferred caller was not hung up when 102 hung up: {outcome:?}"
    );
    let globex = globex_caller.stop()?;
    ensure!(
        answered(&globex) && !globex.requests_received.iter().any(|m| m == "BYE"),
        "globex's call was hung up: {globex:?}"
    );
    globex_callee.stop()?;

    // The other way round, as most phones send it: the REFER goes on the first call (101 to
    // 102) and names the consultation (101 to an outside number). 102 ends up talking to the
    // outside party, and hanging up 102 hangs that party up.
    let carrier_agent = sipp::uas(Ipv4Addr::LOCALHOST, env.ports.agent(50), Answer::Answer)?;
    let (first_id, consult_id) = ("first-b@littlepbx.test", "consultation-b@littlepbx.test");
    let mut first = call_from(env.acme.account("101"), "102", caller_port(&env, 8), 8000);
    first.call_id = Some(first_id.into());
    first.refer_after_ms = 3000;
    first.refer_to = Some(replaces_refer_to(&env, "+15557654321", consult_id, ""));
    let first = sipp::call(&first, env.target())?;
    let phone_leg = partner_of(&env, &leg_with(&env, "sip_call_id", first_id)?)?;
    let mut consult = call_from(
        env.acme.account("101"),
        "+15557654321",
        caller_port(&env, 9),
        8000,
    );
    consult.call_id = Some(consult_id.into());
    let consult = sipp::call(&consult, env.target())?;
    let outside_b = partner_of(&env, &leg_with(&env, "sip_call_id", consult_id)?)?;
    wait_outside_calls(&env, "acme", 1).context("the consultation is not counted")?;
    let first = first.wait()?;
    ensure!(
        first.refer_code == Some(202) && notified(&first).iter().any(|l| l == "SIP/2.0 200 OK"),
        "the REFER on the first call: {first:?}"
    );
    ensure!(
        wait_talking(&env, &outside_b, &phone_leg)?,
        "the outside party is not bridged to 102 ({phone_leg}): {:?}",
        talks_to(&env, &outside_b)?
    );
    let consult = consult.wait()?;
    ensure!(
        consult.requests_received.iter().any(|m| m == "BYE"),
        "101's consultation leg was not hung up: {consult:?}"
    );
    // The outside call still counts against acme's limit after the leg that dialled it is gone.
    wait_outside_calls(&env, "acme", 1)
        .context("the transferred outside call is no longer counted")?;
    env.fs.api(&format!("uuid_kill {phone_leg}"))?;
    ensure!(
        carrier_agent.wait_for_request("BYE", Duration::from_secs(5)),
        "the outside party was not hung up when 102 hung up"
    );
    wait_outside_calls(&env, "acme", 0).context("the count outlived the outside call")?;
    carrier_agent.stop()?;
    phone_101.stop()?;
    phone_102.stop()?;
    hang_up_everything(&env)?;
    Ok(())
}

/// The uuid of the channel whose channel variable `name` is `value`, once it is up (at most 5 s).
/// `show channels` reads FreeSWITCH's core database, which may still list a channel of an
/// earlier scenario that is gone: such a channel has no variables and is skipped.
fn leg_with(env: &Env, name: &str, value: &str) -> anyhow::Result<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let json: Value = serde_json::from_str(&env.fs.api("show channels as json")?)
            .context("show channels as json")?;
        for row in json["rows"].as_array().into_iter().flatten() {
            let Some(uuid) = row["uuid"].as_str() else {
                continue;
            };
            if channel_var(env, uuid, name)?.as_deref() == Some(value) {
                return Ok(uuid.to_owned());
            }
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "no channel with {name} {value}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
