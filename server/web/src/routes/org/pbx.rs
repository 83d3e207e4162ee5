//! The PBX page: reading and editing the draft, Discard and Reset.

use api_types::org::{
    ChangeView, CreatedExtension, DidView, ExtensionPatch, ExtensionView, NewExtension,
    NewPassword, OptionsPatch, OptionsView, PbxView, ResetRequest, ResetResult, RevisionRef,
    RouteUpdate,
};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::{
    validate_draft, CallFlow, DisplayName, Email, Extension, ExtensionNumber, NoAnswer,
    RingSeconds, VoicemailPin, E164,
};
use serde::Deserialize;
use store::orgs::Org;
use store::Layer;

use crate::auth::OrgAdmin;
use crate::error::{checked, ApiError, ApiJson, ApiQuery, ApiResult, Fields};
use crate::state::AppState;
use crate::views;
use engine::{desk_phones, secrets, services};

/// Default ring time of a new extension.
const DEFAULT_RING_SECONDS: u16 = 20;

pub async fn view(State(state): State<AppState>, admin: OrgAdmin) -> ApiResult<ApiJson<PbxView>> {
    Ok(ApiJson(pbx_view(&state, &admin.org).await?))
}

/// The whole page: the draft with revisions, what blocks Apply, what Apply would change.
pub async fn pbx_view(state: &AppState, org: &Org) -> ApiResult<PbxView> {
    let store = state.store();
    let draft = store.load_draft(org.id).await?;
    let config = draft.config();
    let issues = validate_draft(
        &config,
        store.org_dids(org.id).await?,
        &state.config().emergency_numbers,
        org.limits.max_extensions,
    );
    let applied = store.load_layer(org.id, Layer::Applied).await?;
    let changes = domain::diff(&config, &applied);
    let job = match store.latest_job(org.id).await? {
        Some(job) => Some(views::job(
            &job,
            store.pending_fs_commands_of(org.id).await?,
        )),
        None => None,
    };
    let current = store.org(org.id).await?;
    Ok(PbxView {
        dids: draft.did_routes.iter().map(views::did).collect(),
        extensions: draft.extensions.iter().map(views::extension).collect(),
        options: views::options(&draft.options),
        issues: issues.iter().map(views::issue).collect(),
        changes: changes.iter().map(views::change).collect(),
        applied_version: current.applied_version,
        job,
    })
}

pub async fn changes(
    State(state): State<AppState>,
    admin: OrgAdmin,
) -> ApiResult<ApiJson<Vec<ChangeView>>> {
    let changes = state.store().pending_changes(admin.org.id).await?;
    Ok(ApiJson(changes.iter().map(views::change).collect()))
}

fn parse_number(number: &str) -> ApiResult<ExtensionNumber> {
    ExtensionNumber::parse(number).map_err(|_| ApiError::not_found("Extension"))
}

/// Parses an optional e-mail field: empty means none.
fn optional_email(value: &str) -> Result<Option<Email>, domain::ValueError> {
    let value = value.trim();
    if value.is_empty() {
        Ok(None)
    } else {
        Email::parse(value).map(Some)
    }
}

fn optional_did(value: &str) -> Result<Option<E164>, domain::ValueError> {
    let value = value.trim();
    if value.is_empty() {
        Ok(None)
    } else {
        E164::parse(value).map(Some)
    }
}

pub async fn create_extension(
    State(state): State<AppState>,
    admin: OrgAdmin,
    ApiJson(body): ApiJson<NewExtension>,
) -> ApiResult<Response> {
    let mut fields = Fields::new();
    let number = fields.check("number", ExtensionNumber::parse(&body.number));
    let display_name = fields.check("display_name", DisplayName::parse(&body.display_name));
    let pin = match &body.voicemail_pin {
        Some(pin) => fields.check("voicemail_pin", VoicemailPin::parse(pin)),
        None => VoicemailPin::parse(&secrets::voicemail_pin()).ok(),
    };
    let email = fields.check(
        "voicemail_email",
        optional_email(body.voicemail_email.as_deref().unwrap_or("")),
    );
    let ring = fields.check(
        "ring_seconds",
        RingSeconds::parse(body.ring_seconds.unwrap_or(DEFAULT_RING_SECONDS)),
    );
    let no_answer = fields.check(
        "no_answer_target",
        NoAnswer::from_parts(
            body.no_answer_action.as_deref().unwrap_or("voicemail"),
            body.no_answer_target.as_deref(),
        ),
    );
    if let Some(number) = &number {
        if state
            .config()
            .emergency_numbers
            .iter()
            .any(|e| e == number.as_str())
        {
            fields.add(
                "number",
                format!("{number} is an emergency number and cannot be an extension."),
            );
        }
    }
    fields.finish()?;
    let number = checked(number)?;
    let (a1_hash, sip_password) =
        desk_phones::new_sip_credentials(&state, admin.org.id, &number, &admin.org.sip_domain)
            .await?;
    let extension = Extension {
        number,
        display_name: checked(display_name)?,
        a1_hash,
        voicemail_enabled: body.voicemail_enabled.unwrap_or(true),
        voicemail_pin: checked(pin)?,
        voicemail_email: checked(email)?,
        call_flow: CallFlow {
            ring_seconds: checked(ring)?,
            no_answer: checked(no_answer)?,
        },
        do_not_disturb: false,
        outbound_caller_id: None,
    };
    let created = state
        .store()
        .create_extension(admin.org.id, &extension)
        .await?;
    tracing::info!(org = %admin.org.slug, number = %extension.number, by = %admin.admin.email, "extension added to the draft");
    let body = CreatedExtension {
        extension: views::extension(&created),
        sip_password,
    };
    Ok((StatusCode::CREATED, ApiJson(body)).into_response())
}

