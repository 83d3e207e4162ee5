//! A desk phone set up by the file it fetched from LittlePBX, seen from FreeSWITCH: the account
//! in the file registers with the real FreeSWITCH in its own org and nowhere else; moved off its
//! extension, the file carries no account.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use anyhow::{ensure, Context};
use reqwest::Method;
use serde_json::{json, Value};

use crate::scenarios::caller_port;
use crate::sipp::{self, Account, Answer};
use crate::world::{Env, Org};

const MAC: &str = "001565fe0160";

/// The phone's file, fetched as the phone does (Basic over the org's host).
async fn fetch_file(
    env: &Env,
    org: &Org,
    phone: &Value,
) -> anyhow::Result<BTreeMap<String, String>> {
    let port = env.ports.http(0);
    let host = format!("pbx.{}.localhost", org.slug);
    let http = reqwest::Client::builder()
        .resolve(&host, (Ipv4Addr::LOCALHOST, port).into())
        .build()?;
    let url = format!(
        "{}{MAC}.cfg",
        phone["provisioning_url"]
            .as_str()
            .context("provisioning_url")?
    );
    ensure!(url.starts_with(&format!("http://{host}:{port}/")), "{url}");
    let response = http
        .get(&url)
        .basic_auth(
            phone["username"].as_str().context("username")?,
            phone["password"].as_str(),
        )
        .send()
        .await?;
    ensure!(response.status() == 200, "{url}: {}", response.status());
    let body = response.text().await?;
    Ok(body
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect())
}

fn register(
    env: &Env,
    user: &str,
    domain: &str,
    password: &str,
    port: u16,
    expires: u32,
) -> anyhow::Result<Option<u16>> {
    let account = Account {
        user: user.to_owned(),
        domain: domain.to_owned(),
        password: password.to_owned(),
    };
    Ok(sipp::register(&account, env.target(), port, expires)?.final_code)
}

pub(crate) async fn a_desk_phone_registers_with_the_account_of_its_file(
    env: std::sync::Arc<Env>,
) -> anyhow::Result<()> {
    let (acme, globex) = (&env.acme, &env.globex);
    let port = caller_port(&env, 32);
    acme.admin
        .ok(
            Method::POST,
            "/extensions",
            Some(json!({"number": "160", "display_name": "Desk 160"})),
        )
        .await?;
    acme.admin.apply_and_sync().await?;
    let phone = acme
        .admin
        .ok(
            Method::POST,
            "/desk-phones",
            Some(json!({"mac": MAC, "model": "yealink-t4x-t5x", "extension": "160"})),
        )
        .await?;
    ensure!(phone["state"] == "ready", "{phone}");

    let file = fetch_file(&env, acme, &phone).await?;
    let user = file
        .get("account.1.user_name")
        .context("user_name")?
        .clone();
    let domain = file
        .get("account.1.sip_server.1.address")
        .context("server")?
        .clone();
    let password = file.get("account.1.password").context("password")?.clone();
    ensure!(user == "160" && domain == acme.domain, "{file:?}");
    ensure!(
        file.get("account.1.outbound_proxy.1.port")
            .map(String::as_str)
            == Some(env.ports.sip().to_string().as_str())
            || file.get("account.1.sip_server.1.port").map(String::as_str)
                == Some(env.ports.sip().to_string().as_str()),
        "the file names FreeSWITCH's SIP port: {file:?}"
    );
    let got = register(&env, &user, &domain, &password, port, 600)?;
    ensure!(
        got == Some(200),
        "REGISTER with the file's account answered {got:?}"
    );
    // The same credentials are nothing in another org.
    let got = register(
        &env,
        &user,
        &globex.domain,
        &password,
        caller_port(&env, 33),
        600,
    )?;
    ensure!(
        got == Some(403),
        "globex took acme's desk phone account: {got:?}"
    );

    // The phone listens where it registered; a globex phone too, to see it is not asked.
    let listening = sipp::uas(Ipv4Addr::LOCALHOST, port, Answer::Answer)?;
    let globex_port = caller_port(&env, 34);
    let globex_101 = globex.account("101");
    let got = register(
        &env,
        "101",
        &globex.domain,
        &globex_101.password,
        globex_port,
        600,
    )?;
    ensure!(got == Some(200), "globex 101: {got:?}");
    let globex_listening = sipp::uas(Ipv4Addr::LOCALHOST, globex_port, Answer::Answer)?;
    // An attacker's phone of globex registered under the Call-ID `160@<acme's domain>`: the
    // form FreeSWITCH's `check_sync USER@HOST` also matches by Call-ID.
    let crafted = format!("160@{}", acme.domain);
    let attacker_port = caller_port(&env, 35);
    let got =
        sipp::register_as_call(&globex_101, env.target(), attacker_port, 600, &crafted)?.final_code;
    ensure!(
        got == Some(200),
        "globex 101 with a crafted Call-ID: {got:?}"
    );
    let attacker_listening = sipp::uas(Ipv4Addr::LOCALHOST, attacker_port, Answer::Answer)?;

    // Off its extension: the phone is asked at once to fetch its file again, and that file
    // has no account.
    acme.admin
        .ok(
            Method::PUT,
            &format!("/desk-phones/{MAC}"),
            Some(json!({"model": "yealink-t4x-t5x", "extension": null})),
        )
        .await?;
    let asked = listening.wait_for_request("NOTIFY", std::time::Duration::from_secs(10));
    let log = listening.log_text();
    listening.stop()?;
    std::thread::sleep(std::time::Duration::from_millis(500));
    // (It may get its voicemail NOTIFY after registering; a check-sync it must not get.)
    let globex_asked = globex_listening.log_text().contains("check-sync");
    globex_listening.stop()?;
    let attacker_asked = attacker_listening.log_text().contains("check-sync");
    attacker_listening.stop()?;
    ensure!(asked, "the moved phone got no NOTIFY");
    ensure!(
        log.contains("check-sync"),
        "the NOTIFY is not a check-sync: {log}"
    );
    ensure!(!globex_asked, "a globex phone was asked to check");
    ensure!(
        !attacker_asked,
        "a globex phone registered under the Call-ID {crafted} got acme's check-sync"
    );
    sipp::register_as_call(&globex_101, env.target(), attacker_port, 0, &crafted)?;
    register(
        &env,
        "101",
        &globex.domain,
        &globex_101.password,
        globex_port,
        0,
    )?;

    let file = fetch_file(&env, acme, &phone).await?;
    ensure!(
        file.get("account.1.enable").map(String::as_str) == Some("0")
            && !file.values().any(|v| v == &password),
        "{file:?}"
    );
    acme.admin
        .ok(Method::DELETE, &format!("/desk-phones/{MAC}"), None)
        .await?;
    register(&env, &user, &domain, &password, port, 0)?;
    Ok(())
}
