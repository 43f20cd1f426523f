//! Every `unsafe` block and raw libc call in forkblog, each behind one small safe function.
//!
//! The rest of the crate is `#![deny(unsafe_code)]` (lib.rs), allowed only here; a reader auditing soundness reads
//! this file and nothing else. Each function says why it is sound and, where it runs in a child
//! after `fork()`, why it is async-signal-safe there.

#![allow(unsafe_code)]

use std::io;
use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::sync::atomic::AtomicU64;

use nix::sys::mman::{MapFlags, ProtFlags};
use nix::sys::signal::{SigHandler, Signal};
use nix::unistd::ForkResult;

/// Forks the process.
///
/// Sound because every process that forks is single-threaded: the serving parent starts no
/// thread and uses no crate that does, so the child inherits no lock held by another thread and
/// may allocate and use std freely. The one place forkblog starts threads, `render::site::par`, runs
/// only in the render worker (itself a forked child that never forks) and in one-shot commands
/// (`check`, `build`, `--inetd`) that fork nothing after it; it never runs in the serving parent.
/// The supervisor's doc comment repeats this invariant where it forks.
pub(crate) fn fork() -> nix::Result<ForkResult> {
    // SAFETY: single-threaded caller, see above.
    unsafe { nix::unistd::fork() }
}

/// Forks a connection child: the `fork` system call itself, without the C library's wrapper
/// around it.
///
/// glibc's `fork()` runs the atfork handlers (none are registered in forkblog), re-initialises
/// its own locks (stdio, malloc arenas, the loader's lock, NSS) in the child, writes the child's
/// thread ID into the thread control block and registers the robust-futex list again. Each of
/// those writes lands on a different page, so every child pays a copy-on-write fault for each
/// (and the parent again for its own writes afterwards): about five of the ~25 page faults a
/// connection child takes in all.
///
/// Sound under the same single-thread condition as [`fork`], and for a process that then only
/// serves one connection and calls [`exit_now`]: with one thread, no lock can be held by
/// another thread at the fork, so there is nothing for glibc to re-initialise; the child never
/// creates a thread, forks or execs; it takes no robust or error-checking pthread mutex (the
/// only users of the thread ID left stale in the thread control block); and `raise`/`abort`
/// (a panic) ask the kernel for the thread ID rather than trusting the stale one. Process IDs
/// are not cached by glibc (since 2.25). The render and ACME workers, which do create threads
/// or exec, use [`fork`].
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub(crate) fn fork_connection_child() -> nix::Result<ForkResult> {
    // SAFETY: see above. clone(SIGCHLD) with no stack, TID pointers or TLS is fork(2): the
    // child continues on a copy of this stack, and the call takes no pointers.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_clone,
            libc::SIGCHLD as libc::c_long,
            0 as libc::c_long,
            0 as libc::c_long,
            0 as libc::c_long,
            0 as libc::c_long,
        )
    };
    match rc {
        -1 => Err(nix::errno::Errno::last()),
        0 => Ok(ForkResult::Child),
        pid => Ok(ForkResult::Parent {
            child: nix::unistd::Pid::from_raw(pid as libc::pid_t),
        }),
    }
}

/// Forks a connection child (elsewhere than Linux x86_64: glibc's or the platform's `fork`).
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
pub fn fork_connection_child() -> nix::Result<ForkResult> {
    fork()
}

/// Ends the calling process at once with `code`, running no atexit handlers and flushing no
/// stdio buffers (a child must never flush a buffer it inherited from its parent).
///
/// `_exit` is async-signal-safe and takes no pointers, so calling it is always sound.
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: _exit has no preconditions.
    unsafe { libc::_exit(code) }
}

/// Closes every file descriptor in `first..=last` (inclusive), ignoring gaps.
///
/// Used by a child right after fork to drop everything it must not hold (the listening socket,
/// the signal pipe, the lock file, the parent's copy of the connection), and by a first start
/// to drop whatever its launcher left open, before it has opened anything itself. `close_range(2)` is a
/// plain syscall (async-signal-safe); on kernels older than 5.9 it fails with ENOSYS and the
/// fallback closes one by one up to the soft fd limit, also with plain `close` calls. It is
/// sound because the caller owns the whole process after fork and the std handles that refer to
/// the closed fds are never used or dropped again (the child ends with [`exit_now`]).
pub(crate) fn close_range(first: RawFd, last: RawFd) {
    if first > last || first < 0 {
        return;
    }
    // SAFETY: close_range takes integers only; closing fds nobody will use again is sound.
    let rc = unsafe { libc::syscall(libc::SYS_close_range, first as u32, last as u32, 0u32) };
    if rc == 0 {
        return;
    }
    let limit = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map(|(soft, _)| soft.min(1 << 20) as RawFd)
        .unwrap_or(1024);
    for fd in first..=last.min(limit) {
        // SAFETY: as above; EBADF for unused numbers is harmless.
        unsafe { libc::close(fd) };
    }
}

