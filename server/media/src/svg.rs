//! A strict check of uploaded SVG logos: a whitelist of drawing elements, no scripts, no event
//! handlers, no references outside the document. An SVG that fails is refused, never "cleaned":
//! what is stored is exactly what was checked.
//!
//! The logo is also served with `Content-Security-Policy: sandbox` and `nosniff`, so this check
//! is the first of two defences, not the only one.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

const SVG_NS: &str = "http://www.w3.org/2000/svg";
const XLINK_NS: &str = "http://www.w3.org/1999/xlink";

/// Drawing elements only: nothing that runs code (`script`, `foreignObject`, `animate`/`set`,
/// which can rewrite links), loads a resource (`image`, `feImage`, `style` with `@import`) or
/// links away (`a`).
const ELEMENTS: &[&str] = &[
    "svg",
    "g",
    "defs",
    "title",
    "desc",
    "symbol",
    "use",
    "path",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "text",
    "tspan",
    "textPath",
    "linearGradient",
    "radialGradient",
    "stop",
    "clipPath",
    "mask",
    "pattern",
    "marker",
    "filter",
    "feGaussianBlur",
    "feOffset",
    "feBlend",
    "feColorMatrix",
    "feComposite",
    "feFlood",
    "feMerge",
    "feMergeNode",
    "feDropShadow",
];

/// The largest width or height an SVG may declare in pixels.
pub const MAX_PIXELS: f64 = 2048.0;

/// Why an SVG was refused, for the person who uploaded it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

fn refuse<T>(message: impl Into<String>) -> Result<T, Refused> {
    Err(Refused(message.into()))
}

/// Accepts the SVG or says what in it is not allowed.
pub fn check(bytes: &[u8]) -> Result<(), Refused> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return refuse("The SVG is not UTF-8 text.");
    };
    let mut reader = Reader::from_str(text);
    let mut depth = 0usize;
    let mut seen_root = false;
    loop {
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(err) => return refuse(format!("The SVG is not well-formed XML: {err}.")),
        };
        match event {
            Event::Start(_) | Event::Empty(_) if depth == 0 && seen_root => {
                return refuse("The SVG has more than one root element.");
            }
            Event::Start(element) => {
                check_element(&element, depth == 0)?;
                seen_root = true;
                depth += 1;
            }
            Event::Empty(element) => {
                check_element(&element, depth == 0)?;
                seen_root = true;
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Text(_) | Event::Comment(_) | Event::Decl(_) => {}
            Event::GeneralRef(reference) => {
                let name = reference.decode().unwrap_or_default();
                let predefined = matches!(&*name, "lt" | "gt" | "amp" | "apos" | "quot");
                if !predefined && !reference.is_char_ref() {
                    return refuse(format!(
                        "The SVG uses the entity &{name}; which is not allowed."
                    ));
                }
            }
            Event::CData(_) => {
                return refuse("The SVG contains a CDATA section, which is not allowed.")
            }
            Event::PI(_) => {
                return refuse(
                    "The SVG contains a processing instruction (<?...?>), which is not allowed.",
                )
            }
            Event::DocType(_) => {
                return refuse(
                    "The SVG contains a DOCTYPE, which is not allowed (entities could expand).",
                )
            }
            Event::Eof => break,
        }
    }
    if !seen_root {
        return refuse("The file is empty: it has no <svg> element.");
    }
    Ok(())
}

fn check_element(element: &BytesStart<'_>, is_root: bool) -> Result<(), Refused> {
    let name = String::from_utf8_lossy(element.name().as_ref()).into_owned();
    if is_root && name != "svg" {
        return refuse(format!("An SVG starts with <svg>, not <{name}>."));
    }
    if !ELEMENTS.contains(&name.as_str()) {
        return refuse(format!(
            "The SVG contains <{name}>, which is not allowed in a logo (only drawing elements are)."
        ));
    }
    let mut size = (None, None);
    for attribute in element.attributes() {
        let Ok(attribute) = attribute else {
            return refuse(format!("An attribute of <{name}> is not well-formed."));
        };
        let key = String::from_utf8_lossy(attribute.key.as_ref()).into_owned();
        let Ok(value) = attribute.unescape_value() else {
            return refuse(format!(
                "The attribute {key} of <{name}> uses an unknown entity."
            ));
        };
        check_attribute(&name, &key, &value)?;
        match key.as_str() {
            "width" if is_root => size.0 = pixels(&value),
            "height" if is_root => size.1 = pixels(&value),
            _ => {}
        }
    }
    for (label, value) in [("width", size.0), ("height", size.1)] {
        if value.is_some_and(|v| v > MAX_PIXELS) {
            return refuse(format!(
                "The SVG's {label} is over {MAX_PIXELS} pixels; a logo is at most 2048×2048."
            ));
        }
    }
    Ok(())
}

