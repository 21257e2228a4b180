//! Whether folders found on disk are safe to keep sessions in, as OpenSSH's
//! `StrictModes` refuses a loose `~/.ssh`.
//!
//! A session file's context is what an application resumes its work from.
//! Where another user controls the folder (a shared `/tmp`, a checkout on a
//! machine with several accounts), that user can delete, replace or plant
//! session files, and a planted `active` session is handed to this user's
//! code as its own checkpoint. So before a manager, a store, `attachSession`
//! or `requestCancellation` reads or writes anything, the folders of the
//! sessions folder that exist (`SessionStore::checked_folders`: `.msw`, `.msw/sessions`,
//! its `owners/` and `requests/`) are checked, one `lstat` each, once per
//! manager or store (`SessionStore::check_folders`, which calls [`check`]),
//! and again only when
//! the package itself creates one of them (another user may have created it
//! first). Each must
//! - not be a symbolic link (nor, on Windows, a junction);
//! - be owned by the current user (on Windows: the process's user, or the
//!   token's default owner, which is the Administrators group for an
//!   elevated process);
//! - not be writable by group or others beyond what the store's own folders
//!   get (`fileMode`: by default nobody but the owner; on Windows an entry
//!   of its access list allowing Everyone, Authenticated Users or Users to
//!   write).
//!
//! A folder that fails is refused with a [`Refusal`] (the core's
//! `CoreError::UnsafeFolder`, `ERR_UNSAFE_FOLDER`), which names it and its
//! [`Problem`]; nothing is read from it or written to it.
//! `StoreOptions::trust_folder` skips the folder checks, for a user who
//! shares a folder on purpose.
//!
//! Files: a session file that is not a regular file owned by the current
//! user ([`is_foreign_file`]) is never resumed, reported as
//! crashed, loaded or cancelled, whatever the folder options: it is moved
//! aside as an unreadable file is (`<id>.json.corrupt`, listed by
//! `corruptFiles`), never deleted. This costs one `lstat` per file read by
//! `load`, `cleanup`, `requestCancellation` or a resume, and per session a
//! crash scan would report; none on a write.
//!
//! Folders the package creates are private ([`create_dir`]): mode `0700`
//! on Unix (the store's folder mode), and on Windows a protected access list that
//! grants the current user full control and nobody else anything,
//! inherited by the files and folders inside.
//!
//! This module knows paths and the OS, nothing of sessions: the store
//! names the folders and turns a refusal into its error.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// What makes a folder unsafe to use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// It is a symbolic link (or a junction): whoever can change the link
    /// chooses where sessions go.
    Symlink,
    /// Another user owns it.
    Owner {
        /// Its owner (`uid 1000`; on Windows a SID).
        owner: String,
        /// The current user, named the same way.
        user: String,
    },
    /// Users other than its owner may write in it.
    Writable {
        /// Who (`group`, `others`, `group and others`; on Windows the
        /// account the access list allows, such as `Everyone`).
        by: &'static str,
        /// Its Unix mode, when it has one.
        mode: Option<u32>,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Symlink => f.write_str("it is a symbolic link"),
            Problem::Owner { owner, user } => {
                write!(
                    f,
                    "it is owned by {owner}, not by the current user ({user})"
                )
            }
            Problem::Writable { by, mode } => {
                write!(f, "it is writable by {by}")?;
                match mode {
                    Some(mode) => write!(f, " (mode {mode:04o})"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// A folder refused, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The folder.
    pub path: PathBuf,
    /// What is wrong with it.
    pub problem: Problem,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Refusing the session folder \"{}\": {}. Another user could \
             replace, remove or plant session files there. Use a folder of \
             your own (remove this one and the package creates it private), \
             or pass `trustFolder: true` to use it anyway",
            self.path.display(),
            self.problem
        )
    }
}

/// Why [`check`] did not pass a folder.
#[derive(Debug)]
pub enum Failure {
    /// The folder is unsafe.
    Refused(Refusal),
    /// Its owner or mode could not be read.
    Io {
        /// The folder.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

/// Checks `folders`, a chain of folders each inside the one before (the
/// first two) or inside the second (the rest), as the [module docs](self)
/// say: one `lstat` each, skipping those that do not exist. `allowed` are
/// the Unix write bits of group and others that the caller's own folders
/// get (none by default), which are not refused.
pub fn check(folders: &[PathBuf], allowed: u32) -> Result<(), Failure> {
    for (i, folder) in folders.iter().enumerate() {
        let io = |source| Failure::Io {
            path: folder.clone(),
            source,
        };
        let meta = match fs::symlink_metadata(folder) {
            Ok(meta) => meta,
            // Nothing inside a missing `.msw` or `sessions` (or a file of
            // that name) exists.
            Err(e) if missing(&e) && i < 2 => break,
            Err(e) if missing(&e) => continue,
            Err(e) => return Err(io(e)),
        };
        if let Some(problem) = problem_of(folder, &meta, allowed).map_err(io)? {
            return Err(Failure::Refused(Refusal {
                path: folder.clone(),
                problem,
            }));
        }
    }
    Ok(())
}

/// Whether an `lstat` failed because the path is not there.
fn missing(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

/// Whether `path` exists and is not a regular file owned by the current
/// user (one `lstat`; on Windows, a read of its owner too).
pub fn is_foreign_file(path: &Path) -> bool {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return false;
    };
    !meta.is_file() || !owned_by_user(path, &meta).unwrap_or(false)
}

/// [`is_foreign_file`] of the entry `name` of the open folder `dir` (whose
/// path is `dir_path`): on Unix one `fstatat` relative to the open folder,
/// which walks no path (a scan asks it of every file it reports).
pub fn is_foreign_file_in(dir: &fs::File, dir_path: &Path, name: &str) -> bool {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let _ = dir_path;
        let Ok(c_name) = std::ffi::CString::new(name) else {
            return false;
        };
        let mut stat = std::mem::MaybeUninit::<libc::stat>::uninit();
        // SAFETY: `dir` is an open descriptor for the call's duration, `c_name`
        // a NUL-terminated string, and `stat` is only read after the call
        // returned 0, which means it filled it.
        let found = unsafe {
            libc::fstatat(
                dir.as_raw_fd(),
                c_name.as_ptr(),
                stat.as_mut_ptr(),
                libc::AT_SYMLINK_NOFOLLOW,
            )
        } == 0;
        if !found {
            return false;
        }
        // SAFETY: filled by the successful call above.
        let stat = unsafe { stat.assume_init() };
        (stat.st_mode & libc::S_IFMT) != libc::S_IFREG || stat.st_uid != current_uid()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        is_foreign_file(&dir_path.join(name))
    }
}

/// Creates `path` and its missing parents with `mode` (Unix); on Windows
/// each folder created gets an access list for the current user only.
pub fn create_dir(path: &Path, mode: u32) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, mode);
    #[cfg(not(unix))]
    let _ = mode;
    #[cfg(windows)]
    let missing: Vec<PathBuf> = path
        .ancestors()
        .take_while(|p| !p.as_os_str().is_empty() && fs::symlink_metadata(p).is_err())
        .map(Path::to_path_buf)
        .collect();
    builder.create(path)?;
    #[cfg(windows)]
    for folder in missing.iter().rev() {
        windows::make_private(folder)?;
    }
    Ok(())
}