/// The parsed fields of a patch; `None` leaves a field unchanged.
struct ExtensionChanges {
    display_name: Option<DisplayName>,
    voicemail_enabled: Option<bool>,
    voicemail_pin: Option<VoicemailPin>,
    voicemail_email: Option<Option<Email>>,
    ring_seconds: Option<RingSeconds>,
    do_not_disturb: Option<bool>,
    outbound_caller_id: Option<Option<E164>>,
}

fn parse_patch(patch: &ExtensionPatch, fields: &mut Fields) -> ExtensionChanges {
    ExtensionChanges {
        display_name: patch
            .display_name
            .as_deref()
            .and_then(|v| fields.check("display_name", DisplayName::parse(v))),
        voicemail_enabled: patch.voicemail_enabled,
        voicemail_pin: patch
            .voicemail_pin
            .as_deref()
            .and_then(|v| fields.check("voicemail_pin", VoicemailPin::parse(v))),
        voicemail_email: patch
            .voicemail_email
            .as_deref()
            .and_then(|v| fields.check("voicemail_email", optional_email(v))),
        ring_seconds: patch
            .ring_seconds
            .and_then(|v| fields.check("ring_seconds", RingSeconds::parse(v))),
        do_not_disturb: patch.do_not_disturb,
        outbound_caller_id: patch
            .outbound_caller_id
            .as_deref()
            .and_then(|v| fields.check("outbound_caller_id", optional_did(v))),
    }
}

impl ExtensionChanges {
    fn apply_to(self, ext: &mut Extension) {
        if let Some(v) = self.display_name {
            ext.display_name = v;
        }
        if let Some(v) = self.voicemail_enabled {
            ext.voicemail_enabled = v;
        }
        if let Some(v) = self.voicemail_pin {
            ext.voicemail_pin = v;
        }
        if let Some(v) = self.voicemail_email {
            ext.voicemail_email = v;
        }
        if let Some(v) = self.ring_seconds {
            ext.call_flow.ring_seconds = v;
        }
        if let Some(v) = self.do_not_disturb {
            ext.do_not_disturb = v;
        }
        if let Some(v) = self.outbound_caller_id {
            ext.outbound_caller_id = v;
        }
    }
}

/// The no-answer action after a patch: action and target change together; a target alone
/// changes the target of the current action.
fn patched_no_answer(
    current: &NoAnswer,
    patch: &ExtensionPatch,
) -> Option<Result<NoAnswer, domain::ValueError>> {
    if patch.no_answer_action.is_none() && patch.no_answer_target.is_none() {
        return None;
    }
    let action = patch
        .no_answer_action
        .as_deref()
        .unwrap_or(current.action_name());
    let target = patch.no_answer_target.as_deref().or(current.target());
    Some(NoAnswer::from_parts(action, target))
}

pub async fn update_extension(
    State(state): State<AppState>,
    admin: OrgAdmin,
    Path(number): Path<String>,
    ApiJson(patch): ApiJson<ExtensionPatch>,
) -> ApiResult<ApiJson<ExtensionView>> {
    let number = parse_number(&number)?;
    let mut fields = Fields::new();
    let changes = parse_patch(&patch, &mut fields);
    fields.finish()?;
    let updated = state
        .store()
        .update_extension(admin.org.id, &number, patch.revision, |ext| {
            if let Some(no_answer) = patched_no_answer(&ext.call_flow.no_answer, &patch) {
                ext.call_flow.no_answer =
                    no_answer.map_err(|e| store::StoreError::Conflict(e.0))?;
            }
            changes.apply_to(ext);
            Ok(())
        })
        .await
        .map_err(|err| match err {
            // A bad no-answer target is the admin's input, not a clash: answer it per field.
            store::StoreError::Conflict(message)
                if patch.no_answer_action.is_some() || patch.no_answer_target.is_some() =>
            {
                ApiError::invalid_field("no_answer_target", message)
            }
            other => other.into(),
        })?;
    Ok(ApiJson(views::extension(&updated)))
}

