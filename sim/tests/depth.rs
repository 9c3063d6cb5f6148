//! The depth layer on synthetic depth maps: a head passes, planes (screens, prints) do not.

use facegate::geometry::Rect;
use facegate::liveness::depth::*;
use facegate::liveness::*;
use facegate_sim::depth::*;
use facegate_sim::simulate::SimRng;

fn face() -> Rect {
    Rect {
        x: 100.0,
        y: 60.0,
        width: 120.0,
        height: 140.0,
    }
}

#[test]
fn face_relief_passes() {
    let mut rng = SimRng::new(1);
    let d = head(320, 240, &face(), 550.0, 30.0, 1.0, &mut rng);
    let r = check(&d, &face(), &DepthConfig::default()).unwrap();
    assert_eq!(r.verdict, DepthVerdict::Relief, "{r:?}");
    assert!(r.relief_mm > 4.0);
}

#[test]
fn flat_screen_is_rejected_even_tilted() {
    let mut rng = SimRng::new(2);
    for slope in [(0.0, 0.0), (0.8, 0.0), (0.3, -0.5)] {
        let d = plane(320, 240, &face(), 500.0, slope, 1.0, &mut rng);
        let r = check(&d, &face(), &DepthConfig::default()).unwrap();
        assert_eq!(r.verdict, DepthVerdict::Flat, "{slope:?} {r:?}");
        assert!(r.relief_mm < 2.0);
    }
}

#[test]
fn implausible_distance_and_missing() {
    let mut rng = SimRng::new(3);
    let d = head(320, 240, &face(), 120.0, 30.0, 1.0, &mut rng);
    assert_eq!(
        check(&d, &face(), &DepthConfig::default()).unwrap().verdict,
        DepthVerdict::ImplausibleDistance
    );
    let empty = DepthMap::new(320, 240, vec![0.0; 320 * 240]).unwrap();
    assert_eq!(
        check(&empty, &face(), &DepthConfig::default())
            .unwrap()
            .verdict,
        DepthVerdict::Missing
    );
    let outside = Rect {
        x: 1000.0,
        y: 1000.0,
        width: 50.0,
        height: 50.0,
    };
    assert_eq!(
        check(&d, &outside, &DepthConfig::default())
            .unwrap()
            .verdict,
        DepthVerdict::Missing
    );
    let bad = Rect {
        x: f32::NAN,
        ..face()
    };
    assert_eq!(
        check(&d, &bad, &DepthConfig::default()),
        Err(DepthError::Box)
    );
}