/// What is wrong with the folder `path` whose `lstat` is `meta`, if
/// anything; `allowed` are the Unix write bits of group and others that the
/// store's own folders get.
fn problem_of(path: &Path, meta: &fs::Metadata, allowed: u32) -> io::Result<Option<Problem>> {
    if meta.file_type().is_symlink() {
        return Ok(Some(Problem::Symlink));
    }
    if !meta.is_dir() {
        // Not a folder: nothing can be kept in it, and using it fails with
        // the OS's error (ERR_SESSION_IO), which says so.
        return Ok(None);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let _ = path;
        let user = current_uid();
        if meta.uid() != user {
            return Ok(Some(Problem::Owner {
                owner: format!("uid {}", meta.uid()),
                user: format!("uid {user}"),
            }));
        }
        let mode = meta.mode() & 0o7777;
        let by = match mode & 0o022 & !allowed {
            0 => return Ok(None),
            0o020 => "group",
            0o002 => "others",
            _ => "group and others",
        };
        Ok(Some(Problem::Writable {
            by,
            mode: Some(mode),
        }))
    }
    #[cfg(windows)]
    {
        let _ = allowed;
        windows::problem_of(path)
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = (path, allowed);
        Ok(None)
    }
}

/// Whether the current user owns the file `path` whose `lstat` is `meta`.
fn owned_by_user(path: &Path, meta: &fs::Metadata) -> io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let _ = path;
        Ok(meta.uid() == current_uid())
    }
    #[cfg(windows)]
    {
        let _ = meta;
        windows::owned_by_user(path)
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = (path, meta);
        Ok(true)
    }
}

