//! The Desk phones page's three blocks written as HTML from its state (every value escaped
//! by [`Html`]).

use super::*;

/// The title, what the page is for, and the address for the phones.
pub(super) fn top_html(s: &State) -> String {
    let mut h = Html::new();
    h.el("h1", &[], "Desk phones")
        .el("p", &[("class", "intro")], INTRO);
    h.open(
        "section",
        &[("class", "card"), ("aria-labelledby", "dp-address-title")],
    );
    h.el(
        "h2",
        &[("id", "dp-address-title")],
        "The address for your phones",
    );
    let url = provisioning_url(s);
    h.open("p", &[("class", "dp-address")])
        .el("code", &[], &url)
        .text(" ")
        .copy_button(&url, "the address for your phones")
        .close("p");
    h.el("p", &[("class", "muted small")], WHERE);
    h.close("section");
    h.finish()
}

/// Where the phones fetch their settings: as the server says it, or this host's.
pub(super) fn provisioning_url(s: &State) -> String {
    match s.phones.first() {
        Some(p) => p.provisioning_url.clone(),
        None => {
            let origin = web_sys::window()
                .and_then(|w| w.location().origin().ok())
                .unwrap_or_default();
            format!("{origin}/provision/device/")
        }
    }
}

/// The phones.
pub(super) fn list_html(s: &State) -> String {
    let mut h = Html::new();
    h.open(
        "section",
        &[("class", "card"), ("aria-labelledby", "dp-list-title")],
    );
    h.el("h2", &[("id", "dp-list-title")], "Your desk phones");
    let status = match &s.error {
        Some(e) => e.clone(),
        None if !s.loaded => "Loading…".into(),
        None => String::new(),
    };
    let kind = if s.error.is_some() { "error" } else { "" };
    h.el(
        "p",
        &[("class", "note"), ("data-kind", kind), ("role", "status")],
        &status,
    );
    if s.loaded && s.phones.is_empty() {
        h.el(
            "p",
            &[("class", "empty")],
            "No desk phones yet: add the first one below.",
        );
    }
    h.open("ul", &[("class", "dp-list")]);
    for p in &s.phones {
        phone_html(&mut h, p, s);
    }
    h.close("ul");
    h.el(
        "button",
        &[
            ("type", "button"),
            ("class", "btn small"),
            ("data-act", "refresh"),
        ],
        "Check again",
    );
    h.close("section");
    h.finish()
}

/// The visual hint of a state (`data-kind` of `.note`), its mark and its name.
pub(super) fn state_look(state: DeskPhoneState) -> (&'static str, &'static str, &'static str) {
    match state {
        DeskPhoneState::Ready => ("ok", "✓", "ready"),
        DeskPhoneState::NoExtension => ("idle", "–", "no_extension"),
        DeskPhoneState::WaitingForApply => ("warn", "…", "waiting_for_apply"),
        DeskPhoneState::NeedsNewPassword => ("error", "!", "needs_new_password"),
    }
}