/// Sets `signals` back to their default disposition, and `ignored` to SIG_IGN.
///
/// A child inherits the parent's signal-hook handlers, which would write to the parent's
/// self-pipe (already closed in the child). `sigaction` is async-signal-safe, and installing
/// SIG_DFL/SIG_IGN installs no Rust code as a handler, so no handler can observe broken state.
pub(crate) fn set_signal_dispositions(default: &[Signal], ignored: &[Signal]) {
    for &signal in default {
        // SAFETY: SIG_DFL runs no user code.
        let _ = unsafe { nix::sys::signal::signal(signal, SigHandler::SigDfl) };
    }
    for &signal in ignored {
        // SAFETY: SIG_IGN runs no user code.
        let _ = unsafe { nix::sys::signal::signal(signal, SigHandler::SigIgn) };
    }
}

/// A close-on-exec duplicate of `fd` on the lowest free number from `min` up
/// (`fcntl(F_DUPFD_CLOEXEC)`). Only fcntl: async-signal-safe, so usable between fork and exec.
pub(crate) fn dup_at_least(fd: BorrowedFd<'_>, min: RawFd) -> nix::Result<OwnedFd> {
    let raw = nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(min))?;
    // SAFETY: F_DUPFD_CLOEXEC just made `raw`, a new descriptor nothing else in the process
    // knows of, so this is its only owner.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// Takes ownership of a descriptor this process inherited from whoever exec'd it (systemd's
/// `LISTEN_FDS`, or forkblog's own previous image across a SIGHUP re-exec).
///
/// Sound only when nothing else in the process owns `fd`: the caller gets `fd` from the
/// environment it was started with and calls this once per descriptor at start-up, before any
/// other code could have opened or wrapped it. `fcntl(F_GETFD)` first checks that it is open.
pub(crate) fn adopt_inherited_fd(fd: RawFd) -> io::Result<OwnedFd> {
    if fd < 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bad fd {fd}"),
        ));
    }
    // SAFETY: F_GETFD only reads the flags of the descriptor number.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is open and, per the contract above, owned by no one else in this process.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A `MAP_SHARED` mapping of the first `len` bytes of a file, unmapped on drop. The two safe
/// views below say what may be done with the bytes.
struct Mapping {
    ptr: NonNull<libc::c_void>,
    len: usize,
}

impl Mapping {
    fn new(fd: BorrowedFd<'_>, len: usize, prot: ProtFlags) -> nix::Result<Mapping> {
        let length = std::num::NonZeroUsize::new(len).ok_or(nix::errno::Errno::EINVAL)?;
        // SAFETY: a fresh mapping at an address the kernel chooses overlaps nothing Rust owns.
        let ptr = unsafe { nix::sys::mman::mmap(None, length, prot, MapFlags::MAP_SHARED, fd, 0)? };
        Ok(Mapping { ptr, len })
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what `new` mapped; the views borrow self, so no reference
        // into the pages outlives it.
        let _ = unsafe { nix::sys::mman::munmap(self.ptr, self.len) };
    }
}

/// A read-only, shared mapping of a whole sealed memfd (the rendered site).
///
/// Forked children share its pages with the parent: `fork` copies no page of a MAP_SHARED
/// mapping, which is why the site does not make forking slower as it grows.
pub(crate) struct SharedMap(Mapping);

// SAFETY: the mapping is read-only and its memfd sealed against writes, so its bytes never
// change: any thread may read them through `bytes`, and the one owner unmaps it on drop. This
// lets a render worker hand slices of the snapshot it replaces around as shared bodies.
unsafe impl Send for SharedMap {}
// SAFETY: as above: shared references give out only `&[u8]` of immutable bytes.
unsafe impl Sync for SharedMap {}

