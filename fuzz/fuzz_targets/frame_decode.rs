//! Untrusted image bytes (an uploaded photo, an ID document's portrait): `Frame::decode`
//! under the default limits must return a frame or a typed error, never panic or allocate
//! past `DecodeLimits`.
#![no_main]

use facegate::frame::{DecodeLimits, Frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = DecodeLimits {
        // Small enough that the fuzzer's 2 GB RSS limit is never the one that stops a decode.
        max_width: 1024,
        max_height: 1024,
        max_input_bytes: 1 << 20,
        max_alloc_bytes: 64 << 20,
    };
    if let Ok(frame) = Frame::decode(data, &limits) {
        assert!(frame.width() <= 1024 && frame.height() <= 1024);
    }
});
