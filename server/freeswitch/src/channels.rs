//! The `channels` section. sofia asks it (`purpose=nightmare_xfer`) when a phone's REFER
//! carries a `Replaces` that names no call sofia knows (sofia.c `sofia_handle_sip_i_refer`,
//! 1.10.12, with the profile flag `channel-xml-fetch-on-nightmare-transfer`). Without an answer
//! sofia would call the Refer-To URI itself: any host, no dialplan, gateway, caller-ID check or
//! limit. Every answer is therefore the same refusal: `absolute-dial-string` `error/...`, a
//! dial string that fails at once, so nothing is called. An attended transfer of a call that
//! does exist never comes here (sofia finds it, and `deny_refer_requests` refuses it).

use crate::answer::{Answer, Reason};
use crate::request::Request;
use crate::xml::{Doc, Unwritable};

/// The dial string sofia is given: `error/` ends the originate with this cause.
pub const REFUSED_DIAL_STRING: &str = "error/CALL_REJECTED";

pub(crate) fn answer(req: &Request<'_>) -> Answer {
    let why = match req.param("purpose") {
        Some("nightmare_xfer") => {
            "transfer to a call FreeSWITCH does not know (REFER with Replaces)"
        }
        _ => "unknown channels lookup",
    };
    match render() {
        Ok(xml) => Answer::new(xml, Reason::TransferRefused(why)),
        Err(u) => Answer::new(crate::xml::NOT_FOUND.to_owned(), Reason::Unwritable(u)),
    }
}

/// `<section name="channels"><params>`: sofia reads the section's own `params` (it looks the
/// section up without a tag name). `dial-prefix` is given as empty so that nothing is put
/// before the dial string.
fn render() -> Result<String, Unwritable> {
    let mut doc = Doc::new("channels");
    doc.open("params", &[])?;
    doc.empty("param", &[("name", "dial-prefix"), ("value", "")])?;
    doc.empty(
        "param",
        &[
            ("name", "absolute-dial-string"),
            ("value", REFUSED_DIAL_STRING),
        ],
    )?;
    Ok(doc.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_channels_answer_refuses_with_a_failing_dial_string() {
        let xml = render().unwrap();
        assert!(xml.contains(r#"<section name="channels">"#), "{xml}");
        assert!(
            xml.contains(r#"<param name="absolute-dial-string" value="error/CALL_REJECTED"/>"#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<param name="dial-prefix" value=""/>"#),
            "{xml}"
        );
        assert!(!xml.contains("sip-url"), "{xml}");
    }
}
