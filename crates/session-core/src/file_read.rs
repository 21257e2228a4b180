//! How session files are read: whole, in one pass, into a buffer of the
//! reading thread, without asking the size first and without touching the
//! file's access time. A crash scan reads thousands of small files, so
//! each system call saved per file counts.
//!
//! # Invariants
//! - A read returns the whole file: it stops early only on a short read
//!   that is surely the end ([`read_whole`], the short-read rule); anything
//!   else is read until a `read` returns 0.
//! - On Linux a file is opened with `O_NOATIME` where the OS allows it
//!   (files of this user), plainly otherwise ([`open_without_atime`]);
//!   reading never changes a file, its inode included.
//! - The buffer is the thread's, kept for its next read: `f` must not read
//!   another file this way while it holds the bytes.

use std::fs;
use std::io;
use std::path::Path;

/// Reads a whole (small) file with open, read until the end ([`read_whole`]
/// saves the last read), close — unlike
/// `fs::read`, without asking the size first (a `statx`) — into a buffer of
/// the calling thread that is kept for its next read, and hands the bytes to
/// `f`. Session files are a few KB, and a crash scan reads thousands of
/// them: a fresh buffer per file costs an allocation and page faults.
/// `f` must not read another file this way (the buffer is in use).
pub(crate) fn with_file<R>(path: &Path, f: impl FnOnce(&[u8]) -> R) -> io::Result<R> {
    #[cfg(unix)]
    let file = {
        use std::os::unix::fs::OpenOptionsExt;
        open_without_atime(|flags| {
            fs::OpenOptions::new()
                .read(true)
                .custom_flags(flags)
                .open(path)
        })?
    };
    #[cfg(not(unix))]
    let file = fs::File::open(path)?;
    read_with(file, f)
}

/// [`with_file`] for the file `name` of the folder `dir` is open on: the
/// path is not walked again for each file (`openat` on Unix).
pub(crate) fn with_file_in<R>(
    dir: &fs::File,
    dir_path: &Path,
    name: &str,
    f: impl FnOnce(&[u8]) -> R,
) -> io::Result<R> {
    #[cfg(unix)]
    {
        use std::os::fd::{AsRawFd, FromRawFd};
        let _ = dir_path;
        let name = std::ffi::CString::new(name).map_err(io::Error::other)?;
        let fd = open_without_atime(|flags| {
            let flags = libc::O_RDONLY | libc::O_CLOEXEC | flags;
            // SAFETY: `dir` is an open descriptor for the call's duration and
            // `name` a NUL-terminated string; a descriptor returned is new
            // and owned by the `File` made from it alone.
            let fd = unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags) };
            if fd < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(fd)
            }
        })?;
        // SAFETY: see above.
        read_with(unsafe { fs::File::from_raw_fd(fd) }, f)
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        with_file(&dir_path.join(name), f)
    }
}

/// `O_NOATIME` where the OS has it (Linux), else no flag.
#[cfg(any(target_os = "linux", target_os = "android"))]
const NO_ATIME: libc::c_int = libc::O_NOATIME;
#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
const NO_ATIME: libc::c_int = 0;

/// Opens a file for reading with `open(extra_flags)`, asking first for
/// [`NO_ATIME`]. Reading a session file does not change it, so it need not
/// touch its access time either: on a file written and never read since, the
/// first read would otherwise dirty its inode (15 % of a crash scan of fresh
/// files, and a write of every inode later). The OS refuses `O_NOATIME`
/// (EPERM) on a file another user owns: that one is opened plainly.
#[cfg(unix)]
fn open_without_atime<T>(open: impl Fn(libc::c_int) -> io::Result<T>) -> io::Result<T> {
    match open(NO_ATIME) {
        Err(e) if NO_ATIME != 0 && e.raw_os_error() == Some(libc::EPERM) => open(0),
        opened => opened,
    }
}

/// Whether `read`, what reads into a buffer of `room` bytes gave so far, is
/// the whole file without asking again: a read of a local file stops short
/// of the room only at the end, so a short read that ends with `}` (as every
/// session file ends, before its last newline) is the end, and the `read`
/// that would return 0 is saved (a crash scan makes one per file). A read
/// that ends on a page boundary, as a network file system's partial read
/// does, is not trusted; anything else is read until a `read` returns 0.
fn read_whole(read: &[u8], room: usize) -> bool {
    const PAGE: usize = 4096;
    read.len() < room && !read.len().is_multiple_of(PAGE) && read.trim_ascii_end().ends_with(b"}")
}

