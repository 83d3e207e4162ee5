//! The secrets behind desk-phone provisioning and the LDAP phone book, and keeping SIP
//! passwords for the phones that need them.
//!
//! - A desk phone's HTTP password is derived from `secret_key`, the org, the MAC and the
//!   phone's random user name: never stored, never guessable from the MAC, and new whenever the
//!   phone is added again (a new user name).
//! - The org's phone-book password (LDAP bind `cn=phonebook,o=<org>`) is derived the same way
//!   from the org id.
//! - An extension's SIP password is sealed with `secret_key` and kept under the a1-hash it
//!   produces, so a desk phone's file can carry exactly the password FreeSWITCH checks.

use domain::{A1Hash, ExtensionNumber, SipDomain};
use store::OrgId;

use crate::secrets;
use crate::Engine;

/// A new random user name for a phone's HTTP credentials.
pub fn new_http_username() -> String {
    format!(
        "ph{}",
        secrets::derived_secret(&secrets::random_token(16), "user", "").to_lowercase()
    )
}

/// The HTTP password of the phone with this MAC and user name in `org`.
pub fn http_password(engine: &Engine, org: OrgId, mac: &str, username: &str) -> String {
    secrets::derived_secret(
        engine.config().secret_key.expose(),
        "desk-phone",
        &format!("{}:{mac}:{username}", org.0),
    )
}

/// The password of the org's phone-book bind DN.
pub fn phonebook_password(engine: &Engine, org: OrgId) -> String {
    secrets::derived_secret(
        engine.config().secret_key.expose(),
        "ldap-phonebook",
        &org.0.to_string(),
    )
}

/// A new random SIP password for `number`: its a1-hash and the password, which is kept sealed
/// for the org's desk phones before it is handed out.
pub async fn new_sip_credentials(
    engine: &Engine,
    org: OrgId,
    number: &ExtensionNumber,
    domain: &SipDomain,
) -> crate::Result<(A1Hash, String)> {
    let password = secrets::sip_password();
    let a1_hash = A1Hash::compute(number, domain, &password);
    keep_sip_password(engine, org, &a1_hash, &password).await?;
    Ok((a1_hash, password))
}

/// Keeps `password` sealed under its a1-hash.
pub async fn keep_sip_password(
    engine: &Engine,
    org: OrgId,
    a1_hash: &A1Hash,
    password: &str,
) -> crate::Result<()> {
    let sealed = engine.secret_box().seal(password)?;
    engine
        .store()
        .keep_sip_password(org, a1_hash.as_str(), &sealed)
        .await?;
    Ok(())
}

/// The SIP password that produces `a1_hash` in `org`, when it was kept (extensions whose
/// password was set before passwords were kept have none: they need a new one; nor does one
/// sealed under another `secret_key`).
pub async fn sip_password(
    engine: &Engine,
    org: OrgId,
    a1_hash: &A1Hash,
) -> crate::Result<Option<String>> {
    let Some(sealed) = engine
        .store()
        .sealed_sip_password(org, a1_hash.as_str())
        .await?
    else {
        return Ok(None);
    };
    match engine.secret_box().open(&sealed) {
        Ok(password) => Ok(Some(password)),
        // Sealed under another `secret_key`: as good as not kept (the extension needs a new
        // password), not a failure of the page that asks.
        Err(err) => {
            tracing::warn!(org = org.0, "a kept SIP password cannot be opened: {err}");
            Ok(None)
        }
    }
}

/// Asks the phones registered as `number` of `domain` to fetch their file again now (a NOTIFY
/// `check-sync` through FreeSWITCH), so a moved or removed desk phone does not wait for its
/// hourly check. Best effort, in the background (the caller does not wait for FreeSWITCH):
/// without the event socket the phone learns it at that check.
pub fn ask_to_check(engine: &Engine, number: &ExtensionNumber, domain: &SipDomain) {
    let event = freeswitch::sync::check_sync(number, domain, engine.fs_settings());
    let (engine, number, domain) = (engine.clone(), number.clone(), domain.clone());
    tokio::spawn(async move {
        match engine.freeswitch().send_event(&event).await {
            Ok(_) => {
                tracing::info!(%number, %domain, "desk phones asked to fetch their file again")
            }
            Err(err) => tracing::info!(
                %number, %domain,
                "could not ask the phones to fetch their file again ({err}); they will at their next check"
            ),
        }
    });
}

/// How long a removed phone is still answered (with a file without an account).
pub const RETIRED_KEPT: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);
const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Forgets removed phones after [`RETIRED_KEPT`], hourly, until the server stops.
pub async fn run_retention(engine: Engine) {
    loop {
        let before = store::now_ms() - RETIRED_KEPT.as_millis() as i64;
        match engine.store().purge_retired_desk_phones(before).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "removed desk phones forgotten"),
            Err(err) => tracing::warn!(error = %err, "forgetting removed desk phones"),
        }
        tokio::select! {
            () = tokio::time::sleep(PURGE_EVERY) => {}
            () = engine.shutting_down() => return,
        }
    }
}