/// One phone: MAC and model, extension (saved at once), state, last fetch, setup, Remove.
pub(super) fn phone_html(h: &mut Html, p: &DeskPhone, s: &State) {
    let compact: String = p.mac.chars().filter(|c| *c != ':').collect();
    let ext_id = format!("dp-{compact}-ext");
    let setup_id = format!("dp-{compact}-setup");
    h.open("li", &[("class", "dp"), ("data-mac", &p.mac)]);
    h.open("h3", &[("class", "dp-head")])
        .el("code", &[], &p.mac)
        .text(" ")
        .el("span", &[("class", "muted dp-model")], &p.model_label)
        .close("h3");
    h.open("div", &[("class", "row")]);

    // The extension, saved when chosen.
    h.open("div", &[("class", "field")]);
    h.el("label", &[("for", &ext_id)], "Extension");
    let save = s.saves.iter().find(|(m, _)| *m == p.mac).map(|(_, v)| v);
    let invalid = if matches!(save, Some(Save::Error(_))) {
        "true"
    } else {
        "false"
    };
    let status_id = format!("{ext_id}-status");
    h.open(
        "select",
        &[
            ("id", &ext_id),
            ("data-act", "ext"),
            ("data-mac", &p.mac),
            ("aria-describedby", &status_id),
            ("aria-invalid", invalid),
        ],
    );
    let current = p.extension.clone().unwrap_or_default();
    let mut options = vec![(String::new(), "No extension".to_owned())];
    options.extend(s.extensions.iter().cloned());
    if !options.iter().any(|(v, _)| *v == current) {
        options.push((current.clone(), current.clone()));
    }
    options_html(h, &options, &current);
    h.close("select");
    let (state, text) = match save {
        None => ("idle", String::new()),
        Some(Save::Saving) => ("saving", "Saving…".into()),
        Some(Save::Saved) => ("saved", "Saved ✓".into()),
        Some(Save::Error(e)) => ("error", format!("Not saved: {e}")),
    };
    h.open("div", &[("id", &status_id)])
        .el(
            "span",
            &[
                ("class", "fstatus"),
                ("role", "status"),
                ("data-state", state),
            ],
            &text,
        )
        .close("div");
    h.close("div");

    // Where it stands and when it last fetched its settings.
    let (kind, mark, name) = state_look(p.state);
    h.open("div", &[("class", "field grow")]);
    h.open(
        "p",
        &[
            ("class", "note dp-state"),
            ("data-kind", kind),
            ("data-state", name),
        ],
    )
    .el("span", &[("aria-hidden", "true")], &format!("{mark} "))
    .text(&p.state_text)
    .close("p");
    h.el("p", &[("class", "muted small dp-fetch")], &last_fetch(p));
    h.close("div");
    h.close("div");

    let open = s.open.contains(&p.mac);
    h.open("div", &[("class", "actions")]);
    h.el(
        "button",
        &[
            ("type", "button"),
            ("class", "btn small"),
            ("data-act", "setup"),
            ("data-mac", &p.mac),
            ("aria-expanded", if open { "true" } else { "false" }),
            ("aria-controls", &setup_id),
        ],
        if open { "Hide setup" } else { "Show setup" },
    );
    h.el(
        "button",
        &[
            ("type", "button"),
            ("class", "btn small danger-outline"),
            ("data-act", "remove"),
            ("data-mac", &p.mac),
        ],
        "Remove…",
    );
    h.close("div");
    h.open("div", &[("id", &setup_id)]);
    if open {
        setup_html(h, p);
    }
    h.close("div");
    h.close("li");
}

/// What to type into the phone (or hand the DHCP server), each value with a copy button.
pub(super) fn setup_html(h: &mut Html, p: &DeskPhone) {
    h.open("dl", &[("class", "fields dp-setup")]);
    for (label, value) in [
        ("Provisioning address", &p.provisioning_url),
        ("File name", &p.file_name),
        ("User name", &p.username),
        ("Password", &p.password),
    ] {
        h.open("div", &[("class", "field-line")])
            .el("dt", &[], label)
            .open("dd", &[])
            .el("code", &[], value)
            .copy_button(value, label)
            .close("dd")
            .close("div");
    }
    h.close("dl");
    h.el(
        "p",
        &[("class", "muted small")],
        "The phone asks for its file by itself: give it the address, the user name and the password.",
    );
}

/// `<option>`s of (value, label), `current` selected.
pub(super) fn options_html(h: &mut Html, options: &[(String, String)], current: &str) {
    for (value, label) in options {
        let mut attrs = vec![("value", value.as_str())];
        if value == current {
            attrs.push(("selected", ""));
        }
        h.el("option", &attrs, label);
    }
}

/// "Fetched its settings 5 min ago from 192.0.2.10." / "Has not fetched its settings yet."
pub(super) fn last_fetch(phone: &DeskPhone) -> String {
    let Some(at) = phone.last_fetch_at else {
        return "Has not fetched its settings yet.".into();
    };
    let minutes = ((js_sys::Date::now() as i64 - at) / 60_000).max(0);
    let ago = match minutes {
        0 => "just now".to_owned(),
        1..=59 => format!("{minutes} min ago"),
        60..=1439 => format!("{} h ago", minutes / 60),
        1440..=2879 => "1 day ago".to_owned(),
        _ => format!("{} days ago", minutes / 1440),
    };
    match &phone.last_fetch_ip {
        Some(ip) => format!("Fetched its settings {ago} from {ip}."),
        None => format!("Fetched its settings {ago}."),
    }
}

