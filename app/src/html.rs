//! Read-only parts of pages written as HTML text (the phone guides, the statistics tables and
//! chart) and set with `inner_html`: one string costs far less WebAssembly than a typed Leptos
//! view per structure (each distinct view type is compiled separately), which keeps the org
//! bundle inside its budget. Every piece of data goes through [`esc`]; nothing here runs
//! scripts (the page's CSP allows none inline anyway). Copy buttons work by one delegated click
//! handler ([`copy_clicked`]) reading `data-copy`.

use std::fmt::Write;

use wasm_bindgen::JsCast;

/// `text` safe inside an element or a double-quoted attribute.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// An HTML text being written.
#[derive(Default)]
pub struct Html(String);

impl Html {
    pub fn new() -> Self {
        Self::default()
    }

    /// `<tag attr="value"...>`: attribute values are escaped, names are the caller's literals.
    pub fn open(&mut self, tag: &str, attrs: &[(&str, &str)]) -> &mut Self {
        let _ = write!(self.0, "<{tag}");
        for (name, value) in attrs {
            let _ = write!(self.0, " {name}=\"{}\"", esc(value));
        }
        self.0.push('>');
        self
    }

    pub fn close(&mut self, tag: &str) -> &mut Self {
        let _ = write!(self.0, "</{tag}>");
        self
    }

    /// Escaped text.
    pub fn text(&mut self, text: &str) -> &mut Self {
        self.0.push_str(&esc(text));
        self
    }

    /// `<tag attrs>text</tag>`.
    pub fn el(&mut self, tag: &str, attrs: &[(&str, &str)], text: &str) -> &mut Self {
        self.open(tag, attrs).text(text).close(tag)
    }

    /// A copy button for `value` ("Copy", then "Copied ✓"), handled by [`copy_clicked`].
    pub fn copy_button(&mut self, value: &str, label: &str) -> &mut Self {
        let aria = format!("Copy {label}");
        self.el(
            "button",
            &[
                ("type", "button"),
                ("class", "btn small"),
                ("data-copy", value),
                ("aria-label", &aria),
            ],
            "Copy",
        )
    }

    pub fn finish(self) -> String {
        self.0
    }
}

/// The click handler of a block written with [`Html`]: a click on a copy button copies its
/// `data-copy` and says so on the button.
pub fn copy_clicked(ev: web_sys::MouseEvent) {
    let Some(button) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .and_then(|e| e.closest("button[data-copy]").ok().flatten())
    else {
        return;
    };
    let (Some(text), Some(window)) = (button.get_attribute("data-copy"), web_sys::window()) else {
        return;
    };
    let promise = window.navigator().clipboard().write_text(&text);
    leptos::task::spawn_local(async move {
        if wasm_bindgen_futures::JsFuture::from(promise).await.is_ok() {
            button.set_text_content(Some("Copied ✓"));
        }
    });
}

/// One table row: its attributes (`data-...`), its first cell (a row header, as HTML written
/// by the caller) and the other cells' text.
pub type Row<'a> = (Vec<(&'a str, String)>, String, Vec<String>);

/// A table: a header row (`num` columns right-aligned) and rows of a header cell and numbers.
/// Each cell carries its column's name (`data-label`), for the narrow-screen layout.
pub struct Table<'a> {
    pub class: &'a str,
    pub columns: &'a [(&'a str, bool)],
}

impl Table<'_> {
    pub fn write(&self, rows: &[Row<'_>]) -> String {
        let mut h = Html::new();
        h.open("div", &[("class", "table-wrap")]);
        h.open("table", &[("class", self.class)])
            .open("thead", &[])
            .open("tr", &[]);
        for (name, num) in self.columns {
            let class = if *num { "num" } else { "" };
            h.el("th", &[("scope", "col"), ("class", class)], name);
        }
        h.close("tr").close("thead").open("tbody", &[]);
        for (attrs, first, cells) in rows {
            let attrs: Vec<(&str, &str)> = attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            h.open("tr", &attrs);
            h.open("th", &[("scope", "row")]);
            h.0.push_str(first);
            h.close("th");
            for (cell, (name, num)) in cells.iter().zip(self.columns.iter().skip(1)) {
                let class = if *num { "num" } else { "" };
                h.el("td", &[("class", class), ("data-label", name)], cell);
            }
            h.close("tr");
        }
        h.close("tbody").close("table").close("div");
        h.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attribute_values_cannot_open_markup() {
        let hostile = r#"<img src=x onerror="alert(1)">&'"#;
        let mut h = Html::new();
        h.el("td", &[("data-label", hostile)], hostile);
        let html = h.finish();
        assert_eq!(
            html,
            "<td data-label=\"&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;\">\
             &lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;</td>"
        );
    }

    #[test]
    fn table_rows_carry_their_column_names_and_escape_cells() {
        let table = Table {
            class: "stats",
            columns: &[("Extension", false), ("Calls", true)],
        };
        let rows = vec![(
            vec![("data-extension", "101".to_owned())],
            "101".to_owned(),
            vec!["<3".to_owned()],
        )];
        let html = table.write(&rows);
        assert!(html.contains("<tr data-extension=\"101\">"), "{html}");
        assert!(
            html.contains("<td class=\"num\" data-label=\"Calls\">&lt;3</td>"),
            "{html}"
        );
        assert!(
            html.contains("<th scope=\"col\" class=\"num\">Calls</th>"),
            "{html}"
        );
    }
}
