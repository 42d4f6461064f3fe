//! A command line: parse, serialise, parse again gives the same command.
#![no_main]
use libfuzzer_sys::fuzz_target;
use smtp_lab::proto::codec::Command;

fuzz_target!(|line: &[u8]| {
    if let Ok(cmd) = Command::parse(line) {
        let text = cmd.to_string();
        let again = Command::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{text:?} does not parse back: {e}"));
        assert_eq!(again, cmd, "{text:?}");
    }
});
