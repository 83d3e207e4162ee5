//! Music-on-hold files on disk: `<moh_dir>/<slug>/<id>/8000/moh.wav` and `.../16000/moh.wav`.
//!
//! `<id>` is the SHA-256 of the uploaded file, so the draft and the applied configuration can
//! name different recordings at once, and uploading the same file twice stores it once.
//! FreeSWITCH streams the applied recording's directory (`freeswitch` renders `local_stream.conf`).

use std::path::{Path, PathBuf};

use domain::{MohFileId, OrgSlug};
use sha2::{Digest, Sha256};

use crate::audio::MohAudio;

pub fn content_id(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The directory of one recording under the music directory `root` (LittlePBX's own path, or
/// the same directory as FreeSWITCH sees it).
pub fn recording_dir(root: &Path, slug: &OrgSlug, id: &MohFileId) -> PathBuf {
    root.join(slug.as_str()).join(id.as_str())
}

/// Writes both rates; each file is written beside and renamed into place, so FreeSWITCH never
/// reads half a file.
pub async fn store(
    root: &Path,
    slug: &OrgSlug,
    id: &MohFileId,
    audio: &MohAudio,
) -> anyhow::Result<()> {
    let dir = recording_dir(root, slug, id);
    for (rate, wav) in [(8000, &audio.wav_8k), (16000, &audio.wav_16k)] {
        let rate_dir = dir.join(rate.to_string());
        tokio::fs::create_dir_all(&rate_dir).await?;
        let temp = rate_dir.join(".moh.wav.part");
        tokio::fs::write(&temp, wav).await?;
        tokio::fs::rename(&temp, rate_dir.join("moh.wav")).await?;
    }
    Ok(())
}

/// Removes every recording of an org (when the org is deleted).
pub async fn remove_org(root: &Path, slug: &OrgSlug) -> std::io::Result<()> {
    match tokio::fs::remove_dir_all(root.join(slug.as_str())).await {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
        _ => Ok(()),
    }
}
