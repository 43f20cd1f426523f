//! Access-log lines: `stats::parse_line` on arbitrary bytes, plus the accessors and the
//! unescaping `forkblog stats` applies to every line it accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(line) = forkblog::stats::parse_line(data) {
        assert_eq!(line.date_text().len(), 11);
        let _ = line.path();
        let _ = forkblog::stats::parse::unescape(line.target);
        if let Some(ua) = line.user_agent {
            let _ = forkblog::stats::parse::unescape(ua);
        }
        if let Some(referer) = line.referer {
            let _ = forkblog::stats::parse::unescape(referer);
        }
    }
});
