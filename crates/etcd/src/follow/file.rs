//! The edge's copy of the last good snapshot on local disk, so it can start serving while
//! etcd is unreachable. Written atomically: a temporary file in the same directory, fsynced,
//! renamed over the old copy, then the directory fsynced — a crash leaves the old copy or the
//! new one, never a torn file.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The file name inside the edge's state directory.
pub const SNAPSHOT_FILE: &str = "snapshot.json";

/// Where an edge keeps its last good snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotFile {
    path: PathBuf,
}

impl SnapshotFile {
    /// The copy inside `dir` (created on the first save).
    pub fn in_dir(dir: &Path) -> SnapshotFile {
        SnapshotFile {
            path: dir.join(SNAPSHOT_FILE),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved bytes, or `None` when nothing was saved yet.
    pub fn load(&self) -> io::Result<Option<Vec<u8>>> {
        match fs::read(&self.path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Replaces the copy with `bytes`, durably.
    pub fn save(&self, bytes: &[u8]) -> io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir)?;
        let tmp = self.path.with_extension("json.tmp");
        {
            let mut f = File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &self.path)?;
        File::open(dir)?.sync_all()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn saves_replace_the_copy_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let file = SnapshotFile::in_dir(&dir.path().join("state"));
        assert_eq!(file.load().unwrap(), None);
        file.save(b"first").unwrap();
        file.save(b"second").unwrap();
        assert_eq!(file.load().unwrap().as_deref(), Some(&b"second"[..]));
        let names: Vec<String> = fs::read_dir(dir.path().join("state"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, [SNAPSHOT_FILE], "no temporary file is left behind");
    }
}
