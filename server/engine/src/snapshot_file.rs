//! The local copy of what FreeSWITCH is served: every org's applied snapshot, written to
//! `<data_dir>/freeswitch-snapshot.jsonl` after every change of the XML cache, so that a
//! LittlePBX that starts while its database is down or slow serves FreeSWITCH at once.
//!
//! Format, one JSON document per line:
//! ```text
//! {"format":1,"epoch":E,"database":"<sha256 of the database URL>","written_at_ms":T}
//! {"org":{...},"config":{...},"dids":[...],"trunks":[...]}        one line per org
//! {"orgs":N,"sha256":"<hex of every byte above this line>"}
//! ```
//! Written to a temporary file (mode 0600), fsynced, renamed over the old one, and the directory
//! fsynced: a reader sees the old file or the new one, whole. A file whose checksum, count,
//! format or database does not match is refused as a whole. Secrets are as the database holds
//! them: trunk passwords encrypted with the server's key, SIP credentials as A1 hashes.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use store::snapshot::AppliedSnapshot;
use store::OrgId;

const FILE_NAME: &str = "freeswitch-snapshot.jsonl";
const FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: u32,
    epoch: i64,
    database: String,
    written_at_ms: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Trailer {
    orgs: usize,
    sha256: String,
}

/// Why a snapshot file is not used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("there is no snapshot file yet")]
    Missing,
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the snapshot file is damaged: {0}")]
    Damaged(String),
    #[error("the snapshot file was written for another database")]
    OtherDatabase,
}

/// What the header of a whole, checked file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub epoch: i64,
    pub written_at_ms: i64,
}

/// The snapshot file of one data directory and one database.
#[derive(Debug, Clone)]
pub struct SnapshotFile {
    path: PathBuf,
    database: String,
}

impl SnapshotFile {
    /// `database_url` identifies the database (hashed; the file never holds the URL).
    pub fn new(data_dir: &Path, database_url: &str) -> Self {
        Self {
            path: data_dir.join(FILE_NAME),
            database: hex(&Sha256::digest(database_url.as_bytes())),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The epoch the file says it was written at; the rest of the file is not read.
    pub fn epoch(&self) -> Result<i64, SnapshotError> {
        Ok(self.open()?.header.epoch)
    }

    /// Reads the file org by org (it may be large: nothing but the org at hand is held),
    /// handing each to `visit`. An error, damage found at the end included, means the caller
    /// must throw away what it built from the orgs it was handed.
    pub fn read(&self, mut visit: impl FnMut(AppliedSnapshot)) -> Result<Written, SnapshotError> {
        let mut lines = self.open()?;
        let mut n = 0;
        while let Some(line) = lines.next_org()? {
            n += 1;
            let snapshot = serde_json::from_slice(&line)
                .map_err(|e| SnapshotError::Damaged(format!("org line {n}: {e}")))?;
            visit(snapshot);
        }
        Ok(Written {
            epoch: lines.header.epoch,
            written_at_ms: lines.header.written_at_ms,
        })
    }

    /// Opens the file and checks its header; the org lines are read one at a time (the file
    /// may be large) and the checksum is checked when the last one was read.
    fn open(&self) -> Result<OrgLines, SnapshotError> {
        let file = File::open(&self.path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => SnapshotError::Missing,
            _ => self.io_error(e),
        })?;
        let mut reader = BufReader::new(file);
        let first =
            read_line(&mut reader, self)?.ok_or_else(|| SnapshotError::Damaged("empty".into()))?;
        let header: Header = serde_json::from_slice(&first[..first.len() - 1])
            .map_err(|_| SnapshotError::Damaged("no header".into()))?;
        if header.format != FORMAT {
            return Err(SnapshotError::Damaged(format!(
                "format {} is not {FORMAT}",
                header.format
            )));
        }
        if header.database != self.database {
            return Err(SnapshotError::OtherDatabase);
        }
        let mut hasher = Sha256::new();
        hasher.update(&first);
        let pending = read_line(&mut reader, self)?;
        Ok(OrgLines {
            source: self.clone(),
            reader,
            hasher,
            orgs: 0,
            pending,
            header,
        })
    }

    /// Starts a new file at `epoch`; nothing replaces the current file before
    /// [`Writer::commit`].
    pub fn writer(&self, epoch: i64) -> Result<Writer, SnapshotError> {
        let temporary = self.path.with_extension("jsonl.tmp");
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temporary)
            .map_err(|e| self.io_error(e))?;
        let mut writer = Writer {
            target: self.clone(),
            temporary,
            out: BufWriter::new(file),
            hasher: Sha256::new(),
            orgs: 0,
        };
        let header = Header {
            format: FORMAT,
            epoch,
            database: self.database.clone(),
            written_at_ms: store::now_ms(),
        };
        writer.line(&serde_json::to_vec(&header).map_err(json_error)?)?;
        Ok(writer)
    }