impl SharedMap {
    /// Maps all `len` bytes of `fd` read-only. The fd must be sealed against writing, shrinking
    /// and growing (`Snapshot::seal_and_map` does that first). The mapping outlives `fd`.
    pub(crate) fn new(fd: BorrowedFd<'_>, len: usize) -> nix::Result<SharedMap> {
        Mapping::new(fd, len, ProtFlags::PROT_READ).map(SharedMap)
    }

    /// The mapped bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: ptr..ptr+len is a live read-only mapping for as long as self lives, and the
        // memfd is sealed, so the bytes can never change or vanish (no SIGBUS) under `&[u8]`.
        unsafe { std::slice::from_raw_parts(self.0.ptr.as_ptr().cast::<u8>(), self.0.len) }
    }
}

/// Words of memory a forked child does not share: private anonymous pages advised
/// `MADV_WIPEONFORK`, which a child sees as zeroes instead of a copy. The parent's writes to
/// them after a fork then touch pages of its own, where writes to ordinary heap pages would
/// each be a copy-on-write fault (a page allocated, charged and copied) after every fork; and
/// `fork` copies no page-table entries for them. On a kernel without `MADV_WIPEONFORK` (before
/// 4.14) they are ordinary private pages: the same contents, only slower to write after forking.
pub(crate) struct UnsharedWords {
    ptr: NonNull<libc::c_void>,
    len: usize,
}

impl UnsharedWords {
    /// `count` zeroed words.
    pub(crate) fn new(count: usize) -> nix::Result<UnsharedWords> {
        let len = count.max(1) * 8;
        let length = std::num::NonZeroUsize::new(len).ok_or(nix::errno::Errno::EINVAL)?;
        // SAFETY: a fresh anonymous mapping at an address the kernel chooses overlaps nothing
        // Rust owns.
        let ptr = unsafe {
            nix::sys::mman::mmap_anonymous(
                None,
                length,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_PRIVATE,
            )?
        };
        // SAFETY: advising exactly the mapping made above; WIPEONFORK changes only what a
        // child sees (zeroes, which are valid u64s), never this process's contents.
        let advised = unsafe {
            nix::sys::mman::madvise(ptr, len, nix::sys::mman::MmapAdvise::MADV_WIPEONFORK)
        };
        if let Err(e) = advised {
            log::debug!("MADV_WIPEONFORK: {e}; the parent's tables are shared with children");
        }
        Ok(UnsharedWords { ptr, len })
    }

    /// The words.
    pub(crate) fn words(&self) -> &[u64] {
        // SAFETY: ptr..ptr+len is a live private mapping owned by self, page-aligned (so
        // 8-byte aligned) and initialised (anonymous pages are zero-filled; in a child, wiped
        // pages read as zero too); `&self` excludes writers.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().cast::<u64>(), self.len / 8) }
    }

    /// The words, to write.
    pub(crate) fn words_mut(&mut self) -> &mut [u64] {
        // SAFETY: as in `words`; `&mut self` makes this the only reference.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr().cast::<u64>(), self.len / 8) }
    }
}

impl Drop for UnsharedWords {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what `new` mapped; the slices borrow self, so none
        // outlives it.
        let _ = unsafe { nix::sys::mman::munmap(self.ptr, self.len) };
    }
}

/// A small read-write shared mapping of a memfd, seen as 64-bit atomics: the counters that
/// children bump and the parent publishes into, shared across `fork` (and across re-exec, since
/// the memfd is handed over).
pub(crate) struct SharedCounters(Mapping);

// SAFETY: the words are only ever reached through atomics (see `words`), which any thread may
// use at once; the mapping itself is never moved or changed after creation.
unsafe impl Send for SharedCounters {}
// SAFETY: as above: shared references hand out only `&[AtomicU64]`.
unsafe impl Sync for SharedCounters {}

impl SharedCounters {
    /// Maps the first `count` 64-bit words of `fd`, which is at least `count * 8` bytes long
    /// and is never shrunk (only forkblog holds it, created at its full size).
    pub(crate) fn new(fd: BorrowedFd<'_>, count: usize) -> nix::Result<SharedCounters> {
        let prot = ProtFlags::PROT_READ | ProtFlags::PROT_WRITE;
        Mapping::new(fd, count * 8, prot).map(SharedCounters)
    }

    /// The counters.
    pub(crate) fn words(&self) -> &[AtomicU64] {
        // SAFETY: the mapping is page-aligned (so 8-byte aligned) and `len` bytes long, lives as
        // long as self, and is only ever accessed through atomics, by this process and its
        // forks: AtomicU64 has the layout of u64, and lock-free atomics are coherent across
        // processes that share the pages.
        unsafe {
            std::slice::from_raw_parts(self.0.ptr.as_ptr().cast::<AtomicU64>(), self.0.len / 8)
        }
    }
}

