//! Desk phones of an org, shared by the org admin's routes and the provider's: reading the
//! input (MAC, model, extension) into values, and each phone as the API shows it.
//!
//! A phone's extension is checked against the **draft** (the admin may give a phone an
//! extension they have just added); what the phone is sent is made from the **applied**
//! configuration when it fetches its file (`provisioning::device`).

use api_types::desk_phones::{
    DeskPhone, DeskPhoneChange, DeskPhoneList, DeskPhoneModel, DeskPhoneState, NewDeskPhone,
};
use deskphones::Mac;
use domain::ExtensionNumber;
use engine::desk_phones;
use store::desk_phones::{mac_for_people, NewDeskPhone as StoredNew};
use store::orgs::Org;
use store::snapshot::AppliedSnapshot;

use crate::error::{ApiError, ApiResult, Fields};
use crate::provisioning::find_extension;
use crate::state::AppState;

/// Most phones one request adds.
pub const MAX_BATCH: usize = 500;

/// Where phones of `org` fetch their files.
pub fn provisioning_url(state: &AppState, org: &Org) -> String {
    format!(
        "{}/provision/device/",
        state.config().org_url(org.slug.as_str())
    )
}

/// The models phones can be added as.
pub fn models() -> Vec<DeskPhoneModel> {
    deskphones::models()
        .iter()
        .map(|m| DeskPhoneModel {
            id: m.id.to_owned(),
            label: m.label.to_owned(),
            covers: m.covers.to_owned(),
        })
        .collect()
}

/// The org's phones with their state.
pub async fn list(state: &AppState, org: &Org) -> ApiResult<DeskPhoneList> {
    let stored = state.store().desk_phones(org.id).await?;
    let applied = state.store().applied_snapshot(org.id).await?;
    let mut phones = Vec::with_capacity(stored.len());
    for phone in stored {
        phones.push(view(state, org, &applied, phone).await?);
    }
    Ok(DeskPhoneList {
        phones,
        models: models(),
    })
}

/// Adds phones, all or none; `prefix` names the fields of a batch (`phones[3].mac`).
pub async fn add(
    state: &AppState,
    org: &Org,
    phones: &[NewDeskPhone],
    batch: bool,
) -> ApiResult<Vec<DeskPhone>> {
    if phones.is_empty() {
        return Err(ApiError::invalid_field(
            "phones",
            "Name at least one phone.",
        ));
    }
    if phones.len() > MAX_BATCH {
        return Err(ApiError::invalid_field(
            "phones",
            format!("Add at most {MAX_BATCH} phones at once."),
        ));
    }
    let draft = state.store().load_draft(org.id).await?.config();
    let mut fields = Fields::new();
    let mut new = Vec::with_capacity(phones.len());
    let mut seen = std::collections::HashSet::new();
    for (i, phone) in phones.iter().enumerate() {
        let field = |name: &str| {
            if batch {
                format!("phones[{i}].{name}")
            } else {
                name.to_owned()
            }
        };
        let mac = parse_mac(&mut fields, &field("mac"), &phone.mac);
        if let Some(mac) = &mac {
            if !seen.insert(mac.lower()) {
                fields.add(&field("mac"), format!("{} is listed twice.", mac.colons()));
            }
        }
        let model = parse_model(&mut fields, &field("model"), &phone.model);
        let extension = parse_extension(
            &mut fields,
            &field("extension"),
            phone.extension.as_deref(),
            &draft,
        );
        if let (Some(mac), Some(model), Some(extension)) = (mac, model, extension) {
            new.push(StoredNew {
                mac: mac.lower(),
                model: model.id.to_owned(),
                extension,
                http_username: desk_phones::new_http_username(),
            });
        }
    }
    fields.finish()?;
    let added = state.store().add_desk_phones(org.id, &new).await?;
    let applied = state.store().applied_snapshot(org.id).await?;
    let mut views = Vec::with_capacity(added.len());
    for phone in added {
        views.push(view(state, org, &applied, phone).await?);
    }
    Ok(views)
}

/// Gives a phone another model or extension; the phone is asked to fetch its file again.
pub async fn change(
    state: &AppState,
    org: &Org,
    mac: &str,
    change: &DeskPhoneChange,
) -> ApiResult<DeskPhone> {
    let mac = path_mac(mac)?;
    let draft = state.store().load_draft(org.id).await?.config();
    let mut fields = Fields::new();
    let model = parse_model(&mut fields, "model", &change.model);
    let extension = parse_extension(
        &mut fields,
        "extension",
        change.extension.as_deref(),
        &draft,
    );
    fields.finish()?;
    let (Some(model), Some(extension)) = (model, extension) else {
        return Err(ApiError::invalid_field("model", "Choose a model."));
    };
    let before = state.store().desk_phone(org.id, &mac.lower()).await?;
    let phone = state
        .store()
        .update_desk_phone(org.id, &mac.lower(), model.id, extension.as_ref())
        .await?;
    // The phone is registered as its old extension: that is where it can be reached.
    if let Some(old) = before.and_then(|b| b.extension) {
        if phone.extension.as_ref() != Some(&old) || phone.model != model.id {
            desk_phones::ask_to_check(state, &old, &org.sip_domain);
        }
    }
    let applied = state.store().applied_snapshot(org.id).await?;
    view(state, org, &applied, phone).await
}

