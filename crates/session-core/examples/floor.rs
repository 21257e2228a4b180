//! The physical floor of the file workloads: the system calls each one
//! makes, in a bare loop, with nothing else (no JSON, no JavaScript).
//!
//! `cargo run --release -p msw-session-core --example floor -- [--json] [--dir <folder>]
//! [--rounds <n>] [--only <pattern,...>]`
//!
//! Patterns, each in a fresh folder, medians of 5 rounds, µs per unit:
//! - `atomic2`: a session's create + complete as the package writes them:
//!   two atomic writes (new temporary file `O_CREAT|O_EXCL` 0600, write,
//!   close, rename over the session file);
//! - `reference4`: the reference's create + start + complete: one new file,
//!   then three rewrites in place (`open(O_TRUNC)`, write, close);
//! - `atomic1`: one atomic write over an existing file, 50 in a row (a save
//!   at shutdown), and `atomic1Threads2` the same 50 spread over two threads;
//! - `read`: open, read to the end, close of one existing file (a crash
//!   scan's per-file floor, on one thread);
//! - `readdir`: listing a folder of 10,000 files, per file;
//! - `pooled2`: `atomic2` with the temporary files made ahead on a second
//!   thread (each new and held open): a direction tried for issue 14, slower
//!   here (the two threads contend for the folder);
//! - `tmpfile2` (Linux only): `atomic2` with the first write an unnamed file
//!   (`O_TMPFILE`) linked in under the session's name.
//!
//! Elsewhere than on Unix the files are made without a mode (Windows has
//! none), so those numbers are the floor of the same calls without it.
use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
#[cfg(unix)]
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Rounds per pattern unless `--rounds` says otherwise.
const ROUNDS: usize = 5;
const BODY: usize = 900;

/// The options of a new temporary file: `O_CREAT|O_EXCL`, 0600 on Unix.
fn new_file_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    options
}

fn new_file(path: &Path, body: &[u8]) {
    let mut f = new_file_options().open(path).unwrap();
    f.write_all(body).unwrap();
}

fn rewrite(path: &Path, body: &[u8]) {
    let mut f = OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .unwrap();
    f.write_all(body).unwrap();
}

fn atomic(dir: &Path, target: &Path, n: &mut u64, body: &[u8]) {
    *n += 1;
    let temp = dir.join(format!(".t.{n}.tmp"));
    new_file(&temp, body);
    fs::rename(&temp, target).unwrap();
}

fn fresh(base: &Path, name: &str) -> PathBuf {
    let dir = base.join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// What the command line asked for: the rounds and the patterns to run.
struct Plan {
    rounds: usize,
    only: Option<Vec<String>>,
}

impl Plan {
    fn wants(&self, name: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|o| o.iter().any(|n| n == name))
    }
}

