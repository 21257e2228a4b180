//! This process as the files name it: its id, its machine's host name and a
//! random id of its own (pids are reused; this is not), each found once.

use std::sync::OnceLock;

/// This machine's host name.
pub fn this_host() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| gethostname::gethostname().to_string_lossy().into_owned())
}

/// This process's id, asked of the OS once (it never changes).
pub fn this_pid() -> u32 {
    static PID: OnceLock<u32> = OnceLock::new();
    *PID.get_or_init(std::process::id)
}

/// The random id of this process.
pub fn this_instance() -> &'static str {
    static INSTANCE: OnceLock<String> = OnceLock::new();
    INSTANCE.get_or_init(|| uuid::Uuid::new_v4().to_string())
}