    /// Writes the file at `epoch` from the current one with `changed` replaced or added and
    /// `removed` left out. The current file must be whole and at `previous_epoch`; otherwise
    /// nothing is written and the caller rewrites the file from the database.
    pub fn write_changes(
        &self,
        previous_epoch: i64,
        epoch: i64,
        changed: &[AppliedSnapshot],
        removed: &[OrgId],
    ) -> Result<(), SnapshotError> {
        #[derive(Deserialize)]
        struct OrgOnly {
            org: IdOnly,
        }
        #[derive(Deserialize)]
        struct IdOnly {
            id: OrgId,
        }
        let mut lines = self.open()?;
        if lines.header.epoch != previous_epoch {
            return Err(SnapshotError::Damaged(format!(
                "it is at epoch {}, not {previous_epoch}",
                lines.header.epoch
            )));
        }
        let replaced: HashSet<OrgId> = changed
            .iter()
            .map(|s| s.org.id)
            .chain(removed.iter().copied())
            .collect();
        // Written next to the old file while it is read; damage found on the way (or at the
        // checksum, at the end) drops the new file before it replaces anything.
        let mut writer = self.writer(epoch)?;
        while let Some(line) = lines.next_org()? {
            let org: OrgOnly = serde_json::from_slice(&line)
                .map_err(|e| SnapshotError::Damaged(format!("an org line: {e}")))?;
            if !replaced.contains(&org.org.id) {
                writer.raw_org(&line)?;
            }
        }
        for snapshot in changed {
            writer.add(snapshot)?;
        }
        writer.commit()
    }

    fn io_error(&self, source: std::io::Error) -> SnapshotError {
        SnapshotError::Io {
            path: self.path.display().to_string(),
            source,
        }
    }
}

/// One line with its `\n`; `None` at the end. A last line without `\n` is damage.
fn read_line(
    reader: &mut BufReader<File>,
    source: &SnapshotFile,
) -> Result<Option<Vec<u8>>, SnapshotError> {
    let mut line = Vec::new();
    let read = reader
        .read_until(b'\n', &mut line)
        .map_err(|e| source.io_error(e))?;
    match read {
        0 => Ok(None),
        _ if line.ends_with(b"\n") => Ok(Some(line)),
        _ => Err(SnapshotError::Damaged("cut short".into())),
    }
}

/// The org lines of a file being read, checked against its trailer at the end.
struct OrgLines {
    source: SnapshotFile,
    reader: BufReader<File>,
    hasher: Sha256,
    orgs: usize,
    /// The line read ahead: the trailer when nothing follows it.
    pending: Option<Vec<u8>>,
    header: Header,
}

impl OrgLines {
    /// The next org line (without `\n`), or `None` once the trailer was read and checked.
    fn next_org(&mut self) -> Result<Option<Vec<u8>>, SnapshotError> {
        let Some(current) = self.pending.take() else {
            return Err(SnapshotError::Damaged("no checksum line at the end".into()));
        };
        self.pending = read_line(&mut self.reader, &self.source)?;
        if self.pending.is_none() {
            self.check_trailer(&current)?;
            return Ok(None);
        }
        self.hasher.update(&current);
        self.orgs += 1;
        let mut line = current;
        line.pop();
        Ok(Some(line))
    }