/// Set by the eviction handler ([`evict_on`]); taken by [`eviction_asked`].
static EVICTION_ASKED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// Whether the child is about to wait, or is waiting, for an idle client's next request.
static WAITING_IDLE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Makes `signal` ask a connection's child to end its connection: the handler notes the request
/// (see [`eviction_asked`]) and, when the child waits for an idle client
/// ([`waiting_for_idle_client`]), shuts the connection's reading side (stdin) down, so that the
/// wait ends at once even if the signal came just before the `read` began. A wait that is
/// interrupted instead returns EINTR (a read with a receive timeout is never restarted);
/// other calls are restarted (SA_RESTART), so a response being written is not cut short.
///
/// The handler is async-signal-safe: it stores and loads atomics and calls `shutdown` (nix's
/// wrapper only calls it and reads errno), which POSIX lists as async-signal-safe; errno is
/// saved and restored around it, so the interrupted code sees its own. The parent installs it
/// with the signal blocked and never unblocks it there, so it only ever runs in a child.
pub(crate) fn evict_on(signal: Signal) {
    extern "C" fn asked(_: libc::c_int) {
        use std::sync::atomic::Ordering::SeqCst;
        EVICTION_ASKED.store(true, SeqCst);
        if WAITING_IDLE.load(SeqCst) {
            // A failure (stdin not a socket) is harmless: the wait then ends with its timeout.
            let errno = nix::errno::Errno::last_raw();
            let _ = nix::sys::socket::shutdown(0, nix::sys::socket::Shutdown::Read);
            nix::errno::Errno::set_raw(errno);
        }
    }
    let action = nix::sys::signal::SigAction::new(
        SigHandler::Handler(asked),
        nix::sys::signal::SaFlags::SA_RESTART,
        nix::sys::signal::SigSet::empty(),
    );
    // SAFETY: the handler is an extern "C" fn, valid for the life of the process, and
    // async-signal-safe (above).
    let _ = unsafe { nix::sys::signal::sigaction(signal, &action) };
}

/// Lets SIGUSR2 (eviction, see [`evict_on`]) in, once per process. A connection's child is
/// born with the handler inherited from the parent and the signal blocked, and calls this at
/// its first wait for the client, so a connection served by one request pays no system call
/// for it.
pub(crate) fn unblock_eviction() {
    static UNBLOCKED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !UNBLOCKED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        let usr2 = nix::sys::signal::SigSet::from(Signal::SIGUSR2);
        let _ = usr2.thread_unblock();
    }
}

/// Whether eviction was asked since the last call (clears it).
pub(crate) fn eviction_asked() -> bool {
    EVICTION_ASKED.swap(false, std::sync::atomic::Ordering::SeqCst)
}

/// Tells the eviction handler whether a wait for an idle client is about to begin (`true`,
/// set before the last check of [`eviction_asked`]) or is over (`false`).
pub(crate) fn waiting_for_idle_client(waiting: bool) {
    WAITING_IDLE.store(waiting, std::sync::atomic::Ordering::SeqCst);
}

