//! The near-infrared layer on synthetic NIR frames.

use facegate::geometry::Rect;
use facegate::liveness::nir::*;
use facegate_sim::nir::*;
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
fn skin_passes_screen_and_print_do_not() {
    let cfg = NirConfig::default();
    for seed in 0..10 {
        let mut rng = SimRng::new(seed);
        let s = check(&skin(320, 240, &face(), &mut rng), &face(), &cfg).unwrap();
        assert_eq!(s.verdict, NirVerdict::Skin, "{s:?}");
        let d = check(&screen(320, 240, &face(), &mut rng), &face(), &cfg).unwrap();
        assert_eq!(d.verdict, NirVerdict::Dark, "{d:?}");
        let p = check(&print(320, 240, &face(), &mut rng), &face(), &cfg).unwrap();
        assert_eq!(p.verdict, NirVerdict::Absent, "{p:?}");
    }
}

#[test]
fn bad_box_is_an_error() {
    let mut rng = SimRng::new(1);
    let f = skin(64, 64, &face(), &mut rng);
    assert_eq!(
        check(
            &f,
            &Rect {
                x: 500.0,
                y: 500.0,
                width: 10.0,
                height: 10.0
            },
            &NirConfig::default()
        ),
        Err(NirError::Box)
    );
    assert_eq!(
        check(
            &f,
            &Rect {
                width: -1.0,
                ..face()
            },
            &NirConfig::default()
        ),
        Err(NirError::Box)
    );
}
