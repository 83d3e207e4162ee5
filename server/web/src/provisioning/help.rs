//! The org admin's phone help: the org's values for the help pages, and one help page filled
//! with them and an applied extension's number and name. The SIP password fields name the
//! password (and where it is made), never hold one; the LDAP phone book's settings are filled
//! in whole, its read-only password included.

use api_types::phones::FilledGuide;
use api_types::provisioning::PhonesView;
use store::OrgId;

use crate::error::{ApiError, ApiResult};
use crate::provisioning::{
    device, feature_codes, find_extension, guides, placeholder_values, Directory, Site,
    REGISTRATION_EXPIRY_SECS,
};
use crate::state::AppState;

/// The org's values for the phone help pages.
pub async fn phones_view(state: &AppState, org: OrgId) -> ApiResult<PhonesView> {
    let snapshot = state.store().applied_snapshot(org).await?;
    let phonebook = device::phonebook(state, &snapshot.org);
    let directory = Directory::from_snapshot(&snapshot);
    let site = Site::from_config(state.config());
    let org_url = state.config().org_url(&directory.org_slug);
    Ok(PhonesView {
        org_name: directory.org_name.clone(),
        sip_domain: directory.sip_domain.clone(),
        server: site.server.clone(),
        transports: site.transport_views(),
        registration_expiry_seconds: REGISTRATION_EXPIRY_SECS,
        feature_codes: feature_codes(),
        values: placeholder_values(&directory, &site, &org_url, phonebook.as_ref()),
        extensions: directory.entry_views(),
    })
}

/// The help page `id` filled for the org and its applied extension `extension`.
pub async fn filled_guide(
    state: &AppState,
    org: OrgId,
    id: &str,
    extension: Option<&str>,
) -> ApiResult<FilledGuide> {
    let guide = guides::guide(id).ok_or_else(|| ApiError::not_found("Help page"))?;
    let snapshot = state.store().applied_snapshot(org).await?;
    let wanted = extension.map(str::trim).unwrap_or("");
    let Some(extension) = find_extension(&snapshot, wanted) else {
        return Err(ApiError::invalid_field(
            "extension",
            "Choose an extension that is applied: phones only know applied extensions.",
        ));
    };
    let directory = Directory::from_snapshot(&snapshot);
    let site = Site::from_config(state.config());
    let org_url = state.config().org_url(&directory.org_slug);
    let phonebook = device::phonebook(state, &snapshot.org);
    let mut values = placeholder_values(&directory, &site, &org_url, phonebook.as_ref());
    let number = extension.number.to_string();
    let other = directory
        .entries
        .iter()
        .find(|e| e.number != number)
        .map_or_else(|| "a second extension".to_owned(), |e| e.number.clone());
    values.insert("extension".into(), number.clone());
    values.insert("display_name".into(), extension.display_name.to_string());
    values.insert(
        "password".into(),
        format!("the SIP password of extension {number}"),
    );
    values.insert("other_extension".into(), other);
    Ok(guide.filled(&number, |name| values.get(name).cloned()))
}
