//! A render worker killed by the OOM killer says so. The server runs in a real memory cgroup
//! made for the test (cgroup v2 under /sys/fs/cgroup, or v1's memory hierarchy beside it),
//! whose limit is then lowered to leave a reload's render no room: the kernel kills the worker
//! with SIGKILL and counts it in the cgroup's `oom_kill`, `forkblog reload` names memory and
//! what to do, and the old site keeps serving. Needs root and a machine that lets it create a
//! memory cgroup; skipped otherwise (reading the counts is unit-tested in crates/serve/src/cgroup.rs).

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::*;

/// A memory cgroup made for one test, removed on drop.
struct Cgroup {
    dir: PathBuf,
    v2: bool,
}

impl Cgroup {
    /// Under the v2 root when it delegates the memory controller, else in v1's memory
    /// hierarchy; `Err` says why neither.
    fn create() -> Result<Cgroup, String> {
        let name = format!("forkblog-test-oom-{}", std::process::id());
        let v2_root = PathBuf::from("/sys/fs/cgroup");
        let v2 = fs::read_to_string(v2_root.join("cgroup.subtree_control"))
            .is_ok_and(|c| c.split_whitespace().any(|c| c == "memory"));
        let dir = if v2 {
            v2_root.join(&name)
        } else if v2_root.join("memory/cgroup.procs").is_file() {
            v2_root.join("memory").join(&name)
        } else {
            return Err("no memory controller under /sys/fs/cgroup".into());
        };
        fs::create_dir(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        Ok(Cgroup { dir, v2 })
    }

    fn file(&self, v2: &str, v1: &str) -> PathBuf {
        self.dir.join(if self.v2 { v2 } else { v1 })
    }

    fn read(&self, v2: &str, v1: &str) -> String {
        fs::read_to_string(self.file(v2, v1)).unwrap()
    }

    /// Bytes in use now.
    fn usage(&self) -> u64 {
        self.read("memory.current", "memory.usage_in_bytes")
            .trim()
            .parse()
            .unwrap()
    }

    /// Sets the hard limit, swap excluded (on a machine with swap the worker would swap,
    /// not die).
    fn limit(&self, bytes: u64) {
        fs::write(
            self.file("memory.max", "memory.limit_in_bytes"),
            bytes.to_string(),
        )
        .unwrap();
        let swap = self.file("memory.swap.max", "memory.memsw.limit_in_bytes");
        let swap_limit = if self.v2 { 0 } else { bytes };
        if swap.exists() {
            let _ = fs::write(swap, swap_limit.to_string());
        }
    }

    fn oom_kills(&self) -> u64 {
        self.read("memory.events", "memory.oom_control")
            .lines()
            .find_map(|l| l.strip_prefix("oom_kill ")?.trim().parse().ok())
            .unwrap()
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        // Empty once the server has been killed and reaped; the kernel may take a moment.
        wait_until(Duration::from_secs(10), || {
            fs::remove_dir(&self.dir).is_ok()
        });
    }
}

/// A post of about `kib` KiB of prose, every paragraph different.
fn big_post(n: usize, kib: usize) -> String {
    let mut text = format!("---\ntitle: Big post {n}\ndate: 2026-05-01\n---\n\n");
    let mut i = 0;
    while text.len() < kib * 1024 {
        text.push_str(&format!(
            "Paragraph {i} of post {n}: *memory* is what a render of **{n}** posts needs, \
             and `{i}` words later it still needs it; [a link](https://example.com/{n}/{i}).\n\n"
        ));
        i += 1;
    }
    text
}

#[test]
fn a_worker_killed_for_memory_names_memory() {
    if !fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0) {
        eprintln!("SKIPPED: needs root (a memory cgroup is made for the server)");
        return;
    }
    let cgroup = match Cgroup::create() {
        Ok(cgroup) => cgroup,
        Err(why) => {
            eprintln!("SKIPPED: {why}");
            return;
        }
    };
    let blog = TempSite::sample();
    // The server and everything it forks start in the cgroup.
    let enter = format!(
        "echo $$ > {} && exec \"$0\" \"$@\"",
        cgroup.dir.join("cgroup.procs").display()
    );
    let server = Server::start_wrapped(&["sh", "-c", &enter], blog.root(), &[]);
    assert!(server.get("/").status == 200);

    // 48 MB of posts for the next render, and 16 MB of room above what the server uses now.
    for n in 0..24 {
        blog.write_post(&format!("2026-05-01-big-{n}.md"), &big_post(n, 2048));
    }
    let before = cgroup.oom_kills();
    cgroup.limit(cgroup.usage() + (16 << 20));

    let lock = format!("{}.lock", server.access_log.display());
    let out = Command::new(BIN)
        .args(["reload", "--lock", &lock, "--timeout", "120"])
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("forkblog reload said: {said}");
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        cgroup.oom_kills() > before,
        "no OOM kill counted: {said}\n{}",
        server.log_text()
    );
    assert!(said.contains("killed for memory"), "{said}");
    assert!(said.contains("MemoryMax"), "{said}");
    assert!(!said.contains("truncated binary"), "{said}");
    // The old site, from the same parent.
    assert_eq!(server.get("/").status, 200);
    assert!(server
        .log_text()
        .contains("the render worker was killed for memory"));
    drop(server);
}