/// Removes a phone: it is asked to fetch its file again, which has no account any more.
pub async fn remove(state: &AppState, org: &Org, mac: &str) -> ApiResult<()> {
    let mac = path_mac(mac)?;
    let before = state.store().desk_phone(org.id, &mac.lower()).await?;
    state
        .store()
        .retire_desk_phone(org.id, &mac.lower())
        .await?;
    if let Some(old) = before.and_then(|b| b.extension) {
        desk_phones::ask_to_check(state, &old, &org.sip_domain);
    }
    Ok(())
}

/// A MAC in a path: one that does not parse is a phone that does not exist.
fn path_mac(mac: &str) -> ApiResult<Mac> {
    Mac::parse(mac).map_err(|_| ApiError::not_found("Phone"))
}

fn parse_mac(fields: &mut Fields, field: &str, value: &str) -> Option<Mac> {
    match Mac::parse(value.trim()) {
        Ok(mac) => Some(mac),
        Err(err) => {
            fields.add(field, err.to_string());
            None
        }
    }
}

fn parse_model(
    fields: &mut Fields,
    field: &str,
    value: &str,
) -> Option<&'static deskphones::Model> {
    let model = deskphones::model(value.trim());
    if model.is_none() {
        let ids: Vec<&str> = deskphones::models().iter().map(|m| m.id).collect();
        fields.add(
            field,
            format!("Unknown phone model; use one of {}.", ids.join(", ")),
        );
    }
    model
}

/// `Some(None)`: no extension; `None`: an error was recorded.
fn parse_extension(
    fields: &mut Fields,
    field: &str,
    value: Option<&str>,
    draft: &domain::OrgConfig,
) -> Option<Option<ExtensionNumber>> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Some(None);
    };
    let number = fields.check(field, ExtensionNumber::parse(value))?;
    if !draft.extensions.iter().any(|e| e.number == number) {
        fields.add(
            field,
            format!("There is no extension {number}; add it on the PBX page first."),
        );
        return None;
    }
    Some(Some(number))
}

/// A stored phone as the API shows it.
pub async fn view(
    state: &AppState,
    org: &Org,
    applied: &AppliedSnapshot,
    phone: store::desk_phones::DeskPhone,
) -> ApiResult<DeskPhone> {
    let model = deskphones::model(&phone.model);
    let mac = Mac::parse(&phone.mac).ok();
    let file_name = match (model, &mac) {
        (Some(model), Some(mac)) => deskphones::file_names(model, mac)
            .into_iter()
            .next()
            .unwrap_or_default(),
        _ => String::new(),
    };
    let (phone_state, state_text) = phone_state(state, org, applied, &phone).await?;
    Ok(DeskPhone {
        mac: mac_for_people(&phone.mac),
        model: phone.model.clone(),
        model_label: model.map(|m| m.label).unwrap_or("Unknown model").to_owned(),
        extension: phone.extension.as_ref().map(|e| e.to_string()),
        state: phone_state,
        state_text,
        provisioning_url: provisioning_url(state, org),
        file_name,
        password: desk_phones::http_password(state, org.id, &phone.mac, &phone.http_username),
        username: phone.http_username,
        last_fetch_at: phone.last_fetch_at,
        last_fetch_ip: phone.last_fetch_ip,
    })
}

async fn phone_state(
    state: &AppState,
    org: &Org,
    applied: &AppliedSnapshot,
    phone: &store::desk_phones::DeskPhone,
) -> ApiResult<(DeskPhoneState, String)> {
    let Some(number) = &phone.extension else {
        return Ok((
            DeskPhoneState::NoExtension,
            "Not on an extension: the phone gets no account.".into(),
        ));
    };
    let Some(extension) = find_extension(applied, number.as_str()) else {
        return Ok((
            DeskPhoneState::WaitingForApply,
            format!("Extension {number} is not applied yet: Apply to give the phone its account."),
        ));
    };
    if desk_phones::sip_password(state, org.id, &extension.a1_hash)
        .await?
        .is_none()
    {
        return Ok((
            DeskPhoneState::NeedsNewPassword,
            format!(
                "Extension {number}'s SIP password was set before passwords were kept for desk phones: give it a new SIP password on the PBX page, then Apply."
            ),
        ));
    }
    Ok((
        DeskPhoneState::Ready,
        format!("The phone gets extension {number} at its next check."),
    ))
}
