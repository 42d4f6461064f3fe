//! Links: any text reads as settings or a clear error, never a panic; what
//! reads writes back to the same settings; assembling them never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use smtp_lab::lab::Settings;

fuzz_target!(|text: &str| {
    if let Ok(link) = Settings::from_link(text) {
        let again = Settings::from_link(&link.settings.to_link(link.step)).expect("a written link reads back");
        assert_eq!(again, link);
        let _ = smtp_lab::lab::assemble::scenario(&link.settings);
        let _ = link.settings.command_line();
    }
});