fn measure(
    plan: &Plan,
    base: &Path,
    name: &str,
    units: usize,
    mut run: impl FnMut(&Path),
) -> Option<f64> {
    if !plan.wants(name) {
        return None;
    }
    let mut per = Vec::new();
    for round in 0..plan.rounds {
        let dir = fresh(base, &format!("{name}-{round}"));
        let t = Instant::now();
        run(&dir);
        per.push(t.elapsed().as_secs_f64() * 1e6 / units as f64);
        fs::remove_dir_all(&dir).unwrap();
    }
    Some(median(per))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let json = args.iter().any(|a| a == "--json");
    let base = match args.iter().position(|a| a == "--dir") {
        Some(i) => PathBuf::from(&args[i + 1]),
        None => std::env::temp_dir().join(format!("msw-session-floor-{}", std::process::id())),
    };
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
    };
    let plan = Plan {
        rounds: value("--rounds")
            .and_then(|v| v.parse().ok())
            .unwrap_or(ROUNDS),
        only: value("--only").map(|v| v.split(',').map(str::to_string).collect()),
    };
    fs::create_dir_all(&base).unwrap();
    let body = vec![b'x'; BODY];
    let sessions = 1000;
    let atomic2 = measure(&plan, &base, "atomic2", sessions, |dir| {
        let mut n = 0;
        for i in 0..sessions {
            let target = dir.join(format!("s{i}.json"));
            atomic(dir, &target, &mut n, &body);
            atomic(dir, &target, &mut n, &body);
        }
    });
    let pooled2 = measure(&plan, &base, "pooled2", sessions, |dir| {
        // Temporary files made ahead on another thread, each new (O_EXCL)
        // and held open; the loop only writes and renames.
        let (tx, rx) = std::sync::mpsc::sync_channel::<(fs::File, PathBuf)>(16);
        let maker_dir = dir.to_path_buf();
        let maker = std::thread::spawn(move || {
            for n in 0..2 * sessions {
                let temp = maker_dir.join(format!(".p.{n}.tmp"));
                let f = new_file_options().open(&temp).unwrap();
                if tx.send((f, temp)).is_err() {
                    return;
                }
            }
        });
        for i in 0..sessions {
            let target = dir.join(format!("s{i}.json"));
            for _ in 0..2 {
                let (mut f, temp) = rx.recv().unwrap();
                f.write_all(&body).unwrap();
                drop(f);
                fs::rename(&temp, &target).unwrap();
            }
        }
        maker.join().unwrap();
    });
    #[cfg(not(target_os = "linux"))]
    let tmpfile2 = None;
    #[cfg(target_os = "linux")]
    let tmpfile2 = measure(&plan, &base, "tmpfile2", sessions, |dir| {
        // The first write as an unnamed file (`O_TMPFILE`) linked in whole
        // under the session's name; the second an atomic write.
        let mut n = 0;
        for i in 0..sessions {
            let target = dir.join(format!("s{i}.json"));
            let mut f = OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_TMPFILE)
                .mode(0o600)
                .open(dir)
                .unwrap();
            f.write_all(&body).unwrap();
            use std::os::fd::AsRawFd;
            let from = std::ffi::CString::new(format!("/proc/self/fd/{}", f.as_raw_fd())).unwrap();
            let to = std::ffi::CString::new(target.as_os_str().as_encoded_bytes()).unwrap();
            // SAFETY: both paths are NUL-terminated strings.
            let linked = unsafe {
                libc::linkat(
                    libc::AT_FDCWD,
                    from.as_ptr(),
                    libc::AT_FDCWD,
                    to.as_ptr(),
                    libc::AT_SYMLINK_FOLLOW,
                )
            };
            assert_eq!(linked, 0, "{}", std::io::Error::last_os_error());
            drop(f);
            atomic(dir, &target, &mut n, &body);
        }
    });
    let reference4 = measure(&plan, &base, "reference4", sessions, |dir| {
        for i in 0..sessions {
            let target = dir.join(format!("s{i}.json"));
            new_file(&target, &body);
            for _ in 0..3 {
                rewrite(&target, &body);
            }
        }
    });
    let saves: usize = 50;
    let batch = |name: &str, threads: usize| {
        if !plan.wants(name) {
            return None;
        }
        let mut per = Vec::new();
        for round in 0..plan.rounds {
            let dir = fresh(&base, &format!("{name}-{round}"));
            let targets: Vec<_> = (0..saves).map(|i| dir.join(format!("s{i}.json"))).collect();
            for t in &targets {
                fs::write(t, &body).unwrap();
            }
            let t = Instant::now();
            std::thread::scope(|scope| {
                for (k, part) in targets.chunks(saves.div_ceil(threads)).enumerate() {
                    let dir = &dir;
                    let body = &body;
                    scope.spawn(move || {
                        let mut n = (k as u64) << 32;
                        for t in part {
                            atomic(dir, t, &mut n, body);
                        }
                    });
                }
            });
            per.push(t.elapsed().as_secs_f64() * 1e6 / saves as f64);
            fs::remove_dir_all(&dir).unwrap();
        }
        Some(median(per))
    };
    let atomic1 = batch("atomic1", 1);
    let atomic1_threads2 = batch("atomic1Threads2", 2);
    let read = plan.wants("read").then(|| {
        let files = 3000;
        let read_dir = fresh(&base, "read");
        for i in 0..files {
            fs::write(read_dir.join(format!("s{i}.json")), &body).unwrap();
        }
        let mut per = Vec::new();
        let mut buf = vec![0u8; 16 * 1024];
        for _ in 0..plan.rounds {
            let t = Instant::now();
            for i in 0..files {
                let mut f = fs::File::open(read_dir.join(format!("s{i}.json"))).unwrap();
                while f.read(&mut buf).unwrap() > 0 {}
            }
            per.push(t.elapsed().as_secs_f64() * 1e6 / files as f64);
        }
        median(per)
    });
    let readdir = plan.wants("readdir").then(|| {
        let many = fresh(&base, "readdir");
        for i in 0..10_000 {
            fs::write(many.join(format!("s{i}.json")), b"{}").unwrap();
        }
        let mut per = Vec::new();
        for _ in 0..plan.rounds {
            let t = Instant::now();
            let n = fs::read_dir(&many).unwrap().count();
            per.push(t.elapsed().as_secs_f64() * 1e6 / n as f64);
        }
        median(per)
    });
    fs::remove_dir_all(&base).unwrap();
    let results = [
        ("atomic2", atomic2, "µs per session, create + complete as the package writes (2 atomic writes)"),
        ("pooled2", pooled2, "µs per session, the same with the temporary files made ahead on another thread"),
        ("tmpfile2", tmpfile2, "µs per session, the first write an O_TMPFILE linked in, the second atomic"),
        ("reference4", reference4, "µs per session, create + start + complete as the reference writes (1 new + 3 rewrites)"),
        ("atomic1", atomic1, "µs per atomic write over an existing file, 50 in a row"),
        ("atomic1Threads2", atomic1_threads2, "µs per atomic write over an existing file, 50 on two threads"),
        ("read", read, "µs per file, open + read + close"),
        ("readdir", readdir, "µs per file, listing 10,000 files"),
    ];
    if json {
        let object: serde_json::Map<String, serde_json::Value> = results
            .iter()
            .filter_map(|(name, value, _)| Some((name.to_string(), serde_json::json!((*value)?))))
            .collect();
        println!("{}", serde_json::Value::Object(object));
    } else {
        for (_, value, what) in results {
            if let Some(value) = value {
                println!("{what}: {value:.2}");
            }
        }
    }
}
