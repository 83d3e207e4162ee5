//! The only place that writes XML bytes.
//!
//! FreeSWITCH runs every answer through its preprocessor before parsing it: `$${var}` is
//! expanded, `<X-PRE-PROCESS cmd="exec">` runs shell commands and any line containing `<?`,
//! `<include>` or `</include>` is dropped. Channel variables in dialplan data are expanded again
//! at run time (`${...}`, `${api(...)}`). So every attribute value is escaped here, `$` included
//! (as `&#36;`, which the XML parser turns back into `$` only after preprocessing), and a value
//! with a control character is refused outright: it could end a line and start a new one that
//! the preprocessor would read. All content lives in attributes; there are no text nodes. Each
//! element is written on its own line without an XML declaration, so no line can ever hold
//! anything but one of our own tags.

use std::borrow::Cow;

use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesEnd, BytesStart, Event};
use quick_xml::name::QName;
use quick_xml::Writer;

/// The exact "not found" answer: FreeSWITCH then tries the next binding and its static files.
pub const NOT_FOUND: &str = "<document type=\"freeswitch/xml\"><section name=\"result\"><result status=\"not found\"/></section></document>";

/// A value that cannot be written safely; names the element and attribute for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("value of {element}/@{attribute} cannot be written (control character)")]
pub struct Unwritable {
    pub element: &'static str,
    pub attribute: &'static str,
}

/// Escapes `& < > " '` as XML entities and `$` as `&#36;`. Returns `None` when the value holds a
/// control character (including tab, CR and LF), which no FreeSWITCH value needs.
pub fn escape(value: &str) -> Option<Cow<'_, str>> {
    if value.chars().any(char::is_control) {
        return None;
    }
    if !value
        .bytes()
        .any(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'' | b'$'))
    {
        return Some(Cow::Borrowed(value));
    }
    let mut out = String::with_capacity(value.len() + 16);
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '$' => out.push_str("&#36;"),
            other => out.push(other),
        }
    }
    Some(Cow::Owned(out))
}

/// A position in a [`Doc`] between complete elements.
#[derive(Debug, Clone, Copy)]
pub struct Checkpoint {
    len: usize,
    depth: usize,
}

/// A FreeSWITCH document under construction: `<document type="freeswitch/xml">` and one
/// `<section>`, one element per line, indented.
pub struct Doc {
    writer: Writer<Vec<u8>>,
    open: Vec<&'static str>,
}

impl Doc {
    /// Starts `<document type="freeswitch/xml"><section name=...>`.
    pub fn new(section: &'static str) -> Self {
        let mut doc = Self {
            writer: Writer::new_with_indent(Vec::with_capacity(2048), b' ', 1),
            open: Vec::with_capacity(8),
        };
        // Both values are constants without anything to escape; the results cannot fail.
        let _ = doc.open("document", &[("type", "freeswitch/xml")]);
        let _ = doc.open("section", &[("name", section)]);
        doc
    }

    /// Opens `<tag attr="value"...>`; close it with [`Doc::close`].
    pub fn open(
        &mut self,
        tag: &'static str,
        attrs: &[(&'static str, &str)],
    ) -> Result<(), Unwritable> {
        let start = start_tag(tag, attrs)?;
        self.write(Event::Start(start), tag)?;
        self.open.push(tag);
        Ok(())
    }

    /// Writes `<tag attr="value".../>`.
    pub fn empty(
        &mut self,
        tag: &'static str,
        attrs: &[(&'static str, &str)],
    ) -> Result<(), Unwritable> {
        let start = start_tag(tag, attrs)?;
        self.write(Event::Empty(start), tag)
    }

    /// Closes the innermost open element.
    pub fn close(&mut self) -> Result<(), Unwritable> {
        let Some(tag) = self.open.pop() else {
            return Ok(());
        };
        self.write(Event::End(BytesEnd::new(tag)), tag)
    }

    /// Bytes written so far, to keep answers under FreeSWITCH's 1 MiB limit.
    pub fn len(&self) -> usize {
        self.writer.get_ref().len()
    }

    /// Marks a point between complete elements, to [`Doc::rollback`] to.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            len: self.len(),
            depth: self.open.len(),
        }
    }

    /// Drops everything written since `cp` (used when a list would exceed the size limit).
    /// Only valid when every element opened since `cp` has been closed again, which leaves the
    /// writer's indentation exactly as it was at `cp`.
    pub fn rollback(&mut self, cp: Checkpoint) {
        if self.open.len() == cp.depth {
            self.writer.get_mut().truncate(cp.len);
        }
    }

    /// Closes everything still open and returns the text.
    pub fn finish(mut self) -> String {
        while !self.open.is_empty() {
            let _ = self.close();
        }
        // Only `&str` fragments were ever written, so the bytes are UTF-8.
        String::from_utf8(self.writer.into_inner()).unwrap_or_default()
    }

    fn write(&mut self, event: Event<'_>, tag: &'static str) -> Result<(), Unwritable> {
        self.writer.write_event(event).map_err(|_| Unwritable {
            element: tag,
            attribute: "",
        })
    }
}

fn start_tag<'a>(
    tag: &'static str,
    attrs: &[(&'static str, &'a str)],
) -> Result<BytesStart<'a>, Unwritable> {
    let mut start = BytesStart::new(tag);
    for (key, value) in attrs {
        let escaped = escape(value).ok_or(Unwritable {
            element: tag,
            attribute: key,
        })?;
        // The value is already escaped (with our stricter rules), so it goes in verbatim.
        let raw: Cow<'a, [u8]> = match escaped {
            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        };
        start.push_attribute(Attribute {
            key: QName(key.as_bytes()),
            value: raw,
        });
    }
    Ok(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_dollar() {
        assert_eq!(escape("plain").as_deref(), Some("plain"));
        assert_eq!(
            escape(r#"a&b<c>"d"'e'$${x}"#).as_deref(),
            Some("a&amp;b&lt;c&gt;&quot;d&quot;&apos;e&apos;&#36;&#36;{x}")
        );
        for bad in ["a\nb", "a\rb", "tab\t", "\u{7f}", "\u{85}", "\0"] {
            assert_eq!(escape(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn one_element_per_line_and_no_declaration() {
        let mut doc = Doc::new("directory");
        doc.open("domain", &[("name", "acme.test")]).unwrap();
        doc.empty("param", &[("name", "x"), ("value", "<include>$${y}")])
            .unwrap();
        let text = doc.finish();
        assert!(text.starts_with("<document type=\"freeswitch/xml\">"));
        assert!(!text.contains("<?"));
        assert!(!text.contains('$'));
        for line in text.lines() {
            assert_eq!(line.trim_start().matches('<').count(), 1, "{line}");
        }
        assert!(text.contains("value=\"&lt;include&gt;&#36;&#36;{y}\""));
    }

    #[test]
    fn control_characters_are_refused_with_their_place() {
        let mut doc = Doc::new("dialplan");
        let err = doc.empty("action", &[("data", "a\nb")]).unwrap_err();
        assert_eq!(
            err,
            Unwritable {
                element: "action",
                attribute: "data"
            }
        );
    }
}
