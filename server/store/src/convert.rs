//! Rows to domain values and back. Stored values are parsed again on the way out: a row that
//! the domain refuses is reported as [`StoreError::Corrupt`], never passed on.

use domain::{
    A1Hash, CallFlow, DidRoute, DisplayName, Email, Extension, ExtensionNumber, MohFileId,
    NoAnswer, OrgOptions, RingSeconds, ValueError, VoicemailPin, E164,
};
use sea_orm::ActiveValue::{NotSet, Set};

use crate::entities::{did_routes, extensions, org_settings};
use crate::{Layer, OrgId, StoreError};

fn corrupt(what: &str) -> impl Fn(ValueError) -> StoreError + '_ {
    move |err| StoreError::Corrupt(format!("{what}: {err}"))
}

pub(crate) fn extension_from_row(row: &extensions::Model) -> Result<Extension, StoreError> {
    let what = format!("extension row {}", row.id);
    let c = corrupt(&what);
    let ring = u16::try_from(row.ring_seconds)
        .map_err(|_| StoreError::Corrupt(format!("{what}: ring seconds")))?;
    Ok(Extension {
        number: ExtensionNumber::parse(&row.number).map_err(&c)?,
        display_name: DisplayName::parse(&row.display_name).map_err(&c)?,
        a1_hash: A1Hash::parse(&row.a1_hash).map_err(&c)?,
        voicemail_enabled: row.voicemail_enabled,
        voicemail_pin: VoicemailPin::parse(&row.voicemail_pin).map_err(&c)?,
        voicemail_email: row
            .voicemail_email
            .as_deref()
            .map(Email::parse)
            .transpose()
            .map_err(&c)?,
        call_flow: CallFlow {
            ring_seconds: RingSeconds::parse(ring).map_err(&c)?,
            no_answer: NoAnswer::from_parts(&row.no_answer_action, row.no_answer_target.as_deref())
                .map_err(&c)?,
        },
        do_not_disturb: row.do_not_disturb,
        outbound_caller_id: row
            .outbound_caller_id
            .as_deref()
            .map(E164::parse)
            .transpose()
            .map_err(&c)?,
    })
}

pub(crate) fn extension_to_row(
    org: OrgId,
    layer: Layer,
    ext: &Extension,
    revision: i64,
) -> extensions::ActiveModel {
    extensions::ActiveModel {
        id: NotSet,
        org_id: Set(org.0),
        layer: Set(layer.as_str().to_owned()),
        number: Set(ext.number.to_string()),
        display_name: Set(ext.display_name.to_string()),
        a1_hash: Set(ext.a1_hash.to_string()),
        voicemail_enabled: Set(ext.voicemail_enabled),
        voicemail_pin: Set(ext.voicemail_pin.to_string()),
        voicemail_email: Set(ext.voicemail_email.as_ref().map(|e| e.to_string())),
        ring_seconds: Set(ext.call_flow.ring_seconds.get() as i16),
        no_answer_action: Set(ext.call_flow.no_answer.action_name().to_owned()),
        no_answer_target: Set(ext.call_flow.no_answer.target().map(str::to_owned)),
        do_not_disturb: Set(ext.do_not_disturb),
        outbound_caller_id: Set(ext.outbound_caller_id.as_ref().map(|d| d.to_string())),
        revision: Set(revision),
    }
}

pub(crate) fn route_from_row(row: &did_routes::Model) -> Result<DidRoute, StoreError> {
    let what = format!("DID route row {}", row.id);
    let c = corrupt(&what);
    Ok(DidRoute {
        did: E164::parse(&row.did).map_err(&c)?,
        extension: row
            .extension
            .as_deref()
            .map(ExtensionNumber::parse)
            .transpose()
            .map_err(&c)?,
    })
}

pub(crate) fn route_to_row(
    org: OrgId,
    layer: Layer,
    route: &DidRoute,
    revision: i64,
) -> did_routes::ActiveModel {
    did_routes::ActiveModel {
        id: NotSet,
        org_id: Set(org.0),
        layer: Set(layer.as_str().to_owned()),
        did: Set(route.did.to_string()),
        extension: Set(route.extension.as_ref().map(|e| e.to_string())),
        revision: Set(revision),
    }
}

pub(crate) fn options_from_row(row: &org_settings::Model) -> Result<OrgOptions, StoreError> {
    let what = format!("settings row {}", row.id);
    let c = corrupt(&what);
    Ok(OrgOptions {
        moh_enabled: row.moh_enabled,
        moh_file: row
            .moh_file
            .as_deref()
            .map(MohFileId::parse)
            .transpose()
            .map_err(&c)?,
        default_caller_id: row
            .default_caller_id
            .as_deref()
            .map(E164::parse)
            .transpose()
            .map_err(&c)?,
        voicemail_attach_audio: row.voicemail_attach_audio,
    })
}

pub(crate) fn options_to_row(
    org: OrgId,
    layer: Layer,
    options: &OrgOptions,
    revision: i64,
) -> org_settings::ActiveModel {
    org_settings::ActiveModel {
        id: NotSet,
        org_id: Set(org.0),
        layer: Set(layer.as_str().to_owned()),
        moh_enabled: Set(options.moh_enabled),
        moh_file: Set(options.moh_file.as_ref().map(|f| f.as_str().to_owned())),
        default_caller_id: Set(options.default_caller_id.as_ref().map(|d| d.to_string())),
        voicemail_attach_audio: Set(options.voicemail_attach_audio),
        revision: Set(revision),
    }
}