/// "Covers T41, T42, ...", for the model `id` (the first model when none is chosen).
pub(super) fn covers(s: &State, id: &str) -> String {
    s.models
        .iter()
        .find(|m| m.id == id)
        .or(s.models.first())
        .map(|m| format!("Covers {}.", m.covers))
        .unwrap_or_default()
}

/// The form adding a phone, its field errors next to the fields.
pub(super) fn form_html(s: &State) -> String {
    let e = s.add_error.as_ref();
    let message = |field: &str| {
        e.and_then(|e| e.field_message(None, field))
            .unwrap_or_default()
    };
    let mut h = Html::new();
    h.open(
        "form",
        &[
            ("class", "card"),
            ("id", "dp-add"),
            ("novalidate", ""),
            ("aria-labelledby", "dp-add-title"),
        ],
    );
    h.el("h2", &[("id", "dp-add-title")], "Add a phone");
    h.open("div", &[("class", "row")]);
    let model = if s.model.is_empty() {
        s.models.first().map(|m| m.id.clone()).unwrap_or_default()
    } else {
        s.model.clone()
    };
    let models: Vec<(String, String)> = s
        .models
        .iter()
        .map(|m| (m.id.clone(), m.label.clone()))
        .collect();
    let mut extensions = vec![(String::new(), "No extension".to_owned())];
    extensions.extend(s.extensions.iter().cloned());
    for (id, field, label, hint, grow) in [
        (
            MAC_ID,
            "mac",
            "MAC address",
            "On the label under the phone".to_owned(),
            false,
        ),
        (MODEL_ID, "model", "Model", covers(s, &model), true),
        (
            EXT_ID,
            "extension",
            "Extension",
            "Can be chosen later".to_owned(),
            false,
        ),
    ] {
        let error = message(field);
        let hint_id = format!("{id}-hint");
        let error_id = format!("{id}-error");
        let described = format!("{hint_id} {error_id}");
        let invalid = if error.is_empty() { "false" } else { "true" };
        h.open(
            "div",
            &[("class", if grow { "field grow" } else { "field" })],
        );
        h.el("label", &[("for", id)], label);
        let attrs = [
            ("id", id),
            ("aria-describedby", described.as_str()),
            ("aria-invalid", invalid),
        ];
        match field {
            "mac" => {
                let mut attrs = attrs.to_vec();
                attrs.extend([
                    ("type", "text"),
                    ("autocomplete", "off"),
                    ("spellcheck", "false"),
                    ("placeholder", "for example 00:15:65:12:34:56"),
                    ("value", s.mac.as_str()),
                ]);
                h.open("input", &attrs);
            }
            "model" => {
                h.open("select", &attrs);
                options_html(&mut h, &models, &model);
                h.close("select");
            }
            _ => {
                h.open("select", &attrs);
                options_html(&mut h, &extensions, &s.extension);
                h.close("select");
            }
        }
        h.el("small", &[("class", "hint"), ("id", &hint_id)], &hint);
        h.el("p", &[("class", "field-error"), ("id", &error_id)], &error);
        h.close("div");
    }
    h.open("div", &[("class", "field")]);
    h.el(
        "span",
        &[("class", "label-spacer"), ("aria-hidden", "true")],
        "",
    );
    let mut attrs = vec![("type", "submit"), ("class", "btn primary")];
    if s.adding {
        attrs.push(("disabled", ""));
    }
    h.el(
        "button",
        &attrs,
        if s.adding { "Adding…" } else { "Add phone" },
    );
    h.close("div").close("div");
    let general = e
        .filter(|e| {
            !["mac", "model", "extension"]
                .iter()
                .any(|f| e.field_message(None, f).is_some())
        })
        .map(|e| e.message())
        .unwrap_or_default();
    h.el("p", &[("class", "form-error"), ("role", "alert")], &general);
    h.el(
        "p",
        &[("class", "note"), ("data-kind", "ok"), ("role", "status")],
        s.added.as_deref().unwrap_or_default(),
    );
    h.close("form");
    h.finish()
}