    fn check_trailer(&self, line: &[u8]) -> Result<(), SnapshotError> {
        let damaged = |why: &str| SnapshotError::Damaged(why.to_owned());
        let trailer: Trailer = serde_json::from_slice(&line[..line.len() - 1])
            .map_err(|_| damaged("no checksum line at the end"))?;
        if hex(&self.hasher.clone().finalize()) != trailer.sha256 {
            return Err(damaged("the checksum does not match"));
        }
        if self.orgs != trailer.orgs {
            return Err(damaged("the number of orgs does not match"));
        }
        Ok(())
    }
}

/// A snapshot file being written.
pub struct Writer {
    target: SnapshotFile,
    temporary: PathBuf,
    out: BufWriter<File>,
    hasher: Sha256,
    orgs: usize,
}

impl Writer {
    pub fn add(&mut self, snapshot: &AppliedSnapshot) -> Result<(), SnapshotError> {
        let line = serde_json::to_vec(snapshot).map_err(json_error)?;
        self.raw_org(&line)
    }

    fn raw_org(&mut self, line: &[u8]) -> Result<(), SnapshotError> {
        self.orgs += 1;
        self.line(line)
    }

    fn line(&mut self, line: &[u8]) -> Result<(), SnapshotError> {
        self.hasher.update(line);
        self.hasher.update(b"\n");
        let written = self
            .out
            .write_all(line)
            .and_then(|()| self.out.write_all(b"\n"));
        written.map_err(|e| self.target.io_error(e))
    }

    /// Ends the file and puts it in place of the old one.
    pub fn commit(mut self) -> Result<(), SnapshotError> {
        let trailer = Trailer {
            orgs: self.orgs,
            sha256: hex(&self.hasher.clone().finalize()),
        };
        let trailer = serde_json::to_vec(&trailer).map_err(json_error)?;
        let target = self.target.path.clone();
        let directory = target.parent().map(Path::to_owned);
        let done = self
            .out
            .write_all(&trailer)
            .and_then(|()| self.out.write_all(b"\n"))
            .and_then(|()| self.out.flush())
            .and_then(|()| self.out.get_ref().sync_all())
            .and_then(|()| std::fs::rename(&self.temporary, &target))
            .and_then(|()| match directory {
                Some(directory) => File::open(directory)?.sync_all(),
                None => Ok(()),
            });
        done.map_err(|e| self.target.io_error(e))
    }
}

impl Drop for Writer {
    /// A writer dropped before [`Writer::commit`] leaves no temporary file behind (after a
    /// commit the rename already moved it, and this does nothing).
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.temporary);
    }
}