#[derive(Debug, Deserialize)]
pub struct RevisionQuery {
    revision: i64,
}

pub async fn delete_extension(
    State(state): State<AppState>,
    admin: OrgAdmin,
    Path(number): Path<String>,
    ApiQuery(query): ApiQuery<RevisionQuery>,
) -> ApiResult<StatusCode> {
    let number = parse_number(&number)?;
    state
        .store()
        .delete_extension(admin.org.id, &number, query.revision)
        .await?;
    tracing::info!(org = %admin.org.slug, %number, by = %admin.admin.email, "extension removed from the draft");
    Ok(StatusCode::NO_CONTENT)
}

pub async fn new_password(
    State(state): State<AppState>,
    admin: OrgAdmin,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<RevisionRef>,
) -> ApiResult<ApiJson<NewPassword>> {
    let number = parse_number(&number)?;
    let (a1_hash, sip_password) =
        desk_phones::new_sip_credentials(&state, admin.org.id, &number, &admin.org.sip_domain)
            .await?;
    let updated = state
        .store()
        .update_extension(admin.org.id, &number, body.revision, |ext| {
            ext.a1_hash = a1_hash;
            Ok(())
        })
        .await?;
    Ok(ApiJson(NewPassword {
        sip_password,
        extension: views::extension(&updated),
    }))
}

pub async fn set_route(
    State(state): State<AppState>,
    admin: OrgAdmin,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<RouteUpdate>,
) -> ApiResult<ApiJson<DidView>> {
    let did = E164::parse(&number).map_err(|_| ApiError::not_found("Number"))?;
    let extension = match body
        .extension
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        Some(ext) => Some(
            ExtensionNumber::parse(ext).map_err(|e| ApiError::invalid_field("extension", e.0))?,
        ),
        None => None,
    };
    let route = state
        .store()
        .set_did_route(admin.org.id, &did, extension, body.revision)
        .await?;
    Ok(ApiJson(views::did(&route)))
}

pub async fn update_options(
    State(state): State<AppState>,
    admin: OrgAdmin,
    ApiJson(patch): ApiJson<OptionsPatch>,
) -> ApiResult<ApiJson<OptionsView>> {
    let mut fields = Fields::new();
    let caller_id = patch
        .default_caller_id
        .as_deref()
        .and_then(|v| fields.check("default_caller_id", optional_did(v)));
    fields.finish()?;
    let updated = state
        .store()
        .update_options(admin.org.id, patch.revision, |options| {
            if let Some(enabled) = patch.moh_enabled {
                options.moh_enabled = enabled;
            }
            if let Some(caller_id) = caller_id {
                options.default_caller_id = caller_id;
            }
            if let Some(attach) = patch.voicemail_attach_audio {
                options.voicemail_attach_audio = attach;
            }
            if patch.remove_moh_file == Some(true) {
                options.moh_file = None;
            }
            Ok(())
        })
        .await?;
    Ok(ApiJson(views::options(&updated)))
}

pub async fn discard(
    State(state): State<AppState>,
    admin: OrgAdmin,
) -> ApiResult<ApiJson<PbxView>> {
    state.store().discard(admin.org.id).await?;
    tracing::info!(org = %admin.org.slug, by = %admin.admin.email, "draft discarded");
    Ok(ApiJson(pbx_view(&state, &admin.org).await?))
}

/// The word Reset must be confirmed with.
const RESET_CONFIRMATION: &str = "RESET";

pub async fn reset(
    State(state): State<AppState>,
    admin: OrgAdmin,
    ApiJson(body): ApiJson<ResetRequest>,
) -> ApiResult<ApiJson<ResetResult>> {
    if body.confirm != RESET_CONFIRMATION {
        return Err(ApiError::invalid_field(
            "confirm",
            format!("Type {RESET_CONFIRMATION} to confirm: Reset replaces every extension and setting of the draft with the defaults."),
        ));
    }
    let (secrets, password, pin) = services::reception_secrets(&admin.org.sip_domain)?;
    let reception_a1 = secrets.a1_hash.clone();
    state.store().reset(admin.org.id, secrets).await?;
    desk_phones::keep_sip_password(&state, admin.org.id, &reception_a1, &password).await?;
    tracing::info!(org = %admin.org.slug, by = %admin.admin.email, "draft reset to defaults");
    Ok(ApiJson(ResetResult {
        reception_number: domain::defaults::RECEPTION_NUMBER.to_owned(),
        reception_sip_password: password,
        reception_voicemail_pin: pin,
    }))
}
