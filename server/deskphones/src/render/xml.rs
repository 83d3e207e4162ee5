//! A thin layer over quick-xml's writer: every attribute value and every text is
//! escaped by quick-xml.

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

pub(crate) struct Xml {
    w: Writer<Vec<u8>>,
}

/// Writing into memory cannot fail; quick-xml's signature is for writers that can.
const INFALLIBLE: &str = "writing XML into memory";

impl Xml {
    /// A document with its XML declaration.
    pub(crate) fn new(encoding: &str, standalone: Option<&str>) -> Xml {
        let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
        w.write_event(Event::Decl(BytesDecl::new(
            "1.0",
            Some(encoding),
            standalone,
        )))
        .expect(INFALLIBLE);
        Xml { w }
    }

    pub(crate) fn start(&mut self, name: &str, attrs: &[(&str, &str)]) {
        let start = BytesStart::new(name).with_attributes(attrs.iter().copied());
        self.w.write_event(Event::Start(start)).expect(INFALLIBLE);
    }

    pub(crate) fn end(&mut self, name: &str) {
        self.w
            .write_event(Event::End(BytesEnd::new(name)))
            .expect(INFALLIBLE);
    }

    /// `<name attrs…>text</name>`
    pub(crate) fn element(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.w
            .create_element(name)
            .with_attributes(attrs.iter().copied())
            .write_text_content(BytesText::new(text))
            .expect(INFALLIBLE);
    }

    /// `<name a="…" b="…"/>`, each attribute on a line of its own.
    pub(crate) fn empty_lines(&mut self, name: &str, attrs: &[(&str, &str)]) {
        let mut el = self.w.create_element(name);
        for &attr in attrs {
            el = el.new_line().with_attribute(attr);
        }
        el.write_empty().expect(INFALLIBLE);
    }

    /// A comment; only fixed text, which holds no `--`.
    pub(crate) fn comment(&mut self, text: &'static str) {
        debug_assert!(!text.contains("--"));
        self.w
            .write_event(Event::Comment(BytesText::from_escaped(text)))
            .expect(INFALLIBLE);
    }

    pub(crate) fn finish(self) -> String {
        let mut s = String::from_utf8(self.w.into_inner()).expect("quick-xml writes UTF-8");
        s.push('\n');
        s
    }
}
