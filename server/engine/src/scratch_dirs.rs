//! Whether FreeSWITCH's scratch directories (`temp_dir`, `log_dir`: see
//! [`freeswitch::status::SCRATCH_DIR_VARIABLES`]) are in memory. Checked on every event-socket
//! (re)connection; one warning per directory on disk, so that the provider learns why
//! registration storms are slower than they need be (docs/registration-storm.md).

use std::path::Path;

use esl::ReconnectingClient;
use freeswitch::status::{global_variable_command, SCRATCH_DIR_VARIABLES};
use nix::sys::statfs::{
    statfs, FsType, BTRFS_SUPER_MAGIC, EXT4_SUPER_MAGIC, NFS_SUPER_MAGIC, OVERLAYFS_SUPER_MAGIC,
    PROC_SUPER_MAGIC, TMPFS_MAGIC, XFS_SUPER_MAGIC,
};

/// Where a directory FreeSWITCH names lives, seen from this machine.
#[derive(Debug, PartialEq, Eq)]
pub enum Medium {
    /// tmpfs.
    Memory,
    /// Any other file system, by its name (`ext4`, `xfs`...).
    Disk(String),
    /// Not a directory here.
    NotHere,
}

pub fn medium_of(path: &Path) -> Medium {
    if !path.is_absolute() || !path.is_dir() {
        return Medium::NotHere;
    }
    match statfs(path) {
        Ok(stat) if stat.filesystem_type() == TMPFS_MAGIC => Medium::Memory,
        Ok(stat) => Medium::Disk(file_system_name(stat.filesystem_type())),
        Err(_) => Medium::NotHere,
    }
}

/// A file system's usual name, or its magic number.
fn file_system_name(kind: FsType) -> String {
    let known = [
        (EXT4_SUPER_MAGIC, "ext4"),
        (XFS_SUPER_MAGIC, "xfs"),
        (BTRFS_SUPER_MAGIC, "btrfs"),
        (OVERLAYFS_SUPER_MAGIC, "overlay"),
        (NFS_SUPER_MAGIC, "nfs"),
        (PROC_SUPER_MAGIC, "proc"),
    ];
    known
        .iter()
        .find(|(magic, _)| *magic == kind)
        .map_or_else(|| format!("{:#x}", kind.0), |(_, name)| (*name).to_owned())
}

/// This machine's name, as FreeSWITCH's `hostname` variable gives its own.
fn our_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Asks FreeSWITCH for its scratch directories and logs where they are. Only when FreeSWITCH
/// runs on this machine (same host name): another machine's paths mean nothing here.
pub async fn check(client: &ReconnectingClient) {
    let variable = |name: &'static str| async move {
        client
            .api_raw(&global_variable_command(name))
            .await
            .map(|value| value.trim().to_owned())
    };
    let Ok(theirs) = variable("hostname").await else {
        return;
    };
    let ours = our_hostname();
    if theirs.is_empty() || theirs != ours {
        tracing::debug!(
            freeswitch_host = theirs,
            "FreeSWITCH runs on another machine: its scratch directories are not checked"
        );
        return;
    }
    for name in SCRATCH_DIR_VARIABLES {
        let Ok(dir) = variable(name).await else {
            continue;
        };
        match medium_of(Path::new(&dir)) {
            Medium::Memory => tracing::info!(variable = name, dir, "FreeSWITCH's directory is on tmpfs"),
            Medium::Disk(file_system) => tracing::warn!(
                variable = name,
                dir,
                file_system,
                "FreeSWITCH's {name} is not on tmpfs: FreeSWITCH writes and deletes files there for every lookup it makes to LittlePBX, which slows registration storms; start FreeSWITCH with -temp and -log on tmpfs (docs/registration-storm.md)"
            ),
            Medium::NotHere => tracing::debug!(variable = name, dir, "not a directory on this machine"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_memory_is_memory_and_proc_is_not() {
        assert_eq!(medium_of(Path::new("/dev/shm")), Medium::Memory);
        assert_eq!(medium_of(Path::new("/proc")), Medium::Disk("proc".into()));
    }

    #[test]
    fn missing_relative_and_file_paths_are_not_here() {
        assert_eq!(medium_of(Path::new("/no/such/dir")), Medium::NotHere);
        assert_eq!(medium_of(Path::new("tmp")), Medium::NotHere);
        assert_eq!(medium_of(Path::new("/proc/version")), Medium::NotHere);
        assert_eq!(medium_of(Path::new("")), Medium::NotHere);
    }

    #[test]
    fn a_directory_made_in_shared_memory_is_memory() {
        let dir = tempfile::Builder::new()
            .prefix("lpbx-scratch-")
            .tempdir_in("/dev/shm")
            .unwrap();
        assert_eq!(medium_of(dir.path()), Medium::Memory);
    }
}