/// The effective user id of this process.
#[cfg(unix)]
fn current_uid() -> u32 {
    // SAFETY: geteuid takes nothing, cannot fail and touches no memory of ours.
    unsafe { libc::geteuid() }
}

#[cfg(windows)]
mod windows {
    //! Owners and access lists through the Win32 security API.

    use std::io;
    use std::os::windows::ffi::OsStrExt;
    use std::path::Path;
    use std::ptr::{null, null_mut};
    use std::sync::OnceLock;

    use windows_sys::Win32::Foundation::{
        CloseHandle, LocalFree, ERROR_SUCCESS, GENERIC_ALL, GENERIC_WRITE, HANDLE,
    };
    use windows_sys::Win32::Security::Authorization::{
        ConvertSidToStringSidW, GetNamedSecurityInfoW, SetNamedSecurityInfoW, SE_FILE_OBJECT,
    };
    use windows_sys::Win32::Security::{
        AddAccessAllowedAceEx, CreateWellKnownSid, EqualSid, GetAce, GetLengthSid,
        GetTokenInformation, InitializeAcl, TokenOwner, TokenUser, WinAuthenticatedUserSid,
        WinBuiltinUsersSid, WinWorldSid, ACCESS_ALLOWED_ACE, ACE_HEADER, ACL, ACL_REVISION,
        CONTAINER_INHERIT_ACE, DACL_SECURITY_INFORMATION, OBJECT_INHERIT_ACE,
        OWNER_SECURITY_INFORMATION, PROTECTED_DACL_SECURITY_INFORMATION, PSECURITY_DESCRIPTOR,
        PSID, SECURITY_MAX_SID_SIZE, TOKEN_INFORMATION_CLASS, TOKEN_QUERY, WELL_KNOWN_SID_TYPE,
    };
    use windows_sys::Win32::Storage::FileSystem::{
        DELETE, FILE_ALL_ACCESS, FILE_APPEND_DATA, FILE_DELETE_CHILD, FILE_WRITE_DATA, WRITE_DAC,
        WRITE_OWNER,
    };
    use windows_sys::Win32::System::SystemServices::ACCESS_ALLOWED_ACE_TYPE;
    use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

    use super::Problem;

    /// The rights that let an account change a folder or what it holds.
    const WRITE_RIGHTS: u32 = FILE_WRITE_DATA
        | FILE_APPEND_DATA
        | FILE_DELETE_CHILD
        | DELETE
        | WRITE_DAC
        | WRITE_OWNER
        | GENERIC_WRITE
        | GENERIC_ALL;

