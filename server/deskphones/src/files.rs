//! The file names phones fetch.

use crate::mac::hex12;
use crate::{Mac, Model, Vendor};

/// Which file a phone asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// Yealink `<mac>.cfg`.
    YealinkMac,
    /// Poly `<mac>.cfg`: the master configuration file, which names the next file.
    PolyMaster,
    /// Poly `<mac>-littlepbx.cfg`: the settings.
    PolyPhone,
    /// Grandstream `cfg<mac>.xml`.
    GrandstreamXml,
    /// Snom `snom<model>-<MAC>.htm` (first contact) and `<MAC>.xml` (afterwards).
    SnomXml,
    /// Fanvil `<mac>.cfg`.
    FanvilMac,
    /// Cisco multiplatform `<mac>.xml`, what the profile rule `…/$MA.xml` asks for.
    CiscoMpp,
}

impl FileKind {
    /// The vendor whose phones fetch this file.
    pub fn vendor(self) -> Vendor {
        match self {
            FileKind::YealinkMac => Vendor::Yealink,
            FileKind::PolyMaster | FileKind::PolyPhone => Vendor::Poly,
            FileKind::GrandstreamXml => Vendor::Grandstream,
            FileKind::SnomXml => Vendor::Snom,
            FileKind::FanvilMac => Vendor::Fanvil,
            FileKind::CiscoMpp => Vendor::Cisco,
        }
    }
}

/// The suffix of Poly's second file, after the MAC.
pub(crate) const POLY_PHONE_SUFFIX: &str = "-littlepbx.cfg";

/// Recognises a requested file name (the last path segment): the MAC and the kinds of
/// file it can be. `<mac>.cfg` fits Yealink, the Poly master file and Fanvil, and
/// `<mac>.xml` fits Snom and Cisco: the caller picks with [`kind_for`] and the
/// registered model's vendor.
///
/// Only the exact names phones fetch are recognised: the MAC as 12 hexadecimal digits
/// in either case, everything else as written here (lowercase extensions). A zero,
/// broadcast or multicast MAC is not recognised, so Poly's generic `000000000000.cfg`
/// gives nothing away.
pub fn parse_file_name(name: &str) -> Option<(Mac, Vec<FileKind>)> {
    let mac = |digits: &[u8]| hex12(digits).and_then(|o| Mac::from_octets(o).ok());
    let (digits, kinds): (&[u8], Vec<FileKind>) = if let Some(rest) = name.strip_prefix("snom") {
        // snom<model>-<MAC>.htm, e.g. snomD785-000413A1B2C3.htm
        let stem = rest.strip_suffix(".htm")?.as_bytes();
        if stem.len() < 14 {
            return None;
        }
        let (model, tail) = stem.split_at(stem.len() - 13);
        let model_ok = !model.is_empty()
            && model.len() <= 16
            && model.iter().all(|c| c.is_ascii_alphanumeric());
        if !model_ok || tail[0] != b'-' {
            return None;
        }
        (&tail[1..], vec![FileKind::SnomXml])
    } else if let Some(rest) = name.strip_prefix("cfg") {
        (
            rest.strip_suffix(".xml")?.as_bytes(),
            vec![FileKind::GrandstreamXml],
        )
    } else if let Some(stem) = name.strip_suffix(POLY_PHONE_SUFFIX) {
        (stem.as_bytes(), vec![FileKind::PolyPhone])
    } else if let Some(stem) = name.strip_suffix(".cfg") {
        (
            stem.as_bytes(),
            vec![
                FileKind::YealinkMac,
                FileKind::PolyMaster,
                FileKind::FanvilMac,
            ],
        )
    } else if let Some(stem) = name.strip_suffix(".xml") {
        (stem.as_bytes(), vec![FileKind::SnomXml, FileKind::CiscoMpp])
    } else {
        return None;
    };
    Some((mac(digits)?, kinds))
}

