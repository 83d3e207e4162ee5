//! The configuration an org admin edits: extensions, DID routing, org-wide options.
//!
//! The same type describes both layers: the **draft** (what the admin is editing) and the
//! **applied** configuration (what FreeSWITCH is served). Apply copies one onto the other.

use serde::{Deserialize, Serialize};

use crate::values::{
    A1Hash, DisplayName, Email, ExtensionNumber, ExternalNumber, RingSeconds, VoicemailPin, E164,
};

/// What happens to a call that the extension does not answer in time (or rejects, or cannot
/// take because it is busy, unregistered or on do-not-disturb).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "action", content = "target", rename_all = "snake_case")]
pub enum NoAnswer {
    Voicemail,
    ForwardExtension(ExtensionNumber),
    ForwardExternal(ExternalNumber),
    Hangup,
}

impl NoAnswer {
    /// The stable name of the action, as stored and shown in the API.
    pub fn action_name(&self) -> &'static str {
        match self {
            NoAnswer::Voicemail => "voicemail",
            NoAnswer::ForwardExtension(_) => "forward_extension",
            NoAnswer::ForwardExternal(_) => "forward_external",
            NoAnswer::Hangup => "hangup",
        }
    }

    /// The target as stored (`None` for actions without one).
    pub fn target(&self) -> Option<&str> {
        match self {
            NoAnswer::ForwardExtension(ext) => Some(ext.as_str()),
            NoAnswer::ForwardExternal(number) => Some(number.as_str()),
            NoAnswer::Voicemail | NoAnswer::Hangup => None,
        }
    }

    /// Rebuilds the action from its stored name and target.
    pub fn from_parts(action: &str, target: Option<&str>) -> Result<Self, crate::ValueError> {
        let need_target = || {
            target
                .filter(|t| !t.trim().is_empty())
                .ok_or_else(|| crate::ValueError("Choose where the call is forwarded to.".into()))
        };
        match action {
            "voicemail" => Ok(NoAnswer::Voicemail),
            "hangup" => Ok(NoAnswer::Hangup),
            "forward_extension" => Ok(NoAnswer::ForwardExtension(ExtensionNumber::parse(need_target()?)?)),
            "forward_external" => Ok(NoAnswer::ForwardExternal(ExternalNumber::parse(need_target()?)?)),
            other => Err(crate::ValueError(format!(
                "Unknown no-answer action \"{}\"; use voicemail, forward_extension, forward_external or hangup.",
                other.escape_default()
            ))),
        }
    }
}

/// Ring the extension for `ring_seconds`, then do `no_answer`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CallFlow {
    pub ring_seconds: RingSeconds,
    pub no_answer: NoAnswer,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Extension {
    pub number: ExtensionNumber,
    pub display_name: DisplayName,
    /// `md5(number:sip_domain:password)`; the SIP password itself is never stored.
    pub a1_hash: A1Hash,
    pub voicemail_enabled: bool,
    pub voicemail_pin: VoicemailPin,
    /// Where new voicemail is sent, if anywhere.
    pub voicemail_email: Option<Email>,
    pub call_flow: CallFlow,
    pub do_not_disturb: bool,
    /// Caller ID for outside calls, one of the org's DIDs. `None`: the org's default caller ID.
    pub outbound_caller_id: Option<E164>,
}

/// Which extension an inbound number (DID) rings. `extension: None` means calls to the DID are
/// refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DidRoute {
    pub did: E164,
    pub extension: Option<ExtensionNumber>,
}

/// A converted music-on-hold recording, named by the hex SHA-256 of the uploaded file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MohFileId(String);

impl MohFileId {
    pub fn parse(value: &str) -> Result<Self, crate::ValueError> {
        if value.len() != 64
            || !value
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(crate::ValueError("Unknown music-on-hold file.".into()));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for MohFileId {
    type Error = crate::ValueError;
    fn try_from(value: String) -> Result<Self, crate::ValueError> {
        Self::parse(&value)
    }
}

impl From<MohFileId> for String {
    fn from(value: MohFileId) -> String {
        value.0
    }
}

/// Org-wide options.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OrgOptions {
    /// Play music to callers on hold. Without an uploaded file the provider's default stream
    /// plays (never another org's).
    pub moh_enabled: bool,
    /// The org's own music, if uploaded.
    pub moh_file: Option<MohFileId>,
    /// Caller ID for outside calls of extensions that have none of their own.
    pub default_caller_id: Option<E164>,
    /// Attach the recording to voicemail e-mails.
    pub voicemail_attach_audio: bool,
}

impl Default for OrgOptions {
    fn default() -> Self {
        Self {
            moh_enabled: true,
            moh_file: None,
            default_caller_id: None,
            voicemail_attach_audio: true,
        }
    }
}

/// One layer (draft or applied) of one org's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OrgConfig {
    pub extensions: Vec<Extension>,
    pub did_routes: Vec<DidRoute>,
    pub options: OrgOptions,
}

impl OrgConfig {
    pub fn extension(&self, number: &ExtensionNumber) -> Option<&Extension> {
        self.extensions.iter().find(|e| &e.number == number)
    }

    /// Sorts extensions by number and routes by DID so that equal configurations compare equal
    /// whatever order they were loaded in.
    pub fn normalized(mut self) -> Self {
        self.extensions.sort_by(|a, b| a.number.cmp(&b.number));
        self.did_routes.sort_by(|a, b| a.did.cmp(&b.did));
        self
    }
}

/// Whether an org's phones may register and call. Set by the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgStatus {
    Active,
    Suspended,
}

impl OrgStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgStatus::Active => "active",
            OrgStatus::Suspended => "suspended",
        }
    }

    pub fn parse(value: &str) -> Result<Self, crate::ValueError> {
        match value {
            "active" => Ok(OrgStatus::Active),
            "suspended" => Ok(OrgStatus::Suspended),
            _ => Err(crate::ValueError(
                "Status is \"active\" or \"suspended\".".into(),
            )),
        }
    }
}
