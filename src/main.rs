fn main() -> std::process::ExitCode {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if args.first().map(|a| a == "stats").unwrap_or(false) {
        args.remove(0);
        return forkblog::stats::run(args);
    }
    std::process::ExitCode::SUCCESS
}
