//! Links the `forkblog` binary statically and non-PIE on Linux x86_64 with glibc, when the
//! static C libraries are installed; otherwise leaves the default (dynamic PIE) link alone.
//!
//! Why: a fork-per-connection server pays, for every connection, for each mapping of its parent
//! and for every page of code a child faults in again. A static non-PIE binary has no ld.so,
//! libc, libm or libgcc_s mappings and no load-time relocations dirtying `.data.rel.ro`: the
//! parent's RSS falls from ~4.4 MB to under 3 MB and each child takes fewer page faults
//! (BENCHMARKS.md, "The static non-PIE build").
//!
//! Why from here and not from rustflags: `-C target-feature=+crt-static` or
//! `-C relocation-model=static` in `.cargo/config.toml` would also apply to build scripts and
//! proc-macros whenever `--target` is not given (rustc then refuses to build serde's derive as a
//! proc-macro, or lld rejects its non-PIC code), and `[build] target` would move the binary to
//! `target/<triple>/` and break other hosts. Only the final link of the binary changes here:
//! the code stays position-independent (which a non-PIE executable runs as well; the linker
//! turns GOT loads into direct addresses), and `-static` picks glibc's static start files.
//!
//! rustc names the libraries for a dynamic link (`-Bdynamic -lgcc_s ... -lc`) before any link
//! argument from here, so a directory of our own comes first on the search path, holding the
//! static archive for each of those names (`libgcc_s.a` is libgcc_eh, the static unwinder).
//! The linker finds those before the system's shared objects.
//!
//! Set `FORKBLOG_DYNAMIC=1` to build the ordinary dynamic binary. Missing static archives (e.g.
//! Fedora without `glibc-static`), a cross build, or a link that fails its trial run all fall
//! back to the dynamic link with a warning, so `cargo build` works on any machine.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The archives rustc's library names resolve to: (the name rustc asks for, the real archive).
const ARCHIVES: [(&str, &str); 7] = [
    ("libgcc_s.a", "libgcc_eh.a"),
    ("libc.a", "libc.a"),
    ("libm.a", "libm.a"),
    ("libpthread.a", "libpthread.a"),
    ("librt.a", "librt.a"),
    ("libdl.a", "libdl.a"),
    ("libutil.a", "libutil.a"),
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=FORKBLOG_DYNAMIC");
    if let Err(why) = static_link() {
        if !why.is_empty() {
            println!("cargo:warning=forkblog is linked dynamically: {why}");
        }
    }
}

fn var(name: &str) -> String {
    env::var(name).unwrap_or_default()
}

/// Sets the binary's link arguments for a static non-PIE link, or says why not (an empty
/// reason: not applicable here, nothing to warn about).
fn static_link() -> Result<(), String> {
    let wanted = var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ENV") == "gnu"
        && var("CARGO_CFG_TARGET_ARCH") == "x86_64";
    // A build with +crt-static (deploy/README.md's) is static already; a cross build would need
    // the target's C libraries, which `cc` here does not know about.
    let already_static = var("CARGO_CFG_TARGET_FEATURE")
        .split(',')
        .any(|f| f == "crt-static");
    if !wanted || already_static || var("HOST") != var("TARGET") {
        return Err(String::new());
    }
    if env::var_os("FORKBLOG_DYNAMIC").is_some_and(|v| !v.is_empty() && v != "0") {
        return Err(String::new());
    }
    let cc = env::var("RUSTC_LINKER").unwrap_or_else(|_| "cc".into());
    let dir = Path::new(&var("OUT_DIR")).join("static-libs");
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    for (name, real) in ARCHIVES {
        let found = archive(&cc, real)?;
        let link = dir.join(name);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&found, &link)
            .map_err(|e| format!("linking {} to {}: {e}", link.display(), found.display()))?;
    }
    let args = [
        format!("-L{}", dir.display()),
        "-static".into(),
        "-no-pie".into(),
        // glibc's static archive needs libgcc's helpers; -nodefaultlibs (rustc's) left them out.
        "-Wl,--start-group".into(),
        "-lc".into(),
        "-lgcc_eh".into(),
        "-lgcc".into(),
        "-Wl,--end-group".into(),
    ];
    trial_link(&cc, &args)?;
    for arg in &args {
        println!("cargo:rustc-link-arg-bin=forkblog={arg}");
    }
    // The child's code together (see crates/serve/src/child-text.ld), if the linker takes the script.
    let script = Path::new(&var("CARGO_MANIFEST_DIR")).join("crates/serve/src/child-text.ld");
    println!("cargo:rerun-if-changed={}", script.display());
    let layout = format!("-Wl,-T,{}", script.display());
    match trial_link(
        &cc,
        &[args.as_slice(), std::slice::from_ref(&layout)].concat(),
    ) {
        Ok(()) => {
            println!("cargo:rustc-link-arg-bin=forkblog={layout}");
            // tests/child_layout.rs checks the layout only where it was applied.
            println!("cargo:rustc-env=FORKBLOG_CHILD_LAYOUT=1");
        }
        Err(why) => println!("cargo:warning=the child's code is not laid out together: {why}"),
    }
    Ok(())
}