    /// The broad accounts a folder's access list must not let write, with
    /// the name a refusal gives each.
    const BROAD: [(WELL_KNOWN_SID_TYPE, &str); 3] = [
        (WinWorldSid, "Everyone"),
        (WinAuthenticatedUserSid, "Authenticated Users"),
        (WinBuiltinUsersSid, "Users"),
    ];

    /// A SID of our own (the bytes, aligned as a SID must be).
    struct Sid(Vec<u32>);

    impl Sid {
        /// A copy of the valid SID `sid`.
        ///
        /// # Safety
        /// `sid` must point to a valid SID.
        unsafe fn copy(sid: PSID) -> Sid {
            // SAFETY: per the function's contract.
            let len = unsafe { GetLengthSid(sid) } as usize;
            let mut words = vec![0u32; len.div_ceil(4)];
            // SAFETY: `sid` holds `len` bytes; `words` has room for them.
            unsafe {
                std::ptr::copy_nonoverlapping(sid.cast::<u8>(), words.as_mut_ptr().cast(), len)
            };
            Sid(words)
        }

        fn as_psid(&self) -> PSID {
            self.0.as_ptr().cast_mut().cast()
        }
    }

    /// The current user and the token's default owner for new objects.
    struct Users {
        user: Sid,
        owner: Sid,
        broad: Vec<(Sid, &'static str)>,
    }

    /// [`Users`] of this process, found once.
    fn users() -> io::Result<&'static Users> {
        static USERS: OnceLock<std::result::Result<Users, i32>> = OnceLock::new();
        USERS
            .get_or_init(|| {
                let found = (|| -> io::Result<Users> {
                    Ok(Users {
                        user: token_sid(TokenUser)?,
                        owner: token_sid(TokenOwner)?,
                        broad: BROAD
                            .iter()
                            .map(|&(kind, name)| Ok((well_known(kind)?, name)))
                            .collect::<io::Result<_>>()?,
                    })
                })();
                found.map_err(|e| e.raw_os_error().unwrap_or(0))
            })
            .as_ref()
            .map_err(|&code| io::Error::from_raw_os_error(code))
    }

