//! The configuration of a new org, which Reset also restores.
//!
//! Documented for admins in the README ("Reset"):
//! - one extension, **100 "Reception"**, with a new SIP password and voicemail PIN, ringing
//!   25 seconds and then going to voicemail (voicemail on, no e-mail);
//! - every number (DID) of the org rings extension 100;
//! - music on hold on, with the provider's default music; voicemail e-mails carry the recording;
//! - the org's first DID (if any) is the caller ID for outside calls.

use crate::config::{CallFlow, DidRoute, Extension, NoAnswer, OrgConfig, OrgOptions};
use crate::values::{
    A1Hash, DisplayName, ExtensionNumber, RingSeconds, ValueError, VoicemailPin, E164,
};

pub const RECEPTION_NUMBER: &str = "100";
pub const RECEPTION_NAME: &str = "Reception";
pub const DEFAULT_RING_SECONDS: u16 = 25;

/// The fresh secrets of the default extension, made by the caller (this crate does no IO,
/// randomness included).
pub struct ReceptionSecrets {
    pub a1_hash: A1Hash,
    pub voicemail_pin: VoicemailPin,
}

pub fn reception_number() -> Result<ExtensionNumber, ValueError> {
    ExtensionNumber::parse(RECEPTION_NUMBER)
}

/// The default configuration for an org that owns `dids`.
pub fn default_config(secrets: ReceptionSecrets, dids: &[E164]) -> Result<OrgConfig, ValueError> {
    let reception = reception_number()?;
    let extension = Extension {
        number: reception.clone(),
        display_name: DisplayName::parse(RECEPTION_NAME)?,
        a1_hash: secrets.a1_hash,
        voicemail_enabled: true,
        voicemail_pin: secrets.voicemail_pin,
        voicemail_email: None,
        call_flow: CallFlow {
            ring_seconds: RingSeconds::parse(DEFAULT_RING_SECONDS)?,
            no_answer: NoAnswer::Voicemail,
        },
        do_not_disturb: false,
        outbound_caller_id: None,
    };
    let mut dids = dids.to_vec();
    dids.sort();
    Ok(OrgConfig {
        extensions: vec![extension],
        did_routes: dids
            .iter()
            .map(|did| DidRoute {
                did: did.clone(),
                extension: Some(reception.clone()),
            })
            .collect(),
        options: OrgOptions {
            default_caller_id: dids.first().cloned(),
            ..OrgOptions::default()
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::{validate, ValidationContext};
    use crate::values::SipDomain;

    #[test]
    fn defaults_are_valid_and_route_every_did_to_reception() {
        let number = reception_number().unwrap();
        let secrets = ReceptionSecrets {
            a1_hash: A1Hash::compute(&number, &SipDomain::parse("pbx.acme.test").unwrap(), "pw"),
            voicemail_pin: VoicemailPin::parse("4321").unwrap(),
        };
        let dids = [
            E164::parse("+15550100101").unwrap(),
            E164::parse("+15550100100").unwrap(),
        ];
        let config = default_config(secrets, &dids).unwrap();
        let context = ValidationContext {
            owned_dids: dids.iter().cloned().collect(),
            emergency_numbers: ["112".into(), "911".into()].into(),
            max_extensions: 1000,
        };
        assert_eq!(validate(&config, &context), vec![]);
        assert_eq!(config.extensions.len(), 1);
        assert_eq!(config.did_routes.len(), 2);
        assert!(config
            .did_routes
            .iter()
            .all(|r| r.extension.as_ref() == Some(&number)));
        assert_eq!(
            config
                .options
                .default_caller_id
                .as_ref()
                .map(|d| d.as_str()),
            Some("+15550100100")
        );
        assert!(config.options.moh_enabled);
    }
}