fn read_with<R>(mut file: fs::File, f: impl FnOnce(&[u8]) -> R) -> io::Result<R> {
    use std::cell::RefCell;
    use std::io::Read;
    thread_local! {
        static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    BUFFER.with(|buffer| {
        let mut buffer = buffer.try_borrow_mut().map_err(io::Error::other)?;
        if buffer.is_empty() {
            buffer.resize(16 * 1024, 0);
        }
        let mut len = 0;
        loop {
            if len == buffer.len() {
                let grown = buffer.len() * 2;
                buffer.resize(grown, 0);
            }
            match file.read(&mut buffer[len..]) {
                Ok(0) => break,
                Ok(n) => {
                    len += n;
                    if read_whole(&buffer[..len], buffer.len()) {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        drop(file);
        Ok(f(&buffer[..len]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_read_that_ends_with_a_brace_is_the_whole_file() {
        assert!(read_whole(b"{}", 16));
        assert!(read_whole(b"{\"a\": 1}\n", 16));
        // The buffer is full: there may be more.
        assert!(!read_whole(b"{\"a\": 1}\n", 9));
        // Not the last byte of a session file.
        assert!(!read_whole(b"{\"a\": 1", 16));
        assert!(!read_whole(b"", 16));
        // A read that ends on a page boundary is not trusted.
        let mut page = vec![b' '; 4096];
        page[0] = b'{';
        page[4095] = b'}';
        assert!(!read_whole(&page, 16_384));
    }

    #[test]
    fn reads_json_files_of_any_size_whole() {
        let dir = tempfile::tempdir().unwrap();
        #[cfg(not(windows))]
        let folder = fs::File::open(dir.path()).unwrap();
        // Windows opens a folder only with FILE_FLAG_BACKUP_SEMANTICS.
        #[cfg(windows)]
        let folder = {
            use std::os::windows::fs::OpenOptionsExt;
            fs::File::options()
                .read(true)
                .custom_flags(0x0200_0000)
                .open(dir.path())
                .unwrap()
        };
        for len in [2, 4095, 4096, 4097, 16_383, 16_384, 16_385, 40_000] {
            let name = format!("f{len}.json");
            let path = dir.path().join(&name);
            // Objects that close at their end and inside: `{"a":{}}   }`.
            let mut bytes = vec![b' '; len];
            bytes[0] = b'{';
            bytes[len - 1] = b'}';
            if len > 16 {
                bytes[1..8].copy_from_slice(b"\"a\":{}}");
            }
            fs::write(&path, &bytes).unwrap();
            assert_eq!(with_file(&path, <[u8]>::to_vec).unwrap(), bytes, "{len}");
            let read = with_file_in(&folder, dir.path(), &name, <[u8]>::to_vec).unwrap();
            assert_eq!(read, bytes, "{len}");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reading_a_session_file_leaves_its_access_time() {
        use std::time::{Duration, SystemTime};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        fs::write(&path, "{}").unwrap();
        // An access time before the change time: a plain read updates it
        // (`relatime`, the default).
        let long_ago = SystemTime::UNIX_EPOCH + Duration::from_secs(946_684_800);
        let file = fs::File::options().write(true).open(&path).unwrap();
        file.set_times(fs::FileTimes::new().set_accessed(long_ago))
            .unwrap();
        drop(file);
        let accessed = || fs::metadata(&path).unwrap().accessed().unwrap();
        assert_eq!(accessed(), long_ago);
        let folder = fs::File::open(dir.path()).unwrap();
        with_file_in(&folder, dir.path(), "a.json", |_| ()).unwrap();
        with_file(&path, |_| ()).unwrap();
        assert_eq!(accessed(), long_ago);
    }

    #[test]
    fn reads_files_of_any_size_whole() {
        let dir = tempfile::tempdir().unwrap();
        for len in [0, 1, 4095, 4096, 4097, 100_000] {
            let path = dir.path().join(format!("f{len}"));
            let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            fs::write(&path, &bytes).unwrap();
            assert_eq!(with_file(&path, <[u8]>::to_vec).unwrap(), bytes);
        }
    }
}