    /// The SID that `TokenUser` or `TokenOwner` names in this process's token.
    fn token_sid(class: TOKEN_INFORMATION_CLASS) -> io::Result<Sid> {
        let mut token: HANDLE = null_mut();
        // SAFETY: plain calls with valid out-pointers; the token is closed
        // below; TOKEN_USER and TOKEN_OWNER both begin with the SID's
        // pointer, into the buffer, which is copied before it is dropped.
        unsafe {
            if OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) == 0 {
                return Err(io::Error::last_os_error());
            }
            let mut len = 0u32;
            GetTokenInformation(token, class, null_mut(), 0, &mut len);
            let mut buffer = vec![0u64; (len as usize).div_ceil(8).max(1)];
            let ok = GetTokenInformation(token, class, buffer.as_mut_ptr().cast(), len, &mut len);
            let error = io::Error::last_os_error();
            CloseHandle(token);
            if ok == 0 {
                return Err(error);
            }
            Ok(Sid::copy(*buffer.as_ptr().cast::<PSID>()))
        }
    }

    /// A well-known SID (Everyone, …).
    fn well_known(kind: WELL_KNOWN_SID_TYPE) -> io::Result<Sid> {
        let mut words = vec![0u32; (SECURITY_MAX_SID_SIZE as usize).div_ceil(4)];
        let mut len = SECURITY_MAX_SID_SIZE;
        // SAFETY: `words` has room for `len` bytes.
        let ok =
            unsafe { CreateWellKnownSid(kind, null_mut(), words.as_mut_ptr().cast(), &mut len) };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Sid(words))
    }

    /// A SID as text (`S-1-5-21-…`).
    fn sid_text(sid: PSID) -> String {
        let mut text = null_mut();
        // SAFETY: `sid` is valid; the string is freed with LocalFree.
        unsafe {
            if ConvertSidToStringSidW(sid, &mut text) == 0 || text.is_null() {
                return "an unknown account".into();
            }
            let len = (0..).take_while(|&i| *text.add(i) != 0).count();
            let out = String::from_utf16_lossy(std::slice::from_raw_parts(text, len));
            LocalFree(text.cast());
            out
        }
    }

    fn wide(path: &Path) -> Vec<u16> {
        path.as_os_str().encode_wide().chain(Some(0)).collect()
    }

    /// A security descriptor from GetNamedSecurityInfoW, freed when dropped.
    struct Descriptor(PSECURITY_DESCRIPTOR);

    impl Drop for Descriptor {
        fn drop(&mut self) {
            // SAFETY: the descriptor was allocated by the system for us.
            unsafe { LocalFree(self.0) };
        }
    }

    /// The owner and (when asked) the access list of `path`; both point
    /// into the returned descriptor.
    fn security(path: &Path, dacl: bool) -> io::Result<(Descriptor, PSID, *mut ACL)> {
        let mut owner: PSID = null_mut();
        let mut list: *mut ACL = null_mut();
        let mut descriptor: PSECURITY_DESCRIPTOR = null_mut();
        let mut what = OWNER_SECURITY_INFORMATION;
        if dacl {
            what |= DACL_SECURITY_INFORMATION;
        }
        let name = wide(path);
        // SAFETY: valid NUL-terminated name and out-pointers.
        let status = unsafe {
            GetNamedSecurityInfoW(
                name.as_ptr(),
                SE_FILE_OBJECT,
                what,
                &mut owner,
                null_mut(),
                if dacl { &mut list } else { null_mut() },
                null_mut(),
                &mut descriptor,
            )
        };
        if status != ERROR_SUCCESS {
            return Err(io::Error::from_raw_os_error(status as i32));
        }
        Ok((Descriptor(descriptor), owner, list))
    }

    /// Whether `owner` is the current user (or the token's default owner).
    fn is_user(users: &Users, owner: PSID) -> bool {
        // SAFETY: both SIDs are valid.
        !owner.is_null()
            && unsafe {
                EqualSid(owner, users.user.as_psid()) != 0
                    || EqualSid(owner, users.owner.as_psid()) != 0
            }
    }

    /// Whether the current user owns the file `path`.
    pub(super) fn owned_by_user(path: &Path) -> io::Result<bool> {
        let users = users()?;
        let (_descriptor, owner, _) = security(path, false)?;
        Ok(is_user(users, owner))
    }

    /// What is wrong with the folder `path`'s owner or access list.
    pub(super) fn problem_of(path: &Path) -> io::Result<Option<Problem>> {
        let users = users()?;
        let (_descriptor, owner, list) = security(path, true)?;
        if !is_user(users, owner) {
            return Ok(Some(Problem::Owner {
                owner: if owner.is_null() {
                    "nobody".into()
                } else {
                    sid_text(owner)
                },
                user: sid_text(users.user.as_psid()),
            }));
        }
        if list.is_null() {
            // No access list: everyone may do everything.
            return Ok(Some(Problem::Writable {
                by: "Everyone",
                mode: None,
            }));
        }
        // SAFETY: `list` is a valid ACL inside `_descriptor`; each ACE
        // GetAce returns lies inside it, and an allowed ACE's SID starts at
        // its `SidStart`.
        unsafe {
            for i in 0..u32::from((*list).AceCount) {
                let mut ace = null_mut();
                if GetAce(list, i, &mut ace) == 0 {
                    continue;
                }
                let header = &*ace.cast::<ACE_HEADER>();
                if u32::from(header.AceType) != ACCESS_ALLOWED_ACE_TYPE {
                    continue;
                }
                let allowed = ace.cast::<ACCESS_ALLOWED_ACE>();
                if (*allowed).Mask & WRITE_RIGHTS == 0 {
                    continue;
                }
                let sid: PSID = std::ptr::addr_of!((*allowed).SidStart).cast_mut().cast();
                for (broad, name) in &users.broad {
                    if EqualSid(sid, broad.as_psid()) != 0 {
                        return Ok(Some(Problem::Writable {
                            by: name,
                            mode: None,
                        }));
                    }
                }
            }
        }
        Ok(None)
    }

    /// Gives the folder `path` a protected access list (nothing inherited)
    /// granting the current user full control, inherited by what is
    /// inside: Windows' `0700`.
    pub(super) fn make_private(path: &Path) -> io::Result<()> {
        let users = users()?;
        set_access(path, &[users.user.as_psid()])
    }

    /// Gives the folder `path` a protected access list granting full
    /// control, inherited by what is inside, to each of `sids`.
    fn set_access(path: &Path, sids: &[PSID]) -> io::Result<()> {
        // SAFETY: each SID is valid; the ACL buffer is sized for its header
        // and one allowed ACE per SID, and aligned for an ACL.
        unsafe {
            let size = sids.iter().fold(std::mem::size_of::<ACL>(), |size, &sid| {
                size + std::mem::size_of::<ACCESS_ALLOWED_ACE>() - std::mem::size_of::<u32>()
                    + GetLengthSid(sid) as usize
            });
            let size = size.next_multiple_of(4);
            let mut buffer = vec![0u32; size / 4];
            let list = buffer.as_mut_ptr().cast::<ACL>();
            if InitializeAcl(list, size as u32, ACL_REVISION) == 0 {
                return Err(io::Error::last_os_error());
            }
            for &sid in sids {
                if AddAccessAllowedAceEx(
                    list,
                    ACL_REVISION,
                    OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE,
                    FILE_ALL_ACCESS,
                    sid,
                ) == 0
                {
                    return Err(io::Error::last_os_error());
                }
            }
            let name = wide(path);
            let status = SetNamedSecurityInfoW(
                name.as_ptr(),
                SE_FILE_OBJECT,
                DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                null_mut(),
                null_mut(),
                list,
                null(),
            );
            if status != ERROR_SUCCESS {
                return Err(io::Error::from_raw_os_error(status as i32));
            }
        }
        Ok(())
    }

    #[cfg(test)]
    pub(super) mod testing {
        //! What the Windows tests need of this module's internals.
        use super::*;

        /// The SIDs the allowed entries of `path`'s access list name.
        pub(crate) fn allowed_sids(path: &Path) -> Vec<String> {
            let (_descriptor, _, list) = security(path, true).unwrap();
            assert!(!list.is_null(), "{} has no access list", path.display());
            let mut sids = Vec::new();
            // SAFETY: as in `problem_of`.
            unsafe {
                for i in 0..u32::from((*list).AceCount) {
                    let mut ace = null_mut();
                    assert_ne!(GetAce(list, i, &mut ace), 0);
                    let header = &*ace.cast::<ACE_HEADER>();
                    assert_eq!(u32::from(header.AceType), ACCESS_ALLOWED_ACE_TYPE);
                    let allowed = ace.cast::<ACCESS_ALLOWED_ACE>();
                    sids.push(sid_text(
                        std::ptr::addr_of!((*allowed).SidStart).cast_mut().cast(),
                    ));
                }
            }
            sids
        }

        /// The current user's SID, as text.
        pub(crate) fn user_sid() -> String {
            sid_text(users().unwrap().user.as_psid())
        }

        /// Lets the current user and Everyone do anything in `path`.
        pub(crate) fn open_to_everyone(path: &Path) {
            let users = users().unwrap();
            let world = well_known(WinWorldSid).unwrap();
            set_access(path, &[users.user.as_psid(), world.as_psid()]).unwrap();
        }
    }
}

#[cfg(test)]
mod tests {
    // Each platform's checks; the Windows ones run under wine with
    // `npm run test:windows`.
    #[cfg(unix)]
    mod unix;
    #[cfg(windows)]
    mod windows;
}