/// Drops this process's page-table entries for its own binary's code and the read-only data
/// before it (`.rodata`), so that its resident set counts only what it runs from now on. Returns
/// how many bytes of mappings were released.
///
/// The serving parent calls this once its start-up is over: start-up runs code the loop never
/// runs again, and every page fault at start-up mapped the 64 KiB around it (the kernel's
/// fault-around), which is most of the parent's RSS. The pages stay in the page cache, where
/// children find them; a fork copies no page-table entries of such mappings anyway, so children
/// are not affected. What the loop still runs is faulted back in on its first use.
///
/// Sound because only mappings that can hold nothing but the file's own bytes are touched: the
/// executable's mappings up to and including its first executable one (the ELF headers,
/// `.rodata` and `.text`), and of those only the ones not writable. Code and read-only data are
/// never written (no text relocations), so `MADV_DONTNEED` on them only forgets page-table
/// entries that a fault recreates with the same bytes. Writable and relocated data (`.data`,
/// `.bss`, RELRO, which the loader or glibc write and then protect) lie after `.text` and are
/// never in the range. Nothing refers into the released range in a way a fault cannot serve.
/// Only a static executable is touched: one started by a dynamic loader could carry text
/// relocations (a C dependency's), whose relocated copies a fault would not recreate.
pub(crate) fn release_startup_pages() -> io::Result<usize> {
    // SAFETY: getauxval reads the auxiliary vector the kernel gave this process; it takes no
    // pointers. AT_BASE, the dynamic loader's address, is 0 when there is none.
    if unsafe { libc::getauxval(libc::AT_BASE) } != 0 {
        return Ok(0);
    }
    let exe = std::fs::read_link("/proc/self/exe")?;
    let maps = std::fs::read_to_string("/proc/self/maps")?;
    let mut released = 0;
    for line in maps.lines() {
        // "start-end perms offset dev inode path"
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        if fields.nth(3).map(std::path::Path::new) != Some(exe.as_path()) {
            continue;
        }
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (
            usize::from_str_radix(start, 16),
            usize::from_str_radix(end, 16),
        ) else {
            continue;
        };
        let executable = perms.as_bytes().get(2) == Some(&b'x');
        if !perms.contains('w') && end > start {
            if let Some(ptr) = NonNull::new(start as *mut libc::c_void) {
                // SAFETY: see above: a private, non-writable mapping of the binary's code or
                // read-only data, never written, so dropping its entries loses nothing.
                let advised = unsafe {
                    nix::sys::mman::madvise(
                        ptr,
                        end - start,
                        nix::sys::mman::MmapAdvise::MADV_DONTNEED,
                    )
                };
                if advised.is_ok() {
                    released += end - start;
                }
            }
        }
        if executable {
            break; // the code: everything after it may be written
        }
    }
    Ok(released)
}

/// Standard input, as a descriptor, without touching `std::io::stdin()` (which allocates an
/// 8 KiB buffer on first use: a page fault in every child for a buffer it never reads).
///
/// Sound because fd 0 is open for the whole life of the process: `main` opens /dev/null on any
/// of fds 0-2 that are closed before anything else, and a child only ever replaces fd 0 with
/// `dup2`, which never leaves it closed.
pub(crate) fn stdin_fd() -> BorrowedFd<'static> {
    // SAFETY: see above; fd 0 stays open for 'static.
    unsafe { BorrowedFd::borrow_raw(0) }
}

/// Standard output, as a descriptor (see [`stdin_fd`]; the same holds for fd 1).
pub(crate) fn stdout_fd() -> BorrowedFd<'static> {
    // SAFETY: as for stdin_fd.
    unsafe { BorrowedFd::borrow_raw(1) }
}

/// Sets TCP_DEFER_ACCEPT on a listening socket: the kernel hands a connection to `accept` only
/// once its first bytes have arrived (or after about `seconds`), so clients that connect and
/// send nothing wait in the kernel instead of each holding a forked child.
pub(crate) fn defer_accept(listener: BorrowedFd<'_>, seconds: u32) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let value = libc::c_int::try_from(seconds).unwrap_or(libc::c_int::MAX);
    // SAFETY: `listener` is a valid open descriptor for the duration of the call (borrowed);
    // the option value is a c_int on the stack whose exact size is passed.
    let rc = unsafe {
        libc::setsockopt(
            listener.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_DEFER_ACCEPT,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    match rc {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

/// Sets `no_new_privs`: from now on no `execve` (the re-exec on reload, the render worker) can
/// gain privileges through a setuid binary or file capabilities. Inherited by every child and
/// kept across exec; it cannot be unset.
pub(crate) fn set_no_new_privs() -> io::Result<()> {
    // SAFETY: PR_SET_NO_NEW_PRIVS takes integer arguments only and touches no memory.
    let rc = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    match rc {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

/// Empties the capability bounding set, so that no later `execve` can ever regain a
/// capability. Needs CAP_SETPCAP, so it must run while still root, before `setuid`. Returns how
/// many capabilities were dropped.
pub(crate) fn clear_capability_bounding_set() -> io::Result<u32> {
    let mut dropped = 0;
    // Capability numbers run from 0 to the kernel's last; past it the call fails with EINVAL.
    for cap in 0..64 {
        // SAFETY: PR_CAPBSET_DROP takes integer arguments only and touches no memory.
        let rc = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) };
        if rc != 0 {
            let error = io::Error::last_os_error();
            if error.raw_os_error() == Some(libc::EINVAL) && cap > 0 {
                return Ok(dropped);
            }
            return Err(error);
        }
        dropped += 1;
    }
    Ok(dropped)
}
