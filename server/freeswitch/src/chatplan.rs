//! The `chatplan` section (mod_sms): SIP MESSAGE between extensions of one org.
//!
//! Sofia hands every MESSAGE to the core with the headers `from_user`, `from_host`, `to_user`,
//! `to_host`, `to` (`to_user@to_host`, or what follows a `proto+` prefix in the To user),
//! `context` (the profile's context, not the org's), `proto`, `dest_proto` and `sip_profile`.
//! The core then runs the chatplan and, **unless the event carries `final_delivery=true`,
//! delivers the message directly to `to` afterwards** (switch_loadable_module.c
//! `do_chat_send`). So every answer, refusals included, sets `final_delivery=true`; a missing
//! or "not found" chatplan would let any message through.
//!
//! The sender is identified by `from_user@from_host`, which the `sip_auth` checks in
//! `crate::directory` tie to the authenticated user and realm (the profile must authenticate
//! messages: `auth-messages`).

use crate::answer::{Answer, Reason};
use crate::lookup::Lookup;
use crate::request::Request;
use crate::settings::is_token;
use crate::xml::{Doc, Unwritable};

pub(crate) fn answer(req: &Request<'_>, lookup: &impl Lookup) -> Answer {
    let context = match req.param("context") {
        Some(c) if is_token(c) => c,
        None if req.count("context") == 0 => "default",
        _ => "global",
    };
    let (decision, org) = decide(req, lookup);
    let rendered =
        render(context, &decision).or_else(|_| render("global", &Err("unwritable value")));
    let answer = match rendered {
        Ok(xml) => Answer::new(
            xml,
            decision.map_or_else(Reason::ChatplanRefused, |()| Reason::Chatplan),
        ),
        Err(u) => Answer::new(crate::xml::NOT_FOUND.to_owned(), Reason::Unwritable(u)),
    };
    match org {
        Some(slug) => answer.for_org(slug),
        None => answer,
    }
}

fn decide<'l>(
    req: &Request<'_>,
    lookup: &'l impl Lookup,
) -> (Result<(), &'static str>, Option<&'l str>) {
    if req.is_ambiguous().is_some() {
        return (Err("a parameter occurs twice"), None);
    }
    let Some(org) = req.param("from_host").and_then(|h| lookup.by_domain(h)) else {
        return (Err("sender domain is not an org"), None);
    };
    let slug = Some(org.slug().as_str());
    let domain = org.domain().as_str();
    let checks = || -> Result<(), &'static str> {
        if !org.is_active() {
            return Err("org suspended");
        }
        let from_user = req.param("from_user").ok_or("no sender")?;
        if org.extension(from_user).is_none() {
            return Err("sender is not an extension of the org");
        }
        let to_user = req.param("to_user").ok_or("no recipient")?;
        if org.extension(to_user).is_none() || req.param("to_host") != Some(domain) {
            return Err("recipient is not an extension of the sender's org");
        }
        let to = req.param("to").ok_or("no recipient")?;
        if to.split_once('@') != Some((to_user, domain)) {
            return Err("recipient address differs from the To header");
        }
        if req.param("dest_proto").is_some_and(|p| p != "sip") || req.param("proto") != Some("sip")
        {
            return Err("not a SIP message");
        }
        Ok(())
    };
    (checks(), slug)
}

fn render(context: &str, decision: &Result<(), &'static str>) -> Result<String, Unwritable> {
    let mut doc = Doc::new("chatplan");
    doc.open("context", &[("name", context)])?;
    doc.open("extension", &[("name", "lpbx")])?;
    doc.open("condition", &[])?;
    doc.empty(
        "action",
        &[("application", "set"), ("data", "final_delivery=true")],
    )?;
    match decision {
        Ok(()) => doc.empty("action", &[("application", "send"), ("data", "sip")])?,
        Err(_) => doc.empty("action", &[("application", "stop")])?,
    }
    Ok(doc.finish())
}
