//! Domain values the test suites and benchmarks build again and again: an extension with
//! everyday settings, and the reception's secrets a new org is created with.

use domain::defaults::ReceptionSecrets;
use domain::{
    A1Hash, CallFlow, DisplayName, Extension, ExtensionNumber, NoAnswer, RingSeconds, SipDomain,
    VoicemailPin,
};

/// Extension `number` of `domain` whose password is `password`: named "Someone", voicemail on
/// with PIN 4321 and no email, rings 20 seconds then goes to voicemail, no do-not-disturb, no
/// outbound caller ID. Tests set what they need differently with struct update syntax.
pub fn extension(number: &str, domain: &str, password: &str) -> Extension {
    let number = ExtensionNumber::parse(number).unwrap_or_else(|e| panic!("{number}: {e}"));
    let domain = SipDomain::parse(domain).unwrap_or_else(|e| panic!("{domain}: {e}"));
    Extension {
        a1_hash: A1Hash::compute(&number, &domain, password),
        number,
        display_name: parsed(DisplayName::parse("Someone")),
        voicemail_enabled: true,
        voicemail_pin: parsed(VoicemailPin::parse("4321")),
        voicemail_email: None,
        call_flow: CallFlow {
            ring_seconds: parsed(RingSeconds::parse(20)),
            no_answer: NoAnswer::Voicemail,
        },
        do_not_disturb: false,
        outbound_caller_id: None,
    }
}

/// The secrets of `domain`'s reception (extension 100) for a new org: `password`, PIN 1234.
pub fn reception_secrets(domain: &SipDomain, password: &str) -> ReceptionSecrets {
    let reception = parsed(domain::defaults::reception_number());
    ReceptionSecrets {
        a1_hash: A1Hash::compute(&reception, domain, password),
        voicemail_pin: parsed(VoicemailPin::parse("1234")),
    }
}

/// A constant that parses.
fn parsed<T, E: std::fmt::Display>(value: Result<T, E>) -> T {
    value.unwrap_or_else(|e| panic!("fixture value: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_authenticates_with_its_password_in_its_domain() {
        let ext = extension("101", "acme.test", "secret");
        let number = ExtensionNumber::parse("101").unwrap();
        let domain = SipDomain::parse("acme.test").unwrap();
        assert_eq!(ext.a1_hash, A1Hash::compute(&number, &domain, "secret"));
        assert_eq!(ext.number, number);
    }

    #[test]
    fn reception_secrets_are_those_of_extension_100() {
        let domain = SipDomain::parse("pbx.acme.test").unwrap();
        let number = ExtensionNumber::parse("100").unwrap();
        let secrets = reception_secrets(&domain, "pw");
        assert_eq!(secrets.a1_hash, A1Hash::compute(&number, &domain, "pw"));
        assert_eq!(secrets.voicemail_pin, VoicemailPin::parse("1234").unwrap());
    }
}
