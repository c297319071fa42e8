#![no_main]
//! The story form as it arrives: any body decodes or is refused, and any decoded form parses
//! into a story or into messages, without panicking; the personal-information scan takes any
//! text.

use engawa::routes::story_form::StoryForm;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    if let Ok(form) = serde_urlencoded::from_bytes::<StoryForm>(body) {
        let _ = form.parse(true);
        let _ = engawa::pii::scan("body", &form.body);
    }
});
