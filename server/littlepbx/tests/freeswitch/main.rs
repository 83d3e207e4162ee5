//! The FreeSWITCH tier: LittlePBX (the built binary) and a real FreeSWITCH 1.10.12 whose
//! configuration the project's own `scripts/fs-install.sh` made, with SIPp as phones and
//! carriers, all on loopback ports picked for the run.
//!
//! Each test is named for what it proves and asserts SIP answers and FreeSWITCH's own state
//! (`sofia status`, `show calls`, `acl`, `limit_usage`, `local_stream`, its log), not exit codes
//! alone. The tests share one FreeSWITCH and run one after another, in the order listed: first on
//! SQLite, then the Apply and trunk scenarios once more on MariaDB (LittlePBX and FreeSWITCH are
//! restarted for it), with two LittlePBX instances on one database; last with FreeSWITCH's own
//! database on that MariaDB too (`fs-install.sh --fs-db`).
//!
//! Where the FreeSWITCH tree (`../shared/freeswitch`, or `LITTLEPBX_FREESWITCH_DIR`) or `sipp`
//! is missing the tier is skipped with one line; with `CI=true` that fails the run.

mod desk_phones;
mod fixture;
mod fs_database;
mod history;
mod holes;
mod scenarios;
mod sipp;
mod world;

use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn main() {
    let mut args = Arguments::from_args();
    // One FreeSWITCH for all: the scenarios run one at a time, in order.
    args.test_threads = Some(1);
    let missing = match (fixture::freeswitch_tree(), which_sipp()) {
        (Err(why), _) | (_, Err(why)) => Some(why),
        _ => None,
    };
    if let Some(why) = &missing {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            eprintln!("the FreeSWITCH tier cannot run in CI: {why}");
            std::process::exit(1);
        }
        eprintln!("skipping the FreeSWITCH tier: {why}");
    }
    let runtime = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime"),
    );
    let world = Arc::new(world::World::new());
    let trials = scenarios::all()
        .into_iter()
        .map(|(name, backend, scenario)| {
            let (world, runtime) = (world.clone(), runtime.clone());
            Trial::test(name, move || {
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    runtime.block_on(async {
                        let env = world.env(backend).await?;
                        scenario(env).await
                    })
                }));
                match outcome {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(err)) => Err(Failed::from(format!("{err:#}"))),
                    Err(_) => Err(Failed::from("panicked")),
                }
            })
            .with_ignored_flag(missing.is_some())
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    runtime.block_on(world.shutdown());
    conclusion.exit();
}

fn which_sipp() -> Result<(), String> {
    std::process::Command::new("sipp")
        .arg("-v")
        .output()
        .map(|_| ())
        .map_err(|_| "sipp is not installed (Debian: sip-tester)".to_owned())
}