/// Of the kinds a file name fits, the one a phone of this vendor means.
pub fn kind_for(vendor: Vendor, candidates: &[FileKind]) -> Option<FileKind> {
    candidates.iter().copied().find(|k| k.vendor() == vendor)
}

/// The names this model's phone fetches, the main one first (for help pages and the UI).
/// For Snom the first contact's name holds the phone's model, written `snom<model>`.
pub fn file_names(model: &Model, mac: &Mac) -> Vec<String> {
    match model.vendor {
        Vendor::Yealink | Vendor::Fanvil => vec![format!("{}.cfg", mac.lower())],
        Vendor::Poly => vec![
            format!("{}.cfg", mac.lower()),
            format!("{}{POLY_PHONE_SUFFIX}", mac.lower()),
        ],
        Vendor::Grandstream => vec![format!("cfg{}.xml", mac.lower())],
        Vendor::Snom => vec![
            format!("{}.xml", mac.upper()),
            format!("snom<model>-{}.htm", mac.upper()),
        ],
        Vendor::Cisco => vec![format!("{}.xml", mac.lower())],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{model, models};

    fn mac() -> Mac {
        Mac::parse("001565aabbcc").unwrap()
    }

    #[test]
    fn recognises_each_vendors_names() {
        use FileKind::*;
        let cases: &[(&str, &[FileKind])] = &[
            ("001565aabbcc.cfg", &[YealinkMac, PolyMaster, FanvilMac]),
            ("001565AABBCC.cfg", &[YealinkMac, PolyMaster, FanvilMac]),
            ("001565aabbcc-littlepbx.cfg", &[PolyPhone]),
            ("001565AABBCC-littlepbx.cfg", &[PolyPhone]),
            ("cfg001565aabbcc.xml", &[GrandstreamXml]),
            ("cfg001565AABBCC.xml", &[GrandstreamXml]),
            ("001565AABBCC.xml", &[SnomXml, CiscoMpp]),
            ("001565aabbcc.xml", &[SnomXml, CiscoMpp]),
            ("snomD785-001565AABBCC.htm", &[SnomXml]),
            ("snomD120-001565aabbcc.htm", &[SnomXml]),
            ("snom715-001565AABBCC.htm", &[SnomXml]),
        ];
        for (name, kinds) in cases {
            let (m, k) = parse_file_name(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(m, mac(), "{name}");
            assert_eq!(&k, kinds, "{name}");
        }
    }

    #[test]
    fn refuses_everything_else() {
        for name in [
            "",
            ".cfg",
            "000000000000.cfg",
            "000000000000.xml",
            "cfg000000000000.xml",
            "ffffffffffff.cfg",
            "011565aabbcc.cfg",
            "001565aabbcc.CFG",
            "001565aabbcc.Cfg",
            "001565aabbcc.XML",
            "001565aabbcc.cfg.bak",
            "001565aabbcc.cfg~",
            "001565aabbcc.cfg/",
            "001565aabbcc.cfgx",
            "001565aabbcc",
            "x001565aabbcc.cfg",
            "001565aabbccd.cfg",
            "01565aabbcc.cfg",
            "00:15:65:aa:bb:cc.cfg",
            "00-15-65-aa-bb-cc.cfg",
            "0015.65aa.bbcc.cfg",
            "../001565aabbcc.cfg",
            "a/001565aabbcc.cfg",
            "..\\001565aabbcc.cfg",
            "001565aabbcc-phone.cfg",
            "001565aabbcc-LITTLEPBX.cfg",
            "001565aabbcc-littlepbx.cfg.xml",
            "cfg001565aabbcc",
            "cfg001565aabbcc.xml.bak",
            "cfg.xml",
            "CFG001565aabbcc.xml",
            "y000000000028.cfg",
            "f0X4U000.cfg",
            "spa001565aabbcc.xml",
            "snom-001565AABBCC.htm",
            "snomD785001565AABBCC.htm",
            "snomD785-001565AABBCC.xml",
            "snomD785-001565AABBCC.HTM",
            "snomD7.5-001565AABBCC.htm",
            "snom/x-001565AABBCC.htm",
            "snomD785.htm",
            "SNOMD785-001565AABBCC.htm",
            "001565aabbcc.cfg\0",
            " 001565aabbcc.cfg",
            "001565aabbcc .cfg",
        ] {
            assert_eq!(parse_file_name(name), None, "{name:?}");
        }
    }

    #[test]
    fn kind_for_picks_the_vendors_kind() {
        use FileKind::*;
        let cfg = parse_file_name("001565aabbcc.cfg").unwrap().1;
        assert_eq!(kind_for(Vendor::Yealink, &cfg), Some(YealinkMac));
        assert_eq!(kind_for(Vendor::Poly, &cfg), Some(PolyMaster));
        assert_eq!(kind_for(Vendor::Fanvil, &cfg), Some(FanvilMac));
        assert_eq!(kind_for(Vendor::Cisco, &cfg), None);
        assert_eq!(kind_for(Vendor::Snom, &cfg), None);
        assert_eq!(kind_for(Vendor::Grandstream, &cfg), None);
        let xml = parse_file_name("001565AABBCC.xml").unwrap().1;
        assert_eq!(kind_for(Vendor::Snom, &xml), Some(SnomXml));
        assert_eq!(kind_for(Vendor::Cisco, &xml), Some(CiscoMpp));
        assert_eq!(kind_for(Vendor::Yealink, &xml), None);
        assert_eq!(kind_for(Vendor::Poly, &[PolyPhone]), Some(PolyPhone));
        assert_eq!(
            kind_for(Vendor::Grandstream, &[GrandstreamXml]),
            Some(GrandstreamXml)
        );
        assert_eq!(kind_for(Vendor::Poly, &[]), None);
    }

    #[test]
    fn every_models_file_names_are_recognised_as_its_own() {
        for m in models() {
            let names = file_names(m, &mac());
            assert!(!names.is_empty(), "{}", m.id);
            for name in names {
                let name = name.replace("<model>", "D785");
                let (got, kinds) = parse_file_name(&name).unwrap_or_else(|| panic!("{name}"));
                assert_eq!(got, mac());
                let kind = kind_for(m.vendor, &kinds).unwrap();
                assert_eq!(kind.vendor(), m.vendor, "{name}");
            }
        }
    }

    #[test]
    fn file_names_per_model() {
        let names = |id| file_names(model(id).unwrap(), &mac());
        assert_eq!(names("yealink-t4x-t5x"), ["001565aabbcc.cfg"]);
        assert_eq!(names("yealink-w"), ["001565aabbcc.cfg"]);
        assert_eq!(
            names("poly-vvx-edge-e"),
            ["001565aabbcc.cfg", "001565aabbcc-littlepbx.cfg"]
        );
        assert_eq!(names("grandstream-gxp-grp"), ["cfg001565aabbcc.xml"]);
        assert_eq!(
            names("snom-d"),
            ["001565AABBCC.xml", "snom<model>-001565AABBCC.htm"]
        );
        assert_eq!(names("fanvil"), ["001565aabbcc.cfg"]);
        assert_eq!(names("cisco-mpp"), ["001565aabbcc.xml"]);
    }

    #[test]
    fn catalogue_ids_are_unique_and_found() {
        let ids: Vec<_> = models().iter().map(|m| m.id).collect();
        assert_eq!(
            ids,
            [
                "yealink-t4x-t5x",
                "yealink-w",
                "poly-vvx-edge-e",
                "grandstream-gxp-grp",
                "snom-d",
                "fanvil",
                "cisco-mpp"
            ]
        );
        for m in models() {
            assert_eq!(model(m.id), Some(m));
        }
        assert_eq!(model("yealink"), None);
    }
}
