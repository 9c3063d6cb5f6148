//! Hot loops compiled once more for wider vector registers, and run with the widest the CPU
//! has.
//!
//! Why: the crate builds for each target's baseline (SSE2 on x86-64, so any kiosk PC runs
//! it), which leaves the loops facegate itself runs per pixel — resampling the detector's
//! pyramid and crops, above all — at four lanes and with slow byte-to-float conversions.
//! A [`Kernel`] is compiled a second time with AVX2 (x86-64-v3) and chosen at run time
//! when the CPU has it; tract chooses its own kernels the same way.
//!
//! Why the results keep their bits: the wider code does the same operations on each value
//! in the same order. Rust never fuses a multiply and an add, nor reorders floating-point
//! sums, whatever the target features, so only the number of lanes computed at once
//! changes. The liveness thresholds were calibrated on landmarks from these exact values;
//! each kernel's tests compare it with a plain form compiled for the baseline.

/// A loop to run at the widest vector width the CPU offers.
///
/// `run` must be `#[inline(always)]`, and so must every function it calls on its hot path:
/// code that is not inlined into the wider copy is compiled for the baseline only.
pub(crate) trait Kernel {
    type Output;
    fn run(self) -> Self::Output;
}

/// Runs `kernel` with the widest instruction set this CPU supports.
pub(crate) fn run<K: Kernel>(kernel: K) -> K::Output {
    pulp::Arch::new().dispatch(Wide(kernel))
}

struct Wide<K>(K);

impl<K: Kernel> pulp::WithSimd for Wide<K> {
    type Output = K::Output;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) -> K::Output {
        self.0.run()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chains of multiplies and adds, the arithmetic a fused multiply-add or a reordered sum
    /// would change.
    struct Chains<'a>(&'a [f32]);

    impl Kernel for Chains<'_> {
        type Output = Vec<u32>;

        #[inline(always)]
        fn run(self) -> Vec<u32> {
            let mut acc = vec![0.0f32; 64];
            for (k, &x) in self.0.iter().enumerate() {
                for (j, a) in acc.iter_mut().enumerate() {
                    *a = *a * 0.999 + x * (j as f32 + 0.1) + (k as f32) * 1e-3;
                }
            }
            acc.iter().map(|v| v.to_bits()).collect()
        }
    }

    #[test]
    fn a_kernel_gives_the_same_bits_through_the_dispatch_as_at_the_baseline() {
        let xs: Vec<f32> = (0..997)
            .map(|i| ((i * 7919) % 1009) as f32 / 97.0 - 5.0)
            .collect();
        // `run` called here is compiled into this test, for the baseline.
        assert_eq!(run(Chains(&xs)), Chains(&xs).run());
    }
}