fn check_attribute(element: &str, key: &str, value: &str) -> Result<(), Refused> {
    let local = key.rsplit(':').next().unwrap_or(key);
    if local.len() > 2 && local[..2].eq_ignore_ascii_case("on") {
        return refuse(format!(
            "The SVG has an event handler ({key} on <{element}>), which is not allowed."
        ));
    }
    match key.split_once(':') {
        None if key == "xmlns" && value != SVG_NS => {
            return refuse(format!(
                "The SVG declares the namespace {value}; only SVG is allowed."
            ));
        }
        Some(("xmlns", "xlink")) if value != XLINK_NS => {
            return refuse(format!(
                "The SVG declares the namespace {value}; only SVG is allowed."
            ));
        }
        Some(("xmlns", "xlink")) | Some(("xlink", "href" | "title")) | None => {}
        Some(("xml", "space" | "lang")) => {}
        Some(_) => {
            return refuse(format!(
                "The SVG uses the attribute {key} of another vocabulary; export it as plain SVG."
            ))
        }
    }
    if local == "href" && !value.trim_start().starts_with('#') {
        return refuse(format!(
            "The SVG refers to {value:?} outside itself (<{element}> {key}); only #references inside it are allowed."
        ));
    }
    check_references(element, key, value)
}

/// `url(...)` may only point inside the document; `style` may not import or escape.
fn check_references(element: &str, key: &str, value: &str) -> Result<(), Refused> {
    let compact: String = value
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    let external_url = compact.match_indices("url(").any(|(at, _)| {
        let target = compact[at + 4..].trim_start_matches(['\'', '"']);
        !target.starts_with('#')
    });
    let sneaky = compact.contains("javascript:")
        || compact.contains("@import")
        || compact.contains("expression(")
        || (key == "style" && value.contains('\\'));
    if external_url || sneaky {
        return refuse(format!(
            "The SVG's <{element}> {key} refers outside the document or hides code; only url(#...) references are allowed."
        ));
    }
    Ok(())
}

/// A plain or `px` length in pixels; other units (`%`, `mm`, `em`) are relative and not checked.
fn pixels(value: &str) -> Option<f64> {
    let value = value.trim();
    let number = value.strip_suffix("px").unwrap_or(value);
    number.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn refused(svg: &str) -> String {
        check(svg.as_bytes()).expect_err(svg).0
    }

    #[test]
    fn plain_drawings_pass() {
        let logo = r##"<?xml version="1.0" encoding="UTF-8"?>
<!-- a logo -->
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="200" height="80px" viewBox="0 0 200 80">
  <defs><linearGradient id="g"><stop offset="0" stop-color="#f00"/></linearGradient></defs>
  <title>Acme &amp; Co</title>
  <rect width="200" height="80" fill="url(#g)" style="stroke: url('#g')"/>
  <use xlink:href="#g"/><text x="10" y="40">Acme&#169;</text>
</svg>"##;
        assert_eq!(check(logo.as_bytes()), Ok(()));
    }

    #[test]
    fn code_and_outside_references_are_refused() {
        let cases = [
            (r#"<svg><script>alert(1)</script></svg>"#, "<script>"),
            (r#"<svg><foreignObject/></svg>"#, "<foreignObject>"),
            (r#"<svg onload="alert(1)"/>"#, "event handler"),
            (r#"<svg><rect ONCLICK="x()"/></svg>"#, "event handler"),
            (r#"<svg><a href="https://evil.example"/></svg>"#, "<a>"),
            (
                r#"<svg><use href="https://evil.example/x.svg#a"/></svg>"#,
                "outside itself",
            ),
            (
                r#"<svg><use xlink:href="&#106;avascript:alert(1)"/></svg>"#,
                "outside itself",
            ),
            (r#"<svg><image href="x.png"/></svg>"#, "<image>"),
            (
                r#"<svg><rect fill="url(https://evil.example/p)"/></svg>"#,
                "refers outside",
            ),
            (
                r#"<svg><rect style="fill:u\72l(http://x)"/></svg>"#,
                "refers outside",
            ),
            (
                r#"<svg><style>@import url(x.css);</style></svg>"#,
                "<style>",
            ),
            (
                r#"<svg><set attributeName="href" to="javascript:x"/></svg>"#,
                "<set>",
            ),
            (r#"<svg><![CDATA[x]]></svg>"#, "CDATA"),
            (
                r#"<!DOCTYPE svg [<!ENTITY a "b">]><svg>&a;</svg>"#,
                "DOCTYPE",
            ),
            (
                r#"<?xml-stylesheet href="x.css"?><svg/>"#,
                "processing instruction",
            ),
            (r#"<html/>"#, "starts with <svg>"),
            (
                r#"<svg xmlns="http://www.w3.org/1999/xhtml"/>"#,
                "namespace",
            ),
            (r#"<svg xmlns:x="urn:x" x:y="1"/>"#, "another vocabulary"),
            (r#"<svg width="4096" height="10"/>"#, "width is over"),
            (r#"<svg><rect></svg>"#, "not well-formed"),
            ("", "empty"),
            (r#"<svg/><svg/>"#, "more than one root"),
        ];
        for (svg, expected) in cases {
            let message = refused(svg);
            assert!(message.contains(expected), "{svg}: {message}");
        }
    }

    #[test]
    fn non_utf8_is_refused() {
        assert!(check(&[0xff, 0xfe, b'<']).is_err());
    }
}
