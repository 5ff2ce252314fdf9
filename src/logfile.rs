//! The log: `<state dir>/pitwall/pitwall.log`, never the terminal.
//!
//! Bounded by size: past `MAX_BYTES` the file becomes `pitwall.log.1` (the
//! previous `.1` is dropped) and a new one starts, so the log never holds
//! more than `MAX_BYTES * 2`. The directory is 0700, the files 0600. While
//! the cockpit runs, fd 2 is a pipe into the same log (`redirect_stderr`),
//! so stray writes and child processes are bounded too.

use crate::diagnostic::Diagnostic;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// One log file's bound, unless `PITWALL_LOG_MAX_BYTES` says otherwise.
pub const MAX_BYTES: u64 = 5 * 1024 * 1024;
/// The smallest bound `PITWALL_LOG_MAX_BYTES` may set.
const MIN_BYTES: u64 = 4096;
/// Rotated files kept besides the current one.
pub const KEEP: usize = 1;

/// A log file that rotates by size.
#[derive(Debug)]
pub struct Rotating {
    path: PathBuf,
    max: u64,
    keep: usize,
    file: File,
    len: u64,
}

fn open_private(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    // a file left by an older version may be wider
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

impl Rotating {
    /// Opens (appends to) `path`, creating its directory 0700.
    pub fn open(path: &Path, max: u64, keep: usize) -> io::Result<Rotating> {
        if let Some(dir) = path.parent() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        let file = open_private(path)?;
        let len = file.metadata()?.len();
        Ok(Rotating {
            path: path.to_path_buf(),
            max: max.max(1),
            keep,
            file,
            len,
        })
    }

    fn rotated(&self, n: usize) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    fn rotate(&mut self) -> io::Result<()> {
        if self.keep == 0 {
            self.file.set_len(0)?;
        } else {
            for n in (1..self.keep).rev() {
                let from = self.rotated(n);
                if from.exists() {
                    std::fs::rename(&from, self.rotated(n + 1))?;
                }
            }
            std::fs::rename(&self.path, self.rotated(1))?;
            self.file = open_private(&self.path)?;
        }
        self.len = 0;
        Ok(())
    }
}

impl Write for Rotating {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.len > 0 && self.len + buf.len() as u64 > self.max {
            self.rotate()?;
        }
        // a single write larger than the bound is cut, never the bound
        let take = buf.len().min((self.max - self.len) as usize);
        let n = self.file.write(&buf[..take])?;
        self.len += n as u64;
        // what was cut is reported as written: a log line is not retried
        Ok(if take < buf.len() { buf.len() } else { n })
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// The log shared by the tracing subscriber and the stderr pipe.
#[derive(Debug, Clone)]
pub struct Log(Arc<Mutex<Rotating>>);

impl Log {
    pub fn new(file: Rotating) -> Log {
        Log(Arc::new(Mutex::new(file)))
    }
}

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.0.lock() {
            Ok(mut f) => f.write(buf),
            Err(_) => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.0.lock() {
            Ok(mut f) => f.flush(),
            Err(_) => Ok(()),
        }
    }
}

/// `<state dir>/pitwall.log` (XDG_STATE_HOME on Linux).
pub fn default_path() -> PathBuf {
    directories::ProjectDirs::from("", "", "pitwall")
        .map(|d| d.state_dir().unwrap_or(d.data_local_dir()).to_path_buf())
        .unwrap_or_else(std::env::temp_dir)
        .join("pitwall.log")
}

/// The log at the default path; when it cannot be opened, a diagnostic that
/// says where it should have been (the cockpit runs on without a log).
pub fn open() -> Result<(Log, PathBuf), Diagnostic> {
    let path = default_path();
    let max = std::env::var("PITWALL_LOG_MAX_BYTES")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(MAX_BYTES, |n| n.clamp(MIN_BYTES, 1024 * MAX_BYTES));
    match Rotating::open(&path, max, KEEP) {
        Ok(file) => Ok((Log::new(file), path)),
        Err(e) => Err(Diagnostic::new(
            path.display().to_string(),
            format!("cannot open the log: {e}; running without one"),
        )),
    }
}

/// Everything `tracing` records goes to `log`; `PITWALL_LOG` filters.
pub fn subscriber(log: Log) -> impl tracing::Subscriber + Send + Sync {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PITWALL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(move || log.clone())
        .finish()
}

/// Points fd 2 at a pipe whose lines land in `log` (restored on drop).
pub fn redirect_stderr(log: &Log) -> io::Result<crate::tui::StderrRedirect> {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two fresh fds, owned by the Files below.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both fds were just created and are owned only here.
    let (reader, writer) = unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) };
    let redirect = crate::tui::StderrRedirect::to(&writer)?;
    drop(writer);
    let mut log = log.clone();
    std::thread::Builder::new()
        .name("stderr-to-log".into())
        .spawn(move || {
            let mut lines = io::BufReader::new(reader);
            let mut line = Vec::new();
            // lines are bounded: a writer that never ends one is cut
            while let Ok(n) = Read::take(&mut lines, 64 * 1024).read_until(b'\n', &mut line) {
                if n == 0 {
                    break;
                }
                let _ = log.write_all(b"stderr: ");
                let _ = log.write_all(&line);
                if line.last() != Some(&b'\n') {
                    let _ = log.write_all(b"\n");
                }
                line.clear();
            }
        })?;
    Ok(redirect)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_real_logger_keeps_every_file_under_the_bound() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("state/pitwall.log");
        let max = 4096;
        let file = Rotating::open(&path, max, KEEP).unwrap_or_else(|e| panic!("{e}"));
        let log = Log::new(file);
        tracing::subscriber::with_default(subscriber(log), || {
            for i in 0..2000 {
                tracing::info!(line = i, "a fault, logged again and again");
            }
        });
        let mut names: Vec<String> = std::fs::read_dir(path.parent().unwrap_or(dir.path()))
            .unwrap_or_else(|e| panic!("{e}"))
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["pitwall.log", "pitwall.log.1"]);
        for name in &names {
            let meta =
                std::fs::metadata(path.with_file_name(name)).unwrap_or_else(|e| panic!("{e}"));
            assert!(meta.len() <= max, "{name} is {} bytes", meta.len());
            assert!(meta.len() > max / 2, "{name} is only {} bytes", meta.len());
            assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name}");
        }
        let dir_mode = std::fs::metadata(path.parent().unwrap_or(dir.path()))
            .unwrap_or_else(|e| panic!("{e}"))
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        // the newest line is in the current file, whole
        let current = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(current.contains("line=1999"), "{current}");
        assert!(current.lines().all(|l| l.contains("a fault")), "{current}");
    }

    #[test]
    fn a_write_larger_than_the_bound_is_cut() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("pitwall.log");
        let mut file = Rotating::open(&path, 100, 1).unwrap_or_else(|e| panic!("{e}"));
        file.write_all(&[b'x'; 1000])
            .unwrap_or_else(|e| panic!("{e}"));
        file.write_all(b"next\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(std::fs::metadata(&path).map(|m| m.len()).ok(), Some(5));
        let old = path.with_file_name("pitwall.log.1");
        assert_eq!(std::fs::metadata(old).map(|m| m.len()).ok(), Some(100));
    }
}