fn json_error(err: serde_json::Error) -> SnapshotError {
    SnapshotError::Damaged(format!("cannot encode: {err}"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(crate) mod tests {
    use std::os::unix::fs::PermissionsExt;

    use domain::{CompanyName, OrgConfig, OrgSlug, OrgStatus, SipDomain};
    use store::orgs::{Org, OrgLimits};

    use super::*;

    /// An org's snapshot: id and version are what the tests look at.
    pub(crate) fn snapshot(id: i64, version: i64) -> AppliedSnapshot {
        let slug = format!("org{id}");
        AppliedSnapshot {
            org: Org {
                id: OrgId(id),
                slug: OrgSlug::parse(&slug).unwrap(),
                name: CompanyName::parse("Acme & Sons \"Ltd\"").unwrap(),
                sip_domain: SipDomain::parse(&format!("pbx.{slug}.example.com")).unwrap(),
                status: OrgStatus::Active,
                applied_version: version,
                draft_revision: 1,
                xml_version: version,
                limits: OrgLimits::default(),
                has_logo: false,
                created_at: 1,
                updated_at: 2,
            },
            config: OrgConfig::default(),
            dids: vec![domain::E164::parse(&format!("+1555010{id:04}")).unwrap()],
            trunks: vec![],
        }
    }

    fn load(file: &SnapshotFile) -> Result<(Written, Vec<AppliedSnapshot>), SnapshotError> {
        let mut snapshots = Vec::new();
        let written = file.read(|s| snapshots.push(s))?;
        Ok((written, snapshots))
    }

    fn written(dir: &Path, epoch: i64, snapshots: &[AppliedSnapshot]) -> SnapshotFile {
        let file = SnapshotFile::new(dir, "mysql://u:p@db/littlepbx");
        let mut writer = file.writer(epoch).unwrap();
        for s in snapshots {
            writer.add(s).unwrap();
        }
        writer.commit().unwrap();
        file
    }

    #[test]
    fn what_is_written_reads_back_whole_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let orgs = [snapshot(1, 3), snapshot(2, 5)];
        let file = written(dir.path(), 42, &orgs);
        let (written, snapshots) = load(&file).unwrap();
        assert_eq!(written.epoch, 42);
        assert_eq!(file.epoch().unwrap(), 42);
        assert_eq!(snapshots, orgs);
        let mode = std::fs::metadata(file.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let text = std::fs::read_to_string(file.path()).unwrap();
        assert!(!text.contains("mysql://"), "the database URL stays out");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }

    #[test]
    fn any_damage_refuses_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = written(dir.path(), 7, &[snapshot(1, 3), snapshot(2, 5)]);
        let good = std::fs::read(file.path()).unwrap();
        let variants: Vec<Vec<u8>> = vec![
            // one byte changed inside an org line
            String::from_utf8(good.clone())
                .unwrap()
                .replacen("\"applied_version\":3", "\"applied_version\":4", 1)
                .into_bytes(),
            // the header's epoch changed
            String::from_utf8(good.clone())
                .unwrap()
                .replacen("\"epoch\":7", "\"epoch\":8", 1)
                .into_bytes(),
            // an org line left out
            {
                let text = String::from_utf8(good.clone()).unwrap();
                let lines: Vec<&str> = text.lines().collect();
                format!("{}\n{}\n{}\n", lines[0], lines[2], lines[3]).into_bytes()
            },
            // cut short (a crash while writing without the rename would look like this)
            good[..good.len() / 2].to_vec(),
            // the trailer removed
            good[..good.len() - 60].to_vec(),
            Vec::new(),
            b"garbage\n".to_vec(),
        ];
        for bytes in variants {
            std::fs::write(file.path(), &bytes).unwrap();
            assert!(
                matches!(load(&file), Err(SnapshotError::Damaged(_))),
                "accepted {:?}",
                String::from_utf8_lossy(&bytes)
            );
        }
        std::fs::remove_file(file.path()).unwrap();
        assert!(matches!(load(&file), Err(SnapshotError::Missing)));
    }

    #[test]
    fn a_file_of_another_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        written(dir.path(), 7, &[snapshot(1, 3)]);
        let other = SnapshotFile::new(dir.path(), "sqlite:///elsewhere.db");
        assert!(matches!(load(&other), Err(SnapshotError::OtherDatabase)));
        assert!(matches!(other.epoch(), Err(SnapshotError::OtherDatabase)));
    }

    #[test]
    fn changes_replace_add_and_remove_orgs_and_move_the_epoch() {
        let dir = tempfile::tempdir().unwrap();
        let file = written(
            dir.path(),
            7,
            &[snapshot(1, 3), snapshot(2, 5), snapshot(3, 1)],
        );
        file.write_changes(7, 9, &[snapshot(2, 6), snapshot(4, 1)], &[OrgId(3)])
            .unwrap();
        let (written, snapshots) = load(&file).unwrap();
        assert_eq!(written.epoch, 9);
        let versions: Vec<(i64, i64)> = snapshots
            .iter()
            .map(|s| (s.org.id.0, s.org.xml_version))
            .collect();
        assert_eq!(versions, vec![(1, 3), (2, 6), (4, 1)]);
        // The file is not at the epoch the caller believes: nothing is written.
        let before = std::fs::read(file.path()).unwrap();
        assert!(file.write_changes(7, 10, &[snapshot(1, 4)], &[]).is_err());
        assert_eq!(std::fs::read(file.path()).unwrap(), before);
    }
}
