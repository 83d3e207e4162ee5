//! Restoring a version of the Apply history, seen from FreeSWITCH: after the Apply, the real
//! FreeSWITCH takes exactly the credentials and extensions of the restored draft, in that org
//! only; the live view (the event socket's registration listing) shows it.

use anyhow::{ensure, Context};
use reqwest::Method;
use serde_json::{json, Value};

use crate::fs_database::live_phones;
use crate::scenarios::caller_port;
use crate::sipp::{self, Account};
use crate::world::{Env, Org};

/// The final answer FreeSWITCH gives a REGISTER of `number` with `password`.
fn register_answer(
    env: &Env,
    org: &Org,
    number: &str,
    password: &str,
    port: u16,
) -> anyhow::Result<Option<u16>> {
    let account = Account {
        user: number.to_owned(),
        domain: org.domain.clone(),
        password: password.to_owned(),
    };
    Ok(sipp::register(&account, env.target(), port, 600)?.final_code)
}

/// Each `(number, password, answer)`: FreeSWITCH answers that REGISTER so.
fn expect_registers(
    env: &Env,
    org: &Org,
    step: &str,
    port: u16,
    cases: &[(&str, &str, u16)],
) -> anyhow::Result<()> {
    for (number, password, expected) in cases {
        let got = register_answer(env, org, number, password, port)?;
        ensure!(
            got == Some(*expected),
            "{step}: REGISTER {number}@{} answered {got:?}, not {expected}",
            org.domain
        );
    }
    Ok(())
}

async fn create_extension(org: &Org, number: &str) -> anyhow::Result<String> {
    let created = org
        .admin
        .ok(
            Method::POST,
            "/extensions",
            Some(json!({"number": number, "display_name": format!("Restore {number}")})),
        )
        .await?;
    created["sip_password"]
        .as_str()
        .map(str::to_owned)
        .context("sip_password")
}

async fn new_password(org: &Org, number: &str) -> anyhow::Result<String> {
    let revision = org.admin.revision("extension", number).await?;
    let answer = org
        .admin
        .ok(
            Method::POST,
            &format!("/extensions/{number}/password"),
            Some(json!({"revision": revision})),
        )
        .await?;
    answer["sip_password"]
        .as_str()
        .map(str::to_owned)
        .context("sip_password")
}

/// Restores `version` from its preview (naming the preview's draft revision) and applies it.
async fn restore_and_apply(
    org: &Org,
    version: i64,
    restore_secrets: bool,
) -> anyhow::Result<Value> {
    let preview = org
        .admin
        .ok(Method::GET, &format!("/history/{version}"), None)
        .await?;
    org.admin
        .ok(
            Method::POST,
            &format!("/history/{version}/restore"),
            Some(json!({
                "based_on_revision": preview["draft_revision"],
                "restore_secrets": restore_secrets,
            })),
        )
        .await?;
    org.admin.apply_and_sync().await?;
    Ok(preview)
}

pub(crate) async fn a_restored_version_is_what_freeswitch_answers_after_apply(
    env: std::sync::Arc<Env>,
) -> anyhow::Result<()> {
    let (acme, globex) = (&env.acme, &env.globex);
    let port = caller_port(&env, 30);
    let first = create_extension(acme, "150").await?;
    let version = acme.admin.apply_and_sync().await?["applied_version"]
        .as_i64()
        .context("applied_version")?;
    expect_registers(&env, acme, "version applied", port, &[("150", &first, 200)])?;

    let second = new_password(acme, "150").await?;
    let added = create_extension(acme, "151").await?;
    acme.admin.apply_and_sync().await?;
    expect_registers(
        &env,
        acme,
        "after the password change",
        port,
        &[
            ("150", &first, 403),
            ("150", &second, 200),
            ("151", &added, 200),
        ],
    )?;

    // Restored with the current passwords kept: 151 is gone, 150 keeps the second one.
    let preview = restore_and_apply(acme, version, false).await?;
    ensure!(
        preview["secrets_differ"] == json!(["150"]),
        "preview: {preview}"
    );
    expect_registers(
        &env,
        acme,
        "restored, passwords kept",
        port,
        &[
            ("150", &second, 200),
            ("151", &added, 403),
            ("150", &first, 403),
        ],
    )?;

    // Restored with that version's passwords: the first one works again, the second not.
    restore_and_apply(acme, version, true).await?;
    expect_registers(
        &env,
        acme,
        "restored with its passwords",
        port,
        &[("150", &first, 200), ("150", &second, 403)],
    )?;

    // The other org is untouched, and nothing of acme's reaches its domain.
    let globex_port = caller_port(&env, 31);
    let globex_101 = globex.account("101");
    expect_registers(
        &env,
        globex,
        "globex during acme's restores",
        globex_port,
        &[("101", &globex_101.password, 200), ("150", &first, 403)],
    )?;
    ensure!(
        globex
            .admin
            .send(
                Method::POST,
                &format!("/history/{}/restore", version + 100),
                Some(json!({}))
            )
            .await?
            .0
            == 404,
        "globex restored a version it does not have"
    );

    // The live view reads the registrations over the event socket: acme's 150, no globex phone.
    let (live, phones) = live_phones(acme).await?;
    ensure!(live["source"]["state"] == "ok", "{live}");
    ensure!(phones.contains_key("150"), "acme's live view: {live}");
    let (_, globex_phones) = live_phones(globex).await?;
    ensure!(
        !globex_phones.contains_key("150"),
        "globex's live view lists 150"
    );

    // Leave nothing registered on the scenario's ports.
    for (org, number, password, port) in [
        (acme, "150", first.as_str(), port),
        (globex, "101", globex_101.password.as_str(), globex_port),
    ] {
        let account = Account {
            user: number.to_owned(),
            domain: org.domain.clone(),
            password: password.to_owned(),
        };
        sipp::register(&account, env.target(), port, 0)?;
    }
    Ok(())
}
