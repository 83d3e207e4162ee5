//! QR codes of provisioning links, as standalone SVG documents (the `qrcode` crate).

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// The QR code of `text` as SVG, at least 240 px wide with the standard quiet zone. Medium
/// error correction: phone cameras read it off a screen at an angle.
pub fn svg(text: &str) -> anyhow::Result<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| anyhow::anyhow!("QR code of a provisioning link: {e}"))?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn links_become_svg_documents() {
        let url = format!(
            "https://pbx.acme.example.com/provision/t/{}",
            "A".repeat(43)
        );
        let svg = svg(&url).unwrap();
        assert!(svg.starts_with("<?xml"), "{svg}");
        assert!(svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>"));
        // Different links, different codes.
        assert_ne!(
            svg,
            super::svg("https://pbx.other.example.com/provision/t/x").unwrap()
        );
    }
}
