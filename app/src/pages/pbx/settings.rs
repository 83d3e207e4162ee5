//! Company-wide settings: music on hold (on/off, upload), the usual outgoing number, voicemail
//! e-mail attachments.

use api_types::org::OptionsPatch;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::Pbx;
use crate::api;
use crate::autosave::{SaveState, Saver};
use crate::components::{chosen_file, clear_file_input, FieldStatus};
use crate::pages::fields::{CheckField, SelectField};

const MAX_MOH_BYTES: f64 = 20.0 * 1024.0 * 1024.0;

/// The content type of an audio file, from the browser or from its name.
fn audio_type(file: &web_sys::File) -> Option<String> {
    let given = file.type_();
    if matches!(given.as_str(), "audio/mpeg" | "audio/wav" | "audio/ogg") {
        return Some(given);
    }
    let name = file.name().to_ascii_lowercase();
    match name.rsplit('.').next() {
        Some("mp3") => Some("audio/mpeg".into()),
        Some("wav") => Some("audio/wav".into()),
        Some("ogg" | "oga") => Some("audio/ogg".into()),
        _ if given.starts_with("audio/") => Some(given),
        _ => None,
    }
}

#[component]
pub fn Settings() -> impl IntoView {
    let pbx = Pbx::use_ctx();
    let opt = move |f: fn(&api_types::org::OptionsView) -> bool| {
        Memo::new(move |_| pbx.view.with(|v| v.as_ref().is_some_and(|v| f(&v.options))))
    };
    let moh_enabled = opt(|o| o.moh_enabled);
    let has_file = opt(|o| o.has_moh_file);
    let attach = opt(|o| o.voicemail_attach_audio);
    let default_cid = Memo::new(move |_| {
        pbx.view.with(|v| {
            v.as_ref()
                .and_then(|v| v.options.default_caller_id.clone())
                .unwrap_or_default()
        })
    });
    let cid_options = Memo::new(move |_| {
        let mut options = vec![(String::new(), "None (the provider's default)".to_owned())];
        pbx.view.with(|v| {
            if let Some(v) = v {
                options.extend(v.dids.iter().map(|d| (d.number.clone(), d.number.clone())));
            }
        });
        options
    });

    let saver = Saver::<OptionsPatch>::new(move |mut patch: OptionsPatch| async move {
        patch.revision = pbx
            .view
            .with_untracked(|v| v.as_ref().map(|v| v.options.revision))
            .unwrap_or_default();
        let options = api::patch_options(&patch).await?;
        pbx.update(|v| v.options = options);
        Ok(())
    })
    .after_save(move || pbx.reload());
    let s = || RwSignal::new(SaveState::Idle);
    let (st_moh, st_cid, st_attach, st_upload) = (s(), s(), s(), s());
    let issues = |field: &'static str| pbx.issues_for("options", None, field);

    let upload = move |ev: web_sys::Event| {
        let Some(file) = chosen_file(&ev) else { return };
        clear_file_input(&ev);
        let Some(content_type) = audio_type(&file) else {
            st_upload.set(SaveState::Error(
                "This is not an MP3, WAV or OGG audio file.".into(),
            ));
            return;
        };
        if file.size() > MAX_MOH_BYTES {
            st_upload.set(SaveState::Error(
                "The file is larger than 20 MB. Choose a shorter piece of music.".into(),
            ));
            return;
        }
        st_upload.set(SaveState::Saving);
        spawn_local(async move {
            match api::upload_moh(&file, &content_type).await {
                Ok(options) => {
                    st_upload.set(SaveState::Saved);
                    pbx.update(|v| v.options = options);
                    pbx.reload();
                }
                Err(e) => st_upload.set(SaveState::Error(e.message())),
            }
        });
    };
    let remove_file = move |_| {
        saver.save("remove_moh_file", st_upload, |p: &mut OptionsPatch| {
            p.remove_moh_file = Some(true)
        });
    };

    view! {
        <section class="card" aria-labelledby="settings-title">
            <h2 id="settings-title">"Music on hold and company settings"</h2>
            <CheckField id="moh-enabled" label="Play music to callers on hold"
                value=moh_enabled state=st_moh issues=issues("moh_enabled")
                on_commit=Callback::new(move |v: bool| saver.save("moh_enabled", st_moh, move |p: &mut OptionsPatch| p.moh_enabled = Some(v)))/>
            <div class="field moh-upload">
                <span class="label">"Music"</span>
                <p class="moh-current" data-own=move || has_file.get().to_string()>
                    {move || if has_file.get() { "Your own music is used." } else { "The standard music is used." }}
                </p>
                <div class="row">
                    <input id="moh-file" class="visually-hidden-file" type="file"
                        accept="audio/mpeg,audio/wav,audio/ogg,.mp3,.wav,.ogg"
                        aria-describedby="moh-file-hint moh-file-status"
                        on:change=upload/>
                    <label class="btn file-btn" for="moh-file">"Upload your own music…"</label>
                    <Show when=move || has_file.get()>
                        <button type="button" class="btn" on:click=remove_file>"Use the standard music"</button>
                    </Show>
                </div>
                <small class="hint" id="moh-file-hint">"MP3, WAV or OGG, up to 20 MB. It is converted for the phone system."</small>
                <div id="moh-file-status"><FieldStatus state=st_upload/></div>
            </div>
            <SelectField id="default-cid" label="Number shown when calling outside (company default)"
                value=default_cid options=cid_options state=st_cid issues=issues("default_caller_id")
                on_commit=Callback::new(move |v: String| saver.save("default_caller_id", st_cid, move |p: &mut OptionsPatch| p.default_caller_id = Some(v)))/>
            <CheckField id="vm-attach" label="Attach the recording to voicemail e-mails"
                value=attach state=st_attach issues=issues("voicemail_attach_audio")
                on_commit=Callback::new(move |v: bool| saver.save("voicemail_attach_audio", st_attach, move |p: &mut OptionsPatch| p.voicemail_attach_audio = Some(v)))/>
        </section>
    }
}