/// Where the C compiler finds a library archive, if it is installed.
fn archive(cc: &str, name: &str) -> Result<PathBuf, String> {
    let out = Command::new(cc)
        .arg(format!("-print-file-name={name}"))
        .output()
        .map_err(|e| format!("running {cc}: {e}"))?;
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    // Not found, cc prints the bare name back.
    match path.is_absolute() && path.exists() {
        true => Ok(path),
        false => Err(format!(
            "{name} is not installed (glibc's static libraries, e.g. libc6-dev or glibc-static)"
        )),
    }
}

/// Links a small C program with the same arguments and the linker rustc uses, then runs it,
/// so that a toolchain that cannot link statically, or a static C library that breaks at run
/// time (before glibc 2.34, a static libpthread linked by name misses symbols it only finds
/// weakly), is found here, with a warning, and not as a failed build or a crashing binary.
/// The program starts a thread and looks up a user, as the server's start-up does.
fn trial_link(cc: &str, args: &[String]) -> Result<(), String> {
    let dir = Path::new(&var("OUT_DIR")).join("static-trial");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let source = dir.join("trial.c");
    let program = "#include <pthread.h>\n#include <pwd.h>\n\
        static void *run(void *arg) { return arg; }\n\
        int main(void) {\n\
          pthread_t t; void *out = 0;\n\
          if (pthread_create(&t, 0, run, &t) || pthread_join(t, &out) || out != &t) return 1;\n\
          (void)getpwnam(\"root\");\n\
          return 0;\n\
        }\n";
    std::fs::write(&source, program).map_err(|e| e.to_string())?;
    let trial = dir.join("trial");
    let out = Command::new(cc)
        .arg(&source)
        .arg("-o")
        .arg(&trial)
        .arg("-nodefaultlibs")
        .args(rustc_linker_flags())
        .args(args)
        .output()
        .map_err(|e| format!("running {cc}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "a trial static link failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    match Command::new(&trial).status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!(
            "a statically linked trial program failed ({status})"
        )),
        Err(e) => Err(format!(
            "a statically linked trial program did not run: {e}"
        )),
    }
}

/// The flags with which rustc makes `cc` link through its own copy of lld, when this toolchain
/// ships one (rustc does so on x86_64 Linux), so the trial uses the linker the binary will.
fn rustc_linker_flags() -> Vec<String> {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let Ok(out) = Command::new(rustc).args(["--print", "sysroot"]).output() else {
        return Vec::new();
    };
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let gcc_ld = sysroot.join(format!("lib/rustlib/{}/bin/gcc-ld", var("TARGET")));
    match gcc_ld.join("ld.lld").exists() {
        true => vec![format!("-B{}", gcc_ld.display()), "-fuse-ld=lld".into()],
        false => Vec::new(),
    }
}
