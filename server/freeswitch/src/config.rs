//! The `configuration` section: only `local_stream.conf`. Everything else is "not found", so
//! FreeSWITCH reads its own (static) module configuration.
//!
//! mod_local_stream plays `local_stream://NAME` from the stream `NAME/<rate>` first, so each
//! org with music gets `<slug>_moh/8000` and `<slug>_moh/16000` (paths `<dir>/8000`,
//! `<dir>/16000`); the default stream from [`Settings::default_moh`] is always listed first
//! because the module refuses to load without any directory. The whole file is answered on
//! every read (module load, `local_stream start|reload NAME`), so it lists every org with
//! music; each stream also costs FreeSWITCH a thread, which bounds how many orgs one
//! FreeSWITCH can give their own music.

use crate::answer::{Answer, Reason};
use crate::lookup::Lookup;
use crate::names;
use crate::request::Request;
use crate::settings::Settings;
use crate::xml::{Doc, Unwritable};

const CLOSING_RESERVE: usize = 256;

pub(crate) fn answer(req: &Request<'_>, lookup: &impl Lookup, settings: &Settings) -> Answer {
    let is_local_stream = req.tag_name() == "configuration"
        && req.key_name() == "name"
        && req.key_value() == "local_stream.conf"
        && req.is_ambiguous().is_none();
    if !is_local_stream {
        return Answer::not_found("configuration not served");
    }
    match local_stream(lookup, settings) {
        Ok(answer) => answer,
        Err(u) => Answer::not_found("unwritable").with_reason(Reason::Unwritable(u)),
    }
}

fn local_stream(lookup: &impl Lookup, settings: &Settings) -> Result<Answer, Unwritable> {
    let mut doc = Doc::new("configuration");
    doc.open(
        "configuration",
        &[
            ("name", "local_stream.conf"),
            ("description", "LittlePBX music on hold"),
        ],
    )?;
    let mut streams = 0;
    if let Some(moh) = &settings.default_moh {
        for rate in names::MOH_RATES {
            directory(&mut doc, &format!("{}/{rate}", moh.name), &moh.dir, rate)?;
            streams += 1;
        }
    }
    let budget = settings.max_answer_bytes.saturating_sub(CLOSING_RESERVE);
    let mut omitted = 0;
    for org in lookup
        .orgs()
        .filter(|o| o.is_active() && o.options.moh_enabled)
    {
        let Some(dir) = &org.moh_dir else { continue };
        let cp = doc.checkpoint();
        let written = names::MOH_RATES.iter().try_for_each(|&rate| {
            directory(&mut doc, &names::moh_stream_at(org.slug(), rate), dir, rate)
        });
        if written.is_ok() && doc.len() <= budget {
            streams += names::MOH_RATES.len();
        } else {
            doc.rollback(cp);
            omitted += 1;
        }
    }
    Ok(Answer::new(
        doc.finish(),
        Reason::LocalStream {
            streams,
            omitted_orgs: omitted,
        },
    ))
}

fn directory(doc: &mut Doc, name: &str, dir: &str, rate: u32) -> Result<(), Unwritable> {
    let path = format!("{}/{rate}", dir.trim_end_matches('/'));
    let rate = rate.to_string();
    doc.open("directory", &[("name", name), ("path", &path)])?;
    doc.empty("param", &[("name", "rate"), ("value", &rate)])?;
    doc.empty("param", &[("name", "channels"), ("value", "1")])?;
    doc.empty("param", &[("name", "interval"), ("value", "20")])?;
    doc.close()
}
