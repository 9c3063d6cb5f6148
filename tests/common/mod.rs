//! What the integration tests share: where the fixtures and the evaluation data live.
//! Included by the library's tests and by the command's (`cli/tests`, via `#[path]`), so
//! paths are found from the workspace root, not from the including package.

use std::path::{Path, PathBuf};

use facegate::frame::{DecodeLimits, Frame};

/// The workspace root: the nearest folder above the including package's manifest that
/// holds `models/SHA256SUMS`.
#[allow(dead_code)] // not every test file needs it
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|p| p.join("models/SHA256SUMS").is_file())
        .expect("the workspace root (models/SHA256SUMS) above CARGO_MANIFEST_DIR")
}

/// `tests/fixtures/images` of the workspace.
#[allow(dead_code)] // not every test file reads fixtures
pub fn images() -> PathBuf {
    root().join("tests/fixtures/images")
}

/// A fixture portrait, `tests/fixtures/images/<name>.jpg`.
#[allow(dead_code)] // not every test file decodes fixtures
pub fn fixture(name: &str) -> Frame {
    Frame::open(
        images().join(format!("{name}.jpg")),
        &DecodeLimits::default(),
    )
    .unwrap()
}

/// `../shared/<rel>` (the evaluation data beside the clone, or beside a worktrees folder),
/// or `None` with a skip line when it is absent. In CI (`CI=true`) the data is present by
/// contract, so its absence fails the test instead of letting it pass unrun.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let found = root()
        .ancestors()
        .skip(1)
        .take(2)
        .map(|dir| dir.join("shared").join(rel))
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "../shared/{rel} is absent, and CI requires it"
        );
        println!("skipped: ../shared/{rel} is absent");
    }
    found
}

/// Every second frame (7.5 fps) of a real recording, `../shared/data/liveness/genuine/<name>`,
/// in time order; `None` (with a skip line) when the data is absent. Half the frames keep
/// the tests quick; the liveness thresholds allow it.
#[allow(dead_code)] // not every test file reads recordings
pub fn recording(name: &str) -> Option<Vec<Frame>> {
    let dir = shared(&format!("data/liveness/genuine/{name}"))?;
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    paths.sort();
    Some(
        paths
            .iter()
            .step_by(2)
            .map(|p| Frame::open(p, &DecodeLimits::default()).unwrap())
            .collect(),
    )
}
